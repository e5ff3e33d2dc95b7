"""The /v1 lock API through Flask's test client, against SQLite and a real PostgreSQL:
an app with keys of two organisations (``org``) and obama enrolled and granted on a door
(``obama``), and the shortcuts the tests call it with."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from faceid.lock.keys import create_key

from ..conftest import (
    EXAMPLES,
    TEST_IMAGES,
    make_app,
    services,
)

OBAMA_ENROL = [EXAMPLES / "obama.jpg", EXAMPLES / "obama-720p.jpg", TEST_IMAGES / "obama3.jpg"]
OBAMA_PROBE = EXAMPLES / "obama2.jpg"
BIDEN = EXAMPLES / "biden.jpg"


def files(field: str, paths: list[Path | bytes]) -> dict[str, Any]:
    return {
        field: [
            (io.BytesIO(p.read_bytes() if isinstance(p, Path) else p), f"f{i}.jpg")
            for i, p in enumerate(paths)
        ]
    }


class Api:
    """A test client that sends one organisation's key, with a few shortcuts."""

    def __init__(self, client: Any, key: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def __getattr__(self, method: str) -> Any:
        def call(url: str, **kwargs: Any) -> Any:
            return getattr(self.client, method)(url, headers=self.headers, **kwargs)

        return call

    def subject(self, name: str) -> str:
        r = self.post("/v1/subjects", json={"name": name})
        assert r.status_code == 201, r.json
        return str(r.json["id"])

    def enrol(self, subject_id: str, paths: list[Path | bytes], field: str = "images") -> Any:
        return self.post(f"/v1/subjects/{subject_id}/enrollments", data=files(field, paths))

    def unlock(self, lock_id: str, paths: list[Path | bytes]) -> Any:
        return self.post(f"/v1/locks/{lock_id}/unlock", data=files("frames", paths))


@pytest.fixture
def org(store_config):
    """An app on a fresh store, with admin keys for organisations 'acme' and 'other'."""
    config = {**store_config, "FACEID_LOCKOUT_ATTEMPTS": 5}
    app = make_app(**config)
    store = services(app).store
    keys = {scope: create_key(store, "acme", scope)[1] for scope in ("admin", "enroll", "unlock")}
    other = create_key(store, "other", "admin")[1]
    client = app.test_client()
    return type(
        "Org",
        (),
        {
            "admin": Api(client, keys["admin"]),
            "enroll": Api(client, keys["enroll"]),
            "unlock": Api(client, keys["unlock"]),
            "other": Api(client, other),
            "client": client,
            "config": config,
            "store": store,
        },
    )


@pytest.fixture
def obama(org):
    sid = org.admin.subject("obama")
    r = org.admin.enrol(sid, OBAMA_ENROL)
    assert r.status_code == 201, r.json
    lock = org.admin.post("/v1/locks", json={"name": "front door", "liveness": "off"}).json["id"]
    assert org.admin.put(f"/v1/locks/{lock}/grants/{sid}").status_code == 201
    return sid, lock
