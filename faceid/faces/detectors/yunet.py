"""OpenCV's YuNet detector (``cv2.FaceDetectorYN``) from an ONNX file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .base import Detector, Face, make_face


class YuNetDetector(Detector):
    """YuNet: 15 values per face (box, 5 landmarks, score).

    ``score_threshold`` (default 0.7) and ``nms_threshold`` (default 0.3) are YuNet's own.
    """

    name = "yunet"

    def __init__(
        self,
        model_path: Path,
        score_threshold: float = 0.7,
        nms_threshold: float = 0.3,
        max_side: int = 640,
    ) -> None:
        super().__init__(max_side)
        self._net = cv2.FaceDetectorYN.create(
            str(model_path), "", (320, 320), score_threshold, nms_threshold, 5000
        )

    def _detect(
        self, image: np.ndarray, largest_only: bool = False, small_faces: bool = True
    ) -> list[Face]:
        height, width = image.shape[:2]
        self._net.setInputSize((width, height))
        _, rows = self._net.detect(image)
        if rows is None:
            return []
        faces = []
        for row in rows:
            x, y, w, h = row[:4]
            faces.append(make_face(np.array([x, y, x + w, y + h]), row[4:14], row[14]))
        return faces
