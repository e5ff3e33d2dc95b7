"""What every section shares: paths, repetition counts, and where results go."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .report import Row
from .tables import models_view

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Repetition counts and paths; ``runs`` are timed runs after ``warmup`` untimed ones."""

    shared: Path
    tmp: Path
    runs: int = 15
    peer_runs: int = 7
    warmup: int = 2
    pairs: int = 40
    video_runs: int = 5
    peer_video_runs: int = 3
    requests: int = 600
    extract_requests: int = 40
    time_cap_s: float = 60.0

    @property
    def examples(self) -> Path:
        return self.shared / "faces" / "face_recognition" / "examples"

    @property
    def deepface_dir(self) -> Path:
        return self.shared / "faces" / "deepface"

    @property
    def models(self) -> Path:
        return models_view(self.shared)


@dataclass
class Results:
    """Rows for the table, facts and explanations for the targets, and notes."""

    rows: list[Row] = field(default_factory=list)
    facts: dict[str, float] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def ordered(self) -> list[Row]:
        """Rows by item number, in the order each item added them."""
        return sorted(self.rows, key=lambda r: int(r.item))
