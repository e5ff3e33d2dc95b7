"""Attempt budgets around every face-evaluating call by an unlock key.

Before any detection or matching, one attempt is reserved in the store against every
budget the call touches: the key's own, the lock's (unlock) and the claimed subject's
(verify). A refused reservation answers ``429 too_many_attempts`` with ``Retry-After``
(one audit row per lockout, not one per refused request). Afterwards the attempt is
settled: a failure counts against every failure budget, a success counts nothing, and a
call that evaluated nothing (no face, undecodable media, a liveness retry, any refusal of
its input) is refunded from them but spends from the work budgets of the key and the lock
(``FACEID_REFUND_ATTEMPTS``): a key cannot buy unlimited detection with calls that never
fail. Only the service's own faults (5xx) count nowhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from ..errors import FaceIdError, TooManyAttempts
from ..store import DAY_S, Budget, Outcome, Refusal, day_bucket, work_bucket
from .context import Context


@dataclass
class Attempt:
    """What the guarded call decided: ``ok`` (a match), ``fail`` (no match) or ``refund``
    (nothing could be judged: a liveness retry)."""

    outcome: Literal["ok", "fail", "refund"] = "fail"
    shut: dict[str, float] = field(default_factory=dict)  # bucket -> seconds shut


def budgets(
    ctx: Context, *, lock_id: str | None = None, subject_id: str | None = None
) -> list[Budget]:
    """The budgets a call spends from: the key's, and the lock's or the subject's, each
    over ``FACEID_LOCKOUT_WINDOW_S`` (its lockouts escalate from ``FACEID_LOCKOUT_S`` up
    to ``FACEID_LOCKOUT_MAX_S``) and over a day (``FACEID_LOCKOUT_DAY_FACTOR`` times as
    many failures; spent, it shuts for ``FACEID_LOCKOUT_MAX_S`` at once), so no pace of
    failures gets more than that many a day; and the key's and the lock's work budgets
    (``FACEID_REFUND_ATTEMPTS`` calls that judged nothing per window)."""
    cfg = ctx.settings
    timing = (cfg.lockout_window_s, cfg.lockout_s, cfg.lockout_max_s)
    key, lock = f"key:{ctx.caller.key_id}", f"lock:{lock_id}"
    buckets = [(key, cfg.key_attempts)]
    # work: the key's, and the lock's at 4 keys' worth, so that one key sending faceless
    # images does not shut the door for its owner
    work = [(key, cfg.refund_attempts)]
    if lock_id is not None:
        buckets.append((lock, cfg.lockout_attempts))
        work.append((lock, cfg.refund_attempts * 4))
    if subject_id is not None:
        buckets.append((f"subject:{subject_id}", cfg.subject_attempts))
    found = [
        Budget(work_bucket(bucket), allowed, *timing, spent_by="refund") for bucket, allowed in work
    ]
    for bucket, allowed in buckets:
        found.append(Budget(bucket, allowed, *timing))
        found.append(
            Budget(
                day_bucket(bucket),
                allowed * cfg.lockout_day_factor,
                DAY_S,
                cfg.lockout_max_s,
                cfg.lockout_max_s,
            )
        )
    return found


def refuse(ctx: Context, refusal: Refusal) -> TooManyAttempts:
    """The 429 for a refused reservation; audited once per lockout."""
    kind = refusal.bucket.split(":", 1)[0]
    work = refusal.bucket.endswith(":work")
    if refusal.first:
        reason = f"{kind}_{'work' if work else 'lockout'}"
        ctx.audit("attempts.refused", reason=reason, retry_after=refusal.retry_after)
    what = "calls that found nothing to judge (no face, a retry)" if work else "failed attempts"
    if refusal.busy:
        message = f"Every attempt this {kind} may make is in use; try again in a moment."
    else:
        message = f"Too many {what} on this {kind}; try again in {refusal.retry_after} s."
    return TooManyAttempts(message, retry_after=refusal.retry_after)


@contextmanager
def attempt(
    ctx: Context, spent: list[Budget], reserved: str | None = None, refund_errors: bool = True
) -> Iterator[Attempt]:
    """Reserve before the work (unless ``reserved`` already was: a challenge's attempt),
    settle after it. An error is refunded, unless ``refund_errors`` is False (an answer to a
    challenge, which the call used up): then a refusal of the caller's input (4xx) is a
    failure, so a challenge cannot be spent for free, and only the service's own trouble
    (5xx) is refunded."""
    if reserved is None:
        taken = ctx.store.reserve(spent)
        if isinstance(taken, Refusal):
            raise refuse(ctx, taken)
        reserved = taken
    result = Attempt()
    try:
        yield result
    except BaseException as exc:
        client_error = isinstance(exc, FaceIdError) and exc.status < 500
        spent_input = client_error and not refund_errors and result.outcome != "refund"
        outcome: Outcome = "fail" if spent_input else "refund" if client_error else "void"
        ctx.store.settle(reserved, outcome, spent)
        raise
    result.shut = ctx.store.settle(reserved, result.outcome, spent)
