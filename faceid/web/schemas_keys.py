"""Request and response models of ``/v1/keys`` (see :mod:`.schemas` for why)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field


class KeyIn(BaseModel):
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
