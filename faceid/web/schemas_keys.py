"""Request and response models of ``/v1/keys`` (see :mod:`.schemas` for why)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class KeyIn(BaseModel):
    """Only an ``unlock`` key is bound to ``locks`` (400 invalid_parameter otherwise)."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"scope": {"not": {"const": "unlock"}}}},
            "then": {"properties": {"locks": {"maxItems": 0}}},
        }
    )

    scope: Literal["enroll", "unlock", "admin"]
    locks: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=100, description="bind an unlock key to these doors"
    )


class KeyCreated(BaseModel):
    """The key itself is shown once, here; only its hash is stored."""

    id: str
    key: str
    scope: str
    locks: list[str]


class KeyOut(BaseModel):
    id: str
    scope: str
    locks: list[str]
    revoked: bool


class KeyList(BaseModel):
    items: list[KeyOut]


class KeyRevoked(BaseModel):
    id: str
    revoked: bool
