"""Multi-frame visits: the best frame against a threshold tightened by the frame count."""

from __future__ import annotations

import pytest

from faceid.faces.fusion import decide
from faceid.faces.levels import LEVELS
from faceid.faces.models import CARDS

T, V = 0.937, 0.942


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        ([("ann", 0.95)], ("ann", "match")),
        ([("ann", 0.90)], (None, "no_match")),
        ([(None, -1.0), ("ann", 0.95)], ("ann", "match")),
        ([("ann", 0.94), ("ann", 0.90)], (None, "below_visit_threshold")),
        ([("ann", V), ("ann", 0.5)], ("ann", "match")),  # the threshold itself matches
        # a second granted face in the visit shuts the door, whatever the best frame
        ([("ann", 0.99), ("ann", 0.99), ("bob", 0.94)], (None, "frames_disagree")),
        # below the level a frame's candidate is not a second face
        ([("ann", 0.99), ("bob", 0.93)], ("ann", "match")),
    ],
)
def test_decide(frames, expected):
    assert decide(frames, T, V) == expected


def test_without_a_tail_every_frame_must_match():
    assert decide([("ann", 0.95), ("ann", 0.94)], T, None) == ("ann", "match")
    assert decide([("ann", 0.99), ("ann", 0.90)], T, None) == (None, "not_every_frame")
    assert decide([("ann", 0.99), (None, -1.0)], T, None) == (None, "not_every_frame")


@pytest.mark.parametrize("model", ["dlib-resnet-v1", "arcface:mobilefacenet-arcface"])
def test_visit_thresholds_keep_the_level(model):
    """n frames: each at FAR/n by the fitted tail, so the visit stays at the level's FAR."""
    card = CARDS[model]
    assert card.tail is not None
    for level, far in LEVELS.items():
        assert card.visit_threshold(level, 1) == card.levels[level]
        cuts = [card.visit_threshold(level, n) for n in range(1, 11)]
        assert cuts == sorted(cuts) and cuts[-1] > cuts[0]
        for n, cut in enumerate(cuts, start=1):
            assert n * card.tail.far(cut) <= far * 1.0001


def test_levels_are_the_tail_rounded_up():
    """The card's levels are its fitted tail's thresholds, rounded up to 3 decimals."""
    for card in CARDS.values():
        if card.tail is not None:
            for level, far in LEVELS.items():
                fitted = card.tail.threshold(far)
                assert fitted <= card.levels[level] < fitted + 0.001


def test_a_model_without_a_tail_has_no_visit_threshold():
    assert CARDS["arcface:arcface-deepface"].visit_threshold("standard", 5) is None


def test_one_person_per_visit():
    from faceid.faces.fusion import one_person

    floor = CARDS["dlib-resnet-v1"].same_person_floor()
    assert floor is not None and 0.85 < floor < CARDS["dlib-resnet-v1"].levels["standard"]
    assert one_person([0.95, 0.93, 0.91], floor)
    assert not one_person([0.99, 0.62], floor)  # the owner's photo among a stranger's frames
    assert one_person([0.2], None)  # no fitted tail: every frame must match instead


def test_the_floor_lets_every_genuine_pair_through():
    """On identities.csv no genuine pair of either shipped model scores below the floor
    (lowest: 0.927 for dlib, 0.447 for MobileFaceNet), 99% of impostors do."""
    assert CARDS["dlib-resnet-v1"].same_person_floor() < 0.927
    assert CARDS["arcface:mobilefacenet-arcface"].same_person_floor() < 0.447
