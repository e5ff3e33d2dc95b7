"""The multi-frame vote: a strict majority of frames, all for the same subject."""

from __future__ import annotations

import pytest

from faceid.faces.fusion import needed, vote

T = 0.937


@pytest.mark.parametrize(("frames", "k"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3)])
def test_a_strict_majority_is_needed(frames, k):
    assert needed(frames) == k


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        ([("ann", 0.95)], ("ann", "match")),
        ([("ann", 0.90)], (None, "no_match")),
        ([(None, -1.0), ("ann", 0.95)], (None, "too_few_frames")),
        ([("ann", 0.95), ("ann", 0.90), ("ann", 0.96)], ("ann", "match")),
        ([("ann", 0.95), ("ann", 0.90), ("ann", 0.91)], (None, "too_few_frames")),
        # a second granted face in the visit shuts the door, whatever the count
        ([("ann", 0.99), ("ann", 0.99), ("bob", 0.94)], (None, "frames_disagree")),
        # below the threshold a frame's candidate does not count as a vote
        ([("ann", 0.99), ("ann", 0.99), ("bob", 0.93)], ("ann", "match")),
        ([("ann", T), ("ann", T)], ("ann", "match")),  # the threshold itself matches
    ],
)
def test_vote(frames, expected):
    assert vote(frames, T) == expected
