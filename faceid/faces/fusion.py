"""Multi-frame decisions: several frames of one visit fused into one verdict.

A visit opens when a strict majority of its frames (``n // 2 + 1`` of ``n``) each match
the same subject at the level's threshold, and no frame matches anybody else.

Why this holds the false-accept rate near the level's target: if each impostor frame is
accepted with probability ``p`` (the level's target), the number ``N`` of accepted frames
has mean ``n * p``, so by Markov's inequality ``P(N >= k) <= n * p / k``: at most 1.67
times the target for 5 frames, 1.5 times for 3, and exactly the target for 1 or 2, however
alike the frames are. Genuine visits gain: one blurred or turned frame no longer refuses
the owner, where "every frame must match" refused on any one bad frame.

>>> vote([("ann", 0.95), ("ann", 0.91), ("ann", 0.96)], threshold=0.937)
('ann', 'match')
>>> vote([("ann", 0.95), ("bob", 0.94), ("ann", 0.96)], threshold=0.937)
(None, 'frames_disagree')
>>> vote([("ann", 0.95), ("ann", 0.90), ("ann", 0.91)], threshold=0.937)
(None, 'too_few_frames')
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def needed(frames: int) -> int:
    """Frames that must match out of ``frames``: a strict majority."""
    return frames // 2 + 1


def vote(frames: Sequence[tuple[str | None, float]], threshold: float) -> tuple[str | None, str]:
    """(subject or None, reason) from each frame's best candidate and its similarity.

    Reasons: ``match``; ``frames_disagree`` (frames match different subjects);
    ``too_few_frames`` (some frames match, fewer than a majority); ``no_match``.
    """
    votes = Counter(who for who, sim in frames if who is not None and sim >= threshold)
    if len(votes) > 1:
        return None, "frames_disagree"
    if not votes:
        return None, "no_match"
    subject, count = votes.most_common(1)[0]
    if count >= needed(len(frames)):
        return subject, "match"
    return None, "too_few_frames"
