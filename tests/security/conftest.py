"""A real gunicorn for the attacks, with one organisation: obama enrolled and granted on
a door, and keys of every scope. Each test performs one attack over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from ..conftest import EXAMPLES, TEST_IMAGES, needs_faces
from ..server import Server

OBAMA = EXAMPLES / "obama2.jpg"
BIDEN = EXAMPLES / "biden.jpg"
STRANGER = EXAMPLES / "alex-lacamoire.png"


@dataclass
class Site:
    server: Server
    admin: str
    enroll: str
    door: str
    obama: str
    lock: str

    def call(self, key: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {key}"}
        return requests.request(
            method, self.server.base + path, headers=headers, timeout=120, **kwargs
        )

    def unlock(self, key: str, lock: str, image: Path) -> requests.Response:
        files = [("frames", (image.name, image.read_bytes()))]
        return self.call(key, "POST", f"/v1/locks/{lock}/unlock", files=files)

    def new_key(self, scope: str, locks: tuple[str, ...] = ()) -> str:
        """A fresh key (over HTTP, as an admin would), so attacks do not share budgets."""
        body = {"scope": scope, "locks": list(locks)}
        r = self.call(self.admin, "POST", "/v1/keys", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["key"])

    def new_lock(self, name: str, grant: str | None = None) -> str:
        lock = self.call(
            self.admin, "POST", "/v1/locks", json={"name": name, "liveness": "off"}
        ).json()["id"]
        if grant:
            assert self.call(self.admin, "PUT", f"/v1/locks/{lock}/grants/{grant}").ok
        return str(lock)

    def audit(self, action: str, **match: Any) -> list[dict[str, Any]]:
        items = self.call(self.admin, "GET", "/v1/audit?limit=500").json()["items"]
        return [
            e
            for e in items
            if e["action"] == action and all(e.get(k) == v for k, v in match.items())
        ]


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not EXAMPLES.is_dir():
        pytest.skip(f"shared face images not found at {EXAMPLES}")
    data = tmp_path_factory.mktemp("security")
    server = Server(
        {
            "FACEID_DATA_DIR": str(data),
            "FACEID_KEY_ATTEMPTS": "8",
            "FACEID_OPEN_RATE_LIMIT": "40/minute",
            "FACEID_COMPARE_RATE_LIMIT": "40/minute",
        }
    )
    server.start()
    try:
        admin = server.key("acme", "admin")
        site = Site(
            server, admin, server.key("acme", "enroll"), server.key("acme", "unlock"), "", ""
        )
        site.obama = site.call(admin, "POST", "/v1/subjects", json={"name": "obama"}).json()["id"]
        images = [
            ("images", (p.name, p.read_bytes()))
            for p in (EXAMPLES / "obama.jpg", TEST_IMAGES / "obama3.jpg")
        ]
        r = site.call(admin, "POST", f"/v1/subjects/{site.obama}/enrollments", files=images)
        assert r.status_code == 201, r.text
        site.lock = site.new_lock("front", grant=site.obama)
        yield site
    finally:
        server.stop()


pytestmark = needs_faces
