"""A weight file: its name on disk, upstream addresses and digest."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WeightFile:
    """One weight file: its name on disk, upstream addresses and digest."""

    id: str
    filename: str
    urls: tuple[str, ...]
    sha256: str | None
    description: str
    licence: str = ""
