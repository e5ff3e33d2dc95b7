"""The embedding models' cards: ArcFace input specs, each model's vector length, operating
points and the figures behind them, and its weight file."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import ConfigError
from ..levels import LEVELS, Tail, checked_levels
from .files import WeightFile


@dataclass(frozen=True)
class ArcFaceSpec:
    """How to feed one ArcFace-style ONNX model.

    ``channels``: "RGB" or "BGR"; ``mean``/``std``: per channel, in the model's channel
    order and 0..255 units; ``layout``: "NCHW" or "NHWC" (read from the graph when
    None); ``threshold``: the ``standard`` cosine cut for a custom file, if calibrated;
    ``levels``: both cuts (``{"standard": t1, "high": t2}``), which win over ``threshold``.
    """

    name: str
    size: int = 112
    channels: str = "RGB"
    mean: tuple[float, float, float] = (127.5, 127.5, 127.5)
    std: tuple[float, float, float] = (127.5, 127.5, 127.5)
    layout: str | None = None
    threshold: float | None = None
    levels: Mapping[str, float] | None = None

    @classmethod
    def from_json(cls, path: Path) -> ArcFaceSpec:
        data = json.loads(path.read_text())
        for key in ("mean", "std"):
            if key in data:
                data[key] = tuple(float(v) for v in data[key])
        spec = cls(**data)
        spec.operating_points()  # refuse bad levels when the file is read
        return spec

    def operating_points(self) -> dict[str, float]:
        """The levels this spec calibrates: ``levels``, else ``threshold`` as ``standard``;
        ValueError when they are not finite cuts in [-1, 1] of known levels."""
        if self.levels is not None:
            return checked_levels(self.levels, f"{self.name} levels")
        if self.threshold is None:
            return {}
        return checked_levels({"standard": self.threshold}, f"{self.name} threshold")


#: A face scoring below the cut at this false-accept rate is taken for another person.
SAME_PERSON_FAR = 1e-2


@dataclass(frozen=True)
class ModelCard:
    """One embedding model: what its vectors are and where its operating points come from.

    ``levels`` maps a level of :data:`LEVELS` to a cosine similarity: at or above it, two
    faces match at that level (a level the model was not calibrated for is absent).
    ``calibration`` says what measured them; ``tail``: the fitted impostor tail behind
    them, which also sets the multi-frame thresholds (:meth:`visit_threshold`);
    ``weight``: its weight file (None: the weights ship in a pip package).
    """

    id: str
    dim: int
    calibration: str
    levels: Mapping[str, float] = field(default_factory=dict)
    tail: Tail | None = None
    weight: WeightFile | None = None
    spec: ArcFaceSpec | None = None

    def visit_threshold(self, level: str, frames: int) -> float | None:
        """The cut the best of ``frames`` frames must reach so that a whole visit keeps the
        level's false-accept rate: the fitted threshold at ``FAR / frames`` (union bound),
        rounded up to 3 decimals, never below the level. None without a fitted tail."""
        if self.tail is None or level not in self.levels:
            return None
        if frames <= 1:
            return self.levels[level]
        tightened = math.ceil(self.tail.threshold(LEVELS[level] / frames) * 1000) / 1000
        return max(self.levels[level], tightened)

    def same_person_floor(self) -> float | None:
        """The similarity below which a face is taken for somebody else: the fitted
        threshold at FAR 1e-2 (99% of strangers fall below it), rounded down. None
        without a fitted tail."""
        if self.tail is None:
            return None
        return math.floor(self.tail.threshold(SAME_PERSON_FAR) * 1000) / 1000

    @property
    def threshold(self) -> float | None:
        """The ``standard`` level's threshold, the default for every verdict."""
        return self.levels.get("standard")


#: How the levels of the measured cards were derived (bench/lfw_levels.py regenerates
#: them, bench/LFW_LEVELS.md shows them).
LEVELS_CALIBRATION = (
    "LFW's shared half (3,588 photos, 2,022 people, the face nearest the centre) and "
    "identities.csv: 19.3 million impostor pairs of hog, yunet and retinaface-onnx "
    "pooled, 3 label errors left out; each level where a generalised Pareto fit of the "
    "top 1% meets its target (and, for standard, the measured rate meets 1e-4 too), "
    "rounded up to 3 decimals; checked on people the fit never saw (20 splits by person)"
)

