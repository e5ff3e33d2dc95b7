"""The store interface and its SQL, shared by the SQLite and PostgreSQL stores.

Every read and write takes the organisation id, so one organisation can never
see another's rows. Subclasses provide connections and dialect details only.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..crypto import TemplateCipher
from .schema import MIGRATIONS


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    model_id: str | None
    version: int


@dataclass(frozen=True)
class ApiKey:
    id: str
    org_id: str
    scope: str
    key_hash: str
    revoked: bool


@dataclass(frozen=True)
class Subject:
    id: str
    name: str
    metadata: dict[str, Any]
    created_at: float
    templates: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "metadata": self.metadata,
            "created_at": self.created_at,
            "templates": self.templates,
        }


@dataclass(frozen=True)
class Template:
    id: str
    subject_id: str
    model_id: str
    quality: float
    source: str
    created_at: float
    vector: np.ndarray | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject_id": self.subject_id,
            "model": self.model_id,
            "quality": self.quality,
            "source": self.source,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Lock:
    id: str
    name: str
    created_at: float
    locked_until: float

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "created_at": self.created_at}


class Store(ABC):
    """One gallery store. ``cipher`` encrypts template vectors at rest when given."""

    placeholder = "?"
    types: dict[str, str] = {}

    def __init__(self, cipher: TemplateCipher | None = None) -> None:
        self.cipher = cipher
        self._local = threading.local()

    # -- connections and dialect -------------------------------------------------
    @abstractmethod
    def _connect(self) -> Any:
        """A new DB-API connection in manual-commit mode."""

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _sql(self, query: str) -> str:
        return query if self.placeholder == "?" else query.replace("?", self.placeholder)

    @contextmanager
    def tx(self) -> Iterator[Any]:
        """A cursor inside one transaction: committed on success, rolled back on error."""
        conn = self._conn()
        cur = conn.cursor()
        try:
            yield cur
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            cur.close()

    def _exec(self, cur: Any, query: str, params: Sequence[Any] = ()) -> Any:
        cur.execute(self._sql(query), tuple(params))
        return cur

    def _blob(self, data: bytes) -> Any:
        return data

    # -- schema ----------------------------------------------------------------
    def migrate(self) -> int:
        """Apply pending migrations; returns the schema version now in force."""
        with self.tx() as cur:
            self._exec(cur, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = self._exec(cur, "SELECT MAX(version) FROM schema_version").fetchone()
        current = int(row[0] or 0)
        for number, statements in enumerate(MIGRATIONS, start=1):
            if number <= current:
                continue
            with self.tx() as cur:
                self._lock_schema(cur)
                row = self._exec(cur, "SELECT MAX(version) FROM schema_version").fetchone()
                if int(row[0] or 0) >= number:
                    continue
                for statement in statements:
                    cur.execute(statement.format(**self.types))
                self._exec(cur, "INSERT INTO schema_version (version) VALUES (?)", (number,))
            current = number
        return current

    @abstractmethod
    def _lock_schema(self, cur: Any) -> None:
        """Serialise concurrent migrations (workers starting together)."""

    # -- organisations and keys ------------------------------------------------
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
        with self.tx() as cur:
            row = self._exec(
                cur, "SELECT id, name, model_id, version FROM orgs WHERE name = ?", (name,)
            ).fetchone()
        return Org(*row) if row else None

    def org(self, org_id: str) -> Org | None:
        with self.tx() as cur:
            row = self._exec(
                cur, "SELECT id, name, model_id, version FROM orgs WHERE id = ?", (org_id,)
            ).fetchone()
        return Org(*row) if row else None

    def org_version(self, org_id: str) -> int:
        with self.tx() as cur:
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

    def add_key(self, org_id: str, scope: str, key_id: str, key_hash: str) -> None:
        with self.tx() as cur:
            self._exec(
                cur,
                "INSERT INTO api_keys (id, org_id, scope, key_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key_id, org_id, scope, key_hash, time.time()),
            )

    def key(self, key_id: str) -> ApiKey | None:
        with self.tx() as cur:
            row = self._exec(
                cur,
                "SELECT id, org_id, scope, key_hash, revoked_at FROM api_keys WHERE id = ?",
                (key_id,),
            ).fetchone()
        return ApiKey(row[0], row[1], row[2], row[3], row[4] is not None) if row else None

    def list_keys(self, org_id: str) -> list[ApiKey]:
        with self.tx() as cur:
            rows = self._exec(
                cur,
                "SELECT id, org_id, scope, key_hash, revoked_at FROM api_keys "
                "WHERE org_id = ? ORDER BY created_at",
                (org_id,),
            ).fetchall()
        return [ApiKey(r[0], r[1], r[2], r[3], r[4] is not None) for r in rows]

    def revoke_key(self, key_id: str) -> bool:
        with self.tx() as cur:
            cur = self._exec(
                cur,
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (time.time(), key_id),
            )
            return bool(cur.rowcount)

    # -- subjects --------------------------------------------------------------
    def create_subject(self, org_id: str, name: str, metadata: dict[str, Any]) -> Subject:
        subject = Subject(new_id("sub"), name, metadata, time.time())
        with self.tx() as cur:
            self._exec(
                cur,
                "INSERT INTO subjects (id, org_id, name, metadata, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (subject.id, org_id, name, json.dumps(metadata), subject.created_at),
            )
        return subject

    _SUBJECT = (
        "SELECT s.id, s.name, s.metadata, s.created_at, "
        "(SELECT COUNT(*) FROM templates t WHERE t.subject_id = s.id) FROM subjects s "
    )

    def subject(self, org_id: str, subject_id: str) -> Subject | None:
        with self.tx() as cur:
            row = self._exec(
                cur, self._SUBJECT + "WHERE s.org_id = ? AND s.id = ?", (org_id, subject_id)
            ).fetchone()
        return Subject(row[0], row[1], json.loads(row[2]), row[3], row[4]) if row else None

    def list_subjects(self, org_id: str, limit: int, offset: int) -> tuple[list[Subject], int]:
        with self.tx() as cur:
            rows = self._exec(
                cur,
                self._SUBJECT + "WHERE s.org_id = ? ORDER BY s.created_at, s.id LIMIT ? OFFSET ?",
                (org_id, limit, offset),
            ).fetchall()
            total = self._exec(
                cur, "SELECT COUNT(*) FROM subjects WHERE org_id = ?", (org_id,)
            ).fetchone()[0]
        return [Subject(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in rows], int(total)

    def delete_subject(self, org_id: str, subject_id: str) -> int:
        """Erase a subject, every template of theirs and their grants; returns templates erased."""
        with self.tx() as cur:
            n = self._exec(
                cur,
                "SELECT COUNT(*) FROM templates WHERE org_id = ? AND subject_id = ?",
                (org_id, subject_id),
            ).fetchone()[0]
            self._exec(
                cur,
                "DELETE FROM templates WHERE org_id = ? AND subject_id = ?",
                (org_id, subject_id),
            )
            self._exec(cur, "DELETE FROM grants WHERE subject_id = ?", (subject_id,))
            self._exec(
                cur, "DELETE FROM subjects WHERE org_id = ? AND id = ?", (org_id, subject_id)
            )
            self._bump(cur, org_id)
        return int(n)

    def _bump(self, cur: Any, org_id: str) -> None:
        self._exec(cur, "UPDATE orgs SET version = version + 1 WHERE id = ?", (org_id,))

    # -- templates -------------------------------------------------------------
    def _pack(self, template_id: str, vector: np.ndarray) -> tuple[bytes, int]:
        raw = np.asarray(vector, dtype="<f4").tobytes()
        if self.cipher is None:
            return raw, 0
        return self.cipher.encrypt(raw, template_id.encode()), 1

    def _unpack(self, template_id: str, data: bytes, encrypted: int) -> np.ndarray:
        raw = bytes(data)
        if encrypted:
            if self.cipher is None:
                raise RuntimeError("templates are encrypted: set FACEID_ENCRYPTION_KEY")
            raw = self.cipher.decrypt(raw, template_id.encode())
        return np.frombuffer(raw, dtype="<f4").copy()

    def add_templates(
        self,
        org_id: str,
        subject_id: str,
        model_id: str,
        items: Sequence[tuple[np.ndarray, float, str, bytes | None]],
    ) -> list[str]:
        """Store (vector, quality, source, image-or-None) rows; returns their ids."""
        ids = []
        now = time.time()
        with self.tx() as cur:
            for vector, quality, source, image in items:
                template_id = new_id("face")
                data, encrypted = self._pack(template_id, vector)
                self._exec(
                    cur,
                    "INSERT INTO templates (id, org_id, subject_id, model_id, dim, "
                    "vector, encrypted, quality, source, image, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        template_id,
                        org_id,
                        subject_id,
                        model_id,
                        len(vector),
                        self._blob(data),
                        encrypted,
                        float(quality),
                        source,
                        self._blob(image) if image is not None else None,
                        now,
                    ),
                )
                ids.append(template_id)
            self._bump(cur, org_id)
        return ids

    def list_templates(self, org_id: str, subject_id: str) -> list[Template]:
        with self.tx() as cur:
            rows = self._exec(
                cur,
                "SELECT id, subject_id, model_id, quality, source, created_at "
                "FROM templates WHERE org_id = ? AND subject_id = ? "
                "ORDER BY created_at, id",
                (org_id, subject_id),
            ).fetchall()
        return [Template(*r) for r in rows]

    def delete_template(self, org_id: str, subject_id: str, template_id: str) -> bool:
        with self.tx() as cur:
            cur = self._exec(
                cur,
                "DELETE FROM templates WHERE org_id = ? AND subject_id = ? AND id = ?",
                (org_id, subject_id, template_id),
            )
            deleted = bool(cur.rowcount)
            if deleted:
                self._bump(cur, org_id)
        return deleted

    def replace_template(
        self,
        org_id: str,
        subject_id: str,
        template_id: str,
        vector: np.ndarray,
        quality: float,
        source: str,
        image: bytes | None,
    ) -> bool:
        data, encrypted = self._pack(template_id, vector)
        with self.tx() as cur:
            cur = self._exec(
                cur,
                "UPDATE templates SET vector = ?, encrypted = ?, quality = ?, "
                "source = ?, image = ?, dim = ?, created_at = ? "
                "WHERE org_id = ? AND subject_id = ? AND id = ?",
                (
                    self._blob(data),
                    encrypted,
                    float(quality),
                    source,
                    self._blob(image) if image is not None else None,
                    len(vector),
                    time.time(),
                    org_id,
                    subject_id,
                    template_id,
                ),
            )
            replaced = bool(cur.rowcount)
            if replaced:
                self._bump(cur, org_id)
        return replaced

    def load_gallery(self, org_id: str) -> tuple[int, list[str], list[str], np.ndarray]:
        """(version, template ids, subject ids, vectors) of an organisation, for the index."""
        with self.tx() as cur:
            version = self._exec(cur, "SELECT version FROM orgs WHERE id = ?", (org_id,)).fetchone()
            rows = self._exec(
                cur,
                "SELECT id, subject_id, vector, encrypted, dim FROM templates "
                "WHERE org_id = ? ORDER BY id",
                (org_id,),
            ).fetchall()
        dim = int(rows[0][4]) if rows else 0
        vectors = np.zeros((len(rows), dim), dtype=np.float32)
        for i, row in enumerate(rows):
            vectors[i] = self._unpack(row[0], row[2], row[3])
        return (
            int(version[0]) if version else 0,
            [r[0] for r in rows],
            [r[1] for r in rows],
            vectors,
        )

    # -- locks, grants, lockout -------------------------------------------------
    def create_lock(self, org_id: str, name: str) -> Lock:
        lock = Lock(new_id("lock"), name, time.time(), 0.0)
        with self.tx() as cur:
            self._exec(
                cur,
                "INSERT INTO locks (id, org_id, name, created_at) VALUES (?, ?, ?, ?)",
                (lock.id, org_id, name, lock.created_at),
            )
        return lock

    def lock(self, org_id: str, lock_id: str) -> Lock | None:
        with self.tx() as cur:
            row = self._exec(
                cur,
                "SELECT id, name, created_at, locked_until FROM locks WHERE org_id = ? AND id = ?",
                (org_id, lock_id),
            ).fetchone()
        return Lock(*row) if row else None

    def list_locks(self, org_id: str, limit: int, offset: int) -> tuple[list[Lock], int]:
        with self.tx() as cur:
            rows = self._exec(
                cur,
                "SELECT id, name, created_at, locked_until FROM locks "
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
            self._exec(
                cur,
                "DELETE FROM lock_failures WHERE lock_id IN "
                "(SELECT id FROM locks WHERE org_id = ? AND id = ?)",
                (org_id, lock_id),
            )
            cur = self._exec(
                cur, "DELETE FROM locks WHERE org_id = ? AND id = ?", (org_id, lock_id)
            )
            return bool(cur.rowcount)

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
        with self.tx() as cur:
            rows = self._exec(
                cur,
                "SELECT subject_id FROM grants WHERE lock_id = ? ORDER BY created_at",
                (lock_id,),
            ).fetchall()
        return [r[0] for r in rows]

    def record_failure(
        self, lock_id: str, attempts: int, window_s: float, lockout_s: float
    ) -> float:
        """Count a failed unlock; returns the time the lock stays shut until (0: not shut)."""
        now = time.time()
        with self.tx() as cur:
            self._lock_row(cur, lock_id)
            self._exec(cur, "INSERT INTO lock_failures (lock_id, at) VALUES (?, ?)", (lock_id, now))
            self._exec(
                cur,
                "DELETE FROM lock_failures WHERE lock_id = ? AND at < ?",
                (lock_id, now - window_s),
            )
            count = self._exec(
                cur, "SELECT COUNT(*) FROM lock_failures WHERE lock_id = ?", (lock_id,)
            ).fetchone()[0]
            if count >= attempts:
                until = now + lockout_s
                self._exec(cur, "UPDATE locks SET locked_until = ? WHERE id = ?", (until, lock_id))
                self._exec(cur, "DELETE FROM lock_failures WHERE lock_id = ?", (lock_id,))
                return until
        return 0.0

    def clear_failures(self, lock_id: str) -> None:
        with self.tx() as cur:
            self._exec(cur, "DELETE FROM lock_failures WHERE lock_id = ?", (lock_id,))

    @abstractmethod
    def _lock_row(self, cur: Any, lock_id: str) -> None:
        """Serialise concurrent failure counting on one lock."""

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
        with self.tx() as cur:
            rows = self._exec(cur, query, params).fetchall()
        keys = ("id", "at", "key_id", "action", "lock_id", "subject_id", "verdict", "similarity")
        return [{**dict(zip(keys, r[:8], strict=True)), "detail": json.loads(r[8])} for r in rows]
