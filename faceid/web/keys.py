"""``/v1/keys``: an organisation's API keys, managed by its admin keys."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from ..lock import keys
from .openapi import documented
from .requests import caller, json_body, store
from .schemas_keys import KeyCreated, KeyIn, KeyList, KeyRevoked

bp = Blueprint("keys", __name__)


@bp.post("/keys")
@documented(201, KeyCreated, (400, 401, 403, 404, 413), keyed=True, tag="keys", json=KeyIn)
def create_key() -> Any:
    """A new key of the caller's organisation, shown once; ``locks`` binds a door key."""
    who = caller("admin")
    body = json_body(KeyIn)
    return jsonify(keys.create_key_for(store(), who, body.scope, body.locks)), 201


@bp.get("/keys")
@documented(200, KeyList, (401, 403), keyed=True, tag="keys")
def list_keys() -> Any:
    """The organisation's keys (never the keys themselves)."""
    return jsonify(keys.list_keys(store(), caller("admin")))


@bp.delete("/keys/<key_id>")
@documented(200, KeyRevoked, (401, 403, 404), keyed=True, tag="keys")
def revoke_key(key_id: str) -> Any:
    """Revoke a key at once, in every worker and host."""
    return jsonify(keys.revoke_key(store(), caller("admin"), key_id))
