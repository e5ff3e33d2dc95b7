"""Connections, transactions and schema migrations shared by the SQLite and PostgreSQL stores."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .crypto import TemplateCipher
from .schema import MIGRATIONS


class SqlCore(ABC):
    """Connections, transactions, dialect and migrations. ``cipher`` encrypts template
    vectors at rest when given."""

    placeholder = "?"
    types: dict[str, str] = {}

    def __init__(self, cipher: TemplateCipher | None = None) -> None:
        self.cipher = cipher
        self._local = threading.local()

    # -- connections and dialect -------------------------------------------------
    @abstractmethod
    def describe(self) -> str:
        """Where the store lives, with no secret (for logs and the CLI)."""

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
