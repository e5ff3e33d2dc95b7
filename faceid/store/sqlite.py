"""SQLite store: one file under FACEID_DATA_DIR, WAL mode, one connection per thread."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from .base import Store
from .crypto import TemplateCipher


class SqliteStore(Store):
    """The default store. Several gunicorn workers share the file; WAL lets readers
    run beside one writer, and ``busy_timeout`` makes writers wait instead of failing."""

    types = {"float": "REAL", "blob": "BLOB", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT"}

    def __init__(self, path: Path, cipher: TemplateCipher | None = None) -> None:
        super().__init__(cipher)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _connect(self) -> Any:
        conn = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA busy_timeout=30000")
        _use_wal(conn)
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA secure_delete=ON")  # erased templates are overwritten, not left
        return _Tx(conn)

    def _lock_schema(self, cur: Any) -> None:
        return None  # BEGIN IMMEDIATE already holds the database's write lock

    def _lock_bucket(self, cur: Any, bucket: str) -> None:
        return None  # likewise

    def describe(self) -> str:
        return f"sqlite:{self.path}"


def _use_wal(conn: sqlite3.Connection, attempts: int = 300) -> None:
    """Switch the file to WAL once. Workers opening a new file together can find it locked
    while another one switches (SQLite does not wait on that lock), so retry briefly."""
    for attempt in range(attempts):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


class _Tx:
    """Wrap a connection in autocommit mode so every ``cursor()`` opens
    ``BEGIN IMMEDIATE``: writers take the lock up front instead of deadlocking on upgrade."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._open = False

    def cursor(self) -> sqlite3.Cursor:
        if not self._open:
            self._conn.execute("BEGIN IMMEDIATE")
            self._open = True
        return self._conn.cursor()

    def commit(self) -> None:
        if self._open:
            self._conn.execute("COMMIT")
            self._open = False

    def rollback(self) -> None:
        if self._open:
            self._conn.execute("ROLLBACK")
            self._open = False

    def close(self) -> None:
        self._conn.close()
