"""Challenges: random actions on a random schedule, and whether a clip's events answer it.

A challenge is 4 actions drawn from :data:`ACTIONS` (:func:`draw`): at least one
turn, turns alternating sides (left, right, left...), never the same action twice in a
row; and a cue time for each (:func:`schedule`): the first at 0, each next one
:data:`GAP_S` later (drawn uniformly). The server reveals each action only at its cue, and
the clip's timeline starts at the first cue: an action counts only when the event that
answers it falls within :data:`WINDOW_S` after its cue (``challenge_timing`` otherwise),
so a recording made before the challenge has to match gaps it could not know. A clip
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
>>> judge(["turn_left", "turn_right"], [(0.5, "turn_left"), (1.5, "turn_right")], cues=[0, 1.2])
>>> judge(["turn_left", "turn_right"], [(0.5, "turn_left"), (1.5, "turn_right")], cues=[0, 2.4])
'challenge_timing'
>>> judge(["turn_left"], [(0.5, "turn_left"), (1.4, "turn_right")], cues=[0])
>>> judge(["turn_left"], [(0.5, "turn_left"), (1.1, "turn_right")], cues=[0])
'challenge_failed:extra_turn'
"""

from __future__ import annotations

import itertools
import math
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


#: How many actions a drawn challenge asks for. Four, not three or four: against the
#: replay library of k = 20 recordings (bench/LIVENESS.md, 10,000 challenges a person) a
#: fourth timed action cuts the share answered from 1.8-7.1% to 0-2.5% per person, and
#: with :data:`SPREAD_S` to 0-0.46%, at about 2.4 s more per challenge.
DRAWN = (4,)
#: Seconds from one cue to the next, drawn uniformly. The wider the range, the less
#: likely a recording's own gaps fit it (the replay library at k = 20, four actions and
#: the pace check: 8% of challenges of the densest recordings with gaps of 0.8-3 s and
#: no pace check, 0.46% here).
GAP_S = (0.8, 4.0)
#: An action counts when the event answering it (a turn's first frame past its yaw, a
#: blink's closed frame) falls this many seconds after its cue: a person reacts to a
#: choice of actions in 0.3-0.6 s and a head reaches the turn's yaw 0.1-0.4 s later.
WINDOW_S = (0.2, 1.2)
#: The answers' delays after their cues may differ by at most this many seconds: one
#: person reacts at much the same pace to each cue of one challenge, while the motions of
#: a recording keep gaps of their own, which the drawn gaps rarely match this closely.
SPREAD_S = 0.5
PACE_S = 1.8  # seconds between the cues of a challenge without a schedule (shown, not checked)


def valid(actions: Sequence[str], least: int = 1) -> bool:
    """``least`` to 4 known actions, at least one turn, turns alternating sides, no action
    twice in a row."""
    turns = [a for a in actions if a in TURNS]
    return (
        least <= len(actions) <= 4
        and set(actions) <= set(ACTIONS)
        and bool(turns)
        and all(a != b for a, b in zip(turns, turns[1:], strict=False))
        and all(a != b for a, b in zip(actions, actions[1:], strict=False))
    )


def every(lengths: Sequence[int] = DRAWN) -> list[tuple[str, ...]]:
    """Every :func:`valid` challenge of one of ``lengths`` actions (16 of 4, 26 of 3 or 4)."""
    return [
        actions
        for n in lengths
        for actions in itertools.product(ACTIONS, repeat=n)
        if valid(actions, min(lengths))
    ]


def draw(rng: random.Random | None = None) -> list[str]:
    """One of :func:`every` challenge, uniformly."""
    rng = rng or random.SystemRandom()
    return list(rng.choice(every()))


def schedule(count: int, rng: random.Random | None = None) -> list[float]:
    """Cue times in seconds for ``count`` actions: 0, then gaps drawn from :data:`GAP_S`."""
    rng = rng or random.SystemRandom()
    cues = [0.0]
    for _ in range(count - 1):
        cues.append(round(cues[-1] + rng.uniform(*GAP_S), 3))
    return cues


def parse(text: str) -> list[str]:
    """A fixed challenge (``FACEID_CHALLENGE_ACTIONS``): comma-separated actions."""
    actions = [a.strip() for a in text.split(",") if a.strip()]
    if not valid(actions):
        raise ConfigError(
            f"FACEID_CHALLENGE_ACTIONS={text!r}: give 1 to 4 of {', '.join(ACTIONS)}, "
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


def _extra_until(end_s: float | None, cues: Sequence[float] | None) -> float:
    """The last moment a turn after the last action refuses the clip: before the motion
    the clip ends in (its last :data:`ONSET_S`) and, on a timed challenge, before the
    last action's window closes (what the head does after that answers nothing)."""
    ending = end_s - ONSET_S if end_s is not None else math.inf
    return min(ending, cues[-1] + WINDOW_S[1]) if cues else ending


def judge(
    actions: Sequence[str],
    seen: Sequence[tuple[float, str]],
    end_s: float | None = None,
    cues: Sequence[float] | None = None,
) -> str | None:
    """None when ``seen`` (time, event) answers ``actions``; else the refusal reason:
    ``not_live`` (the turn in the place of an asked one is flat: a photo),
    ``retry_slower``/``retry_closer`` (that turn had too few frames, or too small a face,
    to judge its depth), ``challenge_failed:<action>`` (the first action not done in its
    place) or ``challenge_failed:extra_turn`` (a live turn after the last action, unless
    it starts in the clip's last :data:`ONSET_S` before ``end_s``: a clip that ends as the
    head begins to turn). With ``cues`` (each action's cue, seconds on the clip's
    timeline), an action answered outside :data:`WINDOW_S` after its cue is
    ``challenge_timing``; a blink outside an asked blink's window is one the challenge did
    not ask for. Only the turns that answer actions are judged for depth: a head that
    starts or ends mid-motion is no photo. A turn too fast to judge (``thin:``) does
    not part two turns to one side: the head wavered, it did not turn back."""
    pending: list[tuple[float, str]] = []
    delays: list[float] = []  # each answer's delay after its cue
    held: str | None = None  # the side of the last turn that was not too fast to judge
    for time_s, kind in seen:
        side = _side(kind)
        if side not in TURNS or side != held:
            pending.append((time_s, kind))
        if side in TURNS and not kind.startswith(THIN):
            held = side
    for n, action in enumerate(actions):
        opens, closes = (
            (cues[n] + WINDOW_S[0], cues[n] + WINDOW_S[1]) if cues else (-math.inf, math.inf)
        )
        kinds = [k for _, k in pending]
        if action == "blink":
            first_turn = next((i for i, k in enumerate(kinds) if _side(k) in TURNS), None)
            blinks = [i for i, k in enumerate(kinds[:first_turn]) if k == "blink"]
            if not blinks:
                return "challenge_failed:blink"
            timely = [i for i in blinks if opens <= pending[i][0] <= closes]
            if not timely:
                return "challenge_timing"
            delays.append(pending[timely[0]][0] - opens)
            pending = pending[timely[0] + 1 :]
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
        if not opens <= pending[turns[0]][0] <= closes:
            return "challenge_timing"
        delays.append(pending[turns[0]][0] - opens)
        pending = pending[turns[0] + 1 :]
    if cues and delays and max(delays) - min(delays) > SPREAD_S:
        return "challenge_timing"
    ending = _extra_until(end_s, cues)
    if any(kind in TURNS and time_s <= ending for time_s, kind in pending):
        return "challenge_failed:extra_turn"
    return None
