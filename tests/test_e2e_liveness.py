"""Liveness end to end on a real gunicorn (2 workers), as a door client sees it.

The first service runs with ``FACEID_CHALLENGE_ACTIONS=turn_left,turn_right`` and
``FACEID_CHALLENGE_SCHEDULE=off`` (the settings for tests and demos), so a real clip of the
person turning left then right can answer the challenge it is issued, for its motion
alone. The second keeps the schedule: only a clip whose motions follow the cues it reveals,
recorded after the challenge was issued, opens. Challenges are issued by one request and
answered by another, whichever worker takes them: the store is what both read.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from faceid.liveness.evalset import PACED, PERSON_CLIP, encode, paced, read_clip
from faceid.liveness.prints import photo_motions

from .conftest import FACES, ROOT, SHARED, needs_faces
from .server import Server
from .test_e2e_lock import call

pytestmark = [needs_faces, pytest.mark.slow]
CLIP = FACES / "liveness" / PERSON_CLIP


@pytest.fixture
def server(store_config: dict[str, Any]) -> Iterator[Server]:
    env = {
        **store_config,
        "FACEID_CHALLENGE_ACTIONS": "turn_left,turn_right",
        "FACEID_CHALLENGE_SCHEDULE": "off",
    }
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
    assert [c["action"] for c in r.json()["cues"]] == ["turn_left", "turn_right"]
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
    assert [c["action"] for c in challenge["cues"]] == ["turn_left", "turn_right"]
    assert opened["verdict"] == "unlock" and opened["subject"]["name"] == "Franck", opened
    assert again["verdict"] == "locked" and again["reason"] == "challenge_used"


@pytest.fixture
def timed(store_config: dict[str, Any]) -> Iterator[Server]:
    """A service that keeps the schedule; its challenges ask what the paced clip does."""
    actions = ",".join(action for _, action in PACED)
    srv = Server(
        {**{k: str(v) for k, v in store_config.items()}, "FACEID_CHALLENGE_ACTIONS": actions}
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def cues_of(server: Server, door: str, lock: str, challenge: dict[str, Any]) -> list[float]:
    """Every cue of ``challenge``, asked for as each comes due, as a door does."""
    url = f"/v1/locks/{lock}/challenges/{challenge['challenge_id']}"
    while challenge["next_cue_in_s"] is not None:
        time.sleep(challenge["next_cue_in_s"] + 0.05)
        challenge = call(server, door, "GET", url).json()
    return [c["at_s"] for c in challenge["cues"]]


def test_only_a_clip_that_follows_its_own_cues_opens(timed: Server) -> None:
    """The person's real motions paced to the cues of the challenge being answered open
    the door; the same motions paced to another challenge's cues (an earlier recording),
    and the clip as it was recorded before the challenge existed, do not."""
    admin = timed.key("acme", "admin")
    door = timed.key("acme", "unlock")
    person = call(timed, admin, "POST", "/v1/subjects", json={"name": "Franck"}).json()["id"]
    r = call(
        timed,
        admin,
        "POST",
        f"/v1/subjects/{person}/enrollments",
        files=[("video", ("enrol.mp4", clip(16.0, 20.0)))],
    )
    assert r.status_code == 201, r.text
    lock = call(timed, admin, "POST", "/v1/locks", json={"name": "front"}).json()["id"]
    call(timed, admin, "PUT", f"/v1/locks/{lock}/grants/{person}")
    frames, fps = read_clip(CLIP)

    def issue() -> dict[str, Any]:
        r = call(timed, door, "POST", f"/v1/locks/{lock}/challenges")
        assert r.status_code == 201, r.text
        assert len(r.json()["cues"]) == 1 and r.json()["count"] == len(PACED)
        return dict(r.json())

    def post(challenge: dict[str, Any], video: bytes) -> dict[str, Any]:
        data = {"challenge_id": challenge["challenge_id"]}
        files = [("video", ("clip.mp4", video))]
        return dict(
            call(timed, door, "POST", f"/v1/locks/{lock}/unlock", files=files, data=data).json()
        )

    # the recording as it was made, sent as soon as the challenge is issued
    challenge = issue()
    start = PACED[0][0] - 0.6
    r = post(challenge, clip(start, start + 6.0))
    assert r["verdict"] == "locked" and r["reason"] == "clip_too_long", r

    # the person's motions paced to another challenge's cues: 1.5 s off at the second
    def after(issued: float, video: list[Any]) -> bytes:
        """``video``, once it is no longer than the challenge is old (as a door sends it)."""
        time.sleep(max(0.0, len(video) / fps - (time.monotonic() - issued)))
        return encode(video, fps)

    challenge = issue()
    issued = time.monotonic()
    cues = cues_of(timed, door, lock, challenge)
    moved = cues[1] + 1.5 if cues[1] + 1.5 <= 4.0 else cues[1] - 1.5
    other = [0.0, moved, moved + cues[2] - cues[1]]
    r = post(challenge, after(issued, paced(frames, fps, other)))
    assert r["verdict"] == "locked" and r["reason"] == "challenge_timing", (cues, other, r)

    # the person answering this challenge: each motion 0.6 s after its cue
    challenge = issue()
    issued = time.monotonic()
    cues = cues_of(timed, door, lock, challenge)
    r = post(challenge, after(issued, paced(frames, fps, cues)))
    assert r["verdict"] == "unlock" and r["subject"]["id"] == person, (cues, r)
    events = call(timed, admin, "GET", f"/v1/audit?lock_id={lock}").json()["items"]
    unlocks = [e["detail"] for e in events if e["action"] == "unlock"]
    assert [u["reason"] for u in unlocks] == ["clip_too_long", "challenge_timing", "match"]
    assert unlocks[-1]["cues"] == cues  # the schedule the answer was judged on is kept
