"""Slow clients cannot jam the doors: with 64 sockets trickling their headers, /health and
a real unlock still answer promptly (a blocked server would wait for the trickle)."""

from __future__ import annotations

import socket
import threading
import time

from .conftest import OBAMA, Site

SLOW_SOCKETS = 64


def trickle(port: int, stop: threading.Event) -> None:
    """Open a connection and send a request's headers one byte per second, never ending."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            while not stop.wait(1.0):
                sock.sendall(b"X")
    except OSError:
        pass  # the server may close a slow client: that is a fine answer too


def timed(fn) -> float:  # noqa: ANN001
    started = time.monotonic()
    response = fn()
    assert response.status_code in (200, 429), response.text[:200]
    return time.monotonic() - started


def test_slow_clients_do_not_jam_the_door(site: Site):
    port = int(site.server.base.rsplit(":", 1)[1])
    key = site.new_key("unlock", locks=(site.lock,))

    def health():  # noqa: ANN202
        return site.call(key, "GET", "/health")

    def unlock():  # noqa: ANN202
        return site.unlock(key, site.lock, OBAMA)

    normal_health, normal_unlock = timed(health), timed(unlock)
    stop = threading.Event()
    slow = [
        threading.Thread(target=trickle, args=(port, stop), daemon=True)
        for _ in range(SLOW_SOCKETS)
    ]
    for thread in slow:
        thread.start()
    try:
        time.sleep(2.0)  # every slow socket is open and trickling
        jammed_health, jammed_unlock = timed(health), timed(unlock)
    finally:
        stop.set()
        for thread in slow:
            thread.join(timeout=5)
    # Generous bounds: a jammed server answers only when a trickle ends (never, here).
    assert jammed_health < normal_health + 2.0, (normal_health, jammed_health)
    assert jammed_unlock < normal_unlock * 3 + 2.0, (normal_unlock, jammed_unlock)
