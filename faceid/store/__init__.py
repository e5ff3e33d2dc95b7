"""The gallery store: SQLite by default, PostgreSQL when FACEID_DATABASE_URL is set."""

from __future__ import annotations

from ..settings import Settings
from .base import Store
from .budgets import DAY_S, Budget, Outcome, Refusal, day_bucket, work_bucket
from .challenges import Challenge
from .crypto import TemplateCipher, parse_key
from .postgres import PostgresStore
from .quotas import Quotas
from .records import SCOPES, ApiKey, Lock, Org, Subject, Template, new_id
from .sqlite import SqliteStore

__all__ = [
    "SCOPES",
    "ApiKey",
    "DAY_S",
    "Budget",
    "Outcome",
    "Challenge",
    "Refusal",
    "day_bucket",
    "work_bucket",
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


def open_store(settings: Settings) -> Store:
    """A new store for these settings (SQLite file or PostgreSQL URL), migrated.

    >>> store = open_store(Settings(data_dir=Path("/tmp/faceid-doctest")))  # doctest: +SKIP
    """
    cipher = TemplateCipher(parse_key(settings.encryption_key)) if settings.encryption_key else None
    store: Store
    if settings.database_url:
        store = PostgresStore(settings.database_url, cipher)
    else:
        store = SqliteStore(settings.data_dir.resolve() / "faceid.db", cipher)
    store.quotas = Quotas(
        subjects=settings.quota_subjects,
        templates=settings.quota_templates,
        locks=settings.quota_locks,
        keys=settings.quota_keys,
        audit_days=settings.audit_retention_days,
    )
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
