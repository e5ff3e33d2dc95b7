"""Frames from a video that hold exactly one main face: enrolment, unlock and video extract."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ComeCloser
from . import native
from .detectors.base import Face
from .media import Frame, VideoLimits, decode_video
from .pipeline import Pipeline

#: A second face smaller than this fraction of the largest one's side does not count
#: as "another person" in a video frame (background faces, posters, detector noise).
SECOND_FACE_RATIO = 0.35


def single_face(faces: list[Face]) -> str | None:
    """Why a video frame is unusable, or None when it holds exactly one main face."""
    if not faces:
        return "no_face"
    if len(faces) > 1:
        side = min(faces[0].width, faces[0].height)
        if min(faces[1].width, faces[1].height) >= SECOND_FACE_RATIO * side:
            return "several_faces"
    return None


#: A face whose box is smaller than this many pixels a side is too small to embed
#: reliably (the models see faces of 112-150 px): the person is asked to come closer.
MIN_FACE_PX = 40


def detect_frames(
    pipe: Pipeline, images: list[np.ndarray], small_faces: bool = False
) -> list[list[Face]]:
    """The faces in each video frame, the largest first: those of 80 px and more, or
    with ``small_faces`` down to the detector's smallest (a finer scale, slower).

    A detector that allows it runs on the process's shared pool of OS threads, a frame
    per thread (both cores). A frame's failure is raised here, in the caller's thread or
    greenlet, rather than reported again by the pool.
    """

    def find(image: np.ndarray) -> list[Face] | BaseException:
        try:
            return pipe.detect(image, largest_only=True, small_faces=small_faces)
        except Exception as exc:  # noqa: BLE001 - handed back to the caller and raised there
            return exc

    if pipe.detector.concurrent and len(images) > 1:
        results = list(native.shared_pool().map(find, images))
    else:
        results = [find(image) for image in images]
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


@dataclass(frozen=True)
class FrameFace:
    """The one main face of a sampled video frame."""

    index: int
    time_s: float
    image: np.ndarray
    face: Face


def _one_face(
    frames: list[Frame], found: list[list[Face]], dropped: dict[str, int]
) -> list[FrameFace]:
    kept: list[FrameFace] = []
    for frame, faces in zip(frames, found, strict=True):
        reason = single_face(faces)
        if reason:
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        kept.append(FrameFace(frame.index, frame.time_s, frame.image, faces[0]))
    return kept


def video_faces(
    pipe: Pipeline, data: bytes, limits: VideoLimits, dropped: dict[str, int]
) -> tuple[list[FrameFace], int]:
    """Frames spread over the clip that hold exactly one main face, and how many were sampled.

    A selfie or door clip shows its person near the camera, so frames are searched for
    faces the size that matters (HOG: 80 px and more at the detection scale), not for
    small ones; a detector that can runs on several frames at once (both cores). When no
    frame holds a face at that scale (a wide shot), the frames are searched again at a
    finer one. Frames whose face is under :data:`MIN_FACE_PX` are left out
    (``too_small``), and a clip where every face is is refused (``come_closer``). Frames
    left out are counted in ``dropped`` by reason (``no_face``, ``several_faces``,
    ``too_small``).
    """
    frames = decode_video(data, limits)
    images = [frame.image for frame in frames]
    kept = _one_face(frames, detect_frames(pipe, images), dropped)
    if not kept and frames:
        finer: dict[str, int] = {}
        kept = _one_face(frames, detect_frames(pipe, images, small_faces=True), finer)
        if kept:  # the counts of the search that found the faces
            dropped.update({reason: finer.get(reason, 0) for reason in {*dropped, *finer}})
    big = [k for k in kept if min(k.face.width, k.face.height) >= MIN_FACE_PX]
    if kept and not big:
        side = max(min(k.face.width, k.face.height) for k in kept)
        raise ComeCloser(
            f"The face is at most {side:.0f} px in the video's frames, under the "
            f"{MIN_FACE_PX} px it needs: come closer to the camera.",
            face_px=round(side),
        )
    if len(big) < len(kept):  # a face too small to embed is no face to decide on
        dropped["too_small"] = dropped.get("too_small", 0) + len(kept) - len(big)
    return big, len(frames)
