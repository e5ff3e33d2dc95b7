"""Lookups inside one organisation: another organisation's ids do not exist here (404)."""

from __future__ import annotations

from ..errors import NotFound
from ..store import Lock, Store, Subject


def find_subject(store: Store, org_id: str, subject_id: str) -> Subject:
    """The organisation's subject, or 404: another organisation's ids do not exist here."""
    subject = store.subject(org_id, subject_id)
    if subject is None:
        raise NotFound(f"No subject '{subject_id}' in this organisation.")
    return subject


def find_lock(store: Store, org_id: str, lock_id: str) -> Lock:
    """The organisation's lock, or 404."""
    lock = store.lock(org_id, lock_id)
    if lock is None:
        raise NotFound(f"No lock '{lock_id}' in this organisation.")
    return lock
