"""The gallery store: SQLite by default, PostgreSQL when FACEID_DATABASE_URL is set."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..crypto import TemplateCipher, parse_key
from .base import ApiKey, Lock, Org, Store, Subject, Template, new_id
from .postgres import PostgresStore
from .sqlite import SqliteStore

__all__ = [
    "ApiKey",
    "Lock",
    "Org",
    "PostgresStore",
    "SqliteStore",
    "Store",
    "Subject",
    "Template",
    "new_id",
    "open_store",
]

_stores: dict[tuple[str, str], Store] = {}
_lock = threading.Lock()


def open_store(config: Mapping[str, Any]) -> Store:
    """The process's store for this configuration, migrated on first open."""
    url = str(config.get("FACEID_DATABASE_URL") or "")
    target = url or str(Path(config.get("FACEID_DATA_DIR") or "data").resolve() / "faceid.db")
    key_text = str(config.get("FACEID_ENCRYPTION_KEY") or "")
    with _lock:
        store = _stores.get((target, key_text))
        if store is None:
            cipher = TemplateCipher(parse_key(key_text)) if key_text else None
            store = PostgresStore(url, cipher) if url else SqliteStore(Path(target), cipher)
            store.migrate()
            _stores[(target, key_text)] = store
        return store
