"""Detector and embedder factories, and the pipeline that joins them.

image -> detect -> choose faces -> 5-point alignment -> embed -> L2-normalise.
Models load lazily, once per process (:func:`get_pipeline`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import weights
from .detectors.base import Detector, Face
from .embedders.arcface_onnx import SPECS, ArcFaceEmbedder, ArcFaceSpec
from .embedders.base import Embedder, FaceCrop
from .errors import InvalidParameter, ModelUnavailable

log = logging.getLogger(__name__)

DEFAULT_DETECTOR = "hog"
DEFAULT_EMBEDDER = "dlib"
DEFAULT_ARCFACE_MODEL = "arcface-deepface"


@dataclass(frozen=True)
class PipelineConfig:
    """What to load. ``arcface_model`` is a weight id from :data:`faceid.weights.WEIGHTS`
    or a path to an ``.onnx`` file with a ``.json`` spec beside it."""

    detector: str = DEFAULT_DETECTOR
    embedder: str = DEFAULT_EMBEDDER
    arcface_model: str = DEFAULT_ARCFACE_MODEL
    detect_max_side: int = 640
    onnx_threads: int = 0

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any]) -> PipelineConfig:
        return cls(
            detector=str(cfg.get("FACEID_DETECTOR", DEFAULT_DETECTOR)),
            embedder=str(cfg.get("FACEID_EMBEDDER", DEFAULT_EMBEDDER)),
            arcface_model=str(cfg.get("FACEID_ARCFACE_MODEL", DEFAULT_ARCFACE_MODEL)),
            detect_max_side=int(cfg.get("FACEID_DETECT_MAX_SIDE", 640)),
            onnx_threads=int(cfg.get("FACEID_ONNX_THREADS", 0)),
        )


def onnx_session(path: Path, threads: int = 0) -> Any:
    """An ONNX Runtime CPU session with full graph optimisation."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _hog(cfg: PipelineConfig) -> Detector:
    from .detectors.hog import HogDetector

    return HogDetector(max_side=cfg.detect_max_side)


def _mtcnn(cfg: PipelineConfig) -> Detector:
    from .detectors.mtcnn import MtcnnDetector

    return MtcnnDetector(max_side=cfg.detect_max_side)


def _yunet(cfg: PipelineConfig) -> Detector:
    from .detectors.yunet import YuNetDetector

    return YuNetDetector(weights.resolve("yunet"), max_side=cfg.detect_max_side)


def _retinaface_onnx(cfg: PipelineConfig) -> Detector:
    from .detectors.retinaface_onnx import RetinaFaceOnnxDetector

    session = onnx_session(weights.resolve("retinaface-mnet025"), cfg.onnx_threads)
    return RetinaFaceOnnxDetector(session, max_side=cfg.detect_max_side)


def _retinaface(cfg: PipelineConfig) -> Detector:
    from .detectors.retinaface_pkg import RetinaFacePackageDetector

    return RetinaFacePackageDetector(
        weights.resolve("retinaface-resnet50"), max_side=cfg.detect_max_side
    )


DETECTORS: dict[str, Callable[[PipelineConfig], Detector]] = {
    "hog": _hog,
    "mtcnn": _mtcnn,
    "yunet": _yunet,
    "retinaface-onnx": _retinaface_onnx,
    "retinaface": _retinaface,
}


def _dlib(cfg: PipelineConfig) -> Embedder:
    from .embedders.dlib_resnet import DlibEmbedder

    return DlibEmbedder()


def _custom_spec(path: Path) -> ArcFaceSpec:
    meta = path.with_suffix(".json")
    return ArcFaceSpec.from_json(meta) if meta.is_file() else ArcFaceSpec(name=path.stem)


def arcface_model_id(name: str) -> str:
    """The model id an ArcFace setting (weight id or .onnx path) produces, without loading it."""
    if name in SPECS:
        return f"arcface:{SPECS[name].name}"
    return f"arcface:{_custom_spec(Path(name).expanduser()).name}"


def _arcface(cfg: PipelineConfig) -> Embedder:
    name = cfg.arcface_model
    if name in weights.WEIGHTS:
        path = weights.resolve(name)
        spec = SPECS[name]
    else:
        path = Path(name).expanduser()
        if not path.is_file():
            raise ModelUnavailable(
                f"FACEID_ARCFACE_MODEL={name} is neither a known model id "
                f"({', '.join(SPECS)}) nor an existing .onnx file."
            )
        spec = _custom_spec(path)
    return ArcFaceEmbedder(onnx_session(path, cfg.onnx_threads), spec)


EMBEDDERS: dict[str, Callable[[PipelineConfig], Embedder]] = {"dlib": _dlib, "arcface": _arcface}


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """The one place embeddings are L2-normalised."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class Pipeline:
    """A detector and an embedder that produce normalised embeddings.

    >>> pipe = Pipeline.load(PipelineConfig())  # doctest: +SKIP
    >>> faces = pipe.detect(image); vectors = pipe.embed([(image, faces[0])])  # doctest: +SKIP
    """

    def __init__(self, detector: Detector, embedder: Embedder) -> None:
        self.detector = detector
        self.embedder = embedder

    @classmethod
    def load(cls, cfg: PipelineConfig) -> Pipeline:
        if cfg.detector not in DETECTORS:
            raise InvalidParameter(
                f"Unknown detector '{cfg.detector}'; choose one of {', '.join(DETECTORS)}."
            )
        if cfg.embedder not in EMBEDDERS:
            raise InvalidParameter(
                f"Unknown embedder '{cfg.embedder}'; choose one of {', '.join(EMBEDDERS)}."
            )
        started = time.perf_counter()
        pipe = cls(DETECTORS[cfg.detector](cfg), EMBEDDERS[cfg.embedder](cfg))
        log.info(
            "models loaded",
            extra={
                "detector": cfg.detector,
                "model": pipe.model_id,
                "seconds": round(time.perf_counter() - started, 2),
            },
        )
        return pipe

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    def detect(self, image: np.ndarray, largest_only: bool = False) -> list[Face]:
        return self.detector.detect(image, largest_only)

    def embed(self, items: Sequence[FaceCrop]) -> np.ndarray:
        if not items:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return l2_normalize(self.embedder.embed(items))


_pipelines: dict[PipelineConfig, Pipeline] = {}
_pipelines_lock = threading.Lock()


def get_pipeline(cfg: PipelineConfig) -> Pipeline:
    """The process-wide pipeline for this configuration, loaded on first use."""
    with _pipelines_lock:
        if cfg not in _pipelines:
            _pipelines[cfg] = Pipeline.load(cfg)
        return _pipelines[cfg]


def is_loaded(cfg: PipelineConfig) -> bool:
    return cfg in _pipelines
