"""A door key that reads a challenge's first cue and, when it does not suit the recording
it holds, covers the lens to draw another: each faceless answer is a failure, not a
refunded retry, so the lock's attempts run out and no sixth challenge is issued."""

from __future__ import annotations

import time

import numpy as np

from faceid.liveness.evalset import encode

from .conftest import Site

WALL = encode([np.full((360, 480, 3), 128, np.uint8)] * 45, 15.0)  # 3 s of a covered lens


def test_covering_the_lens_does_not_draw_challenges_for_free(site: Site):
    lock = site.call(
        site.admin, "POST", "/v1/locks", json={"name": "redraw", "liveness": "challenge"}
    ).json()["id"]
    door = site.new_key("unlock", (lock,))
    for _ in range(5):  # the lock's attempts (FACEID_LOCKOUT_ATTEMPTS)
        r = site.call(door, "POST", f"/v1/locks/{lock}/challenges")
        assert r.status_code == 201, r.text
        time.sleep(2.6)  # the clip may be at most as old as its challenge, plus 0.5 s
        files = [("video", ("wall.mp4", WALL))]
        data = {"challenge_id": r.json()["challenge_id"]}
        answer = site.call(door, "POST", f"/v1/locks/{lock}/unlock", files=files, data=data)
        assert answer.json()["verdict"] == "locked", answer.text
        assert answer.json()["reason"] == "face_lost", answer.text
    refused = site.call(door, "POST", f"/v1/locks/{lock}/challenges")
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "too_many_attempts"
