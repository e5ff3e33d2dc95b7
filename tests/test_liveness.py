"""Liveness challenges through the API: issued to a door for its lock, revealed cue by
cue, answered once, refused for bad or late answers, and spent from the attempt budgets
(a refusal is a failure; evidence too thin to judge is refunded)."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest

from faceid.liveness.challenge import (
    ACTIONS,
    GAP_S,
)
from faceid.liveness.evalset import PERSON_CLIP, encode, read_clip
from faceid.lock.keys import create_key

from .conftest import FACES, error_code, make_app, needs_faces, services

LIVENESS = FACES / "liveness"


def test_cues_are_revealed_at_their_time(acme):
    """The door learns each action only when its cue is due (a schedule of 0.4 s gaps,
    fixed the way the evaluation fixes one)."""
    from faceid.lock import liveness
    from faceid.lock.context import Context
    from faceid.lock.keys import authenticate

    app, client, _, lock, _, door = acme
    svc = services(app)
    key = door["Authorization"].split()[1]
    with app.app_context():
        ctx = Context(
            svc.store, svc.index, svc.pipeline, svc.settings, authenticate(svc.store, key), svc.card
        )
        body = liveness.issue(
            ctx, f"lock:{lock['id']}", ["turn_left", "blink", "turn_right"], [0.0, 0.4, 0.8]
        )
    assert [c["action"] for c in body["cues"]] == ["turn_left"]
    url = f"/v1/locks/{lock['id']}/challenges/{body['challenge_id']}"
    time.sleep(max(body["next_cue_in_s"], 0) + 0.05)
    shown = client.get(url, headers=door).json
    assert [(c["action"], c["at_s"]) for c in shown["cues"]] == [("turn_left", 0.0), ("blink", 0.4)]
    assert 0 < shown["next_cue_in_s"] <= 0.4
    time.sleep(shown["next_cue_in_s"] + 0.05)
    shown = client.get(url, headers=door).json
    assert len(shown["cues"]) == 3 and shown["next_cue_in_s"] is None


@pytest.fixture
def acme(store_config):
    app = make_app(**store_config)
    store = services(app).store
    admin = {"Authorization": f"Bearer {create_key(store, 'acme', 'admin')[1]}"}
    client = app.test_client()
    lock = client.post("/v1/locks", json={"name": "front"}, headers=admin).json
    other = client.post("/v1/locks", json={"name": "back"}, headers=admin).json
    door = create_key(store, "acme", "unlock")[1]  # unbound: any lock of acme
    return app, client, admin, lock, other, {"Authorization": f"Bearer {door}"}


def test_new_locks_require_a_challenge_by_default(acme):
    _, client, admin, lock, _, door = acme
    assert lock["liveness"] == "challenge"
    photo = (FACES / "face_recognition" / "examples" / "obama.jpg").read_bytes()
    r = client.post(
        f"/v1/locks/{lock['id']}/unlock",
        data={"frames": (io.BytesIO(photo), "a.jpg")},
        headers=door,
    )
    assert r.status_code == 409 and r.json["error"]["code"] == "liveness_required"
    assert "challenges" in r.json["error"]["message"]
    r = client.patch(f"/v1/locks/{lock['id']}", json={"liveness": "off"}, headers=admin)
    assert r.status_code == 200 and r.json["liveness"] == "off" and r.json["level"] == "standard"
    r = client.post(
        f"/v1/locks/{lock['id']}/unlock",
        data={"frames": (io.BytesIO(photo), "a.jpg")},
        headers=door,
    )
    assert r.status_code == 200 and r.json["verdict"] == "locked"
    audit = client.get("/v1/audit", headers=admin).json["items"]
    policy = [e for e in audit if e["action"] == "lock.policy"][-1]["detail"]
    assert policy["previous"] == {"liveness": "challenge"}


def test_a_setting_makes_new_locks_frame_only(store_config):
    app = make_app(**store_config, FACEID_LOCK_LIVENESS="off")
    admin = create_key(services(app).store, "acme", "admin")[1]
    r = app.test_client().post(
        "/v1/locks", json={"name": "x"}, headers={"Authorization": f"Bearer {admin}"}
    )
    assert r.json["liveness"] == "off"


def test_a_challenge_is_issued_to_the_door_for_its_lock(acme):
    app, client, admin, lock, other, door = acme
    r = client.post(f"/v1/locks/{lock['id']}/challenges", headers=door)
    assert r.status_code == 201, r.json
    body = r.json
    assert 3 <= body["count"] <= 4 and not body["used"]
    (first,) = body["cues"]  # only the first action is revealed, at once
    assert first["at_s"] == 0.0 and first["action"] in ACTIONS and first["instruction"]
    assert GAP_S[0] - 0.2 <= body["next_cue_in_s"] <= GAP_S[1]
    assert 0 < body["expires_at"] - time.time() <= 60
    url = f"/v1/locks/{lock['id']}/challenges/{body['challenge_id']}"
    again = client.get(url, headers=door)
    assert again.status_code == 200 and again.json["cues"] == body["cues"]
    assert client.get(url.replace(lock["id"], other["id"]), headers=door).status_code == 404
    assert client.get(url + "x", headers=door).status_code == 404
    enroll = create_key(services(app).store, "acme", "enroll")[1]
    refused = client.post(
        f"/v1/locks/{lock['id']}/challenges", headers={"Authorization": f"Bearer {enroll}"}
    )
    assert refused.status_code == 403
    assert client.post("/v1/locks/lock_nope/challenges", headers=door).status_code == 404
    bound = create_key(services(app).store, "acme", "unlock", locks=[other["id"]])[1]
    r = client.post(
        f"/v1/locks/{lock['id']}/challenges", headers={"Authorization": f"Bearer {bound}"}
    )
    assert r.status_code == 404


def unlock(client, lock_id, door, video: bytes, challenge_id: str):
    data = {"video": (io.BytesIO(video), "clip.mp4"), "challenge_id": challenge_id}
    return client.post(f"/v1/locks/{lock_id}/unlock", data=data, headers=door)


def test_a_faceless_answer_is_a_failure_so_challenges_cannot_be_redrawn_for_free(store_config):
    """A door that covers its lens (or films a wall) after reading a challenge's cues, to
    draw another until one suits a recording, fails each time (``face_lost``, not a
    refunded retry): the lock's 5 attempts are spent and the next challenge is refused.
    (The schedule is off so that the clip is judged at once, whatever its length.)"""
    app = make_app(**store_config, FACEID_CHALLENGE_SCHEDULE="off")
    store = services(app).store
    admin = {"Authorization": f"Bearer {create_key(store, 'acme', 'admin')[1]}"}
    door = {"Authorization": f"Bearer {create_key(store, 'acme', 'unlock')[1]}"}
    client = app.test_client()
    lock = client.post("/v1/locks", json={"name": "front"}, headers=admin).json
    wall = encode([np.full((360, 480, 3), 128, np.uint8)] * 45, 15.0)
    for _ in range(5):
        challenge = client.post(f"/v1/locks/{lock['id']}/challenges", headers=door)
        assert challenge.status_code == 201, challenge.json
        r = unlock(client, lock["id"], door, wall, challenge.json["challenge_id"])
        assert r.json["verdict"] == "locked" and r.json["reason"] == "face_lost", r.json
    refused = client.post(f"/v1/locks/{lock['id']}/challenges", headers=door)
    assert refused.status_code == 429 and error_code(refused) == "too_many_attempts"


@needs_faces
def test_a_challenge_is_bound_to_its_lock_and_used_once(acme):
    _, client, _, lock, other, door = acme
    still = read_clip(LIVENESS / PERSON_CLIP, 18.5, 18.55)[0]
    video = encode(still * 20, 10.0)
    challenge = client.post(f"/v1/locks/{lock['id']}/challenges", headers=door).json
    r = unlock(client, other["id"], door, video, challenge["challenge_id"])
    assert r.json["verdict"] == "locked" and r.json["reason"] == "challenge_unknown"
    r = unlock(client, lock["id"], door, video, challenge["challenge_id"])
    # 2 s of video, posted as soon as the challenge was issued: recorded before it
    assert r.json["verdict"] == "locked" and r.json["reason"] == "clip_too_long"
    r = unlock(client, lock["id"], door, video, challenge["challenge_id"])
    assert r.json["reason"] == "challenge_used"
    r = client.get(f"/v1/locks/{lock['id']}/challenges/{challenge['challenge_id']}", headers=door)
    assert r.json["used"] is True
    assert unlock(client, lock["id"], door, video, "chl_nope").json["reason"] == "challenge_unknown"
    assert "similarity" not in r.text and "score" not in r.text


def test_a_late_answer_is_refused(store_config):
    app = make_app(**store_config, FACEID_CHALLENGE_TTL_S=0.5)
    store = services(app).store
    admin = {"Authorization": f"Bearer {create_key(store, 'acme', 'admin')[1]}"}
    door = {"Authorization": f"Bearer {create_key(store, 'acme', 'unlock')[1]}"}
    client = app.test_client()
    lock = client.post("/v1/locks", json={"name": "front"}, headers=admin).json["id"]
    challenge = client.post(f"/v1/locks/{lock}/challenges", headers=door).json
    time.sleep(0.6)
    r = unlock(client, lock, door, b"not even a video", challenge["challenge_id"])
    assert r.status_code == 200 and r.json["reason"] == "challenge_expired"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"challenge_id": "x" * 65, "video": b"v"}, "invalid_parameter"),
        ({"challenge_id": "chl_1", "frames": b"f"}, "missing_field"),
        ({"challenge_id": "chl_1"}, "missing_field"),
    ],
)
def test_bad_challenge_answers(acme, fields, code):
    _, client, _, lock, _, door = acme
    data = {k: (io.BytesIO(v), "f.bin") if isinstance(v, bytes) else v for k, v in fields.items()}
    r = client.post(f"/v1/locks/{lock['id']}/unlock", data=data, headers=door)
    assert r.status_code == 400 and r.json["error"]["code"] == code


@needs_faces
@pytest.mark.slow
def test_enrolment_can_require_a_live_clip(tmp_path):
    app = make_app(
        FACEID_DATA_DIR=str(tmp_path),
        FACEID_ENROLL_LIVENESS="challenge",
        FACEID_CHALLENGE_ACTIONS="turn_left,turn_right",
        FACEID_CHALLENGE_SCHEDULE="off",  # recorded clips, judged for their motion alone
    )
    store = services(app).store
    enrol = {"Authorization": f"Bearer {create_key(store, 'acme', 'enroll')[1]}"}
    client = app.test_client()
    person = client.post("/v1/subjects", json={"name": "Franck"}, headers=enrol).json["id"]
    url = f"/v1/subjects/{person}/enrollments"
    still = read_clip(LIVENESS / PERSON_CLIP, 18.5, 18.55)[0][0]
    photo = encode([still], 1.0)
    r = client.post(url, data={"images": (io.BytesIO(photo), "p.jpg")}, headers=enrol)
    assert r.status_code == 409 and r.json["error"]["code"] == "liveness_required"

    def answer(video: bytes):
        challenge = client.post(f"/v1/subjects/{person}/challenges", headers=enrol)
        assert challenge.status_code == 201, challenge.json
        data = {
            "video": (io.BytesIO(video), "c.mp4"),
            "challenge_id": challenge.json["challenge_id"],
        }
        return client.post(url, data=data, headers=enrol)

    frames, fps = read_clip(LIVENESS / PERSON_CLIP, 3.3, 8.0)  # right then left: wrong order
    r = answer(encode(frames, fps))
    assert r.status_code == 422 and r.json["error"]["code"] == "enrollment_rejected"
    assert r.json["error"]["details"]["reasons"] == ["challenge_failed:turn_left"]
    assert client.get(f"/v1/subjects/{person}/faces", headers=enrol).json["total"] == 0
    frames, fps = read_clip(LIVENESS / PERSON_CLIP, 8.5, 13.5)
    r = answer(encode(frames, fps))
    assert r.status_code == 201, r.json
    assert len(r.json["templates"]) >= 3
    face = r.json["templates"][0]["id"]
    replaced = client.put(
        f"/v1/subjects/{person}/faces/{face}",
        data={"image": (io.BytesIO(photo), "p.jpg")},
        headers=enrol,
    )
    assert replaced.status_code == 409 and replaced.json["error"]["code"] == "liveness_required"


def test_drawing_challenges_until_one_suits_a_recording_locks_the_door(acme):
    """Each challenge asked for and not answered counts as a failed attempt."""
    _, client, admin, lock, _, door = acme
    codes = [
        client.post(f"/v1/locks/{lock['id']}/challenges", headers=door).status_code
        for _ in range(6)
    ]
    assert codes == [201] * 5 + [429]
    audit = client.get("/v1/audit", headers=admin).json["items"]
    assert sum(e["action"] == "challenge.abandoned" for e in audit) == 5


@needs_faces
def test_a_witness_of_somebody_else_is_a_changed_face(acme):
    """The identity cross-check of a clip's frames, on real faces of two people."""
    from types import SimpleNamespace

    from faceid.faces.models import CARDS
    from faceid.lock.liveness import one_face
    from faceid.lock.samples import Sample

    app = acme[0]
    pipe = services(app).pipeline
    card = CARDS["dlib-resnet-v1"]
    ctx = SimpleNamespace(floor=card.same_person_floor, threshold=lambda level: card.threshold)

    def faces(clip: str, start: float) -> list[Sample]:
        frames = read_clip(LIVENESS / clip, start, start + 1.0)[0][::6]
        found = [(f, pipe.detect(f, largest_only=True)[0]) for f in frames]
        return [Sample(v, 1.0, clip) for v in pipe.embed(found)]

    person, other = faces(PERSON_CLIP, 17.0), faces("blinks_frontal.mp4", 9.0)
    assert one_face(ctx, person[:2], person[2:], "standard")
    assert not one_face(ctx, person[:2], [*person[2:], other[0]], "standard")
    # a turned witness is held to the same-person floor, which another person still fails
    assert not one_face(ctx, person[:2], [other[0]], "standard", [True])


