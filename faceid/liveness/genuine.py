"""The genuine set: real clips of people turning their heads, annotated, and the cuts of
them a person answering a challenge would send.

:data:`PEOPLE` lists every clip of ``../shared/faces/liveness`` whose person turns their
head (besides :data:`.evalset.GENUINE`, the first person's hand-picked cuts); each motion
is annotated with the second it starts. :func:`.evalset.genuine` makes every attempt of
:func:`genuine_cuts`, as recorded and mirrored, asked the challenge its motions answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Person:
    """A real clip of one person and its motions, annotated: ``motions`` are (second the
    motion starts, action), read from the clip's yaw and eye-openness traces at its own
    frame rate and checked by eye on its frames. ``reverse``: the clip is played backwards
    (a head coming back from a turn, reversed, is a head turning: a real motion), with
    times given on the reversed timeline. ``enrol``: the seconds (of the clip as played)
    its person is enrolled from, facing the camera."""

    name: str
    clip: str
    motions: tuple[tuple[float, str], ...]
    enrol: tuple[float, float]
    reverse: bool = False
    max_actions: int = 2


#: Every real clip of ../shared/faces/liveness whose person turns their head. Each cut
#: starts 0.2 s before a motion (wherever the head is then: frontal, or up to profile from
#: the motion before) and ends as the next motion starts (mid-motion), as a person
#: answering would appear; each is also played mirrored (sides swapped), as the person
#: turning the other way.
PEOPLE = [
    Person(
        "man, matted, 10 fps (a)",
        "turns_both_ways_matted_a.mp4",
        (
            (0.3, "turn_left"),
            (1.5, "turn_right"),
            (2.5, "turn_left"),
            (3.1, "turn_right"),
            (3.8, "turn_left"),
            (4.3, "turn_right"),
            (5.5, "turn_left"),
            (7.0, "turn_right"),
            (9.2, "turn_left"),
            (9.5, "turn_right"),
            (9.8, "turn_left"),
            (10.2, "turn_right"),
            (10.6, "turn_left"),
        ),
        (11.1, 12.1),
    ),
    Person(
        "man, matted, 10 fps (b)",
        "turns_both_ways_matted_b.mp4",
        (
            (0.1, "turn_left"),
            (1.6, "turn_right"),
            (3.7, "blink"),
            (3.8, "turn_left"),
            (4.7, "blink"),
            (7.9, "turn_left"),
            (8.1, "turn_right"),
            (8.4, "turn_left"),
            (8.8, "turn_right"),
            (9.6, "turn_left"),
            (9.8, "turn_right"),
        ),
        (4.5, 7.7),
    ),
    Person(
        "woman, close up, reversed",
        "turn_right_woman_closeup.mp4",
        # the first blink's eyes start closing at 0.95 s (closed most at 1.18 s)
        ((0.95, "blink"), (4.1, "turn_right"), (7.5, "blink")),
        (0.0, 3.5),
        reverse=True,
        max_actions=3,
    ),
    Person(
        "man, far, lines drawn on the face",
        "turn_right_far_mesh_lines.mp4",
        ((1.0, "turn_right"),),
        (0.0, 1.0),
    ),
]


MIN_CUT_S = 1.0  # a person answering records at least this long


def genuine_cuts(person: Person, length_s: float) -> list[tuple[float, float, list[str]]]:
    """(start, end, challenge) of every cut of up to ``person.max_actions`` motions in a
    row: from 0.2 s before the first to the start of the motion after the last (or the
    clip's end), lasting at least :data:`MIN_CUT_S`; the challenge is the cut's actions, a turn to
    the side of the turn before it counting once (the same turn held)."""
    motions = person.motions
    out = []
    for i in range(len(motions)):
        for n in range(1, person.max_actions + 1):
            if i + n > len(motions):
                break
            start = max(0.0, motions[i][0] - 0.2)
            end = motions[i + n][0] if i + n < len(motions) else length_s
            actions: list[str] = []
            for _, action in motions[i : i + n]:
                last_turn = next((a for a in reversed(actions) if a != "blink"), None)
                if action != last_turn and not (actions and actions[-1] == action):
                    actions.append(action)
            if any(a != "blink" for a in actions) and end - start >= MIN_CUT_S:
                out.append((start, end, actions))
    return out


def mirrored(actions: list[str]) -> list[str]:
    swap = {"turn_left": "turn_right", "turn_right": "turn_left"}
    return [swap.get(a, a) for a in actions]


def as_played(frames: list[np.ndarray], person: Person, mirror: bool) -> list[np.ndarray]:
    """A person's clip's frames as played: reversed if annotated so, mirrored if asked."""
    if person.reverse:
        frames = frames[::-1]
    if mirror:
        frames = [np.ascontiguousarray(f[:, ::-1]) for f in frames]
    return frames


def cut(frames: list[np.ndarray], fps: float, start: float, end: float) -> list[np.ndarray]:
    return [f for i, f in enumerate(frames) if start <= i / fps <= end]
