"""The rows the store hands out: plain frozen dataclasses."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np

#: What an API key may be scoped to (``admin`` may do everything).
SCOPES = ("enroll", "unlock", "admin")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    model_id: str | None
    version: int


@dataclass(frozen=True)
class ApiKey:
    id: str
    org_id: str
    scope: str
    key_hash: str
    revoked: bool
    locks: tuple[str, ...] = ()  # a door key opens only these locks (empty: any)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scope": self.scope,
            "locks": list(self.locks),
            "revoked": self.revoked,
        }


@dataclass(frozen=True)
class Subject:
    id: str
    name: str
    metadata: dict[str, Any]
    created_at: float
    templates: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "metadata": self.metadata,
            "created_at": self.created_at,
            "templates": self.templates,
        }


@dataclass(frozen=True)
class Template:
    id: str
    subject_id: str
    model_id: str
    quality: float
    source: str
    created_at: float
    vector: np.ndarray | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject_id": self.subject_id,
            "model": self.model_id,
            "quality": self.quality,
            "source": self.source,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Lock:
    id: str
    name: str
    created_at: float
    level: str = "standard"
    liveness: str = "off"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "level": self.level,
            "liveness": self.liveness,
            "created_at": self.created_at,
        }
