"""dlib's ResNet face descriptor (128-d), weights from ``face_recognition_models``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ...errors import ModelUnavailable
from .base import Embedder, FaceCrop

log = logging.getLogger(__name__)

#: dlib's chip: 150 px, the face's 5 points mapped with a 0.25 margin.
CHIP_SIZE = 150
CHIP_PADDING = 0.25


class DlibEmbedder(Embedder):
    """dlib ResNet-29 metric network.

    Alignment is dlib's own: its 5-point predictor on the detected box, then
    ``get_face_chip`` (150 px, padding 0.25), as ``compute_face_descriptor`` does.
    Images are converted BGR -> RGB first.

    ``backend``: ``onnx`` runs the same network, rebuilt from the same weight file as an
    ONNX graph (:mod:`faceid.faces.convert.dlib_onnx`), on ONNX Runtime: the ``dlib-bin``
    wheel is built without BLAS, and its ResNet costs about 115 ms a face where the
    graph costs about 4. ``dlib`` runs dlib's own. ``auto`` (the default) takes ONNX when
    the graph builds and agrees with dlib, and dlib otherwise, saying so in the log.
    Either way the vectors are the same model's (cosine 0.9999 or more), so galleries
    and thresholds are shared.
    """

    model_id = "dlib-resnet-v1"
    dim = 128

    def __init__(
        self, backend: str = "auto", models_dir: Path | None = None, threads: int = 0
    ) -> None:
        import dlib
        import face_recognition_models as frm

        self._dlib: Any = dlib
        self._shape = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        source = Path(frm.face_recognition_model_location())
        self._session: Any = None
        self._net: Any = None
        if backend != "dlib":
            self._session = self._onnx(source, models_dir, threads, required=backend == "onnx")
        if self._session is None:
            self._net = dlib.face_recognition_model_v1(str(source))
        self.backend = "onnx" if self._session is not None else "dlib"

    @staticmethod
    def _onnx(source: Path, models_dir: Path | None, threads: int, required: bool) -> Any:
        from ..convert.dlib_onnx import ConversionError, load
        from ..onnx import onnx_session

        try:
            return onnx_session(load(source, models_dir), threads)
        except (ConversionError, OSError, RuntimeError) as exc:
            if required:
                raise ModelUnavailable(
                    f"dlib's network could not run on ONNX Runtime ({exc}); set "
                    "FACEID_DLIB_BACKEND=dlib to use dlib's own."
                ) from exc
            log.warning("dlib network on dlib itself: no ONNX graph", extra={"error": str(exc)})
            return None

    def chips(self, items: Sequence[FaceCrop]) -> np.ndarray:
        """dlib's aligned 150 px RGB chip of each face."""
        out = np.zeros((len(items), CHIP_SIZE, CHIP_SIZE, 3), dtype=np.uint8)
        for i, (image, face) in enumerate(items):
            rgb = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
            x1, y1, x2, y2 = (int(round(float(v))) for v in face.box)
            shape = self._shape(rgb, self._dlib.rectangle(x1, y1, x2 - 1, y2 - 1))
            out[i] = self._dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
        return out

    def embed(self, items: Sequence[FaceCrop]) -> np.ndarray:
        chips = self.chips(items)
        if self._session is not None:
            descriptors = self._session.run(None, {"chips": chips.astype(np.float32)})[0]
            return np.asarray(descriptors, dtype=np.float32)
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        for i, chip in enumerate(chips):
            out[i] = np.asarray(self._net.compute_face_descriptor(chip), dtype=np.float32)
        return out
