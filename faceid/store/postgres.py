"""PostgreSQL store (``FACEID_DATABASE_URL``), so several hosts can share one gallery."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import StoreUnavailable
from .base import Store
from .crypto import TemplateCipher

log = logging.getLogger(__name__)


class PostgresStore(Store):
    """psycopg 3 through a connection pool (psycopg_pool) that checks each connection
    before lending it, so a database restart costs at most the requests in flight:
    broken connections are dropped and new ones opened, with no worker restart. While
    the database is down, calls answer ``503 store_unavailable``. Needs no extension:
    search runs in the service."""

    placeholder = "%s"
    types = {"float": "DOUBLE PRECISION", "blob": "BYTEA", "serial": "BIGSERIAL PRIMARY KEY"}

    def __init__(self, url: str, cipher: TemplateCipher | None = None, pool_size: int = 8) -> None:
        from psycopg_pool import ConnectionPool

        super().__init__(cipher)
        self.url = url
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            open=False,
            check=ConnectionPool.check_connection,
            timeout=3.0,  # how long a call waits for a connection before its 503
            reconnect_timeout=0,  # keep trying for as long as the database is away
            name="faceid",
        )
        self._pool.open(wait=False)

    @contextmanager
    def _transaction(self, write: bool, durable: bool) -> Iterator[Any]:
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            log.warning("database unavailable", extra={"error": str(exc)[:200]})
            raise StoreUnavailable(
                "The database cannot be reached right now; try again in a few seconds."
            ) from exc

    def close(self) -> None:
        self._pool.close()

    def _lock_schema(self, cur: Any) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(4242)")

    def _lock_bucket(self, cur: Any, bucket: str) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (bucket,))

    def describe(self) -> str:
        host = self.url.split("@")[-1]
        return f"postgresql://…@{host}"
