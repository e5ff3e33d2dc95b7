"""Organisations and API keys."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .quotas import QuotasMixin
from .records import ApiKey, Org, new_id


class OrgsMixin(QuotasMixin):
    """Organisations (with their pinned model and change counter) and hashed API keys."""

    def ensure_org(self, name: str) -> Org:
        with self.tx() as cur:
            row = self._exec(cur, "SELECT id FROM orgs WHERE name = ?", (name,)).fetchone()
            if row is None:
                self._exec(
                    cur,
                    "INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)",
                    (new_id("org"), name, time.time()),
                )
        org = self.org_by_name(name)
        assert org is not None
        return org

    def org_by_name(self, name: str) -> Org | None:
        with self.tx(write=False) as cur:
            row = self._exec(
                cur, "SELECT id, name, model_id, version FROM orgs WHERE name = ?", (name,)
            ).fetchone()
        return Org(*row) if row else None

    def org(self, org_id: str) -> Org | None:
        with self.tx(write=False) as cur:
            row = self._exec(
                cur, "SELECT id, name, model_id, version FROM orgs WHERE id = ?", (org_id,)
            ).fetchone()
        return Org(*row) if row else None

    def org_version(self, org_id: str) -> int:
        with self.tx(write=False) as cur:
            row = self._exec(cur, "SELECT version FROM orgs WHERE id = ?", (org_id,)).fetchone()
        return int(row[0]) if row else 0

    def pin_model(self, org_id: str, model_id: str) -> str:
        """Record the gallery's model on first use; returns the model the gallery is pinned to."""
        with self.tx() as cur:
            self._exec(
                cur,
                "UPDATE orgs SET model_id = ? WHERE id = ? AND model_id IS NULL",
                (model_id, org_id),
            )
            row = self._exec(cur, "SELECT model_id FROM orgs WHERE id = ?", (org_id,)).fetchone()
        return str(row[0])

    def add_key(
        self, org_id: str, scope: str, key_id: str, key_hash: str, locks: Sequence[str] = ()
    ) -> None:
        with self.tx() as cur:
            self._within_quota(cur, org_id, "keys")
            self._exec(
                cur,
                "INSERT INTO api_keys (id, org_id, scope, key_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key_id, org_id, scope, key_hash, time.time()),
            )
            for lock_id in sorted(set(locks)):
                self._exec(
                    cur, "INSERT INTO key_locks (key_id, lock_id) VALUES (?, ?)", (key_id, lock_id)
                )

    def _key_locks(self, cur: Any, key_id: str) -> tuple[str, ...]:
        rows = self._exec(
            cur, "SELECT lock_id FROM key_locks WHERE key_id = ? ORDER BY lock_id", (key_id,)
        ).fetchall()
        return tuple(r[0] for r in rows)

    def key(self, key_id: str) -> ApiKey | None:
        with self.tx(write=False) as cur:
            row = self._exec(
                cur,
                "SELECT id, org_id, scope, key_hash, revoked_at FROM api_keys WHERE id = ?",
                (key_id,),
            ).fetchone()
            locks = self._key_locks(cur, key_id) if row else ()
        return ApiKey(row[0], row[1], row[2], row[3], row[4] is not None, locks) if row else None

    def list_keys(self, org_id: str) -> list[ApiKey]:
        with self.tx(write=False) as cur:
            rows = self._exec(
                cur,
                "SELECT id, org_id, scope, key_hash, revoked_at FROM api_keys "
                "WHERE org_id = ? ORDER BY created_at",
                (org_id,),
            ).fetchall()
            return [
                ApiKey(r[0], r[1], r[2], r[3], r[4] is not None, self._key_locks(cur, r[0]))
                for r in rows
            ]

    def revoke_key(self, key_id: str) -> bool:
        with self.tx() as cur:
            cur = self._exec(
                cur,
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (time.time(), key_id),
            )
            return bool(cur.rowcount)
