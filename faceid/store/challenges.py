"""Liveness challenges: issued to one key for one lock (or subject), answered once.

A challenge is kept in the store, so the worker or host that checks the answer need not
be the one that issued it. :meth:`ChallengesMixin.take_challenge` marks it used in the
same transaction that reads it: two requests racing with one challenge id cannot both
get it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from .core import SqlCore
from .records import new_id


@dataclass(frozen=True)
class Challenge:
    """Actions to perform; ``target`` is ``lock:<id>`` or ``subject:<id>``; ``attempt`` is
    the attempt reserved in the budgets when it was issued (settled when it is answered)."""

    id: str
    target: str
    key_id: str
    actions: list[str]
    created_at: float
    expires_at: float
    attempt: str


class ChallengesMixin(SqlCore):
    def create_challenge(
        self, org_id: str, target: str, key_id: str, actions: list[str], ttl_s: float, attempt: str
    ) -> Challenge:
        now = time.time()
        found = Challenge(new_id("chl"), target, key_id, actions, now, now + ttl_s, attempt)
        with self.tx() as cur:
            self._exec(  # answered or long expired ones are of no further use
                cur, "DELETE FROM challenges WHERE expires_at < ?", (now - 3600,)
            )
            self._exec(
                cur,
                "INSERT INTO challenges (id, org_id, target, key_id, actions, created_at, "
                "expires_at, attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    found.id,
                    org_id,
                    target,
                    key_id,
                    json.dumps(actions),
                    now,
                    found.expires_at,
                    attempt,
                ),
            )
        return found

    def take_challenge(
        self, org_id: str, challenge_id: str, target: str, key_id: str
    ) -> tuple[Challenge | None, str]:
        """(the challenge, "ok") and marks it used; or (None or it, why not): ``unknown``
        (no such challenge for this key and target), ``used`` or ``expired``."""
        now = time.time()
        with self.tx() as cur:
            self._lock_bucket(cur, f"challenge:{challenge_id}")
            row = self._exec(
                cur,
                "SELECT id, target, key_id, actions, created_at, expires_at, attempt, used_at "
                "FROM challenges WHERE org_id = ? AND id = ? AND target = ? AND key_id = ?",
                (org_id, challenge_id, target, key_id),
            ).fetchone()
            if row is None:
                return None, "unknown"
            found = Challenge(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6])
            if row[7] is not None or not self._use(cur, found.id, now):
                return found, "used"
            return found, "expired" if now > found.expires_at else "ok"

    def _use(self, cur: object, challenge_id: str, now: float) -> bool:
        """Mark a challenge used; False when another request got there first."""
        done = self._exec(
            cur,
            "UPDATE challenges SET used_at = ? WHERE id = ? AND used_at IS NULL",
            (now, challenge_id),
        )
        return bool(done.rowcount == 1)

    def abandon_challenges(self, org_id: str, target: str, key_id: str) -> list[str]:
        """Use up the key's unanswered challenges for ``target``; their reserved attempts."""
        with self.tx() as cur:
            rows = self._exec(
                cur,
                "SELECT id, attempt FROM challenges WHERE org_id = ? AND target = ? "
                "AND key_id = ? AND used_at IS NULL",
                (org_id, target, key_id),
            ).fetchall()
            taken = [str(row[1]) for row in rows if self._use(cur, row[0], time.time())]
        return taken
