"""Item 1: embed one image (decode + detect + align + embed) per detector x embedder.

faceid runs in-process through its Python API; the peers are DeepFace.represent
(Dlib model, dlib or OpenCV detector) and face_recognition, on the same JPEG files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from faceid.faces.media import decode_image
from faceid.faces.pipeline import Pipeline, PipelineConfig
from faceid.settings import Settings as ServiceSettings

from . import peers
from .context import Results, Settings
from .report import Row
from .stats import Timings, measure, ms, p50_p95, speedup

log = logging.getLogger(__name__)

DETECTORS = ("hog", "yunet", "retinaface-onnx", "mtcnn")
EMBEDDERS = ("dlib", "arcface")
ARCFACE_MODEL = "mobilefacenet-arcface"
RESOLUTIONS = ("480p", "720p", "1080p")
MAX_PIXELS = 100_000_000
#: Short names used in the table for the peers.
PEERS = {
    "FR": "face_recognition.face_encodings",
    "DF-dlib": "DeepFace.represent(Dlib, detector dlib)",
    "DF-opencv": "DeepFace.represent(Dlib, detector opencv)",
}


def config(detector: str, embedder: str) -> PipelineConfig:
    return PipelineConfig.from_settings(
        ServiceSettings.load(), detector=detector, embedder=embedder, arcface_model=ARCFACE_MODEL
    )


def embed_largest(pipe: Pipeline, data: bytes) -> np.ndarray | None:
    """faceid's normalised embedding of the largest face in encoded image bytes."""
    image = decode_image(data, MAX_PIXELS)
    faces = pipe.detect(image)
    return pipe.embed([(image, faces[0])])[0] if faces else None


def _checked(fn: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        if fn() is None:
            raise RuntimeError("no face found")

    return run


def image_path(settings: Settings, resolution: str) -> Path:
    return settings.examples / f"obama-{resolution}.jpg"


def measure_peers(settings: Settings, resolution: str) -> dict[str, Timings]:
    path = str(image_path(settings, resolution))
    calls: dict[str, Callable[[], object]] = {
        "FR": lambda: peers.face_recognition_file(path),
        "DF-dlib": lambda: peers.deepface_represent(path, "dlib"),
        "DF-opencv": lambda: peers.deepface_represent(path, "opencv"),
    }
    out = {}
    for name, call in calls.items():
        log.info("item 1: peer %s at %s", name, resolution)
        out[name] = measure(_checked(call), settings.peer_runs, warmup=1)
    return out


def run(settings: Settings, results: Results) -> None:
    peer_times = {r: measure_peers(settings, r) for r in RESOLUTIONS}
    ours: dict[str, list[Row]] = {r: [] for r in RESOLUTIONS}
    for detector in DETECTORS:
        for embedder in EMBEDDERS:
            for resolution, row in _run_pipeline(
                settings, results, config(detector, embedder), peer_times
            ).items():
                ours[resolution].append(row)
    for resolution in RESOLUTIONS:
        size = _size(image_path(settings, resolution))
        for name, t in peer_times[resolution].items():
            results.add(Row("1", f"embed, peer {PEERS[name]}", size, "—", p50_p95(t)))
        for row in ours[resolution]:
            results.add(row)


def _run_pipeline(
    settings: Settings,
    results: Results,
    cfg: PipelineConfig,
    peer_times: dict[str, dict[str, Timings]],
) -> dict[str, Row]:
    """This pipeline's row per resolution (none when it does not load here)."""
    label = f"{cfg.detector} + {cfg.embedder}"
    try:
        pipe = Pipeline.load(cfg)
    except Exception as exc:  # noqa: BLE001 - a pipeline that cannot load here is reported
        results.notes.append(f"item 1: {label} did not load: {exc}")
        return {}
    rows = {}
    for resolution in RESOLUTIONS:
        log.info("item 1: faceid %s at %s", label, resolution)
        data = image_path(settings, resolution).read_bytes()
        t = measure(_checked(partial(embed_largest, pipe, data)), settings.runs, settings.warmup)
        results.facts[f"embed:{cfg.detector}:{cfg.embedder}:{resolution}"] = t.p50
        peer = peer_times[resolution]
        rows[resolution] = Row(
            "1",
            f"embed, faceid {label} ({pipe.model_id})",
            _size(image_path(settings, resolution)),
            p50_p95(t),
            "p50 " + ", ".join(f"{n} {ms(p.p50)}" for n, p in peer.items()),
            ", ".join(f"{speedup(p.p50, t.p50)} vs {n}" for n, p in peer.items()),
        )
    return rows


def _size(path: Path) -> str:
    with Image.open(path) as image:
        width, height = image.size
    return f"{path.name} ({width}x{height})"
