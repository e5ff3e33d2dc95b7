"""Challenges: the drawn actions, the schedule of their cues, each action's window and the
answers' pace (:mod:`faceid.liveness.challenge`), and the settings that fix them for tests
and demos."""

from __future__ import annotations

import itertools
import logging
import random
from collections import Counter

import pytest

from faceid.errors import ConfigError
from faceid.liveness.actions import TURNS
from faceid.liveness.challenge import (
    ACTIONS,
    GAP_S,
    SPREAD_S,
    draw,
    every,
    judge,
    parse,
    schedule,
)
from faceid.lock.keys import create_key

from .conftest import make_app, services


def test_challenges_are_random_short_and_always_turn():
    rng = random.Random(1)
    drawn = [draw(rng) for _ in range(2000)]
    assert {len(d) for d in drawn} == {4}
    assert all(any(a in TURNS for a in d) for d in drawn)
    assert all(a != b for d in drawn for a, b in zip(d, d[1:], strict=False))
    turns = [[a for a in d if a in TURNS] for d in drawn]
    assert all(a != b for t in turns for a, b in zip(t, t[1:], strict=False))
    assert {tuple(t) for t in turns} >= {("turn_left", "turn_right", "turn_left")}
    assert {a for d in drawn for a in d} == set(ACTIONS)
    # uniform over every valid challenge: each of the 16 drawn about 2000/16 = 125 times
    counts = Counter(tuple(d) for d in drawn)
    assert set(counts) == set(every()) and len(counts) == 16
    assert min(counts.values()) > 80 and max(counts.values()) < 170


def test_cues_come_at_random_gaps():
    rng = random.Random(2)
    gaps = [b - a for _ in range(500) for a, b in itertools.pairwise(schedule(4, rng))]
    assert all(GAP_S[0] <= g <= GAP_S[1] for g in gaps)
    assert min(gaps) < GAP_S[0] + 0.1 and max(gaps) > GAP_S[1] - 0.1
    assert schedule(3, rng)[0] == 0.0


def test_each_action_counts_only_in_its_window_after_its_cue():
    """Windows of 0.2-1.2 s after each cue (:data:`faceid.liveness.challenge.WINDOW_S`)."""
    seen = [(0.5, "turn_left"), (1.5, "blink"), (2.6, "turn_right")]
    actions = ["turn_left", "blink", "turn_right"]
    assert judge(actions, seen) is None  # untimed: the order alone
    assert judge(actions, seen, cues=[0.0, 1.0, 2.0]) is None
    assert judge(actions, seen, cues=[0.0, 1.0, 2.5]) == "challenge_timing"  # turned early
    assert judge(actions, seen, cues=[0.0, 1.0, 1.7]) is None
    assert judge(actions, seen, cues=[0.0, 1.0, 1.3]) == "challenge_timing"  # turned late
    assert judge(actions, seen, cues=[0.0, 0.2, 2.0]) == "challenge_timing"  # blinked late
    # a blink before its cue is one nobody asked for: a later one answers
    blinks = [(0.5, "turn_left"), (0.7, "blink"), (2.0, "blink"), (3.0, "turn_right")]
    assert judge(actions, blinks, cues=[0.0, 1.5, 2.5]) is None
    assert judge(actions, blinks[:2] + blinks[3:], cues=[0.0, 1.5, 2.5]) == "challenge_timing"


def test_answers_come_at_one_pace():
    """Each answer inside its window, but 0.5 s after one cue and 1.1 s after another: no
    person reacts that unevenly within one challenge; a recording's own gaps do
    (:data:`faceid.liveness.challenge.SPREAD_S`)."""
    seen = [(0.5, "turn_left"), (1.5, "blink"), (2.6, "turn_right")]
    actions = ["turn_left", "blink", "turn_right"]
    assert SPREAD_S == 0.5
    assert judge(actions, seen, cues=[0.0, 1.0, 2.0]) is None  # 0.5, 0.5 and 0.6 s
    assert judge(actions, seen, cues=[0.0, 0.9, 1.7]) is None  # 0.5, 0.6 and 0.9 s
    assert judge(actions, seen, cues=[0.0, 1.0, 1.5]) == "challenge_timing"  # 0.5 ... 1.1 s
    assert judge(actions, seen, cues=[0.0, 1.3, 1.6]) == "challenge_timing"  # 0.5 ... 1.0 s
    assert judge(actions, seen) is None  # untimed: the order alone


@pytest.mark.parametrize(
    "text",
    [
        "turn_left,jump",
        "",
        "blink,turn_left,blink,turn_right,blink",
        "LEFT",
        "blink",
        "blink,blink",
        "turn_left,blink,turn_left",
        "turn_left,turn_left",
    ],
)
def test_a_bad_fixed_challenge_stops_the_service(text):
    with pytest.raises(ConfigError, match="FACEID_CHALLENGE_ACTIONS"):
        parse(text)
    if text:
        with pytest.raises(ConfigError, match="FACEID_CHALLENGE_ACTIONS"):
            make_app(FACEID_CHALLENGE_ACTIONS=text)


def test_a_fixed_challenge_is_warned_about(caplog):
    with caplog.at_level(logging.WARNING):
        make_app(FACEID_CHALLENGE_ACTIONS="turn_left,blink")
    assert "FACEID_CHALLENGE_ACTIONS is set" in caplog.text


def test_the_schedule_off_is_warned_about_and_reveals_every_cue(caplog):
    with caplog.at_level(logging.WARNING):
        app = make_app(FACEID_CHALLENGE_SCHEDULE="off")
    assert "FACEID_CHALLENGE_SCHEDULE=off" in caplog.text
    door = {"Authorization": f"Bearer {create_key(services(app).store, 'acme', 'unlock')[1]}"}
    admin = {"Authorization": f"Bearer {create_key(services(app).store, 'acme', 'admin')[1]}"}
    client = app.test_client()
    lock = client.post("/v1/locks", json={"name": "front"}, headers=admin).json["id"]
    body = client.post(f"/v1/locks/{lock}/challenges", headers=door).json
    assert len(body["cues"]) == body["count"] and body["next_cue_in_s"] is None
