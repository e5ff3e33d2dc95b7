"""Embedded faces from enrolment and unlock inputs: photos or a video's frames."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..faces import quality
from ..faces.detectors.base import Face
from ..faces.media import PixelBudget, decode_image, video_limits
from ..faces.sampling import single_face, video_faces
from .context import Context

log = logging.getLogger(__name__)


@dataclass
class Sample:
    """One embedded face from an enrolment or unlock input."""

    vector: np.ndarray
    quality: float
    source: str
    image: bytes | None = None
    #: the advice code for the face's weakest quality part (:func:`quality.weakness`)
    weakness: str = ""


def assessed(vector: np.ndarray, image: np.ndarray, face: Face, source: str) -> Sample:
    """A sample with its quality score and what most lowers it."""
    parts = quality.assess(image, face)
    weakness = quality.weakness(parts, quality.brightness(image, face))
    return Sample(vector, parts["score"], source, weakness=weakness)


def faces_from_images(
    ctx: Context, images: Sequence[bytes], require_single: bool, dropped: dict[str, int]
) -> list[Sample]:
    """The face of each image, decoded one at a time: only the part around the face is
    kept until the batch is embedded, so ten large photos never sit in memory at once;
    together they may decode to ``FACEID_MAX_REQUEST_PIXELS`` (``413 payload_too_large``
    beyond it, before the image that would pass it is decoded)."""
    crops: list[tuple[np.ndarray, Face, bytes]] = []
    budget = PixelBudget(ctx.settings.max_request_pixels)
    for i, data in enumerate(images):
        image = decode_image(data, ctx.settings.max_image_pixels, reduce=True, budget=budget)
        faces = ctx.pipeline.detect(image, largest_only=True)
        reason = single_face(faces) if require_single else (None if faces else "no_face")
        if reason:
            dropped[reason] = dropped.get(reason, 0) + 1
            log.info("image dropped", extra={"image": i, "reason": reason})
            continue
        crops.append((*faces[0].crop(image), data))
        del image
    vectors = ctx.pipeline.embed([(img, face) for img, face, _ in crops])
    samples = []
    for i, (vector, (image, face, data)) in enumerate(zip(vectors, crops, strict=True)):
        sample = assessed(vector, image, face, f"image:{i}")
        sample.image = data
        samples.append(sample)
    return samples


def faces_from_video(
    ctx: Context, data: bytes, max_frames: int, dropped: dict[str, int]
) -> tuple[list[Sample], int]:
    limits = video_limits(ctx.settings, max_frames)
    kept, sampled = video_faces(ctx.pipeline, data, limits, dropped)
    vectors = ctx.pipeline.embed([(k.image, k.face) for k in kept])
    samples = [
        assessed(v, k.image, k.face, f"video:frame{k.index}")
        for v, k in zip(vectors, kept, strict=True)
    ]
    return samples, sampled
