"""What the endpoints do, free of Flask: extract from images and videos, compare."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import quality
from .detectors.base import Face
from .errors import InvalidEmbedding, ModelMismatch, NoFace, NoUsableFrame
from .media import VideoFile, decode_image
from .pipeline import Pipeline, l2_normalize
from .schemas import CompareRequest, EmbeddingRef

log = logging.getLogger(__name__)

#: Default thresholds by model id; calibrated figures are in README ("Accuracy").
THRESHOLDS: dict[str, float] = {
    "dlib-resnet-v1": 0.925,
    "arcface:mobilefacenet-arcface": 0.42,
    "arcface:arcface-deepface": 0.32,
}
DIMS: dict[str, int] = {
    "dlib-resnet-v1": 128,
    "arcface:mobilefacenet-arcface": 128,
    "arcface:arcface-deepface": 512,
}
MAX_DIM = 4096
#: A second face smaller than this fraction of the largest one's side does not count
#: as "another person" in a video frame (background faces, posters, detector noise).
SECOND_FACE_RATIO = 0.35


@dataclass(frozen=True)
class Limits:
    max_pixels: int = 40_000_000
    video_max_frames: int = 16


def _face_json(pipe: Pipeline, image: np.ndarray, face: Face, vector: np.ndarray) -> dict[str, Any]:
    return {
        "model": pipe.model_id,
        "embedding": [round(float(v), 6) for v in vector],
        "box": face.xywh(),
        "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in face.landmarks],
        "confidence": round(face.confidence, 4),
        "quality": quality.assess(image, face),
    }


def extract_image(pipe: Pipeline, data: bytes, max_faces: int, limits: Limits) -> dict[str, Any]:
    """Embeddings of the ``max_faces`` largest faces in an image, largest first."""
    image = decode_image(data, limits.max_pixels)
    faces = pipe.detect(image, largest_only=max_faces == 1)[:max_faces]
    if not faces:
        raise NoFace("No face was found in the image.")
    vectors = pipe.embed([(image, f) for f in faces])
    return {
        "model": pipe.model_id,
        "faces": [_face_json(pipe, image, f, v) for f, v in zip(faces, vectors, strict=True)],
    }


def single_face(faces: list[Face]) -> str | None:
    """Why a video frame is unusable, or None when it holds exactly one main face."""
    if not faces:
        return "no_face"
    if len(faces) > 1:
        side = min(faces[0].width, faces[0].height)
        if min(faces[1].width, faces[1].height) >= SECOND_FACE_RATIO * side:
            return "several_faces"
    return None


@dataclass(frozen=True)
class FrameFace:
    """The one main face of a sampled video frame."""

    index: int
    time_s: float
    image: np.ndarray
    face: Face


def video_faces(
    pipe: Pipeline, data: bytes, max_pixels: int, max_frames: int, dropped: dict[str, int]
) -> tuple[list[FrameFace], int]:
    """Frames spread over the clip that hold exactly one main face, and how many were sampled.

    Frames left out are counted in ``dropped`` by reason (``no_face``, ``several_faces``).
    """
    kept: list[FrameFace] = []
    sampled = 0
    with VideoFile(data, max_pixels) as video:
        for frame in video.sample(max_frames):
            sampled += 1
            faces = pipe.detect(frame.image, largest_only=True)
            reason = single_face(faces)
            if reason:
                dropped[reason] = dropped.get(reason, 0) + 1
                continue
            kept.append(FrameFace(frame.index, frame.time_s, frame.image, faces[0]))
    return kept, sampled


def extract_video(pipe: Pipeline, data: bytes, limits: Limits) -> dict[str, Any]:
    """Per-frame embeddings, a template and a consistency score from sampled frames."""
    dropped = {"no_face": 0, "several_faces": 0}
    kept, sampled = video_faces(pipe, data, limits.max_pixels, limits.video_max_frames, dropped)
    if sampled == 0:
        raise NoUsableFrame("No frame of the video could be decoded.")
    if not kept:
        raise NoUsableFrame(
            f"None of the {sampled} sampled frames holds exactly one face.", dropped=dropped
        )
    vectors = pipe.embed([(k.image, k.face) for k in kept])
    qualities = [quality.assess(k.image, k.face) for k in kept]
    scores = np.array([q["score"] for q in qualities])
    best = np.argsort(-scores)[: max(1, math.ceil(len(kept) / 2))]
    template = l2_normalize(vectors[best].mean(axis=0))
    consistency = float((vectors @ template).min())
    log.info("video embedded", extra={"sampled": sampled, "used": len(kept), "dropped": dropped})
    return {
        "model": pipe.model_id,
        "frames_sampled": sampled,
        "frames_used": len(kept),
        "faces": [
            {
                "model": pipe.model_id,
                "frame_index": k.index,
                "time_s": k.time_s,
                "embedding": [round(float(v), 6) for v in vec],
                "box": k.face.xywh(),
                "quality": q,
            }
            for k, vec, q in zip(kept, vectors, qualities, strict=True)
        ],
        "template": [round(float(v), 6) for v in template],
        "consistency": round(consistency, 4),
        "dropped": dropped,
    }


def _vectors(value: Any, name: str) -> tuple[np.ndarray, set[str]]:
    """An (n, d) array and the model ids named, from any accepted embedding form."""
    items = value if isinstance(value, list) and value and not _is_number(value[0]) else [value]
    rows, models = [], set()
    for item in items:
        if isinstance(item, EmbeddingRef):
            if item.model:
                models.add(item.model)
            item = item.embedding
        rows.append(item)
    if not rows or any(len(r) == 0 for r in rows):
        raise InvalidEmbedding(f"{name} is empty.")
    if len({len(r) for r in rows}) != 1:
        raise ModelMismatch(f"The vectors in {name} have different lengths.")
    array = np.asarray(rows, dtype=np.float64)
    if array.shape[1] > MAX_DIM:
        raise InvalidEmbedding(f"{name} has {array.shape[1]} values; at most {MAX_DIM}.")
    if not np.isfinite(array).all():
        raise InvalidEmbedding(f"{name} holds NaN or infinite values.")
    if (np.linalg.norm(array, axis=1) == 0).any():
        raise InvalidEmbedding(f"{name} holds an all-zero vector.")
    return array, models


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def compare(req: CompareRequest, default_model: str) -> dict[str, Any]:
    """Cosine similarity of the best pair, and a lock verdict at the threshold."""
    left, models_left = _vectors(req.embedding1, "embedding1")
    right, models_right = _vectors(req.embedding2, "embedding2")
    models = models_left | models_right | ({req.model} if req.model else set())
    if len(models) > 1:
        raise ModelMismatch(
            f"Embeddings come from different models ({', '.join(sorted(models))}); "
            "they live in different spaces and cannot be compared.",
            models=sorted(models),
        )
    if left.shape[1] != right.shape[1]:
        raise ModelMismatch(
            f"embedding1 has {left.shape[1]} values and embedding2 {right.shape[1]}: "
            "they come from different models.",
        )
    dim = left.shape[1]
    model = models.pop() if models else (default_model if DIMS.get(default_model) == dim else None)
    if model in DIMS and DIMS[model] != dim:
        raise ModelMismatch(f"Model {model} makes {DIMS[model]}-value embeddings, not {dim}.")
    threshold = req.threshold if req.threshold is not None else THRESHOLDS.get(model or "")
    if threshold is None:
        raise InvalidEmbedding(
            f"No default threshold for {dim}-value vectors of unknown model; "
            f'send "model" (one of {", ".join(THRESHOLDS)}) or "threshold".',
        )
    sims = l2_normalize(left.astype(np.float32)) @ l2_normalize(right.astype(np.float32)).T
    i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
    similarity = float(np.clip(sims[i, j], -1.0, 1.0))
    match = similarity >= threshold
    return {
        "similarity": round(similarity, 6),
        "distance": round(1.0 - similarity, 6),
        "threshold": threshold,
        "match": match,
        "verdict": "unlock" if match else "locked",
        "model": model,
        "best_pair": [int(i), int(j)],
    }
