"""Locks, grants and the audit log."""

from __future__ import annotations

import json
import time
from typing import Any

from .quotas import QuotasMixin
from .records import Lock, new_id

LOCK_COLUMNS = "id, name, created_at, level, liveness"


class LocksMixin(QuotasMixin):
    """Locks and who may open them; the audit log of every decision."""

    def create_lock(
        self, org_id: str, name: str, level: str = "standard", liveness: str = "off"
    ) -> Lock:
        lock = Lock(new_id("lock"), name, time.time(), level, liveness)
        with self.tx() as cur:
            self._within_quota(cur, org_id, "locks")
            self._exec(
                cur,
                "INSERT INTO locks (id, org_id, name, created_at, level, liveness) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (lock.id, org_id, name, lock.created_at, level, liveness),
            )
        return lock

    def set_lock_policy(self, org_id: str, lock_id: str, **changes: str) -> Lock | None:
        """Set ``level`` and/or ``liveness``; the lock as it was before, or None."""
        assert set(changes) <= {"level", "liveness"}
        with self.tx() as cur:
            row = self._exec(
                cur,
                f"SELECT {LOCK_COLUMNS} FROM locks WHERE org_id = ? AND id = ?",
                (org_id, lock_id),
            ).fetchone()
            if row is None:
                return None
            for column, value in changes.items():
                self._exec(
                    cur,
                    f"UPDATE locks SET {column} = ? WHERE org_id = ? AND id = ?",
                    (value, org_id, lock_id),
                )
            return Lock(*row)

    def lock(self, org_id: str, lock_id: str) -> Lock | None:
        with self.tx(write=False) as cur:
            row = self._exec(
                cur,
                f"SELECT {LOCK_COLUMNS} FROM locks WHERE org_id = ? AND id = ?",
                (org_id, lock_id),
            ).fetchone()
        return Lock(*row) if row else None

    def list_locks(self, org_id: str, limit: int, offset: int) -> tuple[list[Lock], int]:
        with self.tx(write=False) as cur:
            rows = self._exec(
                cur,
                f"SELECT {LOCK_COLUMNS} FROM locks "
                "WHERE org_id = ? ORDER BY created_at, id LIMIT ? OFFSET ?",
                (org_id, limit, offset),
            ).fetchall()
            total = self._exec(
                cur, "SELECT COUNT(*) FROM locks WHERE org_id = ?", (org_id,)
            ).fetchone()[0]
        return [Lock(*r) for r in rows], int(total)

    def delete_lock(self, org_id: str, lock_id: str) -> bool:
        with self.tx() as cur:
            self._exec(
                cur,
                "DELETE FROM grants WHERE lock_id IN "
                "(SELECT id FROM locks WHERE org_id = ? AND id = ?)",
                (org_id, lock_id),
            )
            cur = self._exec(
                cur, "DELETE FROM locks WHERE org_id = ? AND id = ?", (org_id, lock_id)
            )
            deleted = bool(cur.rowcount)
            if deleted:  # its attempt budgets (the short one and the day's) go with it
                for table in ("attempts", "lockouts"):
                    self._exec(
                        cur,
                        f"DELETE FROM {table} WHERE bucket = ? OR bucket LIKE ?",
                        (f"lock:{lock_id}", f"lock:{lock_id}:%"),
                    )
            return deleted

    def grant(self, lock_id: str, subject_id: str) -> bool:
        """Grant (idempotent); True when the grant is new."""
        with self.tx() as cur:
            row = self._exec(
                cur,
                "SELECT 1 FROM grants WHERE lock_id = ? AND subject_id = ?",
                (lock_id, subject_id),
            ).fetchone()
            if row:
                return False
            self._exec(
                cur,
                "INSERT INTO grants (lock_id, subject_id, created_at) VALUES (?, ?, ?)",
                (lock_id, subject_id, time.time()),
            )
        return True

    def revoke(self, lock_id: str, subject_id: str) -> bool:
        with self.tx() as cur:
            cur = self._exec(
                cur,
                "DELETE FROM grants WHERE lock_id = ? AND subject_id = ?",
                (lock_id, subject_id),
            )
            return bool(cur.rowcount)

    def granted(self, lock_id: str) -> list[str]:
        with self.tx(write=False) as cur:
            rows = self._exec(
                cur,
                "SELECT subject_id FROM grants WHERE lock_id = ? ORDER BY created_at",
                (lock_id,),
            ).fetchall()
        return [r[0] for r in rows]

    # -- audit -----------------------------------------------------------------
    def audit(
        self,
        org_id: str,
        action: str,
        *,
        key_id: str | None = None,
        lock_id: str | None = None,
        subject_id: str | None = None,
        verdict: str | None = None,
        similarity: float | None = None,
        **detail: Any,
    ) -> None:
        with self.tx() as cur:
            self._prune_audit(cur, org_id)
            self._exec(
                cur,
                "INSERT INTO audit (at, org_id, key_id, action, lock_id, subject_id, "
                "verdict, similarity, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    org_id,
                    key_id,
                    action,
                    lock_id,
                    subject_id,
                    verdict,
                    similarity,
                    json.dumps(detail, default=str),
                ),
            )

    def audit_events(
        self,
        org_id: str,
        *,
        lock_id: str | None,
        since: float | None,
        until: float | None,
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        query = (
            "SELECT id, at, key_id, action, lock_id, subject_id, verdict, similarity, detail "
            "FROM audit WHERE org_id = ?"
        )
        params: list[Any] = [org_id]
        if lock_id:
            query += " AND lock_id = ?"
            params.append(lock_id)
        if since is not None:
            query += " AND at >= ?"
            params.append(since)
        if until is not None:
            query += " AND at <= ?"
            params.append(until)
        query += " ORDER BY at, id LIMIT ? OFFSET ?"
        params += [limit, offset]
        with self.tx(write=False) as cur:
            rows = self._exec(cur, query, params).fetchall()
        keys = ("id", "at", "key_id", "action", "lock_id", "subject_id", "verdict", "similarity")
        return [{**dict(zip(keys, r[:8], strict=True)), "detail": json.loads(r[8])} for r in rows]
