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
from typing import Any

from .core import SqlCore
from .records import new_id


@dataclass(frozen=True)
class Challenge:
    """Actions to perform, each revealed at its cue (``cues``: seconds after
    ``created_at``; None: revealed at once and not checked); ``target`` is ``lock:<id>``
    or ``subject:<id>``; ``attempt`` is the attempt reserved in the budgets when it was
    issued (settled when it is answered)."""

    id: str
    target: str
    key_id: str
    actions: list[str]
    created_at: float
    expires_at: float
    attempt: str
    cues: list[float] | None = None


class ChallengesMixin(SqlCore):
    def create_challenge(
        self,
        org_id: str,
        target: str,
        key_id: str,
        actions: list[str],
        ttl_s: float,
        attempt: str,
        cues: list[float] | None = None,
        issued_at: float | None = None,
    ) -> Challenge:
        """A new challenge; ``issued_at`` (evaluation only) dates it earlier than now."""
        now = time.time()
        made = now if issued_at is None else issued_at
        found = Challenge(new_id("chl"), target, key_id, actions, made, made + ttl_s, attempt, cues)
        with self.tx() as cur:
            self._exec(  # answered or long expired ones are of no further use
                cur, "DELETE FROM challenges WHERE expires_at < ?", (now - 3600,)
            )
            self._exec(
                cur,
                "INSERT INTO challenges (id, org_id, target, key_id, actions, created_at, "
                "expires_at, attempt, cues) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    found.id,
                    org_id,
                    target,
                    key_id,
                    json.dumps(actions),
                    made,
                    found.expires_at,
                    attempt,
                    None if cues is None else json.dumps(cues),
                ),
            )
        return found

    _COLUMNS = "id, target, key_id, actions, created_at, expires_at, attempt, cues, used_at"

    @staticmethod
    def _challenge(row: Any) -> Challenge:
        cues = json.loads(row[7]) if row[7] is not None else None
        return Challenge(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6], cues)

    def get_challenge(
        self, org_id: str, challenge_id: str, target: str, key_id: str
    ) -> tuple[Challenge, bool] | None:
        """The challenge (and whether it was used), if it was issued to this key for
        ``target``."""
        with self.tx() as cur:
            row = self._exec(
                cur,
                f"SELECT {self._COLUMNS} FROM challenges "
                "WHERE org_id = ? AND id = ? AND target = ? AND key_id = ?",
                (org_id, challenge_id, target, key_id),
            ).fetchone()
        return None if row is None else (self._challenge(row), row[8] is not None)

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
                f"SELECT {self._COLUMNS} FROM challenges "
                "WHERE org_id = ? AND id = ? AND target = ? AND key_id = ?",
                (org_id, challenge_id, target, key_id),
            ).fetchone()
            if row is None:
                return None, "unknown"
            found = self._challenge(row)
            if row[8] is not None or not self._use(cur, found.id, now):
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
