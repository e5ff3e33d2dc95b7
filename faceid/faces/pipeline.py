"""Detector and embedder factories, and the pipeline that joins them.

image -> detect -> choose faces -> 5-point alignment -> embed -> L2-normalise.
Nothing loads at import; :meth:`Pipeline.load` loads the configured models (the web
app does it once, on first use, in :class:`faceid.services.Services`).
"""

from __future__ import annotations

import importlib.util
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidParameter, ModelUnavailable
from . import models, presets
from .detectors.base import Detector, Face
from .embedders.base import Embedder, FaceCrop
from .native import off_loop
from .onnx import onnx_session
from .weights import ModelFiles

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger(__name__)

DEFAULT_DETECTOR = presets.DEFAULT.detector
DEFAULT_EMBEDDER = presets.DEFAULT.embedder
DEFAULT_ARCFACE_MODEL = presets.DEFAULT_ARCFACE_MODEL


@dataclass(frozen=True)
class PipelineConfig:
    """What to load. ``arcface_model`` is an ArcFace weight id from
    :data:`faceid.faces.models.ARCFACE` or a path to an ``.onnx`` file with a ``.json``
    spec beside it. ``models_dir``/``allow_download``: where weight files live, and
    whether a missing one may be fetched."""

    detector: str = DEFAULT_DETECTOR
    embedder: str = DEFAULT_EMBEDDER
    arcface_model: str = DEFAULT_ARCFACE_MODEL
    detect_max_side: int = 640
    onnx_threads: int = 0
    dlib_backend: str = "auto"
    models_dir: Path = Path("~/.cache/faceid/models")
    allow_download: bool = True

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> PipelineConfig:
        """The configuration ``settings`` describe, with ``overrides`` (field names) on top."""
        return replace(
            cls(
                detector=settings.detector,
                embedder=settings.embedder,
                arcface_model=settings.arcface_model,
                detect_max_side=settings.detect_max_side,
                onnx_threads=settings.onnx_threads,
                dlib_backend=settings.dlib_backend,
                models_dir=settings.models_path,
                allow_download=settings.allow_download,
            ),
            **overrides,
        )

    @property
    def files(self) -> ModelFiles:
        return ModelFiles(self.models_dir, self.allow_download)

    @property
    def card(self) -> models.ModelCard:
        """The embedding model's card, without loading anything."""
        return models.configured_card(self.embedder, self.arcface_model)


def require_extra(module: str, extra: str) -> None:
    """Refuse (503) with the install command when an optional package is missing."""
    if importlib.util.find_spec(module) is None:
        raise ModelUnavailable(
            f"This model needs the Python package '{module}', which is not installed. "
            f"Install faceid's '{extra}' extra: pip install 'faceid[{extra}]' "
            "(make test installs every extra).",
            extra=extra,
        )


def _detector(cfg: PipelineConfig) -> Detector:
    """The configured detector, built from its registry card (:data:`models.DETECTORS`):
    its packages checked, its weight file fetched if needed, its module's ``build``."""
    card = models.DETECTORS[cfg.detector]
    for module, extra in card.needs:
        require_extra(module, extra)
    weights = cfg.files.resolve(card.weight.id) if card.weight is not None else None
    built = importlib.import_module(f"{__package__}.detectors.{card.module}")
    detector: Detector = built.build(
        weights, threads=cfg.onnx_threads, max_side=cfg.detect_max_side
    )
    return detector


def _dlib(cfg: PipelineConfig) -> Embedder:
    from .embedders.dlib_resnet import DlibEmbedder

    return DlibEmbedder(cfg.dlib_backend, cfg.models_dir.expanduser(), cfg.onnx_threads)


def _arcface(cfg: PipelineConfig) -> Embedder:
    from .embedders.arcface_onnx import ArcFaceEmbedder

    name = cfg.arcface_model
    card = cfg.card
    if card.weight is not None:
        path = cfg.files.resolve(card.weight.id)
    else:
        path = Path(name).expanduser()
        if not path.is_file():
            raise ModelUnavailable(
                f"FACEID_ARCFACE_MODEL={name} is neither a known model id "
                f"({', '.join(models.ARCFACE)}) nor an existing .onnx file."
            )
    assert card.spec is not None  # every ArcFace card carries its input spec
    return ArcFaceEmbedder(onnx_session(path, cfg.onnx_threads), card.spec)


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
        if cfg.detector not in models.DETECTORS:
            raise InvalidParameter(
                f"Unknown detector '{cfg.detector}'; choose one of {', '.join(models.DETECTORS)}."
            )
        if cfg.embedder not in EMBEDDERS:
            raise InvalidParameter(
                f"Unknown embedder '{cfg.embedder}'; choose one of {', '.join(EMBEDDERS)}."
            )
        started = time.perf_counter()
        pipe = cls(_detector(cfg), EMBEDDERS[cfg.embedder](cfg))
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

    @property
    def card(self) -> models.ModelCard:
        """The model's card: a known one, or one made from a custom file's spec."""
        known = models.card(self.model_id)
        if known is not None:
            return known
        spec = getattr(self.embedder, "spec", None)
        levels = spec.operating_points() if isinstance(spec, models.ArcFaceSpec) else {}
        return models.ModelCard(
            id=self.model_id,
            dim=self.embedder.dim,
            levels=levels,
            calibration="from the model's .json spec" if levels else "none",
            spec=spec,
        )

    def detect(
        self, image: np.ndarray, largest_only: bool = False, small_faces: bool = True
    ) -> list[Face]:
        return off_loop(self.detector.detect, image, largest_only, small_faces)

    def embed(self, items: Sequence[FaceCrop]) -> np.ndarray:
        if not items:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return l2_normalize(off_loop(self.embedder.embed, items))
