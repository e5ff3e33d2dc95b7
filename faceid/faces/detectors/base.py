"""The detector interface: a BGR image in, faces with boxes and 5 landmarks out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import cv2
import numpy as np

from .. import native
from ..align import canonical_landmarks


@dataclass(frozen=True)
class Face:
    """One detected face in the coordinates of the image given to ``detect``.

    ``box`` is ``[x1, y1, x2, y2]``; ``landmarks`` is (5, 2) in faceid's image order
    (see :mod:`faceid.align`); ``confidence`` is the detector's score in [0, 1].
    """

    box: np.ndarray
    landmarks: np.ndarray
    confidence: float

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    def scaled(self, factor: float) -> Face:
        return Face(self.box * factor, self.landmarks * factor, self.confidence)

    def crop(self, image: np.ndarray, margin: float = 1.0) -> tuple[np.ndarray, Face]:
        """The part of ``image`` around this face (its box grown by ``margin`` box sides
        on every side, within the image) and the face in that part's coordinates: all
        that alignment, embedding and quality read, without the rest of the image."""
        side = max(self.width, self.height)
        x1, y1 = (max(0, int(v - margin * side)) for v in self.box[:2])
        x2 = min(image.shape[1], int(np.ceil(self.box[2] + margin * side)))
        y2 = min(image.shape[0], int(np.ceil(self.box[3] + margin * side)))
        offset = np.array([x1, y1], dtype=np.float32)
        moved = Face(self.box - np.tile(offset, 2), self.landmarks - offset, self.confidence)
        return np.ascontiguousarray(image[y1:y2, x1:x2]), moved

    def xywh(self) -> list[int]:
        x1, y1, x2, y2 = (float(v) for v in self.box)
        return [round(x1), round(y1), round(x2 - x1), round(y2 - y1)]


def make_face(box: np.ndarray, landmarks: np.ndarray, confidence: float) -> Face:
    return Face(
        np.asarray(box, dtype=np.float32).reshape(4),
        canonical_landmarks(landmarks),
        float(confidence),
    )


class Detector(ABC):
    """Base of every detector.

    ``max_side``: images whose longer side exceeds it are detected on a downscaled
    copy and the results mapped back (default 640; 0 disables). Subclasses
    implement ``_detect`` on the (possibly downscaled) BGR image. A lock makes one
    instance safe to share between threads, unless the subclass is ``concurrent``: it
    then guards its own state and may detect on several frames at once.
    """

    name: str = "base"
    concurrent: bool = False

    def __init__(self, max_side: int = 640) -> None:
        self.max_side = max_side
        # Detection runs on OS threads (the shared pool's, or off a gevent worker's loop:
        # :func:`.native.off_loop`), so the lock must be native: a gevent lock waited on
        # from a second OS thread never wakes it.
        self._lock = native.lock()

    def detect(
        self, image: np.ndarray, largest_only: bool = False, small_faces: bool = True
    ) -> list[Face]:
        """Faces in a BGR ``uint8`` image, largest first.

        ``largest_only`` (default False) tells the detector that only the main face
        matters (unlock frames, enrolment, video frames), so it may stop at a cheaper
        pass that already found faces; smaller faces may then be missing.
        ``small_faces=False`` lets it skip looking for faces too small to matter (HOG:
        under 80 px at the detection scale), as for the frames of a selfie or door clip.
        """
        height, width = image.shape[:2]
        factor = 1.0
        work = image
        if self.max_side and max(height, width) > self.max_side:
            factor = self.max_side / max(height, width)
            work = cv2.resize(
                image,
                (max(1, round(width * factor)), max(1, round(height * factor))),
                interpolation=cv2.INTER_AREA,
            )
        if self.concurrent:
            faces = self._detect(work, largest_only, small_faces)
        else:
            with self._lock:
                faces = self._detect(work, largest_only, small_faces)
        if factor != 1.0:
            faces = [f.scaled(1.0 / factor) for f in faces]
        faces = [f for f in faces if f.width >= 1 and f.height >= 1]
        return sorted(faces, key=lambda f: f.area, reverse=True)

    @abstractmethod
    def _detect(self, image: np.ndarray, largest_only: bool, small_faces: bool) -> list[Face]:
        """Detect on an image already sized for this detector."""
