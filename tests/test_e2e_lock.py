"""The face-ID lock end to end: a real gunicorn (2 workers) on loopback, SQLite and PostgreSQL.

Keys come from the ``faceid keys create`` command; everything else goes over HTTP.
The server is restarted half-way to show the lockout survives restarts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest
import requests

from .conftest import EXAMPLES, TEST_IMAGES, needs_faces
from .media import letterbox, write_clip
from .server import Server

pytestmark = [needs_faces, pytest.mark.slow]


@pytest.fixture
def server(store_config: dict[str, Any]) -> Iterator[Server]:
    srv = Server({k: str(v) for k, v in store_config.items()})
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def call(srv: Server, key: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method, srv.base + path, headers={"Authorization": f"Bearer {key}"}, timeout=120, **kwargs
    )


def frames(*paths: Path, field: str = "frames") -> list[tuple[str, tuple[str, bytes]]]:
    return [(field, (p.name, p.read_bytes())) for p in paths]


def obama_clip(tmp_path: Path) -> bytes:
    stills = [
        EXAMPLES / "obama.jpg",
        EXAMPLES / "obama-720p.jpg",
        EXAMPLES / "obama-1080p.jpg",
        TEST_IMAGES / "obama3.jpg",
    ]
    shots = [letterbox(cv2.imread(str(p)), (640, 480)) for p in stills]
    return write_clip(tmp_path / "selfie.avi", [s for s in shots for _ in range(5)]).read_bytes()


def test_enrol_unlock_lockout_isolation_erasure_audit(server: Server, tmp_path: Path) -> None:
    admin = server.key("acme", "admin")
    door = server.key("acme", "unlock")
    stranger = server.key("globex", "admin")

    r = call(server, admin, "POST", "/v1/subjects", json={"name": "Barack Obama"})
    assert r.status_code == 201
    obama = r.json()["id"]
    r = call(
        server,
        admin,
        "POST",
        f"/v1/subjects/{obama}/enrollments",
        files=frames(EXAMPLES / "obama.jpg", TEST_IMAGES / "obama3.jpg", field="images"),
    )
    assert r.status_code == 201, r.text
    r = call(
        server,
        admin,
        "POST",
        f"/v1/subjects/{obama}/enrollments",
        files=[("video", ("selfie.avi", obama_clip(tmp_path)))],
    )
    assert r.status_code == 201, r.text
    assert r.json()["frames_sampled"] == 16 and len(r.json()["templates"]) >= 3

    opted_out = {"liveness": "off"}  # frame unlock: liveness has its own end-to-end test
    front = call(server, admin, "POST", "/v1/locks", json={"name": "front", **opted_out}).json()
    back = call(server, admin, "POST", "/v1/locks", json={"name": "back", **opted_out}).json()
    front, back = front["id"], back["id"]
    for lock in (front, back):
        assert call(server, admin, "PUT", f"/v1/locks/{lock}/grants/{obama}").status_code == 201

    r = call(
        server, door, "POST", f"/v1/locks/{front}/unlock", files=frames(EXAMPLES / "obama2.jpg")
    )
    assert r.json()["verdict"] == "unlock" and r.json()["subject"]["id"] == obama
    for _ in range(5):  # spread over both workers
        r = call(
            server, door, "POST", f"/v1/locks/{front}/unlock", files=frames(EXAMPLES / "biden.jpg")
        )
        assert r.status_code == 200 and r.json()["verdict"] == "locked"
    r = call(
        server, door, "POST", f"/v1/locks/{front}/unlock", files=frames(EXAMPLES / "obama2.jpg")
    )
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0

    server.stop()
    server.start()
    r = call(
        server, door, "POST", f"/v1/locks/{front}/unlock", files=frames(EXAMPLES / "obama2.jpg")
    )
    assert r.status_code == 429, "the lockout must survive a restart"

    assert call(server, stranger, "GET", f"/v1/subjects/{obama}").status_code == 404
    assert call(server, stranger, "DELETE", f"/v1/subjects/{obama}").status_code == 404
    assert (
        call(
            server,
            stranger,
            "POST",
            f"/v1/locks/{back}/unlock",
            files=frames(EXAMPLES / "obama2.jpg"),
        ).status_code
        == 404
    )

    r = call(
        server, door, "POST", f"/v1/locks/{back}/unlock", files=frames(EXAMPLES / "obama2.jpg")
    )
    assert r.json()["verdict"] == "unlock"
    assert call(server, admin, "DELETE", f"/v1/subjects/{obama}").status_code == 200
    for _ in range(2):  # both workers see the erasure
        r = call(
            server, door, "POST", f"/v1/locks/{back}/unlock", files=frames(EXAMPLES / "obama2.jpg")
        )
        assert r.json()["verdict"] == "locked" and r.json()["subject"] is None

    story = [
        (e["action"], e["lock_id"], e["subject_id"], e["verdict"])
        for e in call(server, admin, "GET", "/v1/audit?limit=500").json()["items"]
    ]
    actions = [s[0] for s in story]
    assert actions.count("enrollment") == 2
    assert ("unlock", front, obama, "unlock") in story
    assert sum(1 for s in story if s[:2] == ("unlock", front) and s[3] == "locked") == 5
    # two refused requests, one lockout: one audit row per lockout, not one per request
    assert actions.count("attempts.refused") == 1
    assert actions.index("subject.delete") < len(story) - 2
    assert story[-1] == ("unlock", back, None, "locked")
    only_back = call(server, admin, "GET", f"/v1/audit?lock_id={back}").json()["items"]
    assert {e["lock_id"] for e in only_back} == {back}
