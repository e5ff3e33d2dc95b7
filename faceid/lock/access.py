"""Access decisions: unlock a door, identify (1:N), verify (1:1).

Doors get verdicts, never scores: a response says match or no match and, on a match,
who. Similarities, thresholds and the detailed reason go to the audit log, which only
admin keys read. Every call spends from its attempt budgets (:mod:`.attempts`) before
any face is looked at.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import metrics
from ..errors import InvalidParameter, MissingField, NoFace
from . import attempts, liveness, policy
from .catalogue import find_lock
from .context import Context
from .samples import faces_from_images, faces_from_video
from .verdicts import Evidence, subject_ref, visit

#: Frames sampled from an unlock video.
UNLOCK_VIDEO_FRAMES = 5


def unlock(
    ctx: Context,
    lock_id: str,
    *,
    frames: Sequence[bytes],
    video: bytes | None,
    challenge_id: str | None = None,
) -> dict[str, Any]:
    """A verdict for a door at its level: only granted subjects open it, the frames fused
    so that the visit keeps the level's false-accept rate (:mod:`faceid.faces.fusion`).
    With ``challenge_id`` the video must answer that challenge (:mod:`.liveness`); a lock
    whose policy is ``challenge`` takes nothing else (:mod:`.policy`). Every path ends in
    :func:`.verdicts.visit`."""
    ctx.caller.check_lock(lock_id)
    lock = find_lock(ctx.store, ctx.org_id, lock_id)
    ctx.check_model()
    if challenge_id is not None:
        if video is None:
            raise MissingField("Send the clip answering the challenge as one 'video'.")
        return liveness.unlock(ctx, lock, video, challenge_id)
    policy.require_challenge(lock)

    def look() -> Evidence:
        dropped: dict[str, int] = {}
        if video is not None:
            samples, _ = faces_from_video(ctx, video, UNLOCK_VIDEO_FRAMES, dropped)
        else:
            samples = faces_from_images(ctx, frames, False, dropped)
        if not samples:
            raise NoFace("No face was found in the frames.", dropped=dropped)
        return Evidence(samples)

    return visit(ctx, lock, look)


def identify(ctx: Context, image: bytes, top_k: int) -> dict[str, Any]:
    """1:N: the subjects that match, best first (at most ``top_k``); nobody else."""
    ctx.caller.require_unbound("identify")
    if not 1 <= top_k <= 100:
        raise InvalidParameter("top_k must be between 1 and 100.")
    ctx.check_model()
    with attempts.attempt(ctx, attempts.budgets(ctx)) as tried:
        samples = faces_from_images(ctx, [image], False, {})
        if not samples:
            raise NoFace("No face was found in the image.")
        threshold = ctx.threshold()
        hits = ctx.index.get(ctx.org_id).search(samples[0].vector, top_k=top_k)
        matches = [hit for hit in hits if hit.similarity >= threshold]
        tried.outcome = "ok" if matches else "fail"
    metrics.VERDICTS.labels("identify", "match" if matches else "no_match").inc()
    ctx.audit(
        "identify",
        verdict="match" if matches else "no_match",
        similarity=round(hits[0].similarity, 4) if hits else None,
        threshold=threshold,
        matches=[hit.subject_id for hit in matches],
    )
    return {"match": bool(matches), "matches": [subject_ref(ctx, h.subject_id) for h in matches]}


def verify(
    ctx: Context, image: bytes, *, subject_id: str | None, other: bytes | None
) -> dict[str, Any]:
    """1:1: a probe image against a subject's templates, or against a second image."""
    ctx.caller.require_unbound("verify")
    if subject_id is not None:
        ctx.subject(subject_id)
        ctx.check_model()
    with attempts.attempt(ctx, attempts.budgets(ctx, subject_id=subject_id)) as tried:
        similarity = _similarity(ctx, image, subject_id, other)
        match = similarity >= ctx.threshold()
        tried.outcome = "ok" if match else "fail"
    metrics.VERDICTS.labels("verify", "match" if match else "no_match").inc()
    ctx.audit(
        "verify",
        subject_id=subject_id,
        verdict="match" if match else "no_match",
        similarity=round(similarity, 4),
        threshold=ctx.threshold(),
    )
    return {"match": match, "subject_id": subject_id}


def _similarity(ctx: Context, image: bytes, subject_id: str | None, other: bytes | None) -> float:
    samples = faces_from_images(ctx, [image], False, {})
    if not samples:
        raise NoFace("No face was found in the image.")
    if subject_id is not None:
        hit = ctx.index.get(ctx.org_id).best(samples[0].vector, only=[subject_id])
        return hit.similarity if hit else -1.0
    second = faces_from_images(ctx, [other or b""], False, {})
    if not second:
        raise NoFace("No face was found in the second image.")
    return float(samples[0].vector @ second[0].vector)
