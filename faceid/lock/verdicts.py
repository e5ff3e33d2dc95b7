"""What a door is told, and what the audit log keeps: the decision on a visit's faces
at the lock's level, and the verdict built from it (a stable reason, never a score)."""

from __future__ import annotations

from typing import Any

from .. import metrics
from ..faces import fusion
from ..store import Lock, day_bucket
from . import attempts
from .context import Context
from .samples import Sample


def subject_ref(ctx: Context, subject_id: str) -> dict[str, Any]:
    subject = ctx.store.subject(ctx.org_id, subject_id)
    return {"id": subject_id, "name": subject.name if subject else None}


def decide(
    ctx: Context, lock: Lock, samples: list[Sample]
) -> tuple[str | None, str, list[float], float]:
    """The granted subject the frames show at the lock's level (or None), the reason
    (:func:`faceid.faces.fusion.decide`), each frame's best similarity among the lock's
    granted subjects, and the threshold the visit was held to."""
    single = ctx.threshold(lock.level)
    visit = ctx.visit_threshold(lock.level, len(samples))
    cut = single if visit is None else visit
    granted = ctx.store.granted(lock.id)
    if not granted:
        return None, "no_subject_granted", [-1.0] * len(samples), cut
    index = ctx.index.get(ctx.org_id)
    best = [index.best(s.vector, only=granted) for s in samples]
    frames = [(hit.subject_id, hit.similarity) if hit else (None, -1.0) for hit in best]
    subject_id, reason = fusion.decide(frames, single, visit)
    sims = [similarity for _, similarity in frames]
    if subject_id is not None and len(samples) > 1:
        hits = [index.best(s.vector, only=[subject_id]) for s in samples]
        if not fusion.one_person([h.similarity if h else -1.0 for h in hits], ctx.floor()):
            return None, "mixed_faces", sims, cut
    return subject_id, reason, sims, cut


def verdict(
    ctx: Context,
    lock: Lock,
    subject_id: str | None,
    reason: str,
    frames_used: int,
    tried: attempts.Attempt,
    detail: dict[str, Any],
) -> dict[str, Any]:
    """The door's answer (a verdict and a stable reason, never a score), counted and
    audited with the scores and the detail."""
    result: dict[str, Any] = {
        "verdict": "unlock" if subject_id else "locked",
        "subject": subject_ref(ctx, subject_id) if subject_id else None,
        "frames_used": frames_used,
        "reason": "match" if subject_id else reason,
    }
    metrics.VERDICTS.labels("unlock", result["verdict"]).inc()
    bucket = f"lock:{lock.id}"
    shut_for = max(tried.shut.get(bucket, 0.0), tried.shut.get(day_bucket(bucket), 0.0))
    if shut_for:
        result["locked_out_for_s"] = int(shut_for)
    sims = detail.get("similarities") or []
    ctx.audit(
        "unlock",
        lock_id=lock.id,
        subject_id=subject_id,
        verdict=result["verdict"],
        similarity=max(sims, default=None),
        level=lock.level,
        frames_used=frames_used,
        shut=dict(tried.shut),
        **{"reason": result["reason"], **detail},
    )
    return result
