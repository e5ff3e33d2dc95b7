"""YuNet (``face_detection_yunet_2023mar.onnx``) on ONNX Runtime, decoded as OpenCV decodes it.

OpenCV's ``cv2.FaceDetectorYN`` runs this network on OpenCV's DNN module: 9 ms for a
640x480 frame on this project's 2-core machines, where ONNX Runtime takes 5 ms for the same
network. So the network runs on ONNX Runtime, with its fixed 640x640 input made size-free,
and its outputs are decoded as ``FaceDetectorYN`` decodes them: the image padded with zeros
to a multiple of 32, a score ``sqrt(cls * obj)`` per grid cell of strides 8, 16 and 32, boxes
and landmarks read from the cell's offsets, and OpenCV's own NMS on the boxes in whole
pixels. ``tests/test_detectors.py`` checks that both give the same faces on every shared
photo.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .base import Detector, Face, make_face

STRIDES = (8, 16, 32)
DIVISOR = 32
#: Above this many input pixels, ONNX Runtime hands the memory of the run back afterwards
#: (its arena would otherwise keep a large upload's peak for the life of the worker).
SHRINK_PIXELS = 1024 * 1024


def size_free(model: bytes) -> bytes:
    """The YuNet graph with its input's height and width, and its outputs' anchor counts,
    left to the image (the published file fixes them at 640x640)."""
    import onnx

    graph = onnx.load_from_string(model)
    dims = graph.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    for output in graph.graph.output:
        output.type.tensor_type.shape.dim[1].dim_param = "anchors"
    del graph.graph.value_info[:]  # shapes inferred for 640x640; the runtime infers its own
    return bytes(graph.SerializeToString())


def padded_blob(image: np.ndarray) -> np.ndarray:
    """The BGR image as a float NCHW blob, zero-padded right and bottom to a multiple of 32."""
    height, width = image.shape[:2]
    blob = np.zeros(
        (1, 3, -(-height // DIVISOR) * DIVISOR, -(-width // DIVISOR) * DIVISOR), np.float32
    )
    blob[0, :, :height, :width] = image.transpose(2, 0, 1)
    return blob


def decode(
    outputs: Mapping[str, np.ndarray], padded_width: int, score_threshold: float
) -> np.ndarray:
    """Candidate faces, one row each: x, y, w, h, five landmarks (x, y), score."""
    found = []
    for stride in STRIDES:
        cls = np.clip(outputs[f"cls_{stride}"][0, :, 0], 0, 1)
        obj = np.clip(outputs[f"obj_{stride}"][0, :, 0], 0, 1)
        scores = np.sqrt(cls * obj)
        cells = np.flatnonzero(scores >= score_threshold)
        row, col = (v.astype(np.float32) for v in np.divmod(cells, padded_width // stride))
        box = outputs[f"bbox_{stride}"][0, cells]
        kps = outputs[f"kps_{stride}"][0, cells]
        width = np.exp(box[:, 2]) * stride
        height = np.exp(box[:, 3]) * stride
        left = (col + box[:, 0]) * stride - width / 2
        top = (row + box[:, 1]) * stride - height / 2
        points = np.empty_like(kps)
        points[:, 0::2] = (kps[:, 0::2] + col[:, None]) * stride
        points[:, 1::2] = (kps[:, 1::2] + row[:, None]) * stride
        found.append(np.column_stack([left, top, width, height, points, scores[cells]]))
    return np.concatenate(found).astype(np.float32)


def suppress(
    rows: np.ndarray, score_threshold: float, nms_threshold: float, top_k: int
) -> np.ndarray:
    """OpenCV's NMS on the boxes truncated to whole pixels, as ``FaceDetectorYN`` does
    (rows that are not finite numbers are dropped first)."""
    rows = rows[np.isfinite(rows).all(axis=1)]
    if len(rows) == 0:
        return rows
    boxes = [tuple(int(v) for v in box) for box in rows[:, :4]]
    keep = cv2.dnn.NMSBoxes(boxes, rows[:, 14].tolist(), score_threshold, nms_threshold, 1.0, top_k)
    return rows[np.asarray(keep, dtype=np.int64).reshape(-1)]


class YuNetDetector(Detector):
    """YuNet: a box, 5 landmarks and a score per face.

    ``score_threshold`` (default 0.7), ``nms_threshold`` (default 0.3) and ``top_k`` (5000)
    are the values faceid always gave ``cv2.FaceDetectorYN``. ``session`` is an ONNX Runtime
    session on :func:`size_free`'s graph.
    """

    name = "yunet"

    def __init__(
        self,
        session: Any,
        score_threshold: float = 0.7,
        nms_threshold: float = 0.3,
        top_k: int = 5000,
        max_side: int = 640,
    ) -> None:
        super().__init__(max_side)
        self._session = session
        self._names = [output.name for output in session.get_outputs()]
        self._input = session.get_inputs()[0].name
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.top_k = top_k
        import onnxruntime as ort

        self._shrink = ort.RunOptions()
        self._shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    @classmethod
    def from_file(cls, model_path: Path, threads: int = 0, **options: Any) -> YuNetDetector:
        from ..onnx import onnx_session

        return cls(onnx_session(size_free(model_path.read_bytes()), threads), **options)

    def _detect(
        self, image: np.ndarray, largest_only: bool = False, small_faces: bool = True
    ) -> list[Face]:
        blob = padded_blob(image)
        large = blob.shape[2] * blob.shape[3] > SHRINK_PIXELS
        values = self._session.run(
            self._names, {self._input: blob}, self._shrink if large else None
        )
        outputs = dict(zip(self._names, values, strict=True))
        rows = decode(outputs, blob.shape[3], self.score_threshold)
        rows = suppress(rows, self.score_threshold, self.nms_threshold, self.top_k)
        return [
            make_face(np.array([x, y, x + w, y + h]), row[4:14], row[14])
            for row in rows
            for x, y, w, h in [row[:4]]
        ]


def build(weights: Path | None, *, threads: int, max_side: int) -> YuNetDetector:
    """The registry's factory (:data:`faceid.faces.models.DETECTORS`)."""
    assert weights is not None  # its card names its weight file
    return YuNetDetector.from_file(weights, threads, max_side=max_side)
