"""API keys: created once, stored hashed, checked in constant time, scoped to one organisation.

A key reads ``fid_<key id>_<secret>``. Only the SHA-256 of the whole key is
stored (keys are 256-bit random, so a fast hash is enough); the key id finds
the row and ``hmac.compare_digest`` compares the hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from ..errors import Forbidden, Unauthorized
from ..store import SCOPES, Store, new_id


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, organisation and scope."""

    key_id: str
    org_id: str
    scope: str

    def require(self, *scopes: str) -> None:
        """Admin keys may do everything; other keys only what their scope names."""
        if self.scope != "admin" and self.scope not in scopes:
            raise Forbidden(
                f"This key's scope is '{self.scope}'; this call needs "
                f"{' or '.join(repr(s) for s in (*scopes, 'admin'))}."
            )


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(store: Store, org_name: str, scope: str) -> tuple[str, str]:
    """Create (or find) the organisation and a key for it; returns (key id, key)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    org = store.ensure_org(org_name)
    key_id = new_id("key")
    key = f"fid_{key_id}_{secrets.token_urlsafe(32)}"
    store.add_key(org.id, scope, key_id, _hash(key))
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
    return Principal(record.id, record.org_id, record.scope)
