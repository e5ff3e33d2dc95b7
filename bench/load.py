"""A bounded HTTP load client for 127.0.0.1: threads, keep-alive connections, a fixed
number of requests and a time cap, whichever comes first.

Each thread keeps one ``http.client`` connection open; when the server closes it it is
reopened for the next request, and the reopenings are counted.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from dataclasses import dataclass, field

from .server import HOST
from .stats import ms, percentile


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class LoadResult:
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    connections: int = 0
    wall_s: float = 0.0

    @property
    def done(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall_s if self.wall_s else 0.0

    def pct(self, q: float) -> float:
        return percentile(self.latencies, q)

    def summary(self) -> str:
        return (
            f"{self.rate:.1f} req/s, p50 {ms(self.pct(50))}, p99 {ms(self.pct(99))}, "
            f"errors {self.errors}/{self.done}"
        )


def run_load(
    port: int, request: Request, concurrency: int, total: int, time_cap_s: float
) -> LoadResult:
    """Send ``total`` requests from ``concurrency`` threads, stopping early at the cap."""
    result = LoadResult(concurrency)
    tickets = itertools.count()
    lock = threading.Lock()
    deadline = time.monotonic() + time_cap_s

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=max(time_cap_s, 30))
        try:
            while next(tickets) < total and time.monotonic() < deadline:
                reopened = conn.sock is None
                latency, ok = _send(conn, request)
                with lock:
                    result.connections += reopened
                    if ok:
                        result.latencies.append(latency)
                    else:
                        result.errors += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_s = time.perf_counter() - started
    return result


def _send(conn: http.client.HTTPConnection, request: Request) -> tuple[float, bool]:
    started = time.perf_counter()
    try:
        conn.request(
            request.method,
            request.path,
            body=request.body,
            headers={"Content-Type": request.content_type, **dict(request.headers)},
        )
        response = conn.getresponse()
        response.read()
        ok = response.status == 200
    except (OSError, http.client.HTTPException):
        conn.close()
        ok = False
    return time.perf_counter() - started, ok


def multipart(field_name: str, filename: str, data: bytes, **fields: str) -> tuple[bytes, str]:
    """A multipart/form-data body with one file and optional text fields."""
    boundary = "faceidbench7d1f"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    body = b"".join(parts) + head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
