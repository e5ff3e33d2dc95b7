"""The registry of model facts: weight files, ArcFace input specs and model cards.

Every fact about a model lives here and nowhere else:

- :data:`WEIGHTS`: downloadable weight files (file name, upstream addresses, SHA-256).
  The default pipeline needs none: dlib's weights ship in ``face_recognition_models``.
- :class:`ArcFaceSpec`: how to feed an ArcFace-style ONNX network.
- :class:`ModelCard`: one per embedding model: id, vector length, its operating points
  (:data:`LEVELS`) and the figures behind them, input spec, weight file.

>>> card("dlib-resnet-v1").dim
128
>>> card("dlib-resnet-v1").levels["standard"]
0.937
>>> configured_card("arcface", "mobilefacenet-arcface").id
'arcface:mobilefacenet-arcface'
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class WeightFile:
    """One weight file: its name on disk, upstream addresses and digest."""

    id: str
    filename: str
    urls: tuple[str, ...]
    sha256: str | None
    description: str
    licence: str = ""


WEIGHTS: dict[str, WeightFile] = {
    w.id: w
    for w in (
        WeightFile(
            id="yunet",
            filename="face_detection_yunet_2023mar.onnx",
            urls=(
                "https://github.com/opencv/opencv_zoo/raw/main/models/"
                "face_detection_yunet/face_detection_yunet_2023mar.onnx",
            ),
            sha256="8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
            description="OpenCV YuNet face detector (box + 5 landmarks)",
            licence="MIT",
        ),
        WeightFile(
            id="retinaface-mnet025",
            filename="retinaface_mnet025.onnx",
            urls=("https://github.com/kgzhwang/Pytorch_Retinaface/raw/master/FaceDetector.onnx",),
            sha256="e0e19bad8494b3f7a7edb39a90194ff055923e13a3453569a454386f857fe538",
            description="RetinaFace MobileNet-0.25, 640x640 ONNX export",
            licence="MIT",
        ),
        WeightFile(
            id="mobilefacenet-arcface",
            filename="mobilefacenet_arcface.onnx",
            urls=(
                "https://github.com/foamliu/MobileFaceNet/raw/master/weights/MobileFaceNet.onnx",
            ),
            sha256="b7120c095d60094f28a4a54ba6a8bf51b297a6273fb40ef6350dfec1f63d9507",
            description="MobileFaceNet trained with ArcFace loss, 128-d",
            licence="Apache-2.0",
        ),
        WeightFile(
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
        WeightFile(
            id="retinaface-resnet50",
            filename="retinaface.onnx",
            urls=(
                "https://github.com/serengil/deepface_models/releases/download/v1.0/retinaface.onnx",
                "https://huggingface.co/serengil/deepface/resolve/main/retinaface.onnx",
            ),
            sha256="45d02defc4737b382691a52fc2bb49b984420dcbd26ee6ab9a8343c667d228f7",
            description="retina-face package's RetinaFace ResNet-50 (ONNX backend)",
            licence="MIT",
        ),
    )
}


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
        if "levels" in data:
            data["levels"] = {str(k): float(v) for k, v in dict(data["levels"]).items()}
        return cls(**data)

    def operating_points(self) -> dict[str, float]:
        """The levels this spec calibrates: ``levels``, else ``threshold`` as ``standard``."""
        if self.levels:
            return {k: v for k, v in self.levels.items() if k in LEVELS}
        return {"standard": self.threshold} if self.threshold is not None else {}


@dataclass(frozen=True)
class Tail:
    """A generalised Pareto model of a model's impostor scores above ``u`` (shape ``xi``,
    scale ``sigma``; ``p_u`` of impostor scores lie above ``u``), fitted by
    :mod:`faceid.faces.tail`. Closed forms, so the service needs no scipy.

    >>> round(Tail(u=0.8, p_u=0.1, xi=-0.2, sigma=0.02).threshold(1e-4), 4)
    0.8748
    """

    u: float
    p_u: float
    xi: float
    sigma: float

    def far(self, threshold: float) -> float:
        """Modelled share of impostor pairs at or above ``threshold`` (above ``u`` only)."""
        z = max(threshold - self.u, 0.0) / self.sigma
        if self.xi == 0:
            return self.p_u * math.exp(-z)
        base = 1.0 + self.xi * z
        return self.p_u * base ** (-1.0 / self.xi) if base > 0 else 0.0

    def threshold(self, far: float) -> float:
        """The similarity whose modelled false-accept rate is ``far`` (< ``p_u``)."""
        q = far / self.p_u
        if self.xi == 0:
            return self.u - self.sigma * math.log(q)
        return self.u + self.sigma / self.xi * (q ** (-self.xi) - 1.0)


#: Operating points, strictest last, and the false-accept rate each aims at.
LEVELS: dict[str, float] = {"standard": 1e-4, "high": 1e-6}
DEFAULT_LEVEL = "standard"


@dataclass(frozen=True)
class ModelCard:
    """One embedding model: what its vectors are and where its operating points come from.

    ``levels`` maps a level of :data:`LEVELS` to a cosine similarity: at or above it, two
    faces match at that level (a level the model was not calibrated for is absent).
    ``calibration`` says what measured them; ``tail``: the fitted impostor tail behind
    them, which also sets the multi-frame thresholds (:meth:`visit_threshold`);
    ``weight`` names the file in :data:`WEIGHTS` (None: the weights ship in a pip package).
    """

    id: str
    dim: int
    calibration: str
    levels: Mapping[str, float] = field(default_factory=dict)
    tail: Tail | None = None
    weight: str | None = None
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

    @property
    def threshold(self) -> float | None:
        """The ``standard`` level's threshold, the default for every verdict."""
        return self.levels.get(DEFAULT_LEVEL)


