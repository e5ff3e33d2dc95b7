"""RetinaFace MobileNet-0.25 from a fixed-size (640x640) ONNX export."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .base import Detector, Face, make_face

MIN_SIZES = ((16, 32), (64, 128), (256, 512))
STEPS = (8, 16, 32)
VARIANCES = (0.1, 0.2)
#: BGR means subtracted from the input; the network takes unscaled pixels.
BGR_MEAN = np.array([104.0, 117.0, 123.0], dtype=np.float32)


def prior_boxes(size: int) -> np.ndarray:
    """Anchor centres and sizes, normalised to [0, 1], in the network's output order."""
    priors = []
    for step, sizes in zip(STEPS, MIN_SIZES, strict=True):
        cells = math.ceil(size / step)
        for i in range(cells):
            for j in range(cells):
                for min_size in sizes:
                    priors.append(
                        [
                            (j + 0.5) * step / size,
                            (i + 0.5) * step / size,
                            min_size / size,
                            min_size / size,
                        ]
                    )
    return np.array(priors, dtype=np.float32)


def decode(loc: np.ndarray, landm: np.ndarray, priors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Box deltas and landmark deltas to corner boxes and (N, 5, 2) points, normalised."""
    centres = priors[:, :2] + loc[:, :2] * VARIANCES[0] * priors[:, 2:]
    sizes = priors[:, 2:] * np.exp(loc[:, 2:] * VARIANCES[1])
    boxes = np.hstack([centres - sizes / 2, centres + sizes / 2])
    points = priors[:, None, :2] + landm.reshape(-1, 5, 2) * VARIANCES[0] * priors[:, None, 2:]
    return boxes, points


class RetinaFaceOnnxDetector(Detector):
    """RetinaFace-MobileNet0.25 on ONNX Runtime.

    The image is letterboxed into the 640x640 input (top-left, zero padding).
    ``score_threshold`` default 0.6, ``nms_threshold`` default 0.4.
    """

    name = "retinaface-onnx"

    def __init__(
        self,
        session: Any,
        score_threshold: float = 0.6,
        nms_threshold: float = 0.4,
        max_side: int = 640,
    ) -> None:
        super().__init__(max_side)
        self._session = session
        shape = session.get_inputs()[0].shape
        self.size = int(shape[2]) if isinstance(shape[2], int) else 640
        self._input = session.get_inputs()[0].name
        self._priors = prior_boxes(self.size)
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold

    def _detect(
        self, image: np.ndarray, largest_only: bool = False, small_faces: bool = True
    ) -> list[Face]:
        height, width = image.shape[:2]
        scale = self.size / max(height, width)
        resized = cv2.resize(image, (round(width * scale), round(height * scale)))
        canvas = np.zeros((self.size, self.size, 3), dtype=np.float32)
        canvas[: resized.shape[0], : resized.shape[1]] = resized
        blob = (canvas - BGR_MEAN).transpose(2, 0, 1)[None]
        loc, conf, landm = self._session.run(None, {self._input: blob})
        scores = conf[0]
        if not np.allclose(scores.sum(axis=1), 1.0, atol=1e-3):
            scores = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        keep = np.where(scores[:, 1] > self.score_threshold)[0]
        if keep.size == 0:
            return []
        boxes, points = decode(loc[0][keep], landm[0][keep], self._priors[keep])
        boxes = boxes * self.size / scale
        points = points * self.size / scale
        xywh = np.hstack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]])
        chosen = cv2.dnn.NMSBoxes(
            xywh.tolist(), scores[keep, 1].tolist(), self.score_threshold, self.nms_threshold
        )
        return [
            make_face(boxes[i], points[i], scores[keep[i], 1]) for i in np.array(chosen).reshape(-1)
        ]


def build(weights: Path | None, *, threads: int, max_side: int) -> RetinaFaceOnnxDetector:
    """The registry's factory (:data:`faceid.faces.models.DETECTORS`)."""
    from ..onnx import onnx_session

    assert weights is not None  # its card names its weight file
    return RetinaFaceOnnxDetector(onnx_session(weights, threads), max_side=max_side)
