"""Extract embeddings from an image or a video: what the original endpoints answer."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import NoFace, NoUsableFrame
from . import quality
from .detectors.base import Face
from .media import VideoLimits, decode
from .pipeline import Pipeline, l2_normalize
from .sampling import video_faces

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """Pixels an image may have, and what a video may cost."""

    max_pixels: int = 40_000_000
    video: VideoLimits = field(default_factory=VideoLimits)


def _face_json(
    pipe: Pipeline, image: np.ndarray, face: Face, vector: np.ndarray, scale: float = 1.0
) -> dict[str, Any]:
    """One face's answer; ``scale`` maps the decoded image's coordinates to the file's."""
    where = face.scaled(scale)
    return {
        "model": pipe.model_id,
        "embedding": [round(float(v), 6) for v in vector],
        "box": where.xywh(),
        "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in where.landmarks],
        "confidence": round(face.confidence, 4),
        "quality": quality.assess(image, face, scale),
    }


def extract_image(pipe: Pipeline, data: bytes, max_faces: int, limits: Limits) -> dict[str, Any]:
    """Embeddings of the ``max_faces`` largest faces in an image, largest first. A large
    photo is decoded reduced (:func:`.media.decode`); boxes and landmarks are given in
    the photo's own pixels."""
    decoded = decode(data, limits.max_pixels, reduce=True)
    image = decoded.image
    faces = pipe.detect(image, largest_only=max_faces == 1)[:max_faces]
    if not faces:
        raise NoFace("No face was found in the image.")
    vectors = pipe.embed([(image, f) for f in faces])
    return {
        "model": pipe.model_id,
        "faces": [
            _face_json(pipe, image, f, v, decoded.scale)
            for f, v in zip(faces, vectors, strict=True)
        ],
    }


def extract_video(pipe: Pipeline, data: bytes, limits: Limits) -> dict[str, Any]:
    """Per-frame embeddings, a template and a consistency score from sampled frames."""
    dropped = {"no_face": 0, "several_faces": 0}
    kept, sampled = video_faces(pipe, data, limits.video, dropped)
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