def test_a_challenge_spent_on_bad_input_is_a_failure(acme):
    """Answering with something that is not a video uses the challenge up and counts as a
    failed attempt: challenges cannot be drawn for free by spoiling their answers."""
    _, client, _, lock, _, door = acme
    for _ in range(5):
        challenge = client.post(f"/v1/locks/{lock['id']}/challenges", headers=door).json
        r = unlock(client, lock["id"], door, b"not a video", challenge["challenge_id"])
        assert r.status_code == 415 and r.json["error"]["code"] == "invalid_video"
    assert client.post(f"/v1/locks/{lock['id']}/challenges", headers=door).status_code == 429


THIN_EVIDENCE = [
    # a right turn, then a left one seen in one frame
    ("turns_both_ways_matted_b.mp4", False, (8.6, 9.8), "turn_right,turn_left", "retry_slower"),
    # a right turn to profile: the face is found in 7 of the 18 frames
    ("turns_both_ways_matted_a.mp4", True, (5.3, 7.0), "turn_right", "retry_in_view"),
]


@needs_faces
@pytest.mark.slow
@pytest.mark.parametrize(("clip", "mirror", "span", "actions", "reason"), THIN_EVIDENCE)
def test_evidence_too_thin_to_judge_is_refunded_but_uses_its_challenge(
    store_config, clip, mirror, span, actions, reason
):
    """A real turn the frame rate cannot follow (one frame past the turn's yaw, in a 10 fps
    clip) answers ``retry_slower``, and a real clip whose face is found in too few frames
    ``retry_in_view``: the attempt is refunded, so the owner is not locked out for the
    camera's frame rate or a head turned to profile, and the challenge is used up, so it
    cannot be answered again with a better clip."""
    from faceid.liveness.evalset import person_frames
    from faceid.liveness.genuine import PEOPLE, cut

    app = make_app(
        **store_config,
        FACEID_CHALLENGE_ACTIONS=actions,
        FACEID_CHALLENGE_SCHEDULE="off",  # a recorded clip, judged for its motion alone
    )
    store = services(app).store
    admin = {"Authorization": f"Bearer {create_key(store, 'acme', 'admin')[1]}"}
    door = {"Authorization": f"Bearer {create_key(store, 'acme', 'unlock')[1]}"}
    client = app.test_client()
    person = next(p for p in PEOPLE if p.clip == clip)
    frames, fps = person_frames(LIVENESS, person, False)
    subject = client.post("/v1/subjects", json={"name": person.name}, headers=admin).json["id"]
    enrol = client.post(
        f"/v1/subjects/{subject}/enrollments",
        data={"video": (io.BytesIO(encode(cut(frames, fps, *person.enrol), fps)), "e.mp4")},
        headers=admin,
    )
    assert enrol.status_code == 201, enrol.json
    lock = client.post("/v1/locks", json={"name": "front"}, headers=admin).json["id"]
    client.put(f"/v1/locks/{lock}/grants/{subject}", headers=admin)
    played = person_frames(LIVENESS, person, mirror)[0]
    video = encode(cut(played, fps, *span), fps)
    for _ in range(6):  # more than the lock's 5 attempts: none of them is counted
        challenge = client.post(f"/v1/locks/{lock}/challenges", headers=door)
        assert challenge.status_code == 201, challenge.json
        r = unlock(client, lock, door, video, challenge.json["challenge_id"])
        assert r.json["verdict"] == "locked" and r.json["reason"] == reason, r.json
    audit = client.get("/v1/audit", headers=admin).json["items"]
    assert not [e for e in audit if e["action"] == "attempts.refused"]
    # the refunded challenge is spent all the same (and answering it again is a failure)
    again = unlock(client, lock, door, video, challenge.json["challenge_id"])
    assert again.json["reason"] == "challenge_used"
