"""Two faceid hosts on one PostgreSQL, as behind a load balancer: what one does, the other
sees at once, and one host killed mid-request leaves the other serving.

Each host is a real gunicorn (2 workers) on its own loopback address (127.0.0.2 and
127.0.0.3). Enrolment, grants, key revocation, lockouts and erasure made through one are
checked through the other at once: nothing a host keeps in memory (a worker's gallery
index, its key cache) may outlive what the database says.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest
import requests

from .conftest import EXAMPLES, needs_faces
from .server import Server

pytestmark = [needs_faces, pytest.mark.slow]

OWNER, AGAIN, STRANGER = EXAMPLES / "obama.jpg", EXAMPLES / "obama2.jpg", EXAMPLES / "biden.jpg"
SETTINGS = {"FACEID_LOCKOUT_ATTEMPTS": "6", "FACEID_LOCKOUT_S": "60"}


@pytest.fixture
def hosts(postgres: Any) -> Iterator[tuple[Server, Server]]:
    database = {"FACEID_DATABASE_URL": postgres.new_database(), **SETTINGS}
    one, two = Server(database, host="127.0.0.2"), Server(database, host="127.0.0.3")
    one.start()
    try:
        two.start()
        try:
            yield one, two
        finally:
            two.stop()
    finally:
        one.stop()


def call(host: Server, key: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"}
    return requests.request(method, host.base + path, headers=headers, timeout=120, **kwargs)


def unlock(host: Server, key: str, lock: str, face: Any) -> requests.Response:
    sent = [("frames", (face.name, face.read_bytes()))]
    return call(host, key, "POST", f"/v1/locks/{lock}/unlock", files=sent)


def test_what_one_host_does_the_other_sees_at_once(hosts: tuple[Server, Server]) -> None:
    one, two = hosts
    admin = one.key("acme", "admin")
    owner = call(one, admin, "POST", "/v1/subjects", json={"name": "owner"}).json()["id"]
    lock = call(one, admin, "POST", "/v1/locks", json={"name": "front", "liveness": "off"})
    lock = lock.json()["id"]
    door = call(two, admin, "POST", "/v1/keys", json={"scope": "unlock", "locks": [lock]}).json()
    # the door is asked through host two before anyone is enrolled: its workers have a
    # gallery (empty) in memory that enrolment on host one must not leave stale
    assert unlock(two, door["key"], lock, OWNER).json()["verdict"] == "locked"
    photo = [("images", (OWNER.name, OWNER.read_bytes()))]
    assert call(one, admin, "POST", f"/v1/subjects/{owner}/enrollments", files=photo).ok
    assert call(one, admin, "PUT", f"/v1/locks/{lock}/grants/{owner}").status_code == 201
    for _ in range(4):  # each of host two's workers: enrolment and grant seen at once
        assert unlock(two, door["key"], lock, AGAIN).json()["verdict"] == "unlock"

    assert call(one, admin, "DELETE", f"/v1/locks/{lock}/grants/{owner}").ok
    for _ in range(4):
        assert unlock(two, door["key"], lock, AGAIN).json()["verdict"] == "locked"
    assert call(two, admin, "PUT", f"/v1/locks/{lock}/grants/{owner}").status_code == 201
    assert unlock(one, door["key"], lock, AGAIN).json()["verdict"] == "unlock"

    assert call(one, admin, "DELETE", f"/v1/keys/{door['id']}").ok  # revoked on one
    for _ in range(4):
        assert unlock(two, door["key"], lock, AGAIN).status_code == 401

    def door_for(host: Server, name: str) -> tuple[str, str]:
        """A new door, with its own budget, granted to the owner, and a key for it."""
        made = call(host, admin, "POST", "/v1/locks", json={"name": name, "liveness": "off"})
        found = made.json()["id"]
        assert call(host, admin, "PUT", f"/v1/locks/{found}/grants/{owner}").ok
        body = {"scope": "unlock", "locks": [found]}
        return found, call(host, admin, "POST", "/v1/keys", json=body).json()["key"]

    back, key = door_for(one, "back")
    for _ in range(6):  # a stranger spends the door's budget on host one ...
        assert unlock(one, key, back, STRANGER).json()["reason"] == "no_match"
    shut = unlock(two, key, back, AGAIN)  # ... and the owner waits on host two
    assert shut.status_code == 429 and shut.json()["error"]["code"] == "too_many_attempts"
    assert call(two, admin, "DELETE", f"/v1/locks/{back}/lockout").ok  # an admin reopens it
    assert unlock(one, key, back, AGAIN).json()["verdict"] == "unlock"

    side, key = door_for(two, "side")
    assert unlock(one, key, side, AGAIN).json()["verdict"] == "unlock"
    assert call(two, admin, "DELETE", f"/v1/subjects/{owner}").ok  # erased on two
    for _ in range(4):
        assert unlock(one, key, side, AGAIN).json()["verdict"] == "locked"
    assert call(one, admin, "GET", f"/v1/subjects/{owner}").status_code == 404


def test_a_host_killed_mid_request_leaves_the_other_serving(
    hosts: tuple[Server, Server],
) -> None:
    one, two = hosts
    admin = one.key("acme", "admin")
    owner = call(one, admin, "POST", "/v1/subjects", json={"name": "owner"}).json()["id"]
    photo = [("images", (OWNER.name, OWNER.read_bytes()))]
    assert call(one, admin, "POST", f"/v1/subjects/{owner}/enrollments", files=photo).ok
    lock = call(one, admin, "POST", "/v1/locks", json={"name": "front", "liveness": "off"})
    lock = lock.json()["id"]
    assert call(one, admin, "PUT", f"/v1/locks/{lock}/grants/{owner}").status_code == 201
    door = one.key("acme", "unlock")

    answers: list[Any] = []

    ramp = np.tile(np.linspace(0, 255, 6400, dtype=np.uint8), (5000, 1))  # 32 MP, no face
    blank = cv2.imencode(".png", np.dstack([ramp] * 3))[1].tobytes()  # a small upload
    # three decoded in full (seconds of work), then the owner's photo, which would be
    # enrolled had the request finished
    many = [("images", (f"b{i}.png", blank)) for i in range(3)]
    many.append(("images", (AGAIN.name, AGAIN.read_bytes())))
    path = f"/v1/subjects/{owner}/enrollments"

    def slow_enrolment() -> None:
        try:
            answers.append(call(one, admin, "POST", path, files=many))
        except requests.RequestException as exc:
            answers.append(exc)

    started = threading.Thread(target=slow_enrolment)
    started.start()
    threading.Event().wait(0.8)
    assert one.proc is not None
    os.killpg(one.proc.pid, signal.SIGKILL)  # the whole host: master and workers
    started.join(60)
    assert answers and isinstance(answers[0], requests.RequestException), answers
    for _ in range(4):
        assert unlock(two, door, lock, AGAIN).json()["verdict"] == "unlock"
    subject = call(two, admin, "GET", f"/v1/subjects/{owner}").json()
    assert subject["templates"] == 1  # the killed enrolment stored nothing
