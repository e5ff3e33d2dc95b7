"""What an operator watches for attacks: request latency by route, verdicts, refusals.

Prometheus metrics from ``prometheus_client``. Under gunicorn every worker writes its
values to ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py makes one per server) and
:func:`exposition` aggregates them, so ``/metrics`` shows the whole server whichever
worker answers. Outside gunicorn the process's own registry is used.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUEST_SECONDS = Histogram(
    "faceid_request_seconds",
    "Request latency by route",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
VERDICTS = Counter(
    "faceid_verdicts_total", "Face decisions by call and verdict", ["call", "verdict"]
)
REFUSALS = Counter(
    "faceid_refusals_total", "Refused requests by error code (budget, lockout, scope...)", ["code"]
)


def exposition() -> tuple[bytes, str]:
    """The metrics text and its content type, over every worker when under gunicorn."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