#: How the levels of the measured cards were derived (bench/levels.py regenerates them).
LEVELS_CALIBRATION = (
    "identities.csv (77 photos, 19 people): impostor scores of every detector that runs "
    "here pooled, generalised Pareto fit of their top 10%, threshold where the fitted "
    "false-accept rate meets the level's target, rounded up to 3 decimals"
)

CARDS: dict[str, ModelCard] = {
    c.id: c
    for c in (
        ModelCard(
            id="dlib-resnet-v1",
            dim=128,
            levels={"standard": 0.937, "high": 0.951},
            tail=Tail(u=0.87273, p_u=0.100036, xi=-0.187322, sigma=0.016524),
            calibration=LEVELS_CALIBRATION,
        ),
        ModelCard(
            id="arcface:mobilefacenet-arcface",
            dim=128,
            levels={"standard": 0.491, "high": 0.688},
            tail=Tail(u=0.147109, p_u=0.100036, xi=-0.026015, sigma=0.054339),
            calibration=LEVELS_CALIBRATION,
            weight="mobilefacenet-arcface",
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
            weight="arcface-deepface",
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


@dataclass(frozen=True)
class Preset:
    """A named pipeline (``FACEID_PIPELINE``): detector, embedder and ArcFace weights,
    and the weight files it needs downloaded (none for the offline default)."""

    name: str
    detector: str
    embedder: str
    arcface_model: str | None
    why: str

    @property
    def weights(self) -> tuple[str, ...]:
        needed = {"yunet": "yunet", "retinaface-onnx": "retinaface-mnet025"}
        files = [needed[self.detector]] if self.detector in needed else []
        return (*files, *([self.arcface_model] if self.arcface_model else []))

    def settings(self) -> dict[str, str]:
        out = {"detector": self.detector, "embedder": self.embedder}
        return {**out, **({"arcface_model": self.arcface_model} if self.arcface_model else {})}


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "default",
            "hog",
            "dlib",
            None,
            "offline: weights ship in pip packages; 0 false accepts and 3.1% false rejects "
            "at standard on identities.csv; about 160 ms per face on 2 cores",
        ),
        Preset(
            "recommended",
            "yunet",
            "arcface",
            "mobilefacenet-arcface",
            "0 false accepts and 2.5% false rejects at standard on identities.csv, wider "
            "genuine/impostor separation (d' 7.4 against 5.4), about 6x faster per face; "
            "needs two downloads (yunet, mobilefacenet-arcface: 4 MB)",
        ),
    )
}

#: ArcFace weight ids (``FACEID_ARCFACE_MODEL``) -> their card.
ARCFACE: dict[str, ModelCard] = {c.weight: c for c in CARDS.values() if c.spec and c.weight}


def card(model_id: str) -> ModelCard | None:
    """The card of a known model id, or None."""
    return CARDS.get(model_id)


def custom_card(path: Path) -> ModelCard:
    """The card of a custom ArcFace ``.onnx`` file, from the ``.json`` spec beside it."""
    meta = path.with_suffix(".json")
    spec = ArcFaceSpec.from_json(meta) if meta.is_file() else ArcFaceSpec(name=path.stem)
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
