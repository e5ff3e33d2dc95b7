"""What enrolment and access decisions share: errors, policy, request context, face samples.

Functions in :mod:`faceid.enrollment` and :mod:`faceid.access` take a :class:`Context`
(store, index, pipeline, settings, caller) and plain data; the ``/v1`` views only parse
requests and call them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import quality
from .auth import Principal
from .detectors.base import Face
from .errors import FaceIdError
from .index import IndexCache
from .media import decode_image
from .pipeline import Pipeline
from .service import THRESHOLDS, single_face, video_faces
from .store import Lock, Store, Subject

log = logging.getLogger(__name__)


class NotFound(FaceIdError):
    """The id does not exist in the caller's organisation."""

    status = 404
    code = "not_found"


class ModelPinned(FaceIdError):
    """The organisation's gallery was built with another model."""

    status = 409
    code = "model_pinned"


class EnrollmentRejected(FaceIdError):
    """The enrolment media cannot make a trustworthy template; ``details.reasons`` says why."""

    status = 422
    code = "enrollment_rejected"


class TooManyAttempts(FaceIdError):
    """The lock is shut after repeated failed unlocks; retry after ``retry_after`` seconds."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


def find_subject(store: Store, org_id: str, subject_id: str) -> Subject:
    """The organisation's subject, or 404: another organisation's ids do not exist here."""
    subject = store.subject(org_id, subject_id)
    if subject is None:
        raise NotFound(f"No subject '{subject_id}' in this organisation.")
    return subject


def find_lock(store: Store, org_id: str, lock_id: str) -> Lock:
    """The organisation's lock, or 404."""
    lock = store.lock(org_id, lock_id)
    if lock is None:
        raise NotFound(f"No lock '{lock_id}' in this organisation.")
    return lock


@dataclass(frozen=True)
class Policy:
    lockout_attempts: int = 5
    lockout_window_s: float = 300.0
    lockout_s: float = 300.0
    enroll_min_frames: int = 3
    enroll_min_quality: float = 0.1
    enroll_templates: int = 5
    keep_images: bool = False
    max_pixels: int = 40_000_000
    video_max_frames: int = 16
    unlock_video_frames: int = 5


@dataclass
class Context:
    store: Store
    index: IndexCache
    pipeline: Pipeline
    policy: Policy
    caller: Principal

    @property
    def org_id(self) -> str:
        return self.caller.org_id

    def threshold(self) -> float:
        return THRESHOLDS.get(self.pipeline.model_id, 0.5)

    def check_model(self, pin: bool = False) -> None:
        """Refuse (409) when the gallery was built with a model other than the pipeline's."""
        model = self.pipeline.model_id
        org = self.store.org(self.org_id)
        pinned = org.model_id if org else None
        if pinned is None and pin:
            pinned = self.store.pin_model(self.org_id, model)
        if pinned is not None and pinned != model:
            raise ModelPinned(
                f"This organisation's gallery was built with model '{pinned}'; the service runs "
                f"'{model}'. Serve with that model, or re-enrol everyone in a new organisation.",
                gallery_model=pinned,
                service_model=model,
            )

    def subject(self, subject_id: str) -> Subject:
        return find_subject(self.store, self.org_id, subject_id)

    def audit(self, action: str, **fields: Any) -> None:
        self.store.audit(self.org_id, action, key_id=self.caller.key_id, **fields)


@dataclass
class Sample:
    """One embedded face from an enrolment or unlock input."""

    vector: np.ndarray
    quality: float
    source: str
    image: bytes | None = None


def faces_from_images(
    ctx: Context, images: Sequence[bytes], require_single: bool, dropped: dict[str, int]
) -> list[Sample]:
    crops: list[tuple[np.ndarray, Face, float, bytes]] = []
    for i, data in enumerate(images):
        image = decode_image(data, ctx.policy.max_pixels)
        faces = ctx.pipeline.detect(image, largest_only=True)
        reason = single_face(faces) if require_single else (None if faces else "no_face")
        if reason:
            dropped[reason] = dropped.get(reason, 0) + 1
            log.info("image dropped", extra={"image": i, "reason": reason})
            continue
        crops.append((image, faces[0], quality.assess(image, faces[0])["score"], data))
    vectors = ctx.pipeline.embed([(img, face) for img, face, _, _ in crops])
    return [
        Sample(v, q, f"image:{i}", data)
        for i, (v, (_, _, q, data)) in enumerate(zip(vectors, crops, strict=True))
    ]


def faces_from_video(
    ctx: Context, data: bytes, max_frames: int, dropped: dict[str, int]
) -> tuple[list[Sample], int]:
    kept, sampled = video_faces(ctx.pipeline, data, ctx.policy.max_pixels, max_frames, dropped)
    vectors = ctx.pipeline.embed([(k.image, k.face) for k in kept])
    samples = [
        Sample(v, quality.assess(k.image, k.face)["score"], f"video:frame{k.index}")
        for v, k in zip(vectors, kept, strict=True)
    ]
    return samples, sampled
