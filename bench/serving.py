"""Items 3 to 5 over real HTTP on 127.0.0.1: video, load on the endpoints, worker memory.

faceid runs under gunicorn (2 workers) with the default pipeline, then with
yunet + mobilefacenet; the peer is DeepFace's own Flask API under gunicorn with
the same worker count, loaded by the same client with the same inputs.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from faceid.faces.pipeline import Pipeline, PipelineConfig
from faceid.settings import Settings as ServiceSettings

from . import breakdown, lock, video
from .context import Results, Settings
from .embed import embed_largest
from .load import LoadResult, Request, multipart, run_load
from .server import WORKERS, Server, deepface_server, faceid_server

log = logging.getLogger(__name__)

COMPARE_LEVELS = (1, 4, 16)
UNLOCK_LEVELS = (1, 4, 16)
EXTRACT_LEVELS = (1, 4)
ONNX = {
    "FACEID_DETECTOR": "yunet",
    "FACEID_EMBEDDER": "arcface",
    "FACEID_ARCFACE_MODEL": "mobilefacenet-arcface",
}
DEEPFACE_BACKENDS = ("opencv", "dlib")


@dataclass(frozen=True)
class Inputs:
    """The same bytes for faceid and the peer: a 640x480 JPEG and two real 128-d vectors."""

    frame: bytes
    vectors: tuple[list[float], list[float]]


@dataclass
class Measured:
    """What one server answered: load per endpoint and level, videos, worker RSS (KiB)."""

    compare: dict[int, LoadResult] = field(default_factory=dict)
    extract: dict[str, dict[int, LoadResult]] = field(default_factory=dict)
    unlock: dict[int, LoadResult] = field(default_factory=dict)
    videos: dict[str, video.VideoRun] = field(default_factory=dict)
    rss_kib: list[int] = field(default_factory=list)
    tensorflow: bool = False


@dataclass
class Outcome:
    default: Measured
    onnx: Measured
    peer: Measured
    video_peer: dict[str, video.PeerRun]
    clips: list[video.Clip]


def frame_640x480(settings: Settings) -> bytes:
    """The centre 640x480 of obama-480p.jpg (853x480), JPEG quality 90."""
    image = video.read_bgr(settings.examples / "obama-480p.jpg")
    left = (image.shape[1] - 640) // 2
    ok, buf = cv2.imencode(".jpg", image[:480, left : left + 640], [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError("could not encode the 640x480 frame")
    return buf.tobytes()


def make_inputs(settings: Settings, pipe: Pipeline) -> Inputs:
    frame = frame_640x480(settings)
    vectors = []
    for data in (frame, (settings.examples / "obama2.jpg").read_bytes()):
        vector = embed_largest(pipe, data)
        if vector is None:
            raise RuntimeError("no face in an HTTP benchmark input")
        vectors.append([round(float(v), 6) for v in vector])
    return Inputs(frame, (vectors[0], vectors[1]))


def _json(path: str, payload: dict[str, object]) -> Request:
    return Request("POST", path, json.dumps(payload).encode(), "application/json")


def _upload(path: str, field_name: str, frame: bytes, **fields: str) -> Request:
    body, content_type = multipart(field_name, "frame.jpg", frame, **fields)
    return Request("POST", path, body, content_type)


def _levels(
    settings: Settings, port: int, req: Request, levels: tuple[int, ...], total: int
) -> dict[int, LoadResult]:
    out = {}
    for level in levels:
        log.info("load %s at concurrency %d (%d requests)", req.path, level, total)
        out[level] = run_load(port, req, level, total, settings.time_cap_s)
    return out


def _warm(port: int, *requests: Request) -> None:
    """Every worker answers each request kind a few times before anything is timed."""
    for req in requests:
        result = run_load(port, req, WORKERS * 2, WORKERS * 4, 120)
        if result.errors:
            raise RuntimeError(f"warm-up of {req.path} failed {result.errors} times")


def _uses_tensorflow(server: Server) -> bool:
    for pid in server.workers():
        try:
            if "tensorflow" in Path(f"/proc/{pid}/maps").read_text():
                return True
        except OSError:
            pass
    return False


def _finish(server: Server, out: Measured) -> Measured:
    out.rss_kib = server.worker_rss_kib()
    out.tensorflow = _uses_tensorflow(server)
    return out


def faceid_default(settings: Settings, inp: Inputs, clips: list[video.Clip]) -> Measured:
    compare = _json(
        "/compare_embeddings", {"embedding1": inp.vectors[0], "embedding2": inp.vectors[1]}
    )
    extract = _upload("/extract_embeddings_from_image", "image", inp.frame)
    out = Measured()
    with faceid_server(settings.tmp, FACEID_DATA_DIR=str(settings.tmp / "data-default")) as server:
        server.wait_ready("/ready")
        unlock = lock.unlock_request(server, settings, inp.frame)
        _warm(server.port, compare, extract, unlock)
        out.unlock = _levels(
            settings, server.port, unlock, UNLOCK_LEVELS, settings.extract_requests
        )
        out.compare = _levels(settings, server.port, compare, COMPARE_LEVELS, settings.requests)
        out.extract["faceid"] = _levels(
            settings, server.port, extract, EXTRACT_LEVELS, settings.extract_requests
        )
        for clip in clips:
            log.info("item 3: faceid video %s over HTTP", clip.name)
            out.videos[clip.name] = video.over_http(server.port, clip, settings.video_runs)
        return _finish(server, out)


def faceid_onnx(settings: Settings, inp: Inputs, clip: video.Clip) -> Measured:
    extract = _upload("/extract_embeddings_from_image", "image", inp.frame)
    out = Measured()
    env = {
        **ONNX,
        "FACEID_MODELS_DIR": str(settings.models),
        "FACEID_DATA_DIR": str(settings.tmp / "data-onnx"),
    }
    with faceid_server(settings.tmp, **env) as server:
        server.wait_ready("/ready")
        unlock = lock.unlock_request(server, settings, inp.frame)
        _warm(server.port, extract, unlock)
        out.unlock = _levels(settings, server.port, unlock, (1,), settings.extract_requests)
        out.extract["faceid"] = _levels(
            settings, server.port, extract, (1,), settings.extract_requests
        )
        out.videos[clip.name] = video.over_http(server.port, clip, settings.video_runs)
        return _finish(server, out)


def deepface_api(settings: Settings, inp: Inputs, env: dict[str, str]) -> Measured:
    verify = _json(
        "/verify", {"img1": inp.vectors[0], "img2": inp.vectors[1], "model_name": "Dlib"}
    )
    represent = {
        b: _upload("/represent", "img", inp.frame, model_name="Dlib", detector_backend=b)
        for b in DEEPFACE_BACKENDS
    }
    out = Measured()
    with deepface_server(settings.tmp, env) as server:
        server.wait_ready("/")
        _warm(server.port, verify, *represent.values())
        out.compare = _levels(settings, server.port, verify, COMPARE_LEVELS, settings.requests)
        for backend, req in represent.items():
            out.extract[backend] = _levels(
                settings, server.port, req, EXTRACT_LEVELS, settings.extract_requests
            )
        return _finish(server, out)


def explain(settings: Settings, results: Results, inp: Inputs, clips: list[video.Clip]) -> None:
    """In-process stage timings of the default pipeline, for the targets' "why"."""
    pipe = Pipeline.load(PipelineConfig.from_settings(ServiceSettings.load()))
    image = breakdown.image_stages(pipe, inp.frame, settings.runs)
    results.texts["extract_stages"] = image.text()
    results.texts["extract_largest"] = image.largest()
    results.facts["extract_service_s"] = image.parts["whole service.extract_image"]
    five = next(c for c in clips if c.name == "hamilton-5s")
    results.texts["video_stages"] = breakdown.video_stages(pipe, five.path.read_bytes(), 3).text()


def run(settings: Settings, results: Results, deepface_env: dict[str, str]) -> Outcome:
    pipe = Pipeline.load(PipelineConfig.from_settings(ServiceSettings.load()))
    inp = make_inputs(settings, pipe)
    clips = video.make_clips(settings)
    explain(settings, results, inp, clips)
    video_peer = video.peer_runs(settings, clips)
    default = faceid_default(settings, inp, clips)
    onnx = faceid_onnx(settings, inp, clips[1])
    peer = deepface_api(settings, inp, deepface_env)
    return Outcome(default, onnx, peer, video_peer, clips)
