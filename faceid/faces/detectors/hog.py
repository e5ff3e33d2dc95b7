"""dlib's HOG detector with its 68-point predictor reduced to 5 landmarks.

Weights come from the ``face_recognition_models`` package: no download.
"""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .. import native
from .base import Detector, Face, make_face


def five_from_68(points: np.ndarray) -> np.ndarray:
    """Eye centres, nose tip and mouth corners from dlib's 68-point layout."""
    return np.array(
        [
            points[36:42].mean(axis=0),  # eye on the image's left
            points[42:48].mean(axis=0),  # eye on the image's right
            points[30],  # nose tip
            points[48],  # mouth corner on the image's left
            points[54],  # mouth corner on the image's right
        ],
        dtype=np.float32,
    )


#: A frame whose smallest face, found without upsampling, is at least this many pixels
#: (a sixth of a 640 px frame) is a close-up: a selfie, a door camera. There the upsampled
#: pass, which adds faces of 40-80 px at four times the cost, is skipped. On the 96 shared
#: photos this skips it on 84 and misses none of the 104 faces the upsampled pass finds
#: (tests/test_detectors.py); 80, 120 and 150 px miss none either. What it can miss: a
#: face under 80 px in a frame whose every other face is 100 px or more.
CLOSE_UP_PX = 100


class HogDetector(Detector):
    """dlib HOG + linear SVM frontal face detector.

    ``upsample`` (default 1) finds faces down to ~40 px at the cost of time. Detection
    runs a pass without upsampling first (a quarter of the cost); the upsampled pass runs
    only where faces may be missing: when that pass finds none, or finds a face under
    :data:`CLOSE_UP_PX` (a scene with small faces). For the largest face alone, any face
    found without upsampling will do. ``cascade=False`` always runs the upsampled pass.
    The confidence reported is the SVM score squashed to (0, 1).
    """

    name = "hog"
    #: dlib's scanner keeps buffers of its own, so each thread takes one of
    #: :data:`SCANNERS` copies (they release the GIL: frames are detected on both cores);
    #: the landmark predictor is shared behind a lock. One copy more than the shared
    #: pool's threads: under gevent, the event loop's own thread (an image request) always
    #: finds a free one instead of blocking every greenlet until a video frame is done.
    concurrent = True
    SCANNERS = native.POOL_THREADS + 1

    def __init__(self, upsample: int = 1, max_side: int = 640, cascade: bool = True) -> None:
        super().__init__(max_side)
        self.cascade = cascade
        import dlib
        import face_recognition_models as frm

        self.upsample = upsample
        self._scanners: queue.SimpleQueue[Any] = native.simple_queue()
        for _ in range(self.SCANNERS):
            self._scanners.put(dlib.get_frontal_face_detector())
        self._predictor: Any = dlib.shape_predictor(frm.pose_predictor_model_location())
        self._rect = dlib.rectangle

    def _scan(self, rgb: np.ndarray, upsample: int) -> tuple[list[Any], list[float]]:
        scanner = self._scanners.get()
        try:
            rects, scores, _ = scanner.run(rgb, upsample, 0.0)
        finally:
            self._scanners.put(scanner)
        return list(rects), list(scores)

    def _detect(
        self, image: np.ndarray, largest_only: bool = False, small_faces: bool = True
    ) -> list[Face]:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        rects: list[Any] = []
        scores: list[float] = []
        if (self.cascade or not small_faces) and self.upsample > 0:
            # Faces of 80 px and more show up without upsampling; when one does, the
            # largest face is among them, and in a close-up so is every face.
            rects, scores = self._scan(rgb, 0)
            smallest = min((min(r.width(), r.height()) for r in rects), default=0)
            if small_faces and not largest_only and smallest < CLOSE_UP_PX:
                rects = []
        if not rects and (small_faces or self.upsample == 0):
            rects, scores = self._scan(rgb, self.upsample)
        faces = []
        for rect, score in zip(rects, scores, strict=True):
            with self._lock:
                shape = self._predictor(rgb, rect)
            points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
            box = np.array([rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1])
            faces.append(make_face(box, five_from_68(points), 1.0 / (1.0 + np.exp(-2.0 * score))))
        return faces


def build(weights: Path | None, *, threads: int, max_side: int) -> HogDetector:
    """The registry's factory (:data:`faceid.faces.models.DETECTORS`): dlib's weights ship in its
    pip package, so ``weights`` is None."""
    return HogDetector(max_side=max_side)
