"""Head and eye actions read from a clip's landmarks, accepted only from 3-D motion.

Each frame gives a :class:`Reading`: yaw and pitch (:func:`.geometry.head_pose`), eye
openness measured on the face brought back to the reference frame's plane, and two
measures of depth against the reference (the clip's most frontal frame, which must be
frontal, ``|yaw| <`` :data:`FRONTAL_YAW`, for any turn to count):

- the landmarks' planar residual (:func:`.geometry.planar_residual`) per unit of
  sin(|yaw|) (:data:`DEPTH_MIN`);
- the texture's parallax (:func:`.parallax.parallax`): the share of the face's own
  corners that one homography of the reference leaves off the plane
  (:data:`PARALLAX_MIN`).

Medians over each turn, measured: a real head's 16 turns 0.110-0.394 and 0.38-0.78;
17 turns of tilted, shaken and bent photos 0.038-0.170 and 0.00-0.42, none above both
cuts (a tilted photo of a slightly turned face fools the landmarks, 0.14-0.17, not the
texture, 0.01; a shaken photo's blurred flow fools the texture, 0.39-0.42, not the
landmarks, 0.040-0.056).

A **turn** is a run of at least :data:`MIN_RUN` frames in a row at ``|yaw| >=``
:data:`TURN_YAW` to one side, after a frontal frame. The whole run is judged on the
median of its frames: off the plane by both measures, it is ``turn_left`` or
``turn_right``; otherwise it is ``flat_turn``, evidence of a photo. A frame whose
measures are not finite, or whose face is smaller than :data:`MIN_IOD` pixels between
the eyes, counts as flat: no evidence of depth is no depth.

A **blink** is a frame whose eyes are closed (openness below :data:`CLOSED` times the
clip's median) after one where they were open (at least :data:`OPEN` times it). The
openness is read after undoing the homography that maps the face's still points onto the
reference, so tilting a photo (which squashes the eyes with everything else) is no blink.

"Left" is the person's left: in an unmirrored camera frame their nose moves towards the
image's right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .geometry import head_pose, interocular, planar_residual, rectified_openness

TURN_YAW = 15.0  # degrees of yaw a turn must reach
FRONTAL_YAW = 10.0  # below this a face is frontal
DEPTH_MIN = 0.08  # landmarks' planar residual per unit of sin(yaw) of a turning head
PARALLAX_MIN = 0.25  # share of the face's corners off the reference's plane in a turn
MIN_IOD = 30.0  # pixels between the outer eye corners below which depth is not read
MIN_RUN = 2  # frames in a row a turn (or a flat turn) must last
CLOSED, OPEN = 0.7, 0.85  # eye openness of a closed and of an open eye, over the median

TURNS = ("turn_left", "turn_right")


@dataclass(frozen=True)
class Reading:
    time_s: float
    yaw: float
    pitch: float
    openness: float
    depth: float  # landmarks' planar residual over sin(|yaw|)
    parallax: float  # share of texture corners off the reference's plane

    @property
    def side(self) -> str | None:
        """``turn_left``/``turn_right`` when turned by :data:`TURN_YAW` or more."""
        if not abs(self.yaw) >= TURN_YAW:
            return None
        return "turn_left" if self.yaw > 0 else "turn_right"


def reference(points: Sequence[np.ndarray], width: int, height: int) -> int:
    """The index of the most frontal frame (the reference every frame is measured against)."""
    yaws = [abs(head_pose(p, width, height)[0]) for p in points]
    return int(np.nanargmin(yaws)) if not np.all(np.isnan(yaws)) else 0


def readings(
    points: Sequence[np.ndarray],
    times: Sequence[float],
    width: int,
    height: int,
    parallax: Sequence[float],
) -> list[Reading]:
    """One reading per frame's 68 landmarks, against the clip's most frontal frame."""
    ref = points[reference(points, width, height)]
    found = []
    for p, t, moved in zip(points, times, parallax, strict=True):
        yaw, pitch = head_pose(p, width, height)
        sine = np.sin(np.radians(abs(yaw)))
        depth = planar_residual(ref, p) / sine if sine > 0 else 0.0
        if interocular(p) < MIN_IOD or interocular(ref) < MIN_IOD:
            depth, moved = 0.0, 0.0
        found.append(Reading(t, yaw, pitch, rectified_openness(ref, p), depth, moved))
    return found


def _judge_run(run: Sequence[Reading]) -> str:
    depth = float(np.median([r.depth for r in run]))
    moved = float(np.median([r.parallax for r in run]))
    if not (np.isfinite(depth) and np.isfinite(moved)):
        return "flat_turn"
    if depth < DEPTH_MIN or moved < PARALLAX_MIN:
        return "flat_turn"
    return str(run[0].side)


def _turns(found: Sequence[Reading]) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    armed = False  # a frontal frame since the last turn
    run: list[Reading] = []
    for reading in [*found, None]:
        side = reading.side if reading else None
        if run and side != run[0].side:
            if len(run) >= MIN_RUN:
                kind = _judge_run(run)
                if kind == "flat_turn" or armed:
                    out.append((run[0].time_s, kind))
                armed = armed and kind == "flat_turn"
            run = []
        if reading is None:
            break
        if side is not None:
            run.append(reading)
        elif abs(reading.yaw) < FRONTAL_YAW:
            armed = True
    return out


def _blinks(found: Sequence[Reading]) -> list[tuple[float, str]]:
    if not found:
        return []
    median = float(np.median([r.openness for r in found]))
    out: list[tuple[float, str]] = []
    seen_open = False
    for reading in found:
        if reading.openness >= OPEN * median:
            seen_open = True
        elif reading.openness < CLOSED * median and seen_open:
            out.append((reading.time_s, "blink"))
            seen_open = False
    return out


def events(found: Sequence[Reading]) -> list[tuple[float, str]]:
    """(time, action) of each turn (at its first frame), flat turn and blink, in clip order."""
    return sorted(_turns(found) + _blinks(found))
