"""MTCNN from the ``mtcnn`` package (TensorFlow; weights ship inside the package)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .base import Detector, Face, make_face

_KEYS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


class MtcnnDetector(Detector):
    """MTCNN (P-Net, R-Net, O-Net). ``min_confidence`` default 0.9 drops weak faces."""

    name = "mtcnn"

    def __init__(
        self, model: Any | None = None, min_confidence: float = 0.9, max_side: int = 640
    ) -> None:
        super().__init__(max_side)
        if model is None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            from mtcnn import MTCNN  # heavy: imports TensorFlow

            model = MTCNN(device="CPU:0")
        self._model = model
        self.min_confidence = min_confidence

    def _detect(
        self, image: np.ndarray, largest_only: bool = False, small_faces: bool = True
    ) -> list[Face]:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)  # MTCNN expects RGB
        faces = []
        for item in self._model.detect_faces(rgb):
            if item["confidence"] < self.min_confidence:
                continue
            x, y, w, h = item["box"]
            points = np.array([item["keypoints"][k] for k in _KEYS], dtype=np.float32)
            faces.append(make_face(np.array([x, y, x + w, y + h]), points, item["confidence"]))
        return faces


def build(weights: Path | None, *, threads: int, max_side: int) -> MtcnnDetector:
    """The registry's factory (:data:`faceid.faces.models.DETECTORS`): the mtcnn package ships
    its weights, so ``weights`` is None."""
    return MtcnnDetector(max_side=max_side)
