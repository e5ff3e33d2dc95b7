"""Following one face through a challenge clip and reading what it did.

:func:`track` finds the face in every frame, looking first near where it was (a small
crop, cheap to search) and in the whole frame only when it is not there. It refuses a
clip whose face jumps between two frames (:func:`_jumped`, ``face_changed``: a cut to another face)
or is missing for more than :data:`MAX_GAP_S` between two frames that show it (``face_lost``: the
face left, and something may have come back); a clip that ends with the face gone (turned to
profile, say) is judged on the frames that had it; one with fewer than :data:`MIN_FRAMES` frames
showing the face is too little to judge: ``retry_in_view`` (refunded: the person is asked
to try again, turning less far) when a face was followed through :data:`MIN_SEEN` frames
and left the picture turned by :data:`AWAY_YAW` or more, ``face_lost`` (a failure: no
face, or a lens covered, buys no new challenge) otherwise.
:func:`analyse` turns the tracked landmarks into events (:mod:`.actions`), judges them
against the challenge (:mod:`.challenge`) and names the frames identity rests on: the
most frontal ones to match, and witnesses (each action, both sides of every gap, one per
second) that must all show that same person, so nobody is swapped in mid-clip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..faces.detectors.base import Face, make_face
from ..faces.media import Frame
from ..faces.pipeline import Pipeline
from .actions import OPEN, Reading, events, readings, reference, smoothed
from .challenge import judge
from .geometry import head_pose, interocular
from .landmarks import Landmarks68
from .parallax import parallax

MAX_GAP_S = 1.0  # longest stretch without the face
MIN_FRAMES = 8  # frames with the face a clip needs
IN_VIEW = "retry_in_view"  # fewer, from a head that turned out of sight: try again
MIN_SEEN, AWAY_YAW = 3, 30.0  # frames, and degrees of yaw at the last one, of such a head
MIN_IOU = 0.3  # overlap of the face's boxes in two frames in a row, or else
MAX_SHIFT = 0.75  # their centres at most this many box sides apart
MAX_GROWTH = 2.0  # and their sides at most this many times each other
SEARCH_SIDE = 320  # the crop around the last box is searched at this size
BEST_FRAMES = 3
WITNESS_EVERY = 8  # a witness every this many tracked frames (and every second)
WITNESS_YAW = 40.0  # degrees of yaw beyond which a frame is no witness


@dataclass(frozen=True)
class Tracked:
    """The followed face in one frame, with its 68 landmarks."""

    index: int
    time_s: float
    image: np.ndarray
    face: Face
    points: np.ndarray


@dataclass
class Analysis:
    """A clip's verdict on liveness (``reason`` None: the challenge was answered), its
    events (seconds after its first frame), the frames identity rests on, and the yaw read
    on each tracked frame (by frame index; smoothed over three frames)."""

    reason: str | None
    events: list[tuple[float, str]] = field(default_factory=list)
    best: list[Tracked] = field(default_factory=list)
    witnesses: list[Tracked] = field(default_factory=list)
    yaw: dict[int, float] = field(default_factory=dict)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, float(x2 - x1)) * max(0.0, float(y2 - y1))
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0


def _jumped(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the face's box moved too far between two frames in a row to be the same
    face: boxes that overlap less than :data:`MIN_IOU` whose centres are more than
    :data:`MAX_SHIFT` box sides apart or whose sides differ by more than :data:`MAX_GROWTH`
    times (a head swinging to profile at 10 frames a second moves its box by half a side)."""
    if _iou(a, b) >= MIN_IOU:
        return False
    side_a, side_b = float(a[2] - a[0]), float(b[2] - b[0])
    shift = float(np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2))
    growth = max(side_a, side_b) / max(min(side_a, side_b), 1e-6)
    return shift > MAX_SHIFT * max(side_a, side_b) or growth > MAX_GROWTH


def _near(pipe: Pipeline, image: np.ndarray, box: np.ndarray) -> Face | None:
    """The face inside a crop three boxes wide around ``box``, searched at a small size."""
    height, width = image.shape[:2]
    side = float(max(box[2] - box[0], box[3] - box[1]))
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x1, y1 = int(max(0, cx - 1.5 * side)), int(max(0, cy - 1.5 * side))
    x2, y2 = int(min(width, cx + 1.5 * side)), int(min(height, cy + 1.5 * side))
    crop = image[y1:y2, x1:x2]
    if crop.size == 0:
        return None
    scale = min(1.0, SEARCH_SIDE / max(crop.shape[:2]))
    if scale < 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    faces = pipe.detect(crop, largest_only=True)
    if not faces:
        return None
    found = faces[0].scaled(1.0 / scale)
    offset = np.array([x1, y1], dtype=np.float32)
    return make_face(found.box + np.tile(offset, 2), found.landmarks + offset, found.confidence)


