"""The open endpoints are rate-limited per client, with counters every worker shares."""

from __future__ import annotations

import http.client
import io
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
    """The site runs with FACEID_COMPARE_RATE_LIMIT=40/minute over two workers."""
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


def test_the_limit_is_per_cost():
    """A researcher's loop of cheap comparisons gets far more than the extract calls: each
    endpoint class counts against its own limit, and the refusal names its setting."""
    from ..conftest import EXAMPLES

    app = make_app(FACEID_OPEN_RATE_LIMIT="2/minute", FACEID_COMPARE_RATE_LIMIT="30/minute")
    client = app.test_client()
    body = json.loads(BODY)
    compares = [client.post("/compare_embeddings", json=body).status_code for _ in range(31)]
    assert compares == [200] * 30 + [429]
    image = (EXAMPLES / "obama.jpg").read_bytes()
    extracts = [
        client.post("/extract_embeddings_from_image", data={"image": (io.BytesIO(image), "o.jpg")})
        for _ in range(3)
    ]
    assert [r.status_code for r in extracts] == [200, 200, 429]
    assert "FACEID_OPEN_RATE_LIMIT" in extracts[2].json["error"]["message"]
    refused = client.post("/compare_embeddings", json=body).json
    assert "FACEID_COMPARE_RATE_LIMIT" in refused["error"]["message"]
    from faceid.settings import Settings

    assert Settings.load(environ={}, instance_path=None).compare_rate_limit == "6000/minute"
