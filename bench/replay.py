"""The replay-library attack: recordings of the owner against timed challenges.

An attacker holds ``k`` recordings of the owner (spans of 4 to 10 s of a real clip, as
recorded or mirrored) and waits until every cue of a challenge is revealed; then answers
with whichever recording fits best, trimmed at both ends and, at its start, padded with
its first frame (a still lead-in), so that its motions fall where the cues ask for them.
A challenge is drawn, and every answer judged, by the service's own
:func:`faceid.liveness.challenge.draw`, :func:`~faceid.liveness.challenge.schedule` and
:func:`~faceid.liveness.challenge.judge`, on the events the service reads on the whole clip
(:func:`faceid.liveness.clip.analyse`). The attack wins a challenge when some trim of
some recording of the library passes the judge; re-timing a recording (played faster or
slower) or splicing several into one is not modelled.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from faceid.faces.media import Frame
from faceid.faces.pipeline import Pipeline
from faceid.liveness import challenge as challenges
from faceid.liveness.clip import analyse
from faceid.liveness.landmarks import shared_landmarks

Events = list[tuple[float, str]]
SPAN_S = (4.0, 10.0)  # how long the attacker's recordings are
STEP_S = 0.02  # the trims tried, this far apart
POOL = 200  # recordings drawn per person, out of which each library is drawn


@dataclass(frozen=True)
class Recording:
    """A span of a real clip: its events (seconds from its start) and length."""

    name: str
    events: Events
    length_s: float


def clip_events(pipe: Pipeline, frames: Sequence[np.ndarray], fps: float) -> tuple[Events, float]:
    """The events the service reads on a whole clip, and its length in seconds."""
    timed = [Frame(i, i / fps, f) for i, f in enumerate(frames)]
    analysis = analyse(pipe, shared_landmarks(), timed, ["turn_left"])
    return analysis.events, len(frames) / fps


def pool(name: str, events: Events, length_s: float, rng: random.Random) -> list[Recording]:
    """:data:`POOL` random spans of a clip's timeline, each with the events inside it."""
    found = []
    for _ in range(POOL):
        span = min(rng.uniform(*SPAN_S), length_s)
        start = rng.uniform(0.0, length_s - span)
        inside = [(round(t - start, 3), k) for t, k in events if start <= t <= start + span]
        found.append(Recording(f"{name} {start:.1f}+{span:.1f} s", inside, span))
    return found


Trim = tuple[float, float, Events, float]


def _trims(rec: Recording, actions: tuple[str, ...]) -> list[Trim]:
    """(earliest start, latest start, events kept, end) of each trim of ``rec`` whose motion
    answers ``actions`` (untimed): the clip starts before its ``j``-th event (after the one
    before it, or up to a longest gap of still lead-in earlier), and ends before an event
    or at the recording's end."""
    events = rec.events
    times = [t for t, _ in events]
    found = []
    for j in range(len(events)):
        earliest = times[j - 1] + 1e-3 if j else -challenges.GAP_S[1]
        ends = [times[m] - 1e-3 for m in range(j + 1, len(events))] + [rec.length_s]
        for end in ends:
            kept = [(t, k) for t, k in events[j:] if t <= end]
            if challenges.judge(actions, kept, end) is None:
                found.append((earliest, times[j], kept, end))
    return found


class Attack:
    """The trims of every recording that answer each challenge's actions, cached."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, tuple[str, ...]], list[Trim]] = {}

    def wins(self, rec: Recording, actions: list[str], cues: list[float] | None) -> bool:
        """Whether some trim of ``rec`` passes the judge on ``cues`` (None: untimed)."""
        key = (rec.name, tuple(actions))
        if key not in self._cache:
            self._cache[key] = _trims(rec, tuple(actions))
        if cues is None:
            return bool(self._cache[key])
        early, late = challenges.WINDOW_S
        for earliest, latest, kept, end in self._cache[key]:
            # the first action's answer must land in its window after the first cue (at 0):
            # only starts that put an event of its kind there can win
            firsts = [t for t, k in kept if k.rpartition(":")[2] == actions[0]]
            for first in firsts:
                low, high = max(earliest, first - late), min(latest, first - early)
                for start in np.arange(low, high + 1e-9, STEP_S):
                    shifted = [(t - start, k) for t, k in kept]
                    if challenges.judge(actions, shifted, end - start, cues) is None:
                        return True
        return False


def success(
    recordings: list[Recording],
    k: int,
    draws: int,
    rng: random.Random,
    timed: bool = True,
    label: str = "",
) -> float:
    """The share of ``draws`` challenges a library of ``k`` recordings (drawn from
    ``recordings`` anew for each challenge) answers; ``timed`` False: against challenges
    whose timing is not checked (the order of the motions alone)."""
    attack, won = Attack(), 0
    for _ in tqdm(range(draws), desc=f"replay library {label} k={k}", unit="challenge"):
        actions = challenges.draw(rng)
        cues = challenges.schedule(len(actions), rng) if timed else None
        library = rng.sample(recordings, k)
        won += any(attack.wins(rec, actions, cues) for rec in library)
    return won / draws
