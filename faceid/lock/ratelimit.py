"""Per-client rate limits for the open endpoints, with ``limits`` (Flask-Limiter's engine).

The counters live in faceid's own store (:class:`StoreCounters`), so every gunicorn
worker and every host behind one database share them; no extra server is needed.
"""

from __future__ import annotations

import time

from limits import parse
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter

from ..errors import RateLimited, StoreUnavailable
from ..store import Store


class StoreCounters(Storage):
    """A ``limits`` storage backend on :meth:`Store.counter_incr` and friends."""

    STORAGE_SCHEME = ["faceid-store"]

    def __init__(self, store: Store) -> None:
        super().__init__("faceid-store://")
        self.store = store

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return StoreUnavailable

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.store.counter_incr(key, float(expiry), amount)

    def get(self, key: str) -> int:
        return self.store.counter_get(key)[0]

    def get_expiry(self, key: str) -> float:
        return self.store.counter_get(key)[1]

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        return self.store.counter_clear()

    def clear(self, key: str) -> None:
        self.store.counter_clear(key)


class OpenRateLimit:
    """A limit (e.g. ``"120/minute"``) per client address and endpoint, by the endpoint's
    cost: ``limits`` maps an endpoint to its limit and the setting that holds it; an
    endpoint not named there is not limited."""

    def __init__(self, store: Store, limits: dict[str, tuple[str, str]]) -> None:
        self.items = {endpoint: (parse(limit), name) for endpoint, (limit, name) in limits.items()}
        self.limiter = FixedWindowRateLimiter(StoreCounters(store))

    def hit(self, client: str, endpoint: str) -> None:
        """Count one request; 429 ``rate_limited`` with Retry-After past the limit."""
        if endpoint not in self.items:
            return
        item, setting = self.items[endpoint]
        if not self.limiter.hit(item, client, endpoint):
            reset_at, _ = self.limiter.get_window_stats(item, client, endpoint)
            retry = max(1, int(reset_at - time.time() + 0.999))
            raise RateLimited(
                f"Too many requests from this caller: the limit is {item} ({setting}).",
                retry_after=retry,
            )
