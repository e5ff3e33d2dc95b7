"""``/v1/locks``, grants and the audit log: the doors an organisation runs. Scope ``admin``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from ..lock import catalogue
from .openapi import documented
from .requests import caller, json_body, query, services, store, timestamp
from .schemas_v1 import (
    AuditList,
    AuditQuery,
    Deleted,
    Grant,
    LockDetail,
    LockIn,
    LockList,
    LockOut,
    LockoutReset,
    LockPolicy,
    PageQuery,
)

bp = Blueprint("locks", __name__)

KEY_ERRORS = (401, 403)


@bp.post("/locks")
@documented(201, LockOut, (400, *KEY_ERRORS, 413, 422), keyed=True, tag="locks", json=LockIn)
def create_lock() -> Any:
    """Create a door at an operating point (``level``, default ``FACEID_LEVEL``) with a
    liveness policy (``liveness``, default ``FACEID_LOCK_LIVENESS``: ``challenge``)."""
    who = caller("admin")
    body = json_body(LockIn)
    cfg = services().settings
    level = body.level or cfg.level
    liveness = body.liveness or cfg.lock_liveness
    card = services().card
    return jsonify(catalogue.create_lock(store(), who, body.name, level, liveness, card)), 201


@bp.patch("/locks/<lock_id>")
@documented(
    200, LockOut, (400, *KEY_ERRORS, 404, 413, 422), keyed=True, tag="locks", json=LockPolicy
)
def set_policy(lock_id: str) -> Any:
    """Move a door to another ``level`` and/or ``liveness`` policy (audited); with
    neither, the door as it is."""
    who = caller("admin")
    body = json_body(LockPolicy)
    changes = {k: v for k, v in body.model_dump().items() if v is not None}
    if not changes:
        return jsonify(catalogue.find_lock(store(), who.org_id, lock_id).to_json())
    return jsonify(catalogue.set_policy(store(), who, lock_id, changes, services().card))


@bp.get("/locks")
@documented(200, LockList, (400, *KEY_ERRORS), keyed=True, tag="locks", query=PageQuery)
def list_locks() -> Any:
    """The organisation's doors, paged."""
    who = caller("admin")
    page = query(PageQuery)
    return jsonify(catalogue.list_locks(store(), who, page.limit, page.offset))


@bp.get("/locks/<lock_id>")
@documented(200, LockDetail, (*KEY_ERRORS, 404), keyed=True, tag="locks")
def get_lock(lock_id: str) -> Any:
    """One door and the subjects granted on it."""
    return jsonify(catalogue.get_lock(store(), caller("admin"), lock_id))


@bp.delete("/locks/<lock_id>")
@documented(200, Deleted, (*KEY_ERRORS, 404), keyed=True, tag="locks")
def delete_lock(lock_id: str) -> Any:
    """Delete a door and its grants."""
    return jsonify(catalogue.delete_lock(store(), caller("admin"), lock_id))


@bp.delete("/locks/<lock_id>/lockout")
@documented(200, LockoutReset, (*KEY_ERRORS, 404), keyed=True, tag="locks")
def reset_lockout(lock_id: str) -> Any:
    """Reopen a door shut by failed attempts and end the escalation of its lockouts
    (``reset`` false: it had no failures to forget); audited."""
    return jsonify(catalogue.reset_lockout(store(), caller("admin"), lock_id))


@bp.put("/locks/<lock_id>/grants/<subject_id>")
@documented(200, Grant, (*KEY_ERRORS, 404), keyed=True, tag="locks", also={201: Grant})
def grant(lock_id: str, subject_id: str) -> Any:
    """Let a subject open a door (201 when new, 200 when it already could)."""
    result, created = catalogue.grant(store(), caller("admin"), lock_id, subject_id)
    return jsonify(result), 201 if created else 200


@bp.delete("/locks/<lock_id>/grants/<subject_id>")
@documented(200, Grant, (*KEY_ERRORS, 404), keyed=True, tag="locks")
def revoke(lock_id: str, subject_id: str) -> Any:
    """Take a subject's grant on a door away."""
    return jsonify(catalogue.revoke(store(), caller("admin"), lock_id, subject_id))


@bp.get("/audit")
@documented(200, AuditList, (400, *KEY_ERRORS), keyed=True, tag="locks", query=AuditQuery)
def audit() -> Any:
    """The audit log, oldest first (times as epoch seconds or ISO 8601)."""
    who = caller("admin")
    q = query(AuditQuery)
    events = store().audit_events(
        who.org_id,
        lock_id=q.lock_id,
        since=timestamp("since", q.since),
        until=timestamp("until", q.until),
        limit=q.limit,
        offset=q.offset,
    )
    return jsonify(items=events, limit=q.limit, offset=q.offset)
