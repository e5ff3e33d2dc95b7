"""Liveness end to end on a real gunicorn (2 workers), as a door client sees it.

The service runs with ``FACEID_CHALLENGE_ACTIONS=turn_left,turn_right`` (the setting for
tests and demos), so a real clip of the person turning left then right can answer the
challenge it is issued. Challenges are issued by one request and answered by another,
whichever worker takes them: the store is what both read.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from faceid.liveness.evalset import PERSON_CLIP, encode, photo_motions, read_clip

from .conftest import FACES, ROOT, SHARED, needs_faces
from .server import Server
from .test_e2e_lock import call

pytestmark = [needs_faces, pytest.mark.slow]
CLIP = FACES / "liveness" / PERSON_CLIP


@pytest.fixture
def server(store_config: dict[str, Any]) -> Iterator[Server]:
    env = {**store_config, "FACEID_CHALLENGE_ACTIONS": "turn_left,turn_right"}
    srv = Server({k: str(v) for k, v in env.items()})
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def clip(start: float, end: float) -> bytes:
    frames, fps = read_clip(CLIP, start, end)
    return encode(frames, fps)


def answer(server: Server, door: str, lock: str, video: bytes) -> requests.Response:
    r = call(server, door, "POST", f"/v1/locks/{lock}/challenges")
    assert r.status_code == 201, r.text
    assert r.json()["actions"] == ["turn_left", "turn_right"]
    files = [("video", ("clip.mp4", video))]
    data = {"challenge_id": r.json()["challenge_id"]}
    reply = call(server, door, "POST", f"/v1/locks/{lock}/unlock", files=files, data=data)
    reply.challenge_id = data["challenge_id"]  # type: ignore[attr-defined]
    return reply


def test_a_challenge_lock_opens_only_for_a_live_answer(server: Server) -> None:
    assert "FACEID_CHALLENGE_ACTIONS is set" in server.log_text()
    admin = server.key("acme", "admin")
    door = server.key("acme", "unlock")
    person = call(server, admin, "POST", "/v1/subjects", json={"name": "Franck"}).json()["id"]
    r = call(
        server,
        admin,
        "POST",
        f"/v1/subjects/{person}/enrollments",
        files=[("video", ("enrol.mp4", clip(16.0, 20.0)))],
    )
    assert r.status_code == 201, r.text
    r = call(server, admin, "POST", "/v1/locks", json={"name": "front"})
    lock = r.json()["id"]
    assert r.json()["liveness"] == "challenge"
    call(server, admin, "PUT", f"/v1/locks/{lock}/grants/{person}")

    # a photo of the granted person: frames alone are refused, and so is the photo moved
    # as a sheet of paper in front of the camera
    still = read_clip(CLIP, 18.5, 18.55)[0][0]
    photo = encode([still], 1.0)
    r = call(server, door, "POST", f"/v1/locks/{lock}/unlock", files=[("video", ("p.mp4", photo))])
    assert r.status_code == 409 and r.json()["error"]["code"] == "liveness_required"
    tilted = encode(photo_motions(still)["photo_tilt_left_right"], 15.0)
    r = answer(server, door, lock, tilted)
    assert r.json()["verdict"] == "locked" and r.json()["reason"] == "not_live", r.text

    # a real clip of the person, replayed: it turns right then left, not left then right
    r = answer(server, door, lock, clip(3.3, 8.0))
    assert r.json()["verdict"] == "locked", r.text
    assert r.json()["reason"] == "challenge_failed:turn_left"

    # the person turning left then right, answering the challenge: the door opens, once
    live = clip(8.5, 13.5)
    r = answer(server, door, lock, live)
    assert r.status_code == 200 and r.json()["verdict"] == "unlock", r.text
    assert r.json()["subject"]["id"] == person
    files = [("video", ("clip.mp4", live))]
    again = call(
        server,
        door,
        "POST",
        f"/v1/locks/{lock}/unlock",
        files=files,
        data={"challenge_id": r.challenge_id},  # type: ignore[attr-defined]
    )
    assert again.json()["verdict"] == "locked" and again.json()["reason"] == "challenge_used"
    assert "similarit" not in again.text

    events = call(server, admin, "GET", f"/v1/audit?lock_id={lock}").json()["items"]
    unlocks = [e for e in events if e["action"] == "unlock"]
    assert [e["detail"]["reason"] for e in unlocks][-4:] == [
        "not_live",
        "challenge_failed:turn_left",
        "match",
        "challenge_used",
    ]
    assert unlocks[-2]["detail"]["events"]  # what the clip showed is kept for the admin


def test_readme_liveness_walkthrough(server: Server) -> None:
    """README's liveness walkthrough, run as it is against this server."""
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.S)
    (block,) = [b for b in blocks if b.startswith("# liveness walkthrough")]
    script = block.replace("http://127.0.0.1:8000", server.base).replace("../shared", str(SHARED))
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    enrolled, grant, photo, challenge, opened, again = [
        json.loads(line) for line in result.stdout.splitlines() if line.strip()
    ]
    assert enrolled["templates"] >= 3 and grant["granted"] is True
    assert photo["error"]["code"] == "liveness_required"
    assert challenge["actions"] == ["turn_left", "turn_right"]
    assert opened["verdict"] == "unlock" and opened["subject"]["name"] == "Franck", opened
    assert again["verdict"] == "locked" and again["reason"] == "challenge_used"
