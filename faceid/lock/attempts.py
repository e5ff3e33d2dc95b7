"""Attempt budgets around every face-evaluating call by an unlock key.

Before any detection or matching, one attempt is reserved in the store against every
budget the call touches: the key's own, the lock's (unlock) and the claimed subject's
(verify). A refused reservation answers ``429 too_many_attempts`` with ``Retry-After``
(one audit row per lockout, not one per refused request). Afterwards the attempt is
settled: a failure counts against every budget, a success counts nothing, and a call
that evaluated nothing (no face, undecodable media, any error) is refunded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from ..errors import FaceIdError, TooManyAttempts
from ..store import Budget, Refusal
from .context import Context


@dataclass
class Attempt:
    """What the guarded call decided: ``ok`` (a match), ``fail`` (no match) or ``refund``
    (nothing could be judged: a liveness retry)."""

    outcome: Literal["ok", "fail", "refund"] = "fail"
    shut: tuple[str, ...] = ()


def budgets(
    ctx: Context, *, lock_id: str | None = None, subject_id: str | None = None
) -> list[Budget]:
    """The budgets a call spends from: the key's, and the lock's or the subject's."""
    cfg = ctx.settings
    window, lockout = cfg.lockout_window_s, cfg.lockout_s
    found = [Budget(f"key:{ctx.caller.key_id}", cfg.key_attempts, window, lockout)]
    if lock_id is not None:
        found.append(Budget(f"lock:{lock_id}", cfg.lockout_attempts, window, lockout))
    if subject_id is not None:
        found.append(Budget(f"subject:{subject_id}", cfg.subject_attempts, window, lockout))
    return found


def refuse(ctx: Context, refusal: Refusal) -> TooManyAttempts:
    """The 429 for a refused reservation; audited once per lockout."""
    kind = refusal.bucket.split(":", 1)[0]
    if refusal.first:
        ctx.audit("attempts.refused", reason=f"{kind}_lockout", retry_after=refusal.retry_after)
    if refusal.busy:
        message = f"Every attempt this {kind} may make is in use; try again in a moment."
    else:
        message = f"Too many failed attempts on this {kind}; try again in {refusal.retry_after} s."
    return TooManyAttempts(message, refusal.retry_after)


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
        outcome: Literal["fail", "refund"] = "fail" if spent_input else "refund"
        ctx.store.settle(reserved, outcome, spent)
        raise
    result.shut = tuple(ctx.store.settle(reserved, result.outcome, spent))
