"""The face-ID lock: enrol subjects, unlock doors, identify and verify, against the gallery.

Functions here take a :class:`Context` (store, index, pipeline, settings, caller)
and plain data; the ``/v1`` views only parse requests and call them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import quality
from .auth import Principal
from .detectors.base import Face
from .errors import FaceIdError, InvalidParameter, NoFace
from .index import IndexCache
from .media import VideoFile, decode_image
from .pipeline import Pipeline
from .service import THRESHOLDS, single_face
from .store import Store, Subject

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
        subject = self.store.subject(self.org_id, subject_id)
        if subject is None:
            raise NotFound(f"No subject '{subject_id}' in this organisation.")
        return subject

    def audit(self, action: str, **fields: Any) -> None:
        self.store.audit(self.org_id, action, key_id=self.caller.key_id, **fields)


@dataclass
class Sample:
    """One embedded face from an enrolment or unlock input."""

    vector: np.ndarray
    quality: float
    source: str
    image: bytes | None = None


def _faces_from_images(
    ctx: Context, images: Sequence[bytes], require_single: bool, dropped: dict[str, int]
) -> list[Sample]:
    crops: list[tuple[np.ndarray, Face, float, bytes]] = []
    for i, data in enumerate(images):
        image = decode_image(data, ctx.policy.max_pixels)
        faces = ctx.pipeline.detect(image)
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


def _faces_from_video(
    ctx: Context, data: bytes, max_frames: int, dropped: dict[str, int]
) -> tuple[list[Sample], int]:
    crops: list[tuple[np.ndarray, Face, float, int]] = []
    sampled = 0
    with VideoFile(data, ctx.policy.max_pixels) as video:
        for frame in video.sample(max_frames):
            sampled += 1
            faces = ctx.pipeline.detect(frame.image)
            reason = single_face(faces)
            if reason:
                dropped[reason] = dropped.get(reason, 0) + 1
                continue
            q = quality.assess(frame.image, faces[0])["score"]
            crops.append((frame.image, faces[0], q, frame.index))
    vectors = ctx.pipeline.embed([(img, face) for img, face, _, _ in crops])
    samples = [
        Sample(v, q, f"video:frame{idx}") for v, (_, _, q, idx) in zip(vectors, crops, strict=True)
    ]
    return samples, sampled


def agreeing_groups(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Connected groups of frames, joined wherever two frames match at ``threshold``.

    One person's frames stay connected through pose changes; two people's split.
    Largest group first.
    """
    n = len(vectors)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sims = vectors @ vectors.T
    for i in range(n):
        for j in range(i + 1, n):
            if sims[i, j] >= threshold:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=len, reverse=True)


