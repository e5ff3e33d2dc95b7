"""``/v1/locks``, grants and the audit log: the doors an organisation runs. Scope ``admin``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify

from ..errors import BadRequest, NotFound
from ..lock.catalogue import find_lock, find_subject
from .openapi import documented
from .requests import caller, json_body, query, services
from .schemas_v1 import (
    AuditList,
    AuditQuery,
    Deleted,
    Grant,
    LockDetail,
    LockIn,
    LockList,
    LockOut,
    PageQuery,
)

bp = Blueprint("locks", __name__)

KEY_ERRORS = (401, 403)


@bp.post("/locks")
@documented(201, LockOut, (400, *KEY_ERRORS, 413), keyed=True, tag="locks", json=LockIn)
def create_lock() -> Any:
    """Create a door."""
    who = caller("admin")
    store = services().store
    lock = store.create_lock(who.org_id, json_body(LockIn).name)
    store.audit(who.org_id, "lock.create", key_id=who.key_id, lock_id=lock.id)
    return jsonify(lock.to_json()), 201


@bp.get("/locks")
@documented(200, LockList, (400, *KEY_ERRORS), keyed=True, tag="locks", query=PageQuery)
def list_locks() -> Any:
    """The organisation's doors, paged."""
    who = caller("admin")
    page = query(PageQuery)
    locks, total = services().store.list_locks(who.org_id, page.limit, page.offset)
    items = [lock.to_json() for lock in locks]
    return jsonify(items=items, total=total, limit=page.limit, offset=page.offset)


@bp.get("/locks/<lock_id>")
@documented(200, LockDetail, (*KEY_ERRORS, 404), keyed=True, tag="locks")
def get_lock(lock_id: str) -> Any:
    """One door and the subjects granted on it."""
    who = caller("admin")
    store = services().store
    lock = find_lock(store, who.org_id, lock_id)
    return jsonify({**lock.to_json(), "granted": store.granted(lock_id)})


@bp.delete("/locks/<lock_id>")
@documented(200, Deleted, (*KEY_ERRORS, 404), keyed=True, tag="locks")
def delete_lock(lock_id: str) -> Any:
    """Delete a door and its grants."""
    who = caller("admin")
    store = services().store
    find_lock(store, who.org_id, lock_id)
    store.delete_lock(who.org_id, lock_id)
    store.audit(who.org_id, "lock.delete", key_id=who.key_id, lock_id=lock_id)
    return jsonify(id=lock_id, deleted=True)


@bp.put("/locks/<lock_id>/grants/<subject_id>")
@documented(200, Grant, (*KEY_ERRORS, 404), keyed=True, tag="locks", also={201: Grant})
def grant(lock_id: str, subject_id: str) -> Any:
    """Let a subject open a door (201 when new, 200 when it already could)."""
    who = caller("admin")
    store = services().store
    find_lock(store, who.org_id, lock_id)
    find_subject(store, who.org_id, subject_id)
    created = store.grant(lock_id, subject_id)
    store.audit(who.org_id, "grant", key_id=who.key_id, lock_id=lock_id, subject_id=subject_id)
    return jsonify(lock_id=lock_id, subject_id=subject_id, granted=True), 201 if created else 200


@bp.delete("/locks/<lock_id>/grants/<subject_id>")
@documented(200, Grant, (*KEY_ERRORS, 404), keyed=True, tag="locks")
def revoke(lock_id: str, subject_id: str) -> Any:
    """Take a subject's grant on a door away."""
    who = caller("admin")
    store = services().store
    find_lock(store, who.org_id, lock_id)
    if not store.revoke(lock_id, subject_id):
        raise NotFound(f"Subject '{subject_id}' holds no grant on lock '{lock_id}'.")
    store.audit(who.org_id, "revoke", key_id=who.key_id, lock_id=lock_id, subject_id=subject_id)
    return jsonify(lock_id=lock_id, subject_id=subject_id, granted=False)


def _when(name: str, raw: str | None) -> float | None:
    """Epoch seconds or ISO 8601, as epoch seconds."""
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise BadRequest(f"'{name}' must be epoch seconds or ISO 8601.") from exc


@bp.get("/audit")
@documented(200, AuditList, (400, *KEY_ERRORS), keyed=True, tag="locks", query=AuditQuery)
def audit() -> Any:
    """The audit log, oldest first (times as epoch seconds or ISO 8601)."""
    who = caller("admin")
    q = query(AuditQuery)
    events = services().store.audit_events(
        who.org_id,
        lock_id=q.lock_id,
        since=_when("since", q.since),
        until=_when("until", q.until),
        limit=q.limit,
        offset=q.offset,
    )
    return jsonify(items=events, limit=q.limit, offset=q.offset)
