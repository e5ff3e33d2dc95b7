"""The storage flood, performed against a real gunicorn (2 workers) on SQLite and
PostgreSQL: enrolment keys create subjects with 16 KB of metadata each on 4 connections.
Each key is stopped by its write rate, and the organisation by its subject quota, so the
store holds exactly what the quota allows, whatever the race."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from ..server import Server, running

pytestmark = pytest.mark.slow

SETTINGS = {"FACEID_QUOTA_SUBJECTS": "50", "FACEID_KEY_WRITE_RATE": "30/minute"}


@pytest.fixture
def server(store_config: dict[str, Any]) -> Iterator[Server]:
    with running(store_config, **SETTINGS) as srv:
        yield srv


def test_a_storage_flood_stops_at_the_write_rate_and_the_quota(server: Server) -> None:
    admin = server.key("acme", "admin")
    metadata = {"notes": "x" * 16_000}

    def create(key: str) -> requests.Response:
        return requests.post(
            server.base + "/v1/subjects",
            json={"name": "flood", "metadata": metadata},
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )

    def flood(key: str, calls: int) -> list[int]:
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: create(key), range(calls)))
        for r in answers:
            if r.status_code >= 400:
                assert int(r.headers.get("Retry-After", "1")) > 0
        return [r.status_code for r in answers]

    first = flood(server.key("acme", "enroll"), 40)
    assert first.count(201) == 30 and first.count(429) == 10  # the key's write rate
    second = flood(server.key("acme", "enroll"), 40)
    # the organisation's quota stops this key at 20 more; its refusals count as writes too
    assert (second.count(201), second.count(413), second.count(429)) == (20, 10, 10)
    refused = create(server.key("acme", "enroll")).json()["error"]
    assert refused["code"] == "quota_exceeded" and "FACEID_QUOTA_SUBJECTS" in refused["message"]
    listed = requests.get(
        server.base + "/v1/subjects",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {admin}"},
        timeout=30,
    ).json()
    assert listed["total"] == 50