CARDS: dict[str, ModelCard] = {
    c.id: c
    for c in (
        ModelCard(
            id="dlib-resnet-v1",
            dim=128,
            levels={"standard": 0.941, "high": 0.96},
            tail=Tail(u=0.907131, p_u=0.01, xi=-0.113503, sigma=0.009184),
            calibration=LEVELS_CALIBRATION,
        ),
        ModelCard(
            id="arcface:mobilefacenet-arcface",
            dim=128,
            levels={"standard": 0.406, "high": 0.517},
            tail=Tail(u=0.250841, p_u=0.01, xi=-0.071324, sigma=0.039381),
            calibration=LEVELS_CALIBRATION,
            weight=WeightFile(
                id="mobilefacenet-arcface",
                filename="mobilefacenet_arcface.onnx",
                urls=(
                    "https://github.com/foamliu/MobileFaceNet/raw/master/weights/MobileFaceNet.onnx",
                ),
                sha256="b7120c095d60094f28a4a54ba6a8bf51b297a6273fb40ef6350dfec1f63d9507",
                description="MobileFaceNet trained with ArcFace loss, 128-d",
                licence="Apache-2.0",
            ),
            # pixel/255 then ImageNet mean/std, RGB, NCHW
            spec=ArcFaceSpec(
                name="mobilefacenet-arcface",
                channels="RGB",
                mean=(123.675, 116.28, 103.53),
                std=(58.395, 57.12, 57.375),
            ),
        ),
        ModelCard(
            id="arcface:arcface-deepface",
            dim=512,
            levels={"standard": 0.32},
            calibration=(
                "not measured by faceid (its weights cannot be fetched where faceid is "
                "built): DeepFace's published cosine-distance cut for ArcFace, 0.68, as "
                "standard; no high level"
            ),
            weight=WeightFile(
                id="arcface-deepface",
                filename="arcface_weights.onnx",
                urls=(
                    "https://github.com/serengil/deepface_models/releases/download/v1.0/"
                    "arcface_weights.onnx",
                    "https://huggingface.co/serengil/deepface/resolve/main/arcface_weights.onnx",
                ),
                sha256=None,
                description="DeepFace ArcFace (ResNet, 512-d) as ONNX",
                licence="MIT",
            ),
            # DeepFace's ArcFace (ResNet-34, 512-d): BGR, pixel/255, NHWC
            spec=ArcFaceSpec(
                name="arcface-deepface",
                channels="BGR",
                mean=(0.0, 0.0, 0.0),
                std=(255.0, 255.0, 255.0),
            ),
        ),
    )
}


#: ArcFace weight ids (``FACEID_ARCFACE_MODEL``) -> their card.
ARCFACE: dict[str, ModelCard] = {c.weight.id: c for c in CARDS.values() if c.spec and c.weight}


def card(model_id: str) -> ModelCard | None:
    """The card of a known model id, or None."""
    return CARDS.get(model_id)


def custom_card(path: Path) -> ModelCard:
    """The card of a custom ArcFace ``.onnx`` file, from the ``.json`` spec beside it."""
    meta = path.with_suffix(".json")
    try:
        spec = ArcFaceSpec.from_json(meta) if meta.is_file() else ArcFaceSpec(name=path.stem)
    except (ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
        raise ConfigError(f"{meta}: {exc}") from exc
    levels = spec.operating_points()
    return ModelCard(
        id=f"arcface:{spec.name}",
        dim=0,  # read from the graph when loaded
        levels=levels,
        calibration=f"from {meta.name}" if levels else "none",
        spec=spec,
    )


def configured_card(embedder: str, arcface_model: str) -> ModelCard:
    """The card of the model a configuration produces, without loading anything."""
    if embedder != "arcface":
        return CARDS["dlib-resnet-v1"]
    if arcface_model in ARCFACE:
        return ARCFACE[arcface_model]
    return custom_card(Path(arcface_model).expanduser())
