"""PostgreSQL store (``FACEID_DATABASE_URL``), so several hosts can share one gallery."""

from __future__ import annotations

from typing import Any

from .base import Store
from .crypto import TemplateCipher


class PostgresStore(Store):
    """psycopg 3, one connection per thread. Needs no extension: search runs in the service."""

    placeholder = "%s"
    types = {"float": "DOUBLE PRECISION", "blob": "BYTEA", "serial": "BIGSERIAL PRIMARY KEY"}

    def __init__(self, url: str, cipher: TemplateCipher | None = None) -> None:
        super().__init__(cipher)
        self.url = url

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url, autocommit=False)

    def _lock_schema(self, cur: Any) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(4242)")

    def _lock_bucket(self, cur: Any, bucket: str) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (bucket,))

    def describe(self) -> str:
        host = self.url.split("@")[-1]
        return f"postgresql://…@{host}"
