"""Escalating lockouts, attacked end to end: a real gunicorn (2 workers) on loopback, on
SQLite and PostgreSQL, short times so the test waits seconds, not hours.

A door key holder presents a stranger's face again and again: each lockout with no
success since the last lasts twice as long (up to ``FACEID_LOCKOUT_MAX_S``); failures
spaced out to stay under the short window's limit are still counted by the day's budget;
an admin's reset reopens the door at once and starts the escalation again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from ..conftest import EXAMPLES, needs_faces
from ..server import Server, running

pytestmark = [needs_faces, pytest.mark.slow]

OWNER, STRANGER = EXAMPLES / "obama.jpg", EXAMPLES / "biden.jpg"
SETTINGS = {
    "FACEID_LOCKOUT_ATTEMPTS": "2",  # failures per window ...
    "FACEID_LOCKOUT_WINDOW_S": "2",
    "FACEID_LOCKOUT_S": "1",  # ... then shut for 1, 2, 4 s
    "FACEID_LOCKOUT_MAX_S": "4",
    "FACEID_LOCKOUT_DAY_FACTOR": "3",  # and 6 failures a day, then shut for the 4 s cap
}


@pytest.fixture
def server(store_config: dict[str, Any]) -> Iterator[Server]:
    with running(store_config, **SETTINGS) as srv:
        yield srv


def test_lockouts_escalate_count_spaced_failures_and_reset_by_an_admin(server: Server) -> None:
    admin, door = server.key("acme", "admin"), server.key("acme", "unlock")

    def call(key: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {key}"}
        return requests.request(method, server.base + path, headers=headers, timeout=60, **kwargs)

    owner = call(admin, "POST", "/v1/subjects", json={"name": "owner"}).json()["id"]
    photo = [("images", (OWNER.name, OWNER.read_bytes()))]
    assert call(admin, "POST", f"/v1/subjects/{owner}/enrollments", files=photo).status_code == 201
    lock = call(admin, "POST", "/v1/locks", json={"name": "front", "liveness": "off"}).json()["id"]
    assert call(admin, "PUT", f"/v1/locks/{lock}/grants/{owner}").status_code == 201

    def unlock(face: Any = STRANGER) -> requests.Response:
        sent = [("frames", (face.name, face.read_bytes()))]
        return call(door, "POST", f"/v1/locks/{lock}/unlock", files=sent)

    def burst() -> int:
        """The stranger's face until the door shuts: how long it shuts for."""
        first, second = unlock().json(), unlock().json()
        assert first["reason"] == second["reason"] == "no_match"
        assert "locked_out_for_s" not in first
        refused = unlock()
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_attempts"
        assert int(refused.headers["Retry-After"]) <= second["locked_out_for_s"]
        return int(second["locked_out_for_s"])

    shut = burst()
    time.sleep(shut + 0.2)
    assert (shut, burst()) == (1, 2)  # the second lockout in a row lasts twice as long
    time.sleep(2.2)
    # spaced out: one failure per short window never fills it, but the day's budget of
    # 2 x 3 failures is spent by the sixth
    assert "locked_out_for_s" not in unlock().json()
    time.sleep(2.1)
    sixth = unlock().json()
    assert sixth["reason"] == "no_match" and sixth["locked_out_for_s"] == 4  # the cap, at once
    assert unlock(OWNER).status_code == 429  # even the owner waits

    r = call(door, "DELETE", f"/v1/locks/{lock}/lockout")
    assert r.status_code == 403  # only an admin reopens a door
    r = call(admin, "DELETE", f"/v1/locks/{lock}/lockout")
    assert r.status_code == 200 and r.json() == {"lock_id": lock, "reset": True}
    assert call(admin, "DELETE", "/v1/locks/nope/lockout").status_code == 404
    opened = unlock(OWNER)
    assert opened.status_code == 200 and opened.json()["verdict"] == "unlock"
    assert burst() == 1  # the escalation starts again
    audit = call(admin, "GET", "/v1/audit", params={"lock_id": lock, "limit": 500}).json()
    assert "lock.lockout_reset" in {e["action"] for e in audit["items"]}


@pytest.fixture
def thrifty(store_config: dict[str, Any]) -> Iterator[Server]:
    with running(store_config, FACEID_REFUND_ATTEMPTS="3") as srv:
        yield srv


def test_calls_that_find_no_face_are_not_free(thrifty: Server, tmp_path) -> None:
    """A door key sends faceless images: each is refunded from the failure budgets (no
    failure counted) but spends the key's and the lock's work budget, so the fourth is 429."""
    import cv2
    import numpy as np

    admin, door = thrifty.key("acme", "admin"), thrifty.key("acme", "unlock")

    def call(key: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {key}"}
        return requests.request(method, thrifty.base + path, headers=headers, timeout=60, **kwargs)

    lock = call(admin, "POST", "/v1/locks", json={"name": "front", "liveness": "off"}).json()["id"]
    noise = np.random.default_rng(3).integers(0, 255, (1200, 1600, 3), dtype=np.uint8)
    blank = cv2.imencode(".png", noise)[1].tobytes()
    sent = [("frames", ("noise.png", blank))]
    codes = [call(door, "POST", f"/v1/locks/{lock}/unlock", files=sent) for _ in range(4)]
    assert [r.status_code for r in codes[:3]] == [422] * 3
    assert {r.json()["error"]["code"] for r in codes[:3]} == {"no_face"}
    assert codes[3].status_code == 429 and "nothing to judge" in codes[3].json()["error"]["message"]
    assert int(codes[3].headers["Retry-After"]) > 0
    audit = call(admin, "GET", "/v1/audit", params={"lock_id": lock}).json()["items"]
    assert not [e for e in audit if e["action"] == "unlock"]  # nothing judged, nothing failed
    everything = call(admin, "GET", "/v1/audit").json()["items"]
    refused = [e for e in everything if e["action"] == "attempts.refused"]
    assert refused and refused[0]["detail"]["reason"].endswith("_work")
    r = call(admin, "DELETE", f"/v1/locks/{lock}/lockout")  # an admin reopens the door
    assert r.status_code == 200
