"""The store survives its database: a PostgreSQL restart, a worker started while the
database is down, and fresh workers migrating one new database together."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from faceid.store import open_store
from faceid.store.schema import MIGRATIONS

from ..conftest import EXAMPLES, settings_for
from ..server import Server

pytestmark = pytest.mark.slow
OBAMA = EXAMPLES / "obama2.jpg"


def unlock(server: Server, key: str, lock: str) -> requests.Response:
    files = [("frames", ("o.jpg", OBAMA.read_bytes()))]
    return requests.post(
        f"{server.base}/v1/locks/{lock}/unlock",
        headers={"Authorization": f"Bearer {key}"},
        files=files,
        timeout=60,
    )


def until_open(server: Server, key: str, lock: str, seconds: float) -> list[int]:
    """Unlock until the door opens again; every status seen on the way."""
    seen: list[int] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r = unlock(server, key, lock)
        seen.append(r.status_code)
        if r.status_code == 200 and r.json()["verdict"] == "unlock":
            return seen
        time.sleep(0.5)
    raise AssertionError(f"the door did not open again within {seconds} s: {seen}")


def setup_door(server: Server) -> tuple[str, str]:
    admin = server.key("acme", "admin")
    auth = {"Authorization": f"Bearer {admin}"}

    def call(method: str, path: str, **kwargs: Any) -> Any:
        r = requests.request(method, server.base + path, headers=auth, timeout=60, **kwargs)
        assert r.ok, r.text
        return r.json()

    person = call("POST", "/v1/subjects", json={"name": "obama"})["id"]
    files = [("images", ("o.jpg", (EXAMPLES / "obama.jpg").read_bytes()))]
    call("POST", f"/v1/subjects/{person}/enrollments", files=files)
    lock = call("POST", "/v1/locks", json={"name": "front", "liveness": "off"})["id"]
    call("PUT", f"/v1/locks/{lock}/grants/{person}")
    return server.key("acme", "unlock"), lock


def test_database_restart_and_worker_started_while_it_is_down(postgres: Any):
    if not hasattr(postgres, "halt"):
        pytest.skip("needs a PostgreSQL server the test controls")
    server = Server({"FACEID_DATABASE_URL": postgres.new_database()})
    server.start()
    try:
        key, lock = setup_door(server)
        assert unlock(server, key, lock).json()["verdict"] == "unlock"

        postgres.halt()
        down = unlock(server, key, lock)
        assert down.status_code == 503 and down.json()["error"]["code"] == "store_unavailable"
        postgres.start()
        seen = until_open(server, key, lock, seconds=20)
        assert 500 not in seen

        postgres.halt()
        server.stop()
        server.start()  # gunicorn comes up (and stays up) with the database away
        assert requests.get(server.base + "/health", timeout=10).status_code == 200
        assert unlock(server, key, lock).status_code == 503
        postgres.start()
        seen = until_open(server, key, lock, seconds=30)
        assert 500 not in seen
    finally:
        server.stop()


def test_fresh_workers_migrate_one_database_together(store_config: dict[str, Any]):
    """Eight stores open one new database at once: the advisory lock comes before any DDL."""
    settings = settings_for(**store_config)
    with ThreadPoolExecutor(8) as pool:
        stores = list(pool.map(lambda _: open_store(settings), range(8)))
    assert {s.migrate() for s in stores} == {len(MIGRATIONS)}
