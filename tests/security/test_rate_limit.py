"""The open endpoints are rate-limited per client, with counters every worker shares."""

from __future__ import annotations

import http.client
import json

from ..conftest import make_app
from .conftest import Site

BODY = json.dumps({"embedding1": [1.0, 0.0], "embedding2": [0.0, 1.0], "threshold": 0.5})


def compare_from(site: Site, source: str) -> tuple[int, str | None]:
    """POST /compare_embeddings from a chosen loopback address (a client of its own)."""
    host, port = site.server.base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        conn.request("POST", "/compare_embeddings", BODY, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Retry-After")
    finally:
        conn.close()


def test_one_client_is_limited_and_another_is_not(site: Site):
    """The site runs with FACEID_OPEN_RATE_LIMIT=40/minute over two workers."""
    answers = [compare_from(site, "127.0.0.7") for _ in range(50)]
    codes = [code for code, _ in answers]
    assert codes.count(200) == 40 and codes.count(429) == 10
    assert all(int(retry or 0) > 0 for code, retry in answers if code == 429)
    assert compare_from(site, "127.0.0.8")[0] == 200


def test_a_bad_limit_is_refused_at_start():
    import pytest

    from faceid.errors import ConfigError

    with pytest.raises(ConfigError, match="FACEID_OPEN_RATE_LIMIT"):
        make_app(FACEID_OPEN_RATE_LIMIT="lots")
