"""RetinaFace (ResNet-50) from the ``retina-face`` package, on its ONNX backend.

Its weights (``retinaface.onnx``) are resolved through :mod:`faceid.weights`, so they
are fetched once, checked and cached in ``FACEID_MODELS_DIR`` instead of the
package's own folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .base import Detector, Face, make_face

_KEYS = ("right_eye", "left_eye", "nose", "mouth_right", "mouth_left")


class RetinaFacePackageDetector(Detector):
    """``retinaface.RetinaFace.detect_faces`` with ``threshold`` (default 0.9)."""

    name = "retinaface"

    def __init__(self, model_path: Path, threshold: float = 0.9, max_side: int = 640) -> None:
        super().__init__(max_side)
        os.environ.setdefault("DEEPFACE_BACKEND_ENGINE", "onnx")
        import onnxruntime as ort
        from retinaface import RetinaFace
        from retinaface.model.retinaface_onnx_model import RetinaFace as OnnxModel

        session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
        self._api: Any = RetinaFace
        self._model = OnnxModel(session)
        self.threshold = threshold

    def _detect(
        self, image: np.ndarray, largest_only: bool = False, small_faces: bool = True
    ) -> list[Face]:
        found = self._api.detect_faces(image, threshold=self.threshold, model=self._model)
        if not isinstance(found, dict):
            return []
        faces = []
        for item in found.values():
            points = np.array([item["landmarks"][k] for k in _KEYS], dtype=np.float32)
            faces.append(make_face(np.array(item["facial_area"]), points, item["score"]))
        return faces


def build(weights: Path | None, *, threads: int, max_side: int) -> RetinaFacePackageDetector:
    """The registry's factory (:data:`faceid.faces.models.DETECTORS`)."""
    assert weights is not None  # its card names its weight file
    return RetinaFacePackageDetector(weights, max_side=max_side)
