"""Access decisions: unlock a door, identify (1:N), verify (1:1)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InvalidParameter, NoFace, TooManyAttempts
from ..store import Lock
from .catalogue import find_lock
from .context import Context
from .samples import Sample, faces_from_images, faces_from_video

#: Frames sampled from an unlock video.
UNLOCK_VIDEO_FRAMES = 5


def refuse_if_locked_out(ctx: Context, lock: Lock) -> None:
    """429 with Retry-After while the lock is shut after repeated failures."""
    now = time.time()
    if lock.locked_until > now:
        retry = int(np.ceil(lock.locked_until - now))
        ctx.audit("unlock.refused", lock_id=lock.id, verdict="lockout", retry_after=retry)
        raise TooManyAttempts(f"Too many failed attempts; try again in {retry} s.", retry)


def decide(
    ctx: Context, lock_id: str, samples: list[Sample]
) -> tuple[str | None, str, list[float]]:
    """The granted subject every frame matches (or None), the reason, and each frame's best
    similarity among the lock's granted subjects."""
    threshold = ctx.threshold()
    granted = ctx.store.granted(lock_id)
    index = ctx.index.get(ctx.org_id)
    best = [index.search(s.vector, top_k=1, only=granted) for s in samples]
    subjects = {
        hits[0].subject_id if hits and hits[0].similarity >= threshold else None for hits in best
    }
    sims = [hits[0].similarity if hits else -1.0 for hits in best]
    subject_id = next(iter(subjects)) if len(subjects) == 1 else None
    if subject_id is not None:
        return subject_id, "match", sims
    if len(subjects) > 1:
        return None, "frames_disagree", sims
    return None, "no_subject_granted" if not granted else "no_match", sims


def unlock(
    ctx: Context, lock_id: str, *, frames: Sequence[bytes], video: bytes | None
) -> dict[str, Any]:
    """A verdict for a door: only granted subjects open it, and all frames must agree."""
    refuse_if_locked_out(ctx, find_lock(ctx.store, ctx.org_id, lock_id))
    ctx.check_model()
    dropped: dict[str, int] = {}
    if video is not None:
        samples, _ = faces_from_video(ctx, video, UNLOCK_VIDEO_FRAMES, dropped)
    else:
        samples = faces_from_images(ctx, frames, False, dropped)
    if not samples:
        raise NoFace("No face was found in the frames.", dropped=dropped)
    subject_id, reason, sims = decide(ctx, lock_id, samples)
    result: dict[str, Any] = {
        "verdict": "unlock" if subject_id else "locked",
        "subject": None,
        "similarity": round(min(sims) if subject_id else max(sims), 4),
        "threshold": ctx.threshold(),
        "frames_used": len(samples),
        "reason": reason,
    }
    if subject_id is not None:
        subject = ctx.store.subject(ctx.org_id, subject_id)
        result["subject"] = {"id": subject_id, "name": subject.name if subject else None}
        ctx.store.clear_failures(lock_id)
    else:
        cfg = ctx.settings
        if ctx.store.record_failure(
            lock_id, cfg.lockout_attempts, cfg.lockout_window_s, cfg.lockout_s
        ):
            result["locked_out_for_s"] = int(cfg.lockout_s)
    ctx.audit(
        "unlock",
        lock_id=lock_id,
        subject_id=subject_id,
        verdict=result["verdict"],
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
    samples = faces_from_images(ctx, [image], False, {})
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
    samples = faces_from_images(ctx, [image], False, {})
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
        second = faces_from_images(ctx, [other], False, {})
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
