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
from collections import Counter
from collections.abc import Sequence
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
    statuses: Counter[int] = field(default_factory=Counter)  # 0: no answer

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
    port: int,
    request: Request | Sequence[Request],
    concurrency: int,
    total: int,
    time_cap_s: float,
    answer_timeout_s: float | None = None,
) -> LoadResult:
    """Send ``total`` requests from ``concurrency`` threads, stopping early at the cap.
    With several requests (many doors), thread i sends request i modulo their number.
    A request unanswered after ``answer_timeout_s`` (default: the cap, at least 30 s)
    counts as status 0."""
    choices = [request] if isinstance(request, Request) else list(request)
    result = LoadResult(concurrency)
    tickets = itertools.count()
    lock = threading.Lock()
    deadline = time.monotonic() + time_cap_s
    timeout = answer_timeout_s or max(time_cap_s, 30)

    def worker(mine: Request) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        try:
            while next(tickets) < total and time.monotonic() < deadline:
                reopened = conn.sock is None
                latency, status = _send(conn, mine)
                with lock:
                    result.connections += reopened
                    result.statuses[status] += 1
                    if status == 200:
                        result.latencies.append(latency)
                    else:
                        result.errors += 1
        finally:
            conn.close()

    threads = [
        threading.Thread(target=worker, args=(choices[i % len(choices)],), daemon=True)
        for i in range(concurrency)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_s = time.perf_counter() - started
    return result


def _send(conn: http.client.HTTPConnection, request: Request) -> tuple[float, int]:
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
        status = response.status
    except (OSError, http.client.HTTPException):
        conn.close()
        status = 0
    return time.perf_counter() - started, status


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
