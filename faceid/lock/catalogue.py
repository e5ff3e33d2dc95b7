"""The catalogue of one organisation: subjects, faces, locks and grants; lookup, write, audit.

Every function takes the store and the calling key's :class:`~faceid.lock.keys.Principal`;
ids are looked up inside the caller's organisation, so another organisation's ids do
not exist here (404). Writes are audited with the caller's key id.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import NotFound
from ..faces.levels import level_threshold
from ..faces.models import ModelCard
from ..store import Lock, Store, Subject, day_bucket, work_bucket
from .keys import Principal


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


def page(items: list[dict[str, Any]], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}


# -- subjects and their faces ------------------------------------------------------------
def create_subject(
    store: Store, who: Principal, name: str, metadata: dict[str, Any]
) -> dict[str, Any]:
    subject = store.create_subject(who.org_id, name, metadata)
    store.audit(who.org_id, "subject.create", key_id=who.key_id, subject_id=subject.id)
    return subject.to_json()


def list_subjects(store: Store, who: Principal, limit: int, offset: int) -> dict[str, Any]:
    subjects, total = store.list_subjects(who.org_id, limit, offset)
    return page([s.to_json() for s in subjects], total, limit, offset)


def delete_subject(store: Store, who: Principal, subject_id: str) -> dict[str, Any]:
    """Erase a subject, their templates and grants in one transaction (audited)."""
    find_subject(store, who.org_id, subject_id)
    erased = store.delete_subject(who.org_id, subject_id)
    store.audit(
        who.org_id,
        "subject.delete",
        key_id=who.key_id,
        subject_id=subject_id,
        templates_erased=erased,
    )
    return {"id": subject_id, "deleted": True, "templates_erased": erased}


def list_faces(store: Store, who: Principal, subject_id: str) -> dict[str, Any]:
    find_subject(store, who.org_id, subject_id)
    faces = [t.to_json() for t in store.list_templates(who.org_id, subject_id)]
    return page(faces, len(faces), len(faces), 0)


def delete_face(store: Store, who: Principal, subject_id: str, face_id: str) -> dict[str, Any]:
    anchored = who.scope != "admin"  # an admin may remove a granted subject's last face
    if not store.delete_template(who.org_id, subject_id, face_id, anchored=anchored):
        raise NotFound(f"No face '{face_id}' for subject '{subject_id}'.")
    store.audit(
        who.org_id, "face.delete", key_id=who.key_id, subject_id=subject_id, template_id=face_id
    )
    return {"id": face_id, "deleted": True}


# -- locks and grants --------------------------------------------------------------------
def create_lock(
    store: Store, who: Principal, name: str, level: str, liveness: str, card: ModelCard
) -> dict[str, Any]:
    """A new door at ``level``: refused (422) when the model was not calibrated for it."""
    level_threshold(card, level)
    lock = store.create_lock(who.org_id, name, level, liveness)
    store.audit(
        who.org_id,
        "lock.create",
        key_id=who.key_id,
        lock_id=lock.id,
        level=level,
        liveness=liveness,
    )
    return lock.to_json()


def set_policy(
    store: Store, who: Principal, lock_id: str, changes: dict[str, str], card: ModelCard
) -> dict[str, Any]:
    """Move a door to another operating point and/or liveness policy; audited with what
    it was before."""
    find_lock(store, who.org_id, lock_id)
    if "level" in changes:
        level_threshold(card, changes["level"])
    previous = store.set_lock_policy(who.org_id, lock_id, **changes)
    if previous is None:  # deleted meanwhile
        raise NotFound(f"No lock '{lock_id}' in this organisation.")
    before: dict[str, Any] = {k: getattr(previous, k) for k in changes}
    store.audit(
        who.org_id,
        "lock.policy",
        key_id=who.key_id,
        lock_id=lock_id,
        changes=changes,
        previous=before,
    )
    after: dict[str, Any] = dict(changes)
    return dataclasses.replace(previous, **after).to_json()


def list_locks(store: Store, who: Principal, limit: int, offset: int) -> dict[str, Any]:
    locks, total = store.list_locks(who.org_id, limit, offset)
    return page([lock.to_json() for lock in locks], total, limit, offset)


def get_lock(store: Store, who: Principal, lock_id: str) -> dict[str, Any]:
    lock = find_lock(store, who.org_id, lock_id)
    return {**lock.to_json(), "granted": store.granted(lock_id)}


def delete_lock(store: Store, who: Principal, lock_id: str) -> dict[str, Any]:
    find_lock(store, who.org_id, lock_id)
    store.delete_lock(who.org_id, lock_id)
    store.audit(who.org_id, "lock.delete", key_id=who.key_id, lock_id=lock_id)
    return {"id": lock_id, "deleted": True}


def reset_lockout(store: Store, who: Principal, lock_id: str) -> dict[str, Any]:
    """Reopen a door shut by failed attempts and end the escalation of its lockouts
    (its short, day-long and work budgets); audited."""
    find_lock(store, who.org_id, lock_id)
    bucket = f"lock:{lock_id}"
    reset = [store.reset_bucket(b) for b in (bucket, day_bucket(bucket), work_bucket(bucket))]
    store.audit(who.org_id, "lock.lockout_reset", key_id=who.key_id, lock_id=lock_id)
    return {"lock_id": lock_id, "reset": any(reset)}


def grant(store: Store, who: Principal, lock_id: str, subject_id: str) -> tuple[dict, bool]:
    """Let a subject open a lock; whether the grant is new."""
    find_lock(store, who.org_id, lock_id)
    find_subject(store, who.org_id, subject_id)
    created = store.grant(lock_id, subject_id)
    store.audit(who.org_id, "grant", key_id=who.key_id, lock_id=lock_id, subject_id=subject_id)
    return {"lock_id": lock_id, "subject_id": subject_id, "granted": True}, created


def revoke(store: Store, who: Principal, lock_id: str, subject_id: str) -> dict[str, Any]:
    find_lock(store, who.org_id, lock_id)
    if not store.revoke(lock_id, subject_id):
        raise NotFound(f"Subject '{subject_id}' holds no grant on lock '{lock_id}'.")
    store.audit(who.org_id, "revoke", key_id=who.key_id, lock_id=lock_id, subject_id=subject_id)
    return {"lock_id": lock_id, "subject_id": subject_id, "granted": False}
