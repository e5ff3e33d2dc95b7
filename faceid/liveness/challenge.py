"""Challenges: a random sequence of actions, and whether a clip's events answer it.

A challenge is 2 to 4 actions drawn from :data:`ACTIONS`: at least one turn, turns
alternating sides (left, right, left...), never the same action twice in a row. A clip
answers it when its turns are exactly the challenge's turns, in order (no turn missing,
none added; a turn to the same side as the one before, with no other turn between, is
the same turn held), and each blink the challenge asks for falls between the turns
around it. Only a turn that answers an action is judged for depth: a flat one is a
photo's (``not_live``), one too fast or too small to judge asks the person to try again
(``retry_slower``, ``retry_closer``: refunded); the onset of a motion after the last
action, or before the first, refuses nothing. Blinks the challenge does not ask for are allowed:
people blink without being asked.

>>> judge(["turn_left", "blink", "turn_right"],
...       [(0.5, "turn_left"), (1.2, "blink"), (2.0, "turn_right")]) is None
True
>>> judge(["turn_left", "turn_right"], [(0.5, "turn_right"), (1.5, "turn_left")])
'challenge_failed:turn_left'
>>> judge(["blink", "turn_left"], [(0.5, "turn_left"), (1.0, "blink")])
'challenge_failed:blink'
>>> judge(["turn_left", "blink"], [(0.2, "flat:turn_left"), (0.9, "blink")])
'not_live'
>>> judge(["turn_left", "blink"], [(0.5, "turn_left"), (0.9, "blink"), (1.4, "flat:turn_right")])
>>> judge(["turn_left"], [(0.5, "turn_left"), (1.4, "turn_right")])
'challenge_failed:extra_turn'
>>> judge(["turn_left"], [(0.5, "turn_left"), (1.4, "turn_right")], end_s=1.6)
>>> judge(["turn_left"], [(0.5, "turn_left"), (0.9, "thin:turn_right"), (1.2, "turn_left")])
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from ..errors import ConfigError
from .actions import FLAT, SMALL, THIN, TURNS

ACTIONS = ("turn_left", "turn_right", "blink")

#: What a door shows for each action; "left" is the person's own left.
INSTRUCTIONS = {
    "turn_left": "Turn your head to your left (about 30 degrees), then back to the camera.",
    "turn_right": "Turn your head to your right (about 30 degrees), then back to the camera.",
    "blink": "Blink once, looking at the camera.",
}


def valid(actions: Sequence[str]) -> bool:
    """2 to 4 known actions, at least one turn, turns alternating sides, no action twice in
    a row."""
    turns = [a for a in actions if a in TURNS]
    return (
        2 <= len(actions) <= 4
        and set(actions) <= set(ACTIONS)
        and bool(turns)
        and all(a != b for a, b in zip(turns, turns[1:], strict=False))
        and all(a != b for a, b in zip(actions, actions[1:], strict=False))
    )


def draw(rng: random.Random | None = None) -> list[str]:
    """A random :func:`valid` challenge."""
    rng = rng or random.SystemRandom()
    while True:
        actions = [rng.choice(ACTIONS) for _ in range(rng.randint(2, 4))]
        if valid(actions):
            return actions


def parse(text: str) -> list[str]:
    """A fixed challenge (``FACEID_CHALLENGE_ACTIONS``): comma-separated actions."""
    actions = [a.strip() for a in text.split(",") if a.strip()]
    if not valid(actions):
        raise ConfigError(
            f"FACEID_CHALLENGE_ACTIONS={text!r}: give 2 to 4 of {', '.join(ACTIONS)}, "
            "separated by commas, with at least one turn, turns alternating sides, and no "
            "action twice in a row."
        )
    return actions


def _side(kind: str) -> str:
    """The turn an event is about, whatever its depth said (``flat:turn_left`` ...)."""
    return kind.rpartition(":")[2]


ONSET_S = 0.5  # a turn starting this close to the clip's end is a motion it ends in

#: What a turn that answers an action, but whose depth could not be judged, answers.
RETRY = {THIN: "retry_slower", SMALL: "retry_closer"}


def judge(
    actions: Sequence[str], seen: Sequence[tuple[float, str]], end_s: float | None = None
) -> str | None:
    """None when ``seen`` (time, event) answers ``actions``; else the refusal reason:
    ``not_live`` (the turn in the place of an asked one is flat: a photo),
    ``retry_slower``/``retry_closer`` (that turn had too few frames, or too small a face,
    to judge its depth), ``challenge_failed:<action>`` (the first action not done in its
    place) or ``challenge_failed:extra_turn`` (a live turn after the last action, unless
    it starts in the clip's last :data:`ONSET_S` before ``end_s``: a clip that ends as the
    head begins to turn). Only the turns that answer actions are judged for depth: a head
    that starts or ends mid-motion is no photo. A turn too fast to judge (``thin:``) does
    not part two turns to one side: the head wavered, it did not turn back."""
    pending: list[tuple[float, str]] = []
    held: str | None = None  # the side of the last turn that was not too fast to judge
    for time_s, kind in seen:
        side = _side(kind)
        if side not in TURNS or side != held:
            pending.append((time_s, kind))
        if side in TURNS and not kind.startswith(THIN):
            held = side
    for action in actions:
        kinds = [k for _, k in pending]
        if action == "blink":
            first_turn = next((i for i, k in enumerate(kinds) if _side(k) in TURNS), None)
            before_turn = kinds[:first_turn]
            if "blink" not in before_turn:
                return "challenge_failed:blink"
            pending = pending[before_turn.index("blink") + 1 :]
            continue
        turns = [i for i, kind in enumerate(kinds) if _side(kind) in TURNS]
        if turns and kinds[turns[0]].startswith(FLAT):
            return "not_live"  # the motion in the answer's place is a flat one, either side
        if not turns or _side(kinds[turns[0]]) != action:
            return f"challenge_failed:{action}"
        answer = kinds[turns[0]]
        for prefix, reason in RETRY.items():
            if answer.startswith(prefix):
                return reason
        pending = pending[turns[0] + 1 :]
    ending = end_s - ONSET_S if end_s is not None else float("inf")
    if any(kind in TURNS and time_s <= ending for time_s, kind in pending):
        return "challenge_failed:extra_turn"
    return None
