"""The registry of model facts: weight files (:mod:`.files`), the detectors' cards
(:mod:`.detectors`), ArcFace input specs and the embedding models' cards (:mod:`.cards`).

Every fact about a model lives here and nowhere else:

- :class:`DetectorCard`: one per face detector (:data:`DETECTORS`): its name, the module
  that builds it, its weight file (file name, upstream addresses, SHA-256; none for those
  whose weights ship in pip packages, as the default's do) and the packages it imports.
  Adding a detector is one card (:func:`register_detector`) and its module.
- :class:`ArcFaceSpec`: how to feed an ArcFace-style ONNX network.
- :class:`ModelCard`: one per embedding model (:data:`CARDS`): id, vector length, its
  operating points (:data:`.levels.LEVELS`) and the figures behind them, input spec, weight
  file. Adding a model is one card (:func:`register`).
- :data:`WEIGHTS` and :data:`ARCFACE` are derived from those.

>>> card("dlib-resnet-v1").dim
128
>>> card("dlib-resnet-v1").levels["standard"]
0.941
>>> configured_card("arcface", "mobilefacenet-arcface").id
'arcface:mobilefacenet-arcface'
"""

from __future__ import annotations

from ...errors import ConfigError
from .cards import (
    ARCFACE,
    CARDS,
    LEVELS_CALIBRATION,
    SAME_PERSON_FAR,
    ArcFaceSpec,
    ModelCard,
    card,
    configured_card,
    custom_card,
)
from .detectors import DETECTORS, DetectorCard
from .files import WeightFile

__all__ = [
    "ARCFACE",
    "CARDS",
    "DETECTORS",
    "LEVELS_CALIBRATION",
    "SAME_PERSON_FAR",
    "WEIGHTS",
    "ArcFaceSpec",
    "DetectorCard",
    "ModelCard",
    "WeightFile",
    "card",
    "configured_card",
    "custom_card",
    "register",
    "register_detector",
]


#: Every downloadable weight file, by id: the detectors' and the models'.
WEIGHTS: dict[str, WeightFile] = {
    w.id: w
    for w in (
        *(d.weight for d in DETECTORS.values() if d.weight),
        *(c.weight for c in CARDS.values() if c.weight),
    )
}


def register(model: ModelCard) -> None:
    """Add an embedding model. Its card (levels, input spec) carries its weight file, so
    this one entry makes it fetchable and listed (``faceid models``) and served by
    ``FACEID_EMBEDDER=arcface FACEID_ARCFACE_MODEL=<its weight id>``."""
    taken = model.id in CARDS or (model.weight is not None and model.weight.id in WEIGHTS)
    if taken:
        raise ConfigError(f"A model or weight file is already registered as {model.id!r}.")
    CARDS[model.id] = model
    if model.weight is not None:
        WEIGHTS[model.weight.id] = model.weight
        if model.spec is not None:
            ARCFACE[model.weight.id] = model


def register_detector(detector: DetectorCard) -> None:
    """Add a face detector: this one entry (and its module's ``build``) makes it servable
    as ``FACEID_DETECTOR=<its name>`` and its weight file fetchable and listed."""
    weight = detector.weight
    if detector.name in DETECTORS or (weight is not None and weight.id in WEIGHTS):
        taken = detector.name if detector.name in DETECTORS else weight.id if weight else ""
        raise ConfigError(f"A detector or weight file is already registered as {taken!r}.")
    DETECTORS[detector.name] = detector
    if weight is not None:
        WEIGHTS[weight.id] = weight
