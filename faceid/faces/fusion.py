"""Multi-frame decisions: the frames of one visit fused into one verdict that keeps the
level's false-accept rate.

With a fitted impostor tail (:class:`faceid.faces.levels.Tail`), a visit of ``n`` frames
opens when its best frame reaches the level's threshold at ``FAR / n``
(:meth:`~faceid.faces.models.ModelCard.visit_threshold`). By the union bound an impostor's
visit then opens with probability at most ``n * FAR / n = FAR``, however alike or unalike
its frames are, and an owner's visit no longer fails on one blurred or turned frame.
Without a fitted tail (a custom model) every frame must match: that also keeps ``FAR``.

And a visit must show one person: no frame may match another granted subject at the
level's single-frame threshold (``frames_disagree``), and every frame must reach the
subject's same-person floor (:meth:`~faceid.faces.models.ModelCard.same_person_floor`,
the cut that 99% of strangers fall below; ``mixed_faces``), so an owner's photo held up
among an intruder's frames opens nothing.

The level's rate is per comparison of one face with one enrolled template: a door that
grants several people with several templates each is tried once per template for every
frame, single-frame visits included; the tightening for ``n`` frames makes a visit no
easier than one frame, it does not divide by the templates.

>>> decide([("ann", 0.95), (None, -1.0), ("ann", 0.91)], single=0.937, visit=0.942)
('ann', 'match')
>>> decide([("ann", 0.94), ("ann", 0.91)], single=0.937, visit=0.941)
(None, 'below_visit_threshold')
>>> decide([("ann", 0.99), ("bob", 0.94)], single=0.937, visit=0.941)
(None, 'frames_disagree')
"""

from __future__ import annotations

from collections.abc import Sequence

Frame = tuple[str | None, float]  # a frame's best candidate and its similarity


def decide(frames: Sequence[Frame], single: float, visit: float | None) -> tuple[str | None, str]:
    """(subject or None, reason) for one visit.

    ``single``: the level's threshold for one frame; ``visit``: the threshold the best frame
    must reach for a visit of ``len(frames)`` frames, or None to require every frame.
    Reasons: ``match``, ``no_match``, ``frames_disagree``, ``below_visit_threshold``,
    ``not_every_frame``.
    """
    matched = {who for who, sim in frames if who is not None and sim >= single}
    if len(matched) > 1:
        return None, "frames_disagree"
    if not matched:
        return None, "no_match"
    subject = matched.pop()
    if visit is None:
        every = all(who == subject and sim >= single for who, sim in frames)
        return (subject, "match") if every else (None, "not_every_frame")
    best = max(sim for who, sim in frames if who == subject)
    return (subject, "match") if best >= visit else (None, "below_visit_threshold")


def one_person(to_subject: Sequence[float], floor: float | None) -> bool:
    """Every frame's similarity to the chosen subject reaches ``floor`` (None: no floor).

    >>> one_person([0.97, 0.95, 0.62], floor=0.903)
    False
    """
    return floor is None or min(to_subject) >= floor
