"""Seeing attacks: /metrics (admin keys only) counts verdicts and refusals over every
gunicorn worker, with latency by route."""

from __future__ import annotations

import re

from .conftest import BIDEN, OBAMA, Site


def value(text: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"{name}\{{(.*)\}} ([0-9.e+-]+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            total += float(match.group(2))
    return total


def test_metrics_count_verdicts_and_refusals_for_admins_only(site: Site):
    door = site.new_key("unlock", locks=(site.lock,))
    assert site.call(door, "GET", "/metrics").status_code == 403
    assert site.call("nope", "GET", "/metrics").status_code == 401
    before = site.call(site.admin, "GET", "/metrics").text
    for _ in range(4):  # spread over both workers
        site.unlock(door, site.lock, OBAMA)
    site.call(door, "POST", "/v1/identify", files=[("image", ("b.jpg", BIDEN.read_bytes()))])
    after = site.call(site.admin, "GET", "/metrics").text
    unlocks = value(after, "faceid_verdicts_total", call="unlock", verdict="unlock")
    assert unlocks - value(before, "faceid_verdicts_total", call="unlock", verdict="unlock") == 4
    assert value(after, "faceid_refusals_total", code="forbidden") >= 2
    route = "/v1/locks/<lock_id>/unlock"
    assert value(after, "faceid_request_seconds_count", route=route) >= 4
