"""Attempt budgets: reserved atomically before any face work, settled after it.

A budget is a bucket (``lock:<id>``, ``key:<id>``, ``subject:<id>``) that allows
``attempts`` failures within ``window_s``; the failure that reaches the limit shuts the
bucket for ``lockout_s``, doubled for each lockout before it that no success has
followed (up to ``max_lockout_s``): the lockouts escalate, as a phone's passcode
screen's do, instead of reopening in full every few minutes.
:meth:`BudgetsMixin.reserve` counts failures *and attempts still in flight* inside one
serialised transaction, so parallel requests cannot all
pass the check before any of them is counted. :meth:`BudgetsMixin.settle` records the
outcome: a failure counts, a success counts nothing (and wipes nobody's failures), a
refund (no face found) removes the reservation. A success also ends the escalation of
every bucket it spent from, and so does an admin's :meth:`BudgetsMixin.reset_bucket`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .core import SqlCore
from .records import new_id

#: How an attempt ended: a success, a failure, nothing to judge (no face, a liveness
#: retry: refunded from the failure budgets, spent from the work budgets) or the service's
#: own fault (counted nowhere).
Outcome = Literal["ok", "fail", "refund", "void"]

#: How long a reservation whose request never settled (a killed worker) still counts.
STALE_PENDING_S = 600.0
DAY_S = 86400.0


def day_bucket(bucket: str) -> str:
    """The day-long budget beside ``bucket`` (``FACEID_LOCKOUT_DAY_FACTOR`` times its
    failures per 24 h), so failures spaced to stay under the short window's limit (4
    every 5 minutes against 5) are still counted."""
    return f"{bucket}:day"


def work_bucket(bucket: str) -> str:
    """The work budget beside ``bucket``: the calls that judged nothing (refunded from the
    failure budgets: no face, a liveness retry), ``FACEID_REFUND_ATTEMPTS`` per window."""
    return f"{bucket}:work"


@dataclass(frozen=True)
class Budget:
    """One bucket's limit: ``attempts`` failures per ``window_s``, then ``lockout_s`` shut,
    twice as long for each earlier lockout with no success since, at most ``max_lockout_s``
    (None: ``lockout_s``, no escalation). A work budget (``spent_by`` "refund") counts the
    calls that judged nothing instead of the failures."""

    bucket: str
    attempts: int
    window_s: float
    lockout_s: float
    max_lockout_s: float | None = None
    spent_by: Outcome = "fail"  # "refund": a work budget, spent by calls judging nothing

    def lockout_for(self, strikes: int) -> float:
        """Seconds the ``strikes``-th lockout in a row (1: the first) lasts."""
        longest = max(self.max_lockout_s or self.lockout_s, self.lockout_s)
        return min(self.lockout_s * 2.0 ** min(strikes - 1, 40), longest)


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

    def settle(self, attempt: str, outcome: Outcome, budgets: Sequence[Budget]) -> dict[str, float]:
        """Record an attempt's outcome in every budget: where it is the outcome the budget
        counts (``spent_by``) it is kept, from now; elsewhere its reservation goes. Returns
        the buckets this shut, with the seconds each stays shut. A success ends the
        escalation of its buckets' lockouts; ``void`` (the service's own fault) counts
        nowhere."""
        now = time.time()
        shut: dict[str, float] = {}
        with self.tx() as cur:
            for budget in sorted(budgets, key=lambda b: b.bucket):
                if outcome != budget.spent_by:
                    continue
                self._lock_bucket(cur, budget.bucket)
                self._exec(  # counted from when it ended, not began (a challenge's is late)
                    cur,
                    "UPDATE attempts SET outcome = 'fail', at = ? WHERE id = ? AND bucket = ?",
                    (now, attempt, budget.bucket),
                )
                if self._fails(cur, budget, now) >= budget.attempts:
                    shut[budget.bucket] = self._shut(cur, budget, now)
            self._exec(  # every reservation this outcome did not spend goes
                cur, "DELETE FROM attempts WHERE id = ? AND outcome = 'pending'", (attempt,)
            )
            if outcome == "ok" and budgets:  # only lockouts already over are forgotten
                marks = ", ".join("?" for _ in budgets)
                self._exec(
                    cur,
                    f"DELETE FROM lockouts WHERE bucket IN ({marks}) AND until <= ?",
                    (*(b.bucket for b in budgets), now),
                )
        return shut

    def reset_bucket(self, bucket: str) -> bool:
        """Forget a bucket's failures, lockout and escalation (an admin's reset); True when
        there was anything to forget."""
        with self.tx() as cur:
            self._lock_bucket(cur, bucket)
            gone = 0
            for sql in (
                "DELETE FROM lockouts WHERE bucket = ?",
                "DELETE FROM attempts WHERE bucket = ? AND outcome = 'fail'",
            ):
                gone += self._exec(cur, sql, (bucket,)).rowcount or 0
        return gone > 0

    def _fails(self, cur: Any, budget: Budget, now: float) -> int:
        return int(
            self._exec(
                cur,
                "SELECT COUNT(*) FROM attempts WHERE bucket = ? AND outcome = 'fail' AND at >= ?",
                (budget.bucket, now - budget.window_s),
            ).fetchone()[0]
        )

    def _shut(self, cur: Any, budget: Budget, now: float) -> float:
        """Shut the bucket for its lockout, escalated by the lockouts before it that no
        success has followed (their row is kept until one does); its failures are spent
        with it. Returns the seconds it is shut for."""
        row = self._exec(
            cur, "SELECT strikes FROM lockouts WHERE bucket = ?", (budget.bucket,)
        ).fetchone()
        strikes = (int(row[0]) if row is not None else 0) + 1
        seconds = budget.lockout_for(strikes)
        self._exec(cur, "DELETE FROM lockouts WHERE bucket = ?", (budget.bucket,))
        self._exec(
            cur,
            "INSERT INTO lockouts (bucket, until, refused, strikes) VALUES (?, ?, 0, ?)",
            (budget.bucket, now + seconds, strikes),
        )
        self._exec(
            cur, "DELETE FROM attempts WHERE bucket = ? AND outcome = 'fail'", (budget.bucket,)
        )
        return seconds
