"""Timing helpers: run a callable after a warm-up, summarise latencies, format figures."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Timings:
    """Wall-clock seconds of repeated runs of one operation (warm-up runs excluded)."""

    seconds: tuple[float, ...]

    def pct(self, q: float) -> float:
        return percentile(self.seconds, q)

    @property
    def p50(self) -> float:
        return self.pct(50)

    @property
    def p95(self) -> float:
        return self.pct(95)

    @property
    def runs(self) -> int:
        return len(self.seconds)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (linear interpolation); NaN for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def measure(fn: Callable[[], object], runs: int, warmup: int = 1) -> Timings:
    """Call ``fn`` ``warmup`` times untimed, then ``runs`` times timed."""
    for _ in range(warmup):
        fn()
    return Timings(tuple(timed(fn) for _ in range(runs)))


def ms(seconds: float) -> str:
    """A duration for the table: '3.4 ms', '127 ms' or '2.31 s'."""
    if seconds != seconds:  # NaN
        return "n/a"
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    value = seconds * 1000
    return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"


def p50_p95(t: Timings) -> str:
    return f"p50 {ms(t.p50)}, p95 {ms(t.p95)} (n={t.runs})"


def speedup(peer: float, ours: float) -> str:
    """Peer cost / faceid cost (time or memory): above 1, faceid is that many times better."""
    if not (peer > 0 and ours > 0):
        return "n/a"
    factor = peer / ours
    return f"{factor:.1f}x" if factor >= 1 else f"{factor:.2f}x"


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"