def track(
    pipe: Pipeline, landmarks: Landmarks68, frames: Sequence[Frame]
) -> tuple[list[Tracked], list[int], str | None]:
    """The face in each frame where it is found, the positions in that list after which
    frames went missing, and ``face_lost``/``face_changed``/``retry_in_view`` or None."""
    found: list[Tracked] = []
    gaps: list[int] = []
    missed = False
    last_time = frames[0].time_s if frames else 0.0
    for frame in frames:
        previous = found[-1] if found else None
        face = _near(pipe, frame.image, previous.face.box) if previous else None
        if face is None:
            faces = pipe.detect(frame.image, largest_only=True)
            face = faces[0] if faces else None
        if face is None:
            missed = True
            continue
        if frame.time_s - last_time > MAX_GAP_S:
            return found, gaps, "face_lost"
        if previous is not None and missed:
            gaps.append(len(found) - 1)
        elif previous is not None and _jumped(previous.face.box, face.box):
            return found, gaps, "face_changed"
        points = landmarks(frame.image, face.box)
        found.append(Tracked(frame.index, frame.time_s, frame.image, face, points))
        last_time, missed = frame.time_s, False
    if len(found) < MIN_FRAMES:  # too little to judge; a face that leaves for good after
        return found, gaps, IN_VIEW if _turned_away(found) else "face_lost"  # enough is judged
    return found, gaps, None


def _turned_away(found: Sequence[Tracked]) -> bool:
    """Whether a face followed through at least :data:`MIN_SEEN` frames was turned by
    :data:`AWAY_YAW` degrees or more when it was last seen (it turned out of sight)."""
    if len(found) < MIN_SEEN:
        return False
    height, width = found[-1].image.shape[:2]
    return bool(abs(head_pose(found[-1].points, width, height)[0]) >= AWAY_YAW)


def _witnesses(
    found: Sequence[Tracked],
    gaps: Sequence[int],
    seen: Sequence[tuple[float, str]],
    ref: int,
    yaw: Sequence[float],
    raw: Sequence[float],
) -> list[Tracked]:
    """Frames that must all show one person: the reference, each event's, both sides of
    every gap, every :data:`WITNESS_EVERY` th frame and the first frame of every second;
    frames turned further than :data:`WITNESS_YAW` both as read (``raw``) and smoothed
    (``yaw``) are left out (a face seen near profile does not embed as the same person; the
    box's continuity still follows it), so one frame's misread drops no witness. A frame
    whose yaw is not a number stays a witness."""
    times = [t.time_s for t in found]
    picked = {int(np.searchsorted(times, time_s)) for time_s, _ in seen}
    picked |= {i for gap in gaps for i in (gap, gap + 1)}
    picked |= {ref, *range(0, len(found), WITNESS_EVERY)}
    second = -1
    for i, tracked in enumerate(found):
        if int(tracked.time_s) != second:
            picked.add(i)
            second = int(tracked.time_s)
    picked.add(len(found) - 1)
    picked = {i for i in picked if i < len(found)}
    picked -= {i for i in picked if abs(yaw[i]) > WITNESS_YAW and abs(raw[i]) > WITNESS_YAW}
    return [found[i] for i in sorted(picked | {ref})]


def _best(found: Sequence[Tracked], read: Sequence[Reading], yaw: Sequence[float]) -> list[Tracked]:
    """The most frontal frames (``yaw``, smoothed) with open eyes."""
    median = float(np.median([r.openness for r in read]))
    open_eyes = [i for i, r in enumerate(read) if r.openness >= OPEN * median] or list(
        range(len(read))
    )

    def off(i: int) -> float:  # how far from frontal; a pose not read ranks last
        turned = abs(yaw[i]) + abs(read[i].pitch) / 2
        return turned if np.isfinite(turned) else np.inf

    ranked = sorted(open_eyes, key=off)
    return [found[i] for i in sorted(ranked[:BEST_FRAMES])]


def analyse(
    pipe: Pipeline,
    landmarks: Landmarks68,
    frames: Sequence[Frame],
    actions: Sequence[str],
    cues: Sequence[float] | None = None,
) -> Analysis:
    """Track the face, read its events, judge them against ``actions`` (each inside its
    window after its cue, when ``cues`` are given: seconds after the clip's first frame);
    name the frames identity is matched on and those that must show the same person."""
    found, gaps, reason = track(pipe, landmarks, frames)
    if reason is not None:
        return Analysis(reason)
    height, width = found[0].image.shape[:2]
    points = [t.points for t in found]
    ref = reference(points, width, height)
    moved = parallax([t.image for t in found], found[ref].face.box, ref, interocular(points[ref]))
    read = readings(points, [t.time_s for t in found], width, height, moved)
    seen = events(read)
    raw = [r.yaw for r in read]
    yaw = [float(y) for y in smoothed(raw)]
    witnesses = _witnesses(found, gaps, seen, ref, yaw, raw)
    start = frames[0].time_s
    timeline = [(round(t - start, 3), kind) for t, kind in seen]
    reason = judge(actions, timeline, found[-1].time_s - start, cues)
    turned = {t.index: float(y) for t, y in zip(found, yaw, strict=True)}
    return Analysis(reason, timeline, _best(found, read, yaw), witnesses, turned)
