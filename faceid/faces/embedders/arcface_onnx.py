"""Any ArcFace-style ONNX embedder, described by a small metadata record.

The face is warped onto the 5-point ArcFace template at the model's input size
(:func:`faceid.align.align_face`), converted to the model's channel order, then
normalised as ``(pixel - mean) / std`` per channel, in 0..255 pixel units.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from ..align import align_face
from ..models import ArcFaceSpec
from .base import Embedder, FaceCrop


class ArcFaceEmbedder(Embedder):
    """An ArcFace-style network on ONNX Runtime; the session is injected."""

    def __init__(self, session: Any, spec: ArcFaceSpec) -> None:
        self._session = session
        self.spec = spec
        inp = session.get_inputs()[0]
        self._input = inp.name
        self._layout = spec.layout or ("NCHW" if inp.shape[1] == 3 else "NHWC")
        out_shape = session.get_outputs()[0].shape
        self.dim = int(out_shape[-1])
        self.model_id = f"arcface:{spec.name}"
        self._mean = np.array(spec.mean, dtype=np.float32)
        self._std = np.array(spec.std, dtype=np.float32)
        batch = inp.shape[0]
        self._fixed_batch = batch if isinstance(batch, int) else None

    def preprocess(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """One aligned, normalised HWC float32 crop in the model's channel order."""
        crop = align_face(image, landmarks, self.spec.size)
        if self.spec.channels.upper() == "RGB":
            crop = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
        return (crop.astype(np.float32) - self._mean) / self._std

    def embed(self, items: Sequence[FaceCrop]) -> np.ndarray:
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        batch = np.stack([self.preprocess(img, face.landmarks) for img, face in items])
        if self._layout == "NCHW":
            batch = batch.transpose(0, 3, 1, 2)
        batch = np.ascontiguousarray(batch)
        if self._fixed_batch == 1 and len(batch) > 1:
            parts = [self._session.run(None, {self._input: b[None]})[0] for b in batch]
            return np.concatenate(parts).astype(np.float32)
        return np.asarray(self._session.run(None, {self._input: batch})[0], dtype=np.float32)
