"""``GET /metrics``: Prometheus metrics for an admin key (latency, verdicts, refusals)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from .. import metrics
from .openapi import documented
from .requests import authenticate_request, caller

bp = Blueprint("monitoring", __name__)


@bp.get("/metrics")
@documented(200, None, (401, 403), keyed=True, tag="service")
def prometheus() -> Any:
    """Prometheus text format, summed over every worker. Admin keys only: the counts of
    refusals and verdicts are what an attacker would like to watch too."""
    authenticate_request()
    caller("admin")
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)
