"""Attempt budgets: reserved atomically before any face work, settled after it.

A budget is a bucket (``lock:<id>``, ``key:<id>``, ``subject:<id>``) that allows
``attempts`` failures within ``window_s``; the failure that reaches the limit shuts the
bucket for ``lockout_s``. :meth:`BudgetsMixin.reserve` counts failures *and attempts
still in flight* inside one serialised transaction, so parallel requests cannot all
pass the check before any of them is counted. :meth:`BudgetsMixin.settle` records the
outcome: a failure counts, a success counts nothing (and wipes nobody's failures), a
refund (no face found) removes the reservation.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .core import SqlCore
from .records import new_id

#: How long a reservation whose request never settled (a killed worker) still counts.
STALE_PENDING_S = 600.0


@dataclass(frozen=True)
class Budget:
    """One bucket's limit: ``attempts`` failures per ``window_s``, then ``lockout_s`` shut."""

    bucket: str
    attempts: int
    window_s: float
    lockout_s: float


@dataclass(frozen=True)
class Refusal:
    """Why a reservation was refused: the bucket, seconds to wait, and whether this is
    the first refusal of the current lockout (only that one is audited)."""

    bucket: str
    retry_after: int
    first: bool
    busy: bool = False


class BudgetsMixin(SqlCore):
    """Reservations and lockouts per bucket."""

    def reserve(self, budgets: Sequence[Budget]) -> str | Refusal:
        """An attempt id, or the refusal of the first budget that is spent or shut."""
        now = time.time()
        attempt = new_id("att")
        with self.tx() as cur:
            for budget in sorted(budgets, key=lambda b: b.bucket):
                self._lock_bucket(cur, budget.bucket)
                self._exec(  # what no longer counts: keeps the table small
                    cur,
                    "DELETE FROM attempts WHERE bucket = ? AND at < ?",
                    (budget.bucket, now - max(budget.window_s, STALE_PENDING_S)),
                )
            for budget in budgets:
                refusal = self._refusal(cur, budget, now)
                if refusal is not None:
                    return refusal
            for budget in budgets:
                self._exec(
                    cur,
                    "INSERT INTO attempts (id, bucket, at, outcome) VALUES (?, ?, ?, 'pending')",
                    (attempt, budget.bucket, now),
                )
        return attempt

    def _refusal(self, cur: Any, budget: Budget, now: float) -> Refusal | None:
        row = self._exec(
            cur, "SELECT until, refused FROM lockouts WHERE bucket = ?", (budget.bucket,)
        ).fetchone()
        if row is not None and row[0] > now:
            self._exec(
                cur, "UPDATE lockouts SET refused = refused + 1 WHERE bucket = ?", (budget.bucket,)
            )
            return Refusal(budget.bucket, max(1, int(row[0] - now + 0.999)), first=row[1] == 0)
        counted = self._exec(
            cur,
            "SELECT COUNT(*) FROM attempts WHERE bucket = ? AND ("
            "(outcome = 'fail' AND at >= ?) OR (outcome = 'pending' AND at >= ?))",
            (budget.bucket, now - budget.window_s, now - STALE_PENDING_S),
        ).fetchone()[0]
        if counted >= budget.attempts:
            return Refusal(budget.bucket, 1, first=False, busy=True)
        return None

    def settle(
        self, attempt: str, outcome: Literal["ok", "fail", "refund"], budgets: Sequence[Budget]
    ) -> list[str]:
        """Record an attempt's outcome; returns the buckets this failure shut."""
        now = time.time()
        shut: list[str] = []
        with self.tx() as cur:
            if outcome == "refund":
                self._exec(cur, "DELETE FROM attempts WHERE id = ?", (attempt,))
                return shut
            self._exec(  # a failure counts from when it failed (a challenge's may be late)
                cur, "UPDATE attempts SET outcome = ?, at = ? WHERE id = ?", (outcome, now, attempt)
            )
            if outcome == "ok":
                return shut
            for budget in sorted(budgets, key=lambda b: b.bucket):
                self._lock_bucket(cur, budget.bucket)
                if self._fails(cur, budget, now) >= budget.attempts:
                    self._shut(cur, budget, now)
                    shut.append(budget.bucket)
        return shut

    def _fails(self, cur: Any, budget: Budget, now: float) -> int:
        return int(
            self._exec(
                cur,
                "SELECT COUNT(*) FROM attempts WHERE bucket = ? AND outcome = 'fail' AND at >= ?",
                (budget.bucket, now - budget.window_s),
            ).fetchone()[0]
        )

    def _shut(self, cur: Any, budget: Budget, now: float) -> None:
        """Shut the bucket for its lockout; its failures are spent with it."""
        self._exec(cur, "DELETE FROM lockouts WHERE bucket = ?", (budget.bucket,))
        self._exec(
            cur,
            "INSERT INTO lockouts (bucket, until, refused) VALUES (?, ?, 0)",
            (budget.bucket, now + budget.lockout_s),
        )
        self._exec(
            cur, "DELETE FROM attempts WHERE bucket = ? AND outcome = 'fail'", (budget.bucket,)
        )
