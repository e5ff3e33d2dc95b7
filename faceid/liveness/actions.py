"""Head and eye actions read from a clip's landmarks, accepted only from 3-D motion.

Each frame gives a :class:`Reading`: yaw and pitch (:func:`.geometry.head_pose`), eye
openness, and the planar residual against the clip's most frontal frame. A turn counts
only when the pose says so *and* the landmarks left the frontal frame's plane by as much
as a head of that yaw does: residual / sin(|yaw|) of at least :data:`DEPTH_MIN`. A
printed photo tilted in front of the camera fakes the pose (18-35 degrees of yaw for
tilts of 15-45 degrees) but not the depth: at most 0.078 measured, against at least
0.107 over the 13 turned frames (15-27 degrees) of ``turns_and_blinks.mp4``. The cut sits
between them; it rests on few clips and is to be re-measured on the liveness evaluation
set. Such a frame is reported as ``flat_turn``, evidence of a photo.

"Left" is the person's left: in an unmirrored camera frame their nose moves towards the
image's right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .geometry import eye_openness, head_pose, planar_residual

TURN_YAW = 15.0  # degrees of yaw a turn must reach
DEPTH_MIN = 0.09  # planar residual per unit of sin(yaw) a real head shows when it turns
CLOSED, OPEN = 0.2, 0.25  # eye openness of a closed and of an open eye


@dataclass(frozen=True)
class Reading:
    time_s: float
    yaw: float
    pitch: float
    openness: float
    residual: float


def readings(
    points: Sequence[np.ndarray], times: Sequence[float], width: int, height: int
) -> list[Reading]:
    """One reading per frame's 68 landmarks; the residual is against the most frontal frame."""
    poses = [head_pose(p, width, height) for p in points]
    frontal = points[int(np.argmin([abs(yaw) for yaw, _ in poses]))]
    return [
        Reading(t, yaw, pitch, eye_openness(p), planar_residual(frontal, p))
        for p, t, (yaw, pitch) in zip(points, times, poses, strict=True)
    ]


def _turn(reading: Reading) -> str | None:
    if abs(reading.yaw) < TURN_YAW:
        return None
    depth = reading.residual / np.sin(np.radians(abs(reading.yaw)))
    if depth < DEPTH_MIN:
        return "flat_turn"
    return "turn_left" if reading.yaw > 0 else "turn_right"


def events(found: Sequence[Reading]) -> list[tuple[float, str]]:
    """(time, action) at the first frame of each turn and of each blink (closed eyes after
    open ones), in clip order."""
    out: list[tuple[float, str]] = []
    previous_turn: str | None = None
    seen_open = False
    for reading in found:
        turn = _turn(reading)
        if turn is not None and turn != previous_turn:
            out.append((reading.time_s, turn))
        previous_turn = turn
        if reading.openness >= OPEN:
            seen_open = True
        elif reading.openness < CLOSED and seen_open:
            out.append((reading.time_s, "blink"))
            seen_open = False
    return out
