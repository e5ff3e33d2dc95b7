"""Native threads, locks and queues, also inside gunicorn's gevent workers.

A gevent worker monkey-patches ``threading`` and ``queue``: a ``ThreadPoolExecutor``'s
threads become greenlets of one OS thread, so work that releases the GIL (dlib's HOG
scanners) no longer runs on both cores, and its locks and queues are gevent's. Code that
wants both cores takes its pool, locks and queues from here: native ones when gevent has
patched ``threading``, the standard library's otherwise.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def gevent_patched() -> bool:
    """True inside a process whose ``threading`` gevent has monkey-patched."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("threading"))


def _original(module: str, name: str, default: Any) -> Any:
    if not gevent_patched():
        return default
    from gevent.monkey import get_original

    return get_original(module, name)


def lock() -> Any:
    """A lock that native threads can share (``threading.Lock`` before any patching)."""
    return _original("threading", "Lock", threading.Lock)()


def simple_queue() -> Any:
    """A ``queue.SimpleQueue`` that native threads can share."""
    return _original("queue", "SimpleQueue", queue.SimpleQueue)()


#: Threads of the process-wide pool (the machines have 2 cores).
POOL_THREADS = 2
_pool: Executor | None = None
_pool_lock = threading.Lock()


def shared_pool() -> Executor:
    """The process's one pool of :data:`POOL_THREADS` OS threads (gevent's native pool
    under gevent), made on first use: however many requests a gevent worker holds, they
    share these threads, so the work they hand over runs on at most that many threads."""
    global _pool
    with _pool_lock:
        if _pool is None:
            if gevent_patched():
                from gevent.threadpool import ThreadPoolExecutor as NativeThreadPoolExecutor

                _pool = NativeThreadPoolExecutor(max_workers=POOL_THREADS)
            else:
                _pool = ThreadPoolExecutor(max_workers=POOL_THREADS)
        return _pool


def _on_loop() -> bool:
    """True on the thread of a gevent worker's main loop (where every request runs)."""
    if not gevent_patched():
        return False
    from gevent._hub_local import get_hub_if_exists

    hub = get_hub_if_exists()
    return hub is not None and bool(hub.main_hub)


def off_loop(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``work(*args, **kwargs)``, run on a native thread of gevent's hub pool when called
    on a gevent worker's loop, inline anywhere else (outside gevent, or already on a
    native thread). A greenlet decoding a 40-megapixel PNG or scanning for faces on the
    loop holds every other request of its worker for as long (a door's unlock waited
    1.3-2.8 s under such uploads); handed to a native thread, the work runs while the
    loop goes on serving, and the GIL is shared at each call's end (Pillow, OpenCV, ONNX
    Runtime and dlib's scanners release it while they work). The hub's pool is not
    :func:`shared_pool`: a video's frames queued there must not hold back a door's
    photo, and the worker's gate (:class:`faceid.lock.gate.Gate`) already bounds how
    many requests hand work over."""
    if not _on_loop():
        return work(*args, **kwargs)
    from gevent import get_hub

    failed, value = get_hub().threadpool.apply(_caught, (work, args, kwargs))
    if failed:
        raise value
    result: T = value
    return result


def _caught(work: Callable[..., Any], args: Any, kwargs: Any) -> tuple[bool, Any]:
    """``work``'s result, or what it raised, handed back to be raised on the loop: gevent's
    pool would print every error through its hub and throw the fatal ones (SystemError)
    into the worker's main greenlet."""
    try:
        return False, work(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - raised again in the caller's greenlet
        return True, exc
