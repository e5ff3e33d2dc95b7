"""dlib's ResNet face descriptor (128-d), weights from ``face_recognition_models``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from .base import Embedder, FaceCrop


class DlibEmbedder(Embedder):
    """dlib ResNet-29 metric network.

    Alignment is dlib's own: its 5-point predictor on the detected box, then
    ``get_face_chip`` (150 px, padding 0.25) inside ``compute_face_descriptor``.
    Images are converted BGR -> RGB first.
    """

    model_id = "dlib-resnet-v1"
    dim = 128

    def __init__(self) -> None:
        import dlib
        import face_recognition_models as frm

        self._dlib: Any = dlib
        self._shape = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        self._net = dlib.face_recognition_model_v1(frm.face_recognition_model_location())

    def embed(self, items: Sequence[FaceCrop]) -> np.ndarray:
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        for i, (image, face) in enumerate(items):
            rgb = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
            x1, y1, x2, y2 = (int(round(float(v))) for v in face.box)
            rect = self._dlib.rectangle(x1, y1, x2 - 1, y2 - 1)
            shape = self._shape(rgb, rect)
            out[i] = np.asarray(self._net.compute_face_descriptor(rgb, shape), dtype=np.float32)
        return out
