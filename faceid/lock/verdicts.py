"""One decision path for every door call, frames, video or challenge clip: its budgets
spent before any face is looked at, the decision on the visit's faces at the lock's level,
the attempt settled, and the verdict (what the door is told: a stable reason, never a
score; the audit log keeps the scores)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import metrics
from ..faces import fusion
from ..liveness import challenge as challenges
from ..liveness.clip import IN_VIEW
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


#: Refusals for evidence too thin to judge (a turn too fast for the frame rate, a face
#: too small to read depth on, too few frames showing the face): the challenge is used
#: up, the attempt refunded.
RETRY = frozenset({*challenges.RETRY.values(), IN_VIEW})


@dataclass
class Evidence:
    """What a door's call showed before anyone is matched: the faces to decide on, or why
    it is refused unmatched (``refused``: a liveness refusal, refunded when it is one of
    :data:`RETRY`), and what the audit log keeps of it."""

    samples: list[Sample] = field(default_factory=list)
    refused: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def visit(
    ctx: Context,
    lock: Lock,
    look: Callable[[], Evidence],
    *,
    reserved: str | None = None,
    answered: bool = False,
) -> dict[str, Any]:
    """A door's verdict: an attempt reserved in the key's and the lock's budgets (or the
    one ``reserved`` when its challenge was issued) before ``look`` gathers the evidence,
    the faces decided on at the lock's level, the attempt settled (``ok`` on a match,
    refunded for a retry or for a call that judged nothing, a failure otherwise; with
    ``answered``, a challenge's answer, a refusal of its input is a failure too)."""
    spent = attempts.budgets(ctx, lock_id=lock.id)
    with attempts.attempt(ctx, spent, reserved, refund_errors=not answered) as tried:
        shown = look()
        subject_id, reason, frames_used = None, shown.refused or "no_match", 0
        if shown.refused is None:
            subject_id, why, sims, cut = decide(ctx, lock, shown.samples)
            frames_used = len(shown.samples)
            shown.detail.update(similarities=[round(s, 4) for s in sims], threshold=cut, reason=why)
        tried.outcome = "ok" if subject_id else "refund" if reason in RETRY else "fail"
    return verdict(ctx, lock, subject_id, reason, frames_used, tried, shown.detail)
