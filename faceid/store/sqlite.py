"""SQLite store: one file under FACEID_DATA_DIR, WAL mode, one connection per thread."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .base import Store
from .crypto import TemplateCipher


class SqliteStore(Store):
    """The default store. Several gunicorn workers share the file; WAL lets readers
    run beside one writer, and ``busy_timeout`` makes writers wait instead of failing.

    Writes take the write lock up front (``BEGIN IMMEDIATE``: no deadlock on upgrade);
    reads run in deferred transactions and never wait for a writer. Every commit is
    durable (``synchronous=FULL``): a power cut cannot undo a revocation or a lockout.
    """

    types = {"float": "REAL", "blob": "BLOB", "serial": "INTEGER PRIMARY KEY AUTOINCREMENT"}

    def __init__(self, path: Path, cipher: TemplateCipher | None = None) -> None:
        super().__init__(cipher)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA busy_timeout=30000")
        _use_wal(conn)
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA secure_delete=ON")  # erased templates are overwritten, not left
        return conn

    def _connection(self) -> sqlite3.Connection:
        """One connection per thread (per greenlet under gevent), opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def _transaction(self, write: bool, durable: bool) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        if not durable:  # WAL with NORMAL: consistent, but the last commits may be lost
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            if not durable:
                conn.execute("PRAGMA synchronous=FULL")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

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
