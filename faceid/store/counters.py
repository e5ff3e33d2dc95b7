"""Fixed-window counters shared by every worker and host: the rate limits' storage."""

from __future__ import annotations

import time

from .core import SqlCore


class CountersMixin(SqlCore):
    """One row per counter key: its count and when its window ends. Rate counters are not
    security state: their writes skip waiting for the disk (a crash may lose a few)."""

    def counter_incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self.tx(durable=False) as cur:
            self._lock_bucket(cur, key)
            row = self._exec(
                cur, "SELECT count, expires_at FROM rate_counters WHERE key = ?", (key,)
            ).fetchone()
            if row is None or row[1] <= now:
                self._exec(cur, "DELETE FROM rate_counters WHERE key = ?", (key,))
                self._exec(
                    cur,
                    "INSERT INTO rate_counters (key, count, expires_at) VALUES (?, ?, ?)",
                    (key, amount, now + expiry),
                )
                return amount
            self._exec(
                cur, "UPDATE rate_counters SET count = count + ? WHERE key = ?", (amount, key)
            )
            return int(row[0]) + amount

    def counter_get(self, key: str) -> tuple[int, float]:
        """(count, window end); (0, now) when the window is over."""
        now = time.time()
        with self.tx(write=False) as cur:
            row = self._exec(
                cur, "SELECT count, expires_at FROM rate_counters WHERE key = ?", (key,)
            ).fetchone()
        return (int(row[0]), float(row[1])) if row and row[1] > now else (0, now)

    def counter_clear(self, key: str | None = None) -> int:
        with self.tx() as cur:
            if key is None:
                cur = self._exec(cur, "DELETE FROM rate_counters")
            else:
                cur = self._exec(cur, "DELETE FROM rate_counters WHERE key = ?", (key,))
            return int(cur.rowcount)
