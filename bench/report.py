"""The one results table and the RESULTS.md around it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

COLUMNS = (
    "#",
    "measurement",
    "input",
    "faceid",
    "peer (same run, same input)",
    "peer ÷ faceid (time or memory; >1: faceid better)",
)


@dataclass(frozen=True)
class Row:
    """One line of the table; ``speedup`` is peer cost / faceid cost (>1: faceid better)."""

    item: str
    what: str
    input: str
    faceid: str
    peer: str = "—"
    speedup: str = "—"

    def cells(self) -> tuple[str, ...]:
        return (self.item, self.what, self.input, self.faceid, self.peer, self.speedup)


@dataclass(frozen=True)
class Target:
    goal: str
    measured: str
    met: bool
    why: str

    def line(self) -> str:
        verdict = "**met**" if self.met else "**missed**"
        return f"- {self.goal}: {verdict}. {self.measured}. {self.why}"


def table(rows: Sequence[Row]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"

    return "\n".join(
        [line(COLUMNS), line(["---"] * len(COLUMNS)), *(line(r.cells()) for r in rows)]
    )


def document(
    rows: Sequence[Row],
    machine: Sequence[str],
    method: Sequence[str],
    targets: Sequence[Target],
    notes: Sequence[str],
    seconds: float,
) -> str:
    """RESULTS.md: machine, method, the table, the targets, what did not work."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# faceid benchmark",
        "",
        f"Produced by `make bench` on {stamp} in {seconds / 60:.1f} min. "
        "Do not edit by hand: run it again.",
        "",
        "## Machine",
        "",
        *machine,
        "",
        "## Method",
        "",
        *method,
        "",
        "## Results",
        "",
        table(rows),
        "",
        "## Targets",
        "",
        *(t.line() for t in targets),
    ]
    if notes:
        parts += ["", "## Notes and what did not run", "", *(f"- {n}" for n in notes)]
    return "\n".join(parts) + "\n"
