"""Head and eye actions read from a clip's landmarks, accepted only from 3-D motion.

Each frame gives a :class:`Reading`: yaw and pitch (:func:`.geometry.head_pose`), eye
openness measured on the face brought back to the reference frame's plane, and two
measures of depth against the reference (the clip's most frontal frame):

- the landmarks' planar residual (:func:`.geometry.planar_residual`) per unit of
  sin of the yaw between the frame and the reference (:data:`DEPTH_MIN`);
- the texture's parallax (:func:`.parallax.parallax`): the share of the face's own
  corners that one homography of the reference leaves off the plane
  (:data:`PARALLAX_MIN`).

Medians over each turn, measured: a real head's 16 turns 0.110-0.394 and 0.38-0.78;
17 turns of tilted, shaken and bent photos 0.038-0.170 and 0.00-0.42, none above both
cuts (a tilted photo of a slightly turned face fools the landmarks, 0.14-0.17, not the
texture, 0.01; a shaken photo's blurred flow fools the texture, 0.39-0.42, not the
landmarks, 0.040-0.056).

A **turn** is a swing of the head (:func:`swings`, on the yaw :func:`smoothed` over three
frames) of at least :data:`TURN_DELTA`
degrees that ends turned by :data:`TURN_YAW` or more to one side, measured from wherever
the head was: a clip may start with the head already turned, and a head seen turned to
its right that turns to its left passes the camera on the way. The turn is judged on the
median of its frames past :data:`TURN_YAW`: off the plane by both measures, it is
``turn_left`` or ``turn_right``; otherwise it is that side prefixed by :data:`FLAT`,
evidence of a photo (a frame whose measures are not finite counts as flat: no evidence of
depth is no depth). Too few such frames (:data:`MIN_RUN`: the head turned faster than the
frame rate can follow) or a face smaller than :data:`MIN_IOD` pixels between the eyes is
no evidence either way (:data:`THIN`, :data:`SMALL`): the person is asked to try again.

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

TURN_YAW = 12.0  # degrees of yaw to the asked side a turn must reach
TURN_DELTA = 12.0  # degrees the head must swing, from wherever it started, for a turn
DEPTH_MIN = 0.08  # landmarks' planar residual per unit of sin(yaw) of a turning head
PARALLAX_MIN = 0.25  # share of the face's corners off the reference's plane in a turn
MIN_IOD = 30.0  # pixels between the outer eye corners below which depth is not read
MIN_RUN = 2  # frames of a turn, past TURN_YAW, its depth is judged on
CLOSED, OPEN = 0.7, 0.85  # eye openness of a closed and of an open eye, over the median

TURNS = ("turn_left", "turn_right")
#: What a turn's depth said, as a prefix of its event: a flat one (a photo), one with
#: too few frames to judge (``retry_slower``) or on a face too small (``retry_closer``).
FLAT, THIN, SMALL = "flat:", "thin:", "small:"


@dataclass(frozen=True)
class Reading:
    time_s: float
    yaw: float
    pitch: float
    openness: float
    depth: float  # landmarks' planar residual over sin(|yaw - the reference's yaw|)
    parallax: float  # share of texture corners off the reference's plane
    iod: float = 0.0  # pixels between the outer eye corners


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
    ref_yaw = head_pose(ref, width, height)[0]
    found = []
    for p, t, moved in zip(points, times, parallax, strict=True):
        yaw, pitch = head_pose(p, width, height)
        sine = np.sin(np.radians(abs(yaw - ref_yaw)))
        depth = planar_residual(ref, p) / sine if sine > 0 else 0.0
        iod = min(interocular(p), interocular(ref))
        found.append(Reading(t, yaw, pitch, rectified_openness(ref, p), depth, moved, iod))
    return found


def smoothed(yaw: Sequence[float]) -> np.ndarray:
    """The yaw, each frame's the median of it and its two neighbours (the first and last
    kept): what the head did, without one frame's misread (landmarks fitted on a face near
    profile can read it as frontal)."""
    y = np.asarray(yaw, dtype=np.float64)
    if len(y) >= 3:
        y = np.r_[y[0], np.median(np.c_[y[:-2], y[1:-1], y[2:]], axis=1), y[-1]]
    return y


def swings(yaw: Sequence[float], delta: float = TURN_DELTA) -> list[tuple[int, int]]:
    """(start, end) frame indices of the head's swings of ``delta`` degrees or more, in
    order and alternating in direction (a zigzag of the :func:`smoothed` yaw):
    where the head went, from wherever it was, whatever its start."""
    return _zigzag(smoothed(yaw), delta)


def _zigzag(y: np.ndarray, delta: float) -> list[tuple[int, int]]:
    """(start, end) indices of the swings of ``y`` by ``delta`` or more (:func:`swings`)."""
    out: list[tuple[int, int]] = []
    if len(y) < 2:
        return out
    lo = hi = 0
    trend, start, ext = 0, 0, 0
    for i in range(1, len(y)):
        if trend == 0:
            lo = i if y[i] < y[lo] else lo
            hi = i if y[i] > y[hi] else hi
            if y[i] - y[lo] >= delta and lo < i:
                trend, start, ext = 1, lo, i
            elif y[hi] - y[i] >= delta and hi < i:
                trend, start, ext = -1, hi, i
            continue
        if trend * (y[i] - y[ext]) > 0:
            ext = i
        elif trend * (y[ext] - y[i]) >= delta:
            out.append((start, ext))
            trend, start, ext = -trend, ext, i
    if trend and abs(y[ext] - y[start]) >= delta:
        out.append((start, ext))
    return out


def _judge_turn(run: Sequence[Reading], kind: str) -> str:
    """``kind``, or it prefixed by what is wrong with the evidence of its depth."""
    if len(run) < MIN_RUN:
        return THIN + kind
    if float(np.median([r.iod for r in run])) < MIN_IOD:
        return SMALL + kind
    depth = float(np.median([r.depth for r in run]))
    moved = float(np.median([r.parallax for r in run]))
    if not (np.isfinite(depth) and np.isfinite(moved)):
        return FLAT + kind
    if depth < DEPTH_MIN or moved < PARALLAX_MIN:
        return FLAT + kind
    return kind


def _turns(found: Sequence[Reading]) -> list[tuple[float, str]]:
    """Each swing that ends turned by :data:`TURN_YAW` or more to its side, judged on its
    frames past that yaw (until the next swing starts). A swing the smoothing stops short
    of that yaw, one of whose own frames reaches past it and :data:`TURN_DELTA` beyond the
    swing's end, is a turn seen in one frame: too fast to judge (:data:`THIN`)."""
    raw = [r.yaw for r in found]
    yaw = smoothed(raw)
    found_swings = _zigzag(yaw, TURN_DELTA)
    out: list[tuple[float, str]] = []
    for n, (start, end) in enumerate(found_swings):
        sign = 1.0 if yaw[end] > yaw[start] else -1.0
        kind = "turn_left" if sign > 0 else "turn_right"
        stop = found_swings[n + 1][1] if n + 1 < len(found_swings) else len(found) - 1
        if sign * yaw[end] < TURN_YAW:  # back towards the camera, or a flick
            flick = [
                i
                for i in range(start, end + 1)
                if sign * raw[i] >= TURN_YAW and sign * (raw[i] - yaw[end]) >= TURN_DELTA
            ]
            if flick:
                out.append((found[flick[0]].time_s, THIN + kind))
            continue
        past = [i for i in range(start, stop + 1) if sign * yaw[i] >= TURN_YAW]
        out.append((found[past[0]].time_s, _judge_turn([found[i] for i in past], kind)))
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
    """(time, action) of each turn (at its first frame past :data:`TURN_YAW`, prefixed by
    :data:`FLAT`, :data:`THIN` or :data:`SMALL` when its depth says so) and blink, in clip
    order."""
    return sorted(_turns(found) + _blinks(found))
