"""Admission of heavy requests: a bound on the decoding and face work one worker does at
once, so a flood of large uploads can neither exhaust a worker's memory nor starve the
doors of other callers.

A heavy request (any call that decodes media and looks for faces) takes one of
``FACEID_HEAVY_REQUESTS`` slots of its worker; a keyed caller holds at most
``FACEID_HEAVY_PER_KEY`` of them, so one key flooding on many connections queues behind
itself while another key's door takes the free slot. A request that cannot be admitted
within ``FACEID_HEAVY_WAIT_S`` answers ``503 busy`` with ``Retry-After``. All callers of
the open endpoints together take at most one key's share, and never every slot (besides
their per-address rate limit), so keyless uploads from any number of addresses leave
the doors a slot.

The slots bound how many requests work at once; the work itself runs off the worker's
loop (:func:`faceid.faces.native.off_loop`), so a request decoding a large upload does
not stop the loop from serving the others.

The gate is made on first use (:attr:`faceid.services.Services.gate`), inside the worker:
under gunicorn's gevent workers its semaphores are then gevent's, so a waiting request
yields to the others instead of blocking the worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import ServiceBusy

#: The share every keyless caller of the open endpoints takes from together (no key id
#: looks like it: they are ``key_`` and hex).
OPEN_ENDPOINTS = "open-endpoints"


class Gate:
    """The heavy-request slots of one worker, and each key's share of them. The open
    endpoints' callers share at most ``slots - 1`` (and no more than a key's share), so
    however many addresses send keyless uploads, a door always has a slot."""

    def __init__(self, slots: int, per_key: int, wait_s: float) -> None:
        self.per_key, self.wait_s = per_key, wait_s
        self.open_share = max(1, min(per_key, slots - 1))
        self._all = threading.BoundedSemaphore(slots)
        self._keys: dict[str, tuple[threading.BoundedSemaphore, int]] = {}
        self._mutex = threading.Lock()

    def _share(self, key: str, delta: int) -> threading.BoundedSemaphore:
        """The key's semaphore, counting how many requests hold or wait for it."""
        with self._mutex:
            size = self.open_share if key == OPEN_ENDPOINTS else self.per_key
            found, users = self._keys.get(key, (threading.BoundedSemaphore(size), 0))
            if users + delta <= 0:
                self._keys.pop(key, None)
            else:
                self._keys[key] = (found, users + delta)
            return found

    @contextmanager
    def admit(self, key: str | None) -> Iterator[None]:
        """Hold a slot (and, for ``key``, one of its share) for the block, or raise
        :class:`~faceid.errors.ServiceBusy` after waiting :attr:`wait_s` for it."""
        deadline = time.monotonic() + self.wait_s
        share = self._share(key, +1) if key is not None else None
        try:
            if share is not None and not share.acquire(timeout=self.wait_s):
                who = "The open endpoints have" if key == OPEN_ENDPOINTS else "This key has"
                raise ServiceBusy(
                    f"{who} as many heavy requests running as allowed; retry in a moment.",
                    retry_after=1,
                )
            try:
                if not self._all.acquire(timeout=max(0.0, deadline - time.monotonic())):
                    raise ServiceBusy("The service is busy; retry in a moment.", retry_after=1)
                try:
                    yield
                finally:
                    self._all.release()
            finally:
                if share is not None:
                    share.release()
        finally:
            if key is not None:
                self._share(key, -1)
