"""Item 3: video enrolment through POST /extract_embeddings_from_video.

Clips: the shared Hamilton clip, its first 5 s (the proxy for a 5 s selfie clip),
and a 10 s 1080p clip made with OpenCV from shared stills, all written to a
temporary folder. The peer is face_recognition run in-process on the same frames
faceid samples (FACEID_VIDEO_MAX_FRAMES, 16, spread evenly), decoded by OpenCV.
"""

from __future__ import annotations

import http.client
import json
import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from . import peers
from .context import Settings
from .load import Request, multipart, run_load
from .server import HOST
from .stats import Timings, measure

log = logging.getLogger(__name__)

MAX_FRAMES = 16
STILLS = ("obama-1080p.jpg", "obama.jpg", "obama2.jpg")


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path
    label: str


@dataclass(frozen=True)
class VideoRun:
    timings: Timings
    body: dict[str, Any]

    def frames(self) -> str:
        b = self.body
        return f"{b['frames_used']}/{b['frames_sampled']} frames used"


def describe(path: Path) -> str:
    cap = cv2.VideoCapture(str(path))
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        width, height = (
            int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
    finally:
        cap.release()
    size_kb = path.stat().st_size / 1024
    return f"{width}x{height}, {count / fps:.1f} s, {count} frames, {size_kb:.0f} KB"


def cut(src: Path, dst: Path, seconds: float) -> Path:
    """The first ``seconds`` of ``src`` re-encoded (MPEG-4 Part 2) to ``dst``."""
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    size = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    writer = cv2.VideoWriter(str(dst), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    try:
        for _ in range(round(seconds * fps)):
            ok, frame = cap.read()
            if not ok:
                break
            writer.write(frame)
    finally:
        cap.release()
        writer.release()
    return dst


def read_bgr(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    if image is None:
        raise RuntimeError(f"OpenCV cannot read {path}")
    return np.asarray(image)


def letterbox(image: np.ndarray, width: int, height: int) -> np.ndarray:
    scale = min(width / image.shape[1], height / image.shape[0])
    resized = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    y, x = (height - resized.shape[0]) // 2, (width - resized.shape[1]) // 2
    canvas[y : y + resized.shape[0], x : x + resized.shape[1]] = resized
    return canvas


def from_stills(stills: list[Path], dst: Path, seconds: float = 10.0, fps: float = 30.0) -> Path:
    """A 1920x1080 clip: each still in turn, letterboxed, with a slow 10 % zoom."""
    width, height = 1920, 1080
    frames = round(seconds * fps)
    writer = cv2.VideoWriter(str(dst), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
    try:
        bases = [letterbox(read_bgr(p), width, height) for p in stills]
        per_still = frames / len(bases)
        for i in range(frames):
            base = bases[min(int(i / per_still), len(bases) - 1)]
            zoom = 1.0 + 0.1 * ((i % per_still) / per_still)
            matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 0.0, zoom)
            writer.write(cv2.warpAffine(base, matrix, (width, height)))
    finally:
        writer.release()
    return dst


def make_clips(settings: Settings) -> list[Clip]:
    hamilton = settings.examples / "short_hamilton_clip.mp4"
    five = cut(hamilton, settings.tmp / "hamilton-5s.mp4", 5.0)
    stills = from_stills(
        [settings.examples / s for s in STILLS], settings.tmp / "stills-1080p-10s.mp4"
    )
    clips = [
        Clip("hamilton", hamilton, "short_hamilton_clip.mp4"),
        Clip("hamilton-5s", five, "first 5 s of short_hamilton_clip.mp4, the 5 s selfie proxy"),
        Clip("stills-1080p", stills, f"10 s 1080p clip made from {', '.join(STILLS)}"),
    ]
    return [Clip(c.name, c.path, f"{c.label}: {describe(c.path)}") for c in clips]


def sample_indices(count: int, max_frames: int = MAX_FRAMES) -> set[int]:
    """The frames faceid samples (faceid.faces.decoder.Decoder.frames): evenly spaced."""
    return {int(i) for i in np.linspace(0, count - 1, min(max_frames, count)).round()}


def peer_enrol(path: Path) -> tuple[int, np.ndarray | None]:
    """face_recognition on the sampled frames: frames with a face, and their mean template."""
    cap = cv2.VideoCapture(str(path))
    wanted = sample_indices(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)))
    vectors = []
    try:
        for index in range(max(wanted) + 1):
            if not cap.grab():
                break
            if index in wanted:
                _, frame = cap.retrieve()
                vector = peers.face_recognition_encode(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
                if vector is not None:
                    vectors.append(vector)
    finally:
        cap.release()
    if not vectors:
        return 0, None
    template = np.mean(vectors, axis=0)
    return len(vectors), template / np.linalg.norm(template)


@dataclass(frozen=True)
class PeerRun:
    timings: Timings
    used: int
    sampled: int


def peer_runs(settings: Settings, clips: list[Clip]) -> dict[str, PeerRun]:
    """face_recognition per clip: one warm-up run (which also counts frames), then timed runs."""
    out = {}
    for clip in clips:
        log.info("item 3: peer face_recognition on %s", clip.name)
        used, _ = peer_enrol(clip.path)
        cap = cv2.VideoCapture(str(clip.path))
        sampled = len(sample_indices(int(cap.get(cv2.CAP_PROP_FRAME_COUNT))))
        cap.release()
        timings = measure(partial(peer_enrol, clip.path), settings.peer_video_runs, warmup=0)
        out[clip.name] = PeerRun(timings, used, sampled)
    return out


def request(clip: Clip) -> Request:
    body, content_type = multipart("video", clip.path.name, clip.path.read_bytes())
    return Request("POST", "/extract_embeddings_from_video", body, content_type)


def post(port: int, req: Request) -> dict[str, Any]:
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        conn.request(
            req.method, req.path, body=req.body, headers={"Content-Type": req.content_type}
        )
        response = conn.getresponse()
        body = json.loads(response.read())
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"{req.path} answered {response.status}: {body}")
    return dict(body)


def over_http(port: int, clip: Clip, runs: int) -> VideoRun:
    """One checked warm-up request, then ``runs`` timed ones, one at a time."""
    req = request(clip)
    body = post(port, req)
    result = run_load(port, req, concurrency=1, total=runs, time_cap_s=300)
    if result.errors:
        raise RuntimeError(f"{result.errors} video requests failed for {clip.name}")
    return VideoRun(Timings(tuple(result.latencies)), body)
