"""API keys: created once, stored hashed, checked in constant time, scoped to one organisation.

A key reads ``fid_<key id>_<secret>``. Only the SHA-256 of the whole key is
stored (keys are 256-bit random, so a fast hash is enough); the key id finds
the row and ``hmac.compare_digest`` compares the hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import Forbidden, InvalidParameter, NotFound, Unauthorized
from ..store import SCOPES, Store, new_id


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, organisation and scope."""

    key_id: str
    org_id: str
    scope: str
    locks: frozenset[str] = frozenset()  # a door key: only these locks (empty: any)

    def check_lock(self, lock_id: str) -> None:
        """A door key knows only its own locks: any other answers 404, as if absent."""
        if self.locks and lock_id not in self.locks:
            raise NotFound(f"No lock '{lock_id}' in this organisation.")

    def require_unbound(self, call: str) -> None:
        """Door keys open their doors and nothing else (no 1:N or 1:1 search)."""
        if self.locks:
            raise Forbidden(f"This key is bound to locks; it cannot call {call}.")

    def require(self, *scopes: str) -> None:
        """Admin keys may do everything; other keys only what their scope names."""
        if self.scope != "admin" and self.scope not in scopes:
            raise Forbidden(
                f"This key's scope is '{self.scope}'; this call needs "
                f"{' or '.join(repr(s) for s in (*scopes, 'admin'))}."
            )


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    store: Store, org_name: str, scope: str, locks: Sequence[str] = ()
) -> tuple[str, str]:
    """Create (or find) the organisation and a key for it; returns (key id, key).

    ``locks`` binds an ``unlock`` key to those doors of the organisation."""
    org = store.ensure_org(org_name)
    return issue_key(store, org.id, scope, locks)


def issue_key(store: Store, org_id: str, scope: str, locks: Sequence[str] = ()) -> tuple[str, str]:
    """A new key of an existing organisation; InvalidParameter for a bad scope or a lock
    bound to a key of another scope, NotFound for a lock the organisation does not have."""
    if scope not in SCOPES:
        raise InvalidParameter(f"scope must be one of {', '.join(SCOPES)}.")
    if locks and scope != "unlock":
        raise InvalidParameter("Only 'unlock' keys can be bound to locks.")
    for lock_id in locks:
        if store.lock(org_id, lock_id) is None:
            raise NotFound(f"No lock '{lock_id}' in this organisation.")
    key_id = new_id("key")
    key = f"fid_{key_id}_{secrets.token_urlsafe(32)}"
    store.add_key(org_id, scope, key_id, _hash(key), locks)
    return key_id, key


def authenticate(store: Store, key: str | None) -> Principal:
    """The principal a presented key stands for; Unauthorized when it stands for none."""
    if not key:
        raise Unauthorized("Send an API key as 'Authorization: Bearer <key>' or 'X-API-Key'.")
    parts = key.split("_")
    key_id = "_".join(parts[1:3]) if len(parts) >= 4 and parts[0] == "fid" else ""
    record = store.key(key_id) if key_id else None
    expected = record.key_hash if record else _hash("fid_dummy")
    valid = hmac.compare_digest(expected, _hash(key))
    if record is None or not valid or record.revoked:
        raise Unauthorized("The API key is not valid.")
    return Principal(record.id, record.org_id, record.scope, frozenset(record.locks))


# -- keys over HTTP (admin) -----------------------------------------------------------
def create_key_for(
    store: Store, who: Principal, scope: str, locks: Sequence[str]
) -> dict[str, object]:
    """A new key of the caller's organisation, shown once (audited)."""
    key_id, key = issue_key(store, who.org_id, scope, locks)
    store.audit(who.org_id, "key.create", key_id=who.key_id, new_key=key_id, scope=scope)
    return {"id": key_id, "key": key, "scope": scope, "locks": sorted(set(locks))}


def list_keys(store: Store, who: Principal) -> dict[str, object]:
    """The organisation's keys: ids, scopes, locks, revoked or not (never the keys)."""
    return {"items": [k.to_json() for k in store.list_keys(who.org_id)]}


def revoke_key(store: Store, who: Principal, key_id: str) -> dict[str, object]:
    """Revoke one of the organisation's keys (404 for another organisation's)."""
    record = store.key(key_id)
    if record is None or record.org_id != who.org_id:
        raise NotFound(f"No key '{key_id}' in this organisation.")
    store.revoke_key(key_id)
    store.audit(who.org_id, "key.revoke", key_id=who.key_id, revoked_key=key_id)
    return {"id": key_id, "revoked": True}
