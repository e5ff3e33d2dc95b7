"""Connections, transactions and schema migrations shared by the SQLite and PostgreSQL stores."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
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

    # -- connections and dialect -------------------------------------------------
    @abstractmethod
    def _transaction(self, write: bool, durable: bool) -> AbstractContextManager[Any]:
        """A connection inside one transaction: committed on success, rolled back on error.
        ``write=False`` lets a store read without taking its write lock; ``durable=False``
        lets a write skip waiting for the disk (counters a crash may lose)."""

    @abstractmethod
    def describe(self) -> str:
        """Where the store lives, with no secret (for logs and the CLI)."""

    @abstractmethod
    def close(self) -> None:
        """Release the store's connections."""

    def _sql(self, query: str) -> str:
        return query if self.placeholder == "?" else query.replace("?", self.placeholder)

    @contextmanager
    def tx(self, write: bool = True, durable: bool = True) -> Iterator[Any]:
        """A cursor inside one transaction: committed on success, rolled back on error."""
        with self._transaction(write, durable) as conn:
            cur = conn.cursor()
            try:
                yield cur
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
            self._lock_schema(cur)  # before any DDL: workers starting together take turns
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
    def _lock_bucket(self, cur: Any, bucket: str) -> None:
        """Serialise writes to one named bucket (a budget, a counter) across workers and hosts."""

    @abstractmethod
    def _lock_schema(self, cur: Any) -> None:
        """Serialise concurrent migrations (workers starting together)."""
