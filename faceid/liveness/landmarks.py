"""dlib's 68-point shape predictor (weights in ``face_recognition_models``: no download),
run on the box any detector found."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from ..faces import native


class Landmarks68:
    """68 landmarks (dlib's iBUG layout, image coordinates) inside a face box."""

    def __init__(self) -> None:
        import dlib
        import face_recognition_models as frm

        self._predictor: Any = dlib.shape_predictor(frm.pose_predictor_model_location())
        self._rect = dlib.rectangle
        # called on OS threads (a clip's analysis runs off a gevent worker's loop): a
        # native lock, since a gevent one waited on from a second thread never wakes it
        self._lock = native.lock()

    def __call__(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """(68, 2) float32 points for the face in ``box`` ``[x1, y1, x2, y2]`` of a BGR image."""
        x1, y1, x2, y2 = (int(round(float(v))) for v in box)
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        with self._lock:
            shape = self._predictor(rgb, self._rect(x1, y1, x2, y2))
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


@lru_cache(maxsize=1)
def shared_landmarks() -> Landmarks68:
    """One predictor per process (about 100 MB), loaded on first use."""
    return Landmarks68()
