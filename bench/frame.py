"""Item 7: one 640x480 frame, over HTTP, against the peers in-process, interleaved.

The frame is the centre 640x480 of obama-480p.jpg as JPEG bytes. Each round, in one loop
(so that every party sees the same machine state):

- faceid's default server (HOG + dlib's ResNet on ONNX Runtime) and its ONNX server
  (yunet + MobileFaceNet) each answer ``POST /extract_embeddings_from_image`` (all faces);
- face_recognition.face_encodings runs in-process on the same bytes (decode, HOG with
  one upsampling, the same dlib ResNet in dlib), as a hand-rolled script does;
- DeepFace.represent (Dlib model) runs in-process with the OpenCV detector, and with the
  fastest detector it offers here (yunet, its weights linked from the shared models).

The faces each party finds are compared once: faceid's default must find exactly the
faces face_recognition finds (boxes overlapping by IoU 0.5 or more).
"""

from __future__ import annotations

import http.client
import io
import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import peers
from .context import Results, Settings
from .load import multipart
from .report import Row
from .server import HOST, WORKERS, faceid_server
from .serving import ONNX, frame_640x480
from .stats import Timings, p50_p95, speedup

log = logging.getLogger(__name__)

PATH = "/extract_embeddings_from_image"


def post(port: int, frame: bytes) -> dict[str, object]:
    body, content_type = multipart("image", "frame.jpg", frame)
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        conn.request("POST", PATH, body, {"Content-Type": content_type})
        response = conn.getresponse()
        answer = json.loads(response.read())
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"{PATH} answered {response.status}: {answer}")
    return dict(answer)


def fr_encodings(frame: bytes) -> list[np.ndarray]:
    import face_recognition

    image = face_recognition.load_image_file(io.BytesIO(frame))
    return list(face_recognition.face_encodings(image))


def fr_boxes(frame: bytes) -> list[tuple[int, int, int, int]]:
    """face_recognition's faces as (left, top, right, bottom)."""
    import face_recognition

    image = face_recognition.load_image_file(io.BytesIO(frame))
    return [
        (left, top, right, bottom)
        for top, right, bottom, left in face_recognition.face_locations(image)
    ]


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def same_faces(answer: dict[str, object], theirs: list[tuple[int, int, int, int]]) -> bool:
    boxes = [tuple(f["box"]) for f in answer["faces"]]  # type: ignore[index, union-attr]
    ours = [(x, y, x + w, y + h) for x, y, w, h in boxes]
    return len(ours) == len(theirs) and all(any(iou(o, t) >= 0.5 for o in ours) for t in theirs)


def deepface_home_with_yunet(settings: Settings) -> None:
    """Link the shared yunet weights where DeepFace's yunet detector looks for them."""
    import os

    weights = Path(os.environ["DEEPFACE_HOME"]) / ".deepface" / "weights"
    link = weights / "face_detection_yunet_2023mar.onnx"
    if not link.exists():
        link.symlink_to((settings.models / link.name).resolve())


def interleave(calls: dict[str, Callable[[], object]], rounds: int) -> dict[str, Timings]:
    import time

    for call in calls.values():  # untimed warm-up: every gunicorn worker answers twice
        for _ in range(2 * WORKERS):
            call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(rounds):
        log.info("item 7: round %d of %d", i + 1, rounds)
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: Timings(tuple(values)) for name, values in times.items()}


def run(settings: Settings, results: Results) -> None:
    frame = frame_640x480(settings)
    deepface_home_with_yunet(settings)
    tmp = settings.tmp
    with (
        faceid_server(tmp, FACEID_DATA_DIR=str(tmp / "data-frame")) as default,
        faceid_server(tmp, **ONNX, FACEID_DATA_DIR=str(tmp / "data-frame-onnx")) as onnx,
    ):
        default.wait_ready("/ready")
        onnx.wait_ready("/ready")
        found = same_faces(post(default.port, frame), fr_boxes(frame))
        calls: dict[str, Callable[[], object]] = {
            "default": lambda: post(default.port, frame),
            "onnx": lambda: post(onnx.port, frame),
            "FR": lambda: fr_encodings(frame),
            "DF-opencv": lambda: peers.deepface_represent(_bgr(frame), "opencv"),
            "DF-yunet": lambda: peers.deepface_represent(_bgr(frame), "yunet"),
        }
        t = interleave(calls, settings.runs)
    add_rows(results, t, found)


def _bgr(frame: bytes) -> np.ndarray:
    import cv2

    return cv2.imdecode(np.frombuffer(frame, np.uint8), cv2.IMREAD_COLOR)


PEERS = {
    "FR": "face_recognition.face_encodings in-process",
    "DF-opencv": "DeepFace.represent(Dlib, detector opencv) in-process",
    "DF-yunet": "DeepFace.represent(Dlib, detector yunet, its fastest here) in-process",
}


def add_rows(results: Results, t: dict[str, Timings], found: bool) -> None:
    frame = "640x480 JPEG (centre of obama-480p.jpg)"
    for name, label in PEERS.items():
        results.add(Row("7", f"one frame, peer {label}", frame, "—", p50_p95(t[name])))
    faces = "same faces as face_recognition" if found else "NOT the faces face_recognition finds"
    for key, label in (
        ("default", "default hog + dlib (ONNX Runtime)"),
        ("onnx", "yunet + arcface:mobilefacenet-arcface"),
    ):
        ours = t[key]
        results.facts[f"frame:{key}"] = ours.p50
        for name in PEERS:
            results.facts[f"frame:{key}:{name}"] = t[name].p50 / ours.p50
        results.add(
            Row(
                "7",
                f"one frame over HTTP (POST {PATH}, all faces), faceid {label}, interleaved",
                frame,
                f"{p50_p95(ours)}; {faces}" if key == "default" else p50_p95(ours),
                "p50 " + ", ".join(f"{n} {t[n].p50 * 1000:.0f} ms" for n in PEERS),
                ", ".join(f"{speedup(t[n].p50, ours.p50)} vs {n}" for n in PEERS),
            )
        )
    results.facts["frame:same_faces"] = float(found)
