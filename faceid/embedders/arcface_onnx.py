"""Any ArcFace-style ONNX embedder, described by a small metadata record.

The face is warped onto the 5-point ArcFace template at the model's input size
(:func:`faceid.align.align_face`), converted to the model's channel order, then
normalised as ``(pixel - mean) / std`` per channel, in 0..255 pixel units.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..align import align_face
from .base import Embedder, FaceCrop


@dataclass(frozen=True)
class ArcFaceSpec:
    """How to feed one ONNX model.

    ``channels``: "RGB" or "BGR"; ``mean``/``std``: per channel, in the model's channel
    order and 0..255 units; ``layout``: "NCHW" or "NHWC" (read from the graph when
    None). Default thresholds live in :data:`faceid.service.THRESHOLDS`.
    """

    name: str
    size: int = 112
    channels: str = "RGB"
    mean: tuple[float, float, float] = (127.5, 127.5, 127.5)
    std: tuple[float, float, float] = (127.5, 127.5, 127.5)
    layout: str | None = None

    @classmethod
    def from_json(cls, path: Path) -> ArcFaceSpec:
        data = json.loads(path.read_text())
        for key in ("mean", "std"):
            if key in data:
                data[key] = tuple(float(v) for v in data[key])
        return cls(**data)


#: Known models, by weight id.
SPECS: dict[str, ArcFaceSpec] = {
    # pixel/255 then ImageNet mean/std, RGB, NCHW
    "mobilefacenet-arcface": ArcFaceSpec(
        name="mobilefacenet-arcface",
        channels="RGB",
        mean=(123.675, 116.28, 103.53),
        std=(58.395, 57.12, 57.375),
    ),
    # DeepFace's ArcFace (ResNet-34, 512-d): BGR, pixel/255 ("base"), NHWC
    "arcface-deepface": ArcFaceSpec(
        name="arcface-deepface",
        channels="BGR",
        mean=(0.0, 0.0, 0.0),
        std=(255.0, 255.0, 255.0),
    ),
}


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