def enroll(
    ctx: Context, subject_id: str, *, video: bytes | None, images: Sequence[bytes]
) -> dict[str, Any]:
    """Add templates to a subject from a selfie video or 1..N images; a quality report back."""
    subject = ctx.subject(subject_id)
    ctx.check_model()
    started = time.perf_counter()
    dropped: dict[str, int] = {}
    if video is not None:
        samples, sampled = _faces_from_video(ctx, video, ctx.policy.video_max_frames, dropped)
        min_frames = ctx.policy.enroll_min_frames
    else:
        samples, sampled = _faces_from_images(ctx, images, True, dropped), len(images)
        min_frames = 1
    threshold = ctx.threshold()
    good = [s for s in samples if s.quality >= ctx.policy.enroll_min_quality]
    dropped["low_quality"] = len(samples) - len(good)
    reasons: list[str] = []
    groups = agreeing_groups(np.array([s.vector for s in good]), threshold) if good else []
    if len(groups) > 1 and len(groups[1]) >= max(2, len(good) // 4):
        reasons.append(
            f"the frames show different people: {len(groups[0])} frames agree with each other "
            f"and {len(groups[1])} others agree among themselves but not with them"
        )
    main = [good[i] for i in groups[0]] if groups else []
    if len(main) < min_frames:
        reasons.append(
            f"{len(main)} good, consistent face(s); at least {min_frames} needed "
            f"(dropped: {dropped})"
        )
    chosen = sorted(main, key=lambda s: s.quality, reverse=True)[: ctx.policy.enroll_templates]
    index = ctx.index.get(ctx.org_id)
    for sample in chosen:
        hits = index.search(sample.vector, top_k=1, exclude=subject.id)
        if hits and hits[0].similarity >= threshold:
            reasons.append(
                f"the face already belongs to subject {hits[0].subject_id} "
                f"(similarity {hits[0].similarity:.3f})"
            )
            break
    report: dict[str, Any] = {
        "subject_id": subject.id,
        "frames_sampled": sampled,
        "faces_found": len(samples),
        "dropped": dropped,
        "templates": [],
        "threshold": threshold,
    }
    if reasons:
        ctx.audit("enrollment.rejected", subject_id=subject.id, reasons=reasons)
        raise EnrollmentRejected(
            "Enrolment rejected: " + "; ".join(reasons) + ".", reasons=reasons, report=report
        )
    ctx.check_model(pin=True)
    template = np.mean([s.vector for s in chosen], axis=0)
    template /= np.linalg.norm(template)
    ids = ctx.store.add_templates(
        ctx.org_id,
        subject.id,
        ctx.pipeline.model_id,
        [
            (s.vector, s.quality, s.source, s.image if ctx.policy.keep_images else None)
            for s in chosen
        ],
    )
    report["templates"] = [
        {"id": i, "quality": round(s.quality, 4), "source": s.source}
        for i, s in zip(ids, chosen, strict=True)
    ]
    report["consistency"] = round(float(min(s.vector @ template for s in chosen)), 4)
    report["seconds"] = round(time.perf_counter() - started, 3)
    ctx.audit(
        "enrollment",
        subject_id=subject.id,
        templates=len(ids),
        source="video" if video is not None else "images",
    )
    return report


def replace_face(ctx: Context, subject_id: str, template_id: str, image: bytes) -> dict[str, Any]:
    ctx.subject(subject_id)
    ctx.check_model()
    dropped: dict[str, int] = {}
    samples = _faces_from_images(ctx, [image], True, dropped)
    if not samples:
        raise NoFace(f"The image does not hold exactly one face ({dropped}).")
    sample = samples[0]
    ok = ctx.store.replace_template(
        ctx.org_id,
        subject_id,
        template_id,
        sample.vector,
        sample.quality,
        "image:replace",
        image if ctx.policy.keep_images else None,
    )
    if not ok:
        raise NotFound(f"No face '{template_id}' for subject '{subject_id}'.")
    ctx.audit("face.replace", subject_id=subject_id, template_id=template_id)
    return {"id": template_id, "quality": round(sample.quality, 4)}


def unlock(
    ctx: Context, lock_id: str, *, frames: Sequence[bytes], video: bytes | None
) -> dict[str, Any]:
    """A verdict for a door: only granted subjects open it, and all frames must agree."""
    lock = ctx.store.lock(ctx.org_id, lock_id)
    if lock is None:
        raise NotFound(f"No lock '{lock_id}' in this organisation.")
    now = time.time()
    if lock.locked_until > now:
        retry = int(np.ceil(lock.locked_until - now))
        ctx.audit("unlock.refused", lock_id=lock_id, verdict="lockout", retry_after=retry)
        raise TooManyAttempts(f"Too many failed attempts; try again in {retry} s.", retry)
    ctx.check_model()
    dropped: dict[str, int] = {}
    if video is not None:
        samples, _ = _faces_from_video(ctx, video, ctx.policy.unlock_video_frames, dropped)
    else:
        samples = _faces_from_images(ctx, frames, False, dropped)
    if not samples:
        raise NoFace("No face was found in the frames.", dropped=dropped)
    threshold = ctx.threshold()
    granted = ctx.store.granted(lock_id)
    index = ctx.index.get(ctx.org_id)
    best = [index.search(s.vector, top_k=1, only=granted) for s in samples]
    subjects = {
        hits[0].subject_id if hits and hits[0].similarity >= threshold else None for hits in best
    }
    sims = [hits[0].similarity if hits else -1.0 for hits in best]
    similarity = float(min(sims))
    subject_id = next(iter(subjects)) if len(subjects) == 1 else None
    if subject_id is not None:
        verdict, reason = "unlock", "match"
    elif len(subjects) > 1:
        verdict, reason = "locked", "frames_disagree"
    elif not granted:
        verdict, reason = "locked", "no_subject_granted"
    else:
        verdict, reason = "locked", "no_match"
    result: dict[str, Any] = {
        "verdict": verdict,
        "subject": None,
        "similarity": round(similarity if subject_id else max(sims), 4),
        "threshold": threshold,
        "frames_used": len(samples),
        "reason": reason,
    }
    if subject_id is not None:
        subject = ctx.store.subject(ctx.org_id, subject_id)
        result["subject"] = {"id": subject_id, "name": subject.name if subject else None}
        ctx.store.clear_failures(lock_id)
    else:
        until = ctx.store.record_failure(
            lock_id, ctx.policy.lockout_attempts, ctx.policy.lockout_window_s, ctx.policy.lockout_s
        )
        if until:
            result["locked_out_for_s"] = int(ctx.policy.lockout_s)
    ctx.audit(
        "unlock",
        lock_id=lock_id,
        subject_id=subject_id,
        verdict=verdict,
        similarity=result["similarity"],
        reason=reason,
        frames_used=len(samples),
    )
    return result


def identify(ctx: Context, image: bytes, top_k: int) -> dict[str, Any]:
    """1:N: subjects ranked by similarity; only those at or above the threshold match."""
    if not 1 <= top_k <= 100:
        raise InvalidParameter("top_k must be between 1 and 100.")
    ctx.check_model()
    samples = _faces_from_images(ctx, [image], False, {})
    if not samples:
        raise NoFace("No face was found in the image.")
    threshold = ctx.threshold()
    hits = ctx.index.get(ctx.org_id).search(samples[0].vector, top_k=top_k)
    candidates = []
    for hit in hits:
        subject = ctx.store.subject(ctx.org_id, hit.subject_id)
        candidates.append(
            {
                "subject": {"id": hit.subject_id, "name": subject.name if subject else None},
                "similarity": round(hit.similarity, 4),
                "match": hit.similarity >= threshold,
            }
        )
    ctx.audit("identify", matches=sum(c["match"] for c in candidates))
    return {"threshold": threshold, "candidates": candidates}


def verify(
    ctx: Context, image: bytes, *, subject_id: str | None, other: bytes | None
) -> dict[str, Any]:
    """1:1: a probe image against a subject's templates, or against a second image."""
    samples = _faces_from_images(ctx, [image], False, {})
    if not samples:
        raise NoFace("No face was found in the image.")
    threshold = ctx.threshold()
    if subject_id is not None:
        ctx.subject(subject_id)
        ctx.check_model()
        hits = ctx.index.get(ctx.org_id).search(samples[0].vector, top_k=1, only=[subject_id])
        similarity = hits[0].similarity if hits else -1.0
    else:
        assert other is not None
        second = _faces_from_images(ctx, [other], False, {})
        if not second:
            raise NoFace("No face was found in the second image.")
        similarity = float(samples[0].vector @ second[0].vector)
    match = similarity >= threshold
    ctx.audit(
        "verify",
        subject_id=subject_id,
        verdict="match" if match else "no_match",
        similarity=round(similarity, 4),
    )
    return {
        "similarity": round(similarity, 4),
        "threshold": threshold,
        "match": match,
        "subject_id": subject_id,
    }
