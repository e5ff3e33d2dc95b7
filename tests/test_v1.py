"""The /v1 lock API through Flask's test client, against SQLite and a real PostgreSQL."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import cv2
import pytest

from faceid.faces.models import CARDS
from faceid.lock.keys import create_key
from faceid.store.crypto import SEALED

from .conftest import (
    EXAMPLES,
    ONNX_CONFIG,
    TEST_IMAGES,
    error_code,
    make_app,
    needs_faces,
    services,
)
from .media import letterbox, write_clip

pytestmark = needs_faces

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


def test_keys_and_scopes(org):
    anon = org.client
    assert error_code(anon.get("/v1/subjects")) == "unauthorized"
    r = anon.get("/v1/subjects", headers={"Authorization": "Bearer fid_key_0_x"})
    assert r.status_code == 401
    r = anon.get("/v1/subjects", headers={"X-API-Key": org.admin.headers["Authorization"][7:]})
    assert r.status_code == 200
    assert org.enroll.post("/v1/locks", json={"name": "x"}).status_code == 403
    assert org.unlock.post("/v1/subjects", json={"name": "x"}).status_code == 403
    assert error_code(org.unlock.get("/v1/audit")) == "forbidden"
    assert org.enroll.post("/v1/subjects", json={"name": "x"}).status_code == 201


def test_subjects_crud_and_paging(org):
    ids = [org.enroll.subject(f"s{i}") for i in range(5)]
    page = org.enroll.get("/v1/subjects?limit=2&offset=1").json
    assert page["total"] == 5 and [s["id"] for s in page["items"]] == ids[1:3]
    one = org.enroll.get(f"/v1/subjects/{ids[0]}").json
    assert one["name"] == "s0" and one["templates"] == 0
    assert org.enroll.delete(f"/v1/subjects/{ids[0]}").json["deleted"] is True
    assert org.enroll.get(f"/v1/subjects/{ids[0]}").status_code == 404
    assert org.other.get(f"/v1/subjects/{ids[1]}").status_code == 404
    assert org.other.delete(f"/v1/subjects/{ids[1]}").status_code == 404
    assert org.other.get("/v1/subjects").json["total"] == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "missing_field"),
        ({"name": ""}, "bad_request"),
        ({"name": "x" * 201}, "bad_request"),
        ({"name": 5}, "bad_request"),
        ({"name": "a", "metadata": {"blob": "x" * 20000}}, "bad_request"),
        ({"name": "a", "metadata": [1]}, "bad_request"),
        (["x"], "invalid_json"),
    ],
)
def test_bad_subject_bodies(org, body, code):
    r = org.enroll.post("/v1/subjects", json=body)
    assert r.status_code == 400 and error_code(r) == code


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "offset=-1", "limit=x"])
def test_bad_paging(org, query):
    assert error_code(org.enroll.get(f"/v1/subjects?{query}")) == "invalid_parameter"


def test_enrol_from_images_then_manage_faces(org):
    sid = org.enroll.subject("obama")
    r = org.enroll.enrol(sid, OBAMA_ENROL)
    assert r.status_code == 201, r.json
    report = r.json
    assert len(report["templates"]) == 3 and report["consistency"] > 0.9
    faces = org.enroll.get(f"/v1/subjects/{sid}/faces").json["items"]
    assert len(faces) == 3 and all(f["model"] == "dlib-resnet-v1" for f in faces)
    r = org.enroll.put(
        f"/v1/subjects/{sid}/faces/{faces[0]['id']}",
        data=files("image", [TEST_IMAGES / "obama.jpg"]),
    )
    assert r.status_code == 200 and r.json["id"] == faces[0]["id"]
    assert org.enroll.delete(f"/v1/subjects/{sid}/faces/{faces[1]['id']}").status_code == 200
    assert org.enroll.delete(f"/v1/subjects/{sid}/faces/{faces[1]['id']}").status_code == 404
    assert org.other.delete(f"/v1/subjects/{sid}/faces/{faces[0]['id']}").status_code == 404
    assert org.enroll.get(f"/v1/subjects/{sid}").json["templates"] == 2


def two_person_clip(tmp_path: Path) -> bytes:
    frames = []
    for path in (
        EXAMPLES / "obama.jpg",
        BIDEN,
        EXAMPLES / "obama-720p.jpg",
        TEST_IMAGES / "biden.jpg",
    ):
        frames += [letterbox(cv2.imread(str(path)), (640, 480))] * 4
    return write_clip(tmp_path / "two.avi", frames).read_bytes()


def test_enrolment_rejections(org, tmp_path):
    sid = org.enroll.subject("obama")
    r = org.enroll.enrol(sid, [EXAMPLES / "two_people.jpg"])
    assert r.status_code == 422 and error_code(r) == "enrollment_rejected"
    assert r.json["error"]["details"]["report"]["dropped"]["several_faces"] == 1
    r = org.enroll.enrol(sid, [two_person_clip(tmp_path)], field="video")
    assert r.status_code == 422 and "different people" in r.json["error"]["message"]
    still = write_clip(
        tmp_path / "short.avi", [letterbox(cv2.imread(str(EXAMPLES / "obama.jpg")), (640, 480))] * 2
    )
    r = org.enroll.enrol(sid, [still.read_bytes()], field="video")
    assert r.status_code == 422 and "at least 3 needed" in r.json["error"]["message"]
    assert org.enroll.enrol(sid, OBAMA_ENROL).status_code == 201
    twin = org.enroll.subject("not obama")
    r = org.enroll.enrol(twin, [OBAMA_PROBE])
    assert (
        r.status_code == 422 and f"already belongs to subject {sid}" in r.json["error"]["message"]
    )


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({}, 400, "missing_field"),
        ({"images": [b"junk"]}, 415, "invalid_image"),
        ({"images": [b""]}, 400, "empty_file"),
        ({"video": [b"junk"]}, 415, "invalid_video"),
        ({"video": [b"x"], "images": [b"x"]}, 400, "missing_field"),
        ({"images": [b"x"] * 11}, 400, "invalid_parameter"),
    ],
)
def test_bad_enrolment_uploads(org, data, status, code):
    sid = org.enroll.subject("x")
    body = {k: v for field, blobs in data.items() for k, v in files(field, blobs).items()}
    r = org.enroll.post(f"/v1/subjects/{sid}/enrollments", data=body)
    assert r.status_code == status and error_code(r) == code
    assert org.enroll.get(f"/v1/subjects/{sid}").json["templates"] == 0


def test_enrol_unknown_or_foreign_subject(org):
    assert org.enroll.enrol("sub_nope", OBAMA_ENROL).status_code == 404
    sid = org.enroll.subject("x")
    assert org.other.enrol(sid, OBAMA_ENROL).status_code == 404


def test_a_visit_is_decided_at_a_threshold_tightened_for_its_frames(org, obama):
    """More frames are more tries for an impostor: the best of 3 frames must reach the
    level's threshold at FAR/3, so a visit keeps the level's false-accept rate."""
    sid, lock = obama
    card = CARDS["dlib-resnet-v1"]
    visit = [OBAMA_PROBE, EXAMPLES / "obama-480p.jpg", EXAMPLES / "obama-1080p.jpg"]
    r = org.unlock.unlock(lock, visit).json
    assert r["verdict"] == "unlock" and r["subject"]["id"] == sid and r["frames_used"] == 3
    r = org.unlock.unlock(lock, [BIDEN, EXAMPLES / "lin-manuel-miranda.png"]).json
    assert r["verdict"] == "locked" and r["reason"] == "no_match"
    audit = [e for e in org.admin.get("/v1/audit").json["items"] if e["action"] == "unlock"]
    used = [(e["detail"]["reason"], e["detail"]["threshold"]) for e in audit[-2:]]
    assert used == [
        ("match", card.visit_threshold("standard", 3)),
        ("no_match", card.visit_threshold("standard", 2)),
    ]
    assert card.visit_threshold("standard", 3) > card.levels["standard"]
    assert len(audit[-2]["detail"]["similarities"]) == 3


def test_locks_carry_a_level(org, obama):
    """Doors are standard unless made high; the level decides their threshold."""
    sid, front = obama
    levels = CARDS["dlib-resnet-v1"].levels
    assert org.admin.get(f"/v1/locks/{front}").json["level"] == "standard"
    r = org.admin.post("/v1/locks", json={"name": "vault", "liveness": "off", "level": "high"})
    assert r.status_code == 201 and r.json["level"] == "high"
    vault = r.json["id"]
    assert org.admin.put(f"/v1/locks/{vault}/grants/{sid}").status_code == 201
    for lock, level in ((front, "standard"), (vault, "high")):
        org.unlock.unlock(lock, [OBAMA_PROBE])
        event = [e for e in org.admin.get("/v1/audit").json["items"] if e["action"] == "unlock"][-1]
        assert (event["detail"]["level"], event["detail"]["threshold"]) == (level, levels[level])
    r = org.admin.patch(f"/v1/locks/{front}", json={"level": "high"})
    assert r.status_code == 200 and r.json["level"] == "high"
    assert org.admin.get("/v1/locks").json["items"][0]["level"] == "high"
    events = [e for e in org.admin.get("/v1/audit").json["items"] if e["action"] == "lock.policy"]
    assert events[-1]["detail"]["previous"] == {"level": "standard"}


@pytest.mark.parametrize(
    ("method", "body", "status", "code"),
    [
        ("post", {"name": "x", "level": "max"}, 400, "bad_request"),
        ("post", {"name": "x", "level": None, "extra": 1}, 201, None),
        ("patch", {"level": "low"}, 400, "bad_request"),
        ("patch", {}, 200, None),  # nothing to change: the door as it is
        ("patch", {"level": None, "liveness": None}, 200, None),
        ("patch", {"level": ["high"]}, 400, "bad_request"),
    ],
)
def test_bad_lock_levels(org, obama, method, body, status, code):
    _, lock = obama
    url = "/v1/locks" if method == "post" else f"/v1/locks/{lock}"
    r = getattr(org.admin, method)(url, json=body)
    assert r.status_code == status, r.json
    if code:
        assert error_code(r) == code


def test_lock_levels_are_for_admins_of_the_org(org, obama):
    _, lock = obama
    assert org.unlock.patch(f"/v1/locks/{lock}", json={"level": "standard"}).status_code == 403
    assert org.other.patch(f"/v1/locks/{lock}", json={"level": "standard"}).status_code == 404
    assert org.admin.patch("/v1/locks/lock_nope", json={"level": "high"}).status_code == 404
    assert org.admin.get(f"/v1/locks/{lock}").json["level"] == "standard"


def test_a_level_the_model_lacks_cannot_be_configured():
    """arcface-deepface has no high level: a service set to high refuses to start."""
    from faceid.errors import ConfigError

    with pytest.raises(ConfigError, match="FACEID_LEVEL=high"):
        make_app(FACEID_EMBEDDER="arcface", FACEID_LEVEL="high")


def test_default_level_of_new_locks_is_a_setting(store_config):
    app = make_app(**store_config, FACEID_LEVEL="high")
    key = create_key(services(app).store, "acme", "admin")[1]
    admin = Api(app.test_client(), key)
    assert admin.post("/v1/locks", json={"name": "vault"}).json["level"] == "high"
    assert (
        admin.post("/v1/locks", json={"name": "hall", "level": "standard"}).json["level"]
        == "standard"
    )


def test_unlock_grants_and_lockout(org, obama):
    sid, lock = obama
    r = org.unlock.unlock(lock, [OBAMA_PROBE])
    assert r.status_code == 200, r.json
    assert r.json["verdict"] == "unlock" and r.json["subject"]["id"] == sid
    assert r.json["frames_used"] == 1
    assert not {"similarity", "threshold", "distance"} & set(r.json), "doors get no scores"
    assert (
        org.unlock.unlock(lock, [OBAMA_PROBE, EXAMPLES / "obama-480p.jpg"]).json["verdict"]
        == "unlock"
    )
    mixed = org.unlock.unlock(lock, [OBAMA_PROBE, BIDEN]).json
    # the owner's face beside a stranger's opens nothing, and the door is told no more
    # than no_match (that would test candidates for free)
    assert mixed["verdict"] == "locked" and mixed["reason"] == "no_match"
    other_lock = org.admin.post("/v1/locks", json={"name": "back", "liveness": "off"}).json["id"]
    r = org.unlock.unlock(other_lock, [OBAMA_PROBE]).json
    assert r["verdict"] == "locked" and r["reason"] == "no_match"
    reasons = [
        e["detail"]["reason"]
        for e in org.admin.get("/v1/audit").json["items"]
        if e["action"] == "unlock"
    ]
    assert reasons[-2:] == ["mixed_faces", "no_subject_granted"]  # admins see why
    assert org.other.unlock(lock, [OBAMA_PROBE]).status_code == 404
    for attempt in range(4):  # the mixed try was the first failure
        r = org.unlock.unlock(lock, [BIDEN])
        assert r.json["verdict"] == "locked" and r.json["reason"] == "no_match"
        assert ("locked_out_for_s" in r.json) == (attempt == 3)
    r = org.unlock.unlock(lock, [OBAMA_PROBE])
    assert r.status_code == 429 and error_code(r) == "too_many_attempts"
    assert 0 < int(r.headers["Retry-After"]) <= 300
    assert org.unlock.unlock(other_lock, [OBAMA_PROBE]).status_code == 200


def test_a_success_does_not_wipe_other_callers_failures(org, obama):
    """An attacker's failures stay counted when the owner opens the door in between."""
    _, lock = obama
    for _ in range(4):
        org.unlock.unlock(lock, [BIDEN])
    assert org.unlock.unlock(lock, [OBAMA_PROBE]).json["verdict"] == "unlock"
    assert "locked_out_for_s" in org.unlock.unlock(lock, [BIDEN]).json
    assert org.unlock.unlock(lock, [OBAMA_PROBE]).status_code == 429


def test_revoke_and_delete_lock(org, obama):
    sid, lock = obama
    assert org.admin.get(f"/v1/locks/{lock}").json["granted"] == [sid]
    assert org.admin.get("/v1/locks").json["total"] == 1
    assert org.admin.delete(f"/v1/locks/{lock}/grants/{sid}").status_code == 200
    assert org.admin.delete(f"/v1/locks/{lock}/grants/{sid}").status_code == 404
    assert org.unlock.unlock(lock, [OBAMA_PROBE]).json["verdict"] == "locked"
    assert org.other.put(f"/v1/locks/{lock}/grants/{sid}").status_code == 404
    assert org.admin.put(f"/v1/locks/{lock}/grants/sub_nope").status_code == 404
    assert org.admin.delete(f"/v1/locks/{lock}").status_code == 200
    assert org.unlock.unlock(lock, [OBAMA_PROBE]).status_code == 404


@pytest.mark.parametrize(
    ("blobs", "status", "code"),
    [([], 400, "missing_field"), ([b"junk"], 415, "invalid_image"), ([b""], 400, "empty_file")],
)
def test_bad_unlock_uploads(org, obama, blobs, status, code):
    _, lock = obama
    r = org.unlock.post(f"/v1/locks/{lock}/unlock", data=files("frames", blobs))
    assert r.status_code == status and error_code(r) == code


def test_unlock_with_no_face_is_not_a_failed_attempt(org, obama):
    _, lock = obama
    blank = cv2.imencode(".png", letterbox(cv2.imread(str(BIDEN)), (64, 48)) * 0)[1].tobytes()
    for _ in range(6):
        r = org.unlock.unlock(lock, [blank])
        assert r.status_code == 422 and error_code(r) == "no_face"
    assert org.unlock.unlock(lock, [OBAMA_PROBE]).json["verdict"] == "unlock"


def test_unlock_from_video(org, obama, tmp_path):
    _, lock = obama
    clip = write_clip(
        tmp_path / "door.avi", [letterbox(cv2.imread(str(OBAMA_PROBE)), (640, 480))] * 6
    )
    r = org.unlock.post(
        f"/v1/locks/{lock}/unlock", data={"video": (io.BytesIO(clip.read_bytes()), "door.avi")}
    )
    assert r.status_code == 200 and r.json["verdict"] == "unlock" and r.json["frames_used"] == 5


def test_identify_and_verify(org, obama):
    sid, _ = obama
    biden_id = org.admin.subject("biden")
    assert org.admin.enrol(biden_id, [TEST_IMAGES / "biden.jpg"]).status_code == 201
    r = org.unlock.post("/v1/identify?top_k=2", data=files("image", [OBAMA_PROBE]))
    assert r.json == {"match": True, "matches": [{"id": sid, "name": "obama"}]}
    r = org.unlock.post("/v1/identify", data=files("image", [EXAMPLES / "alex-lacamoire.png"]))
    assert r.json == {"match": False, "matches": []}  # no stranger's nearest subject
    assert (
        error_code(org.unlock.post("/v1/identify?top_k=0", data=files("image", [OBAMA_PROBE])))
        == "invalid_parameter"
    )
    v = org.unlock.post("/v1/verify", data={**files("image", [OBAMA_PROBE]), "subject_id": sid})
    assert v.json["match"] is True
    v = org.unlock.post("/v1/verify", data={**files("image", [BIDEN]), "subject_id": sid})
    assert v.json["match"] is False
    two = {**files("image", [OBAMA_PROBE]), **files("image2", [EXAMPLES / "obama.jpg"])}
    assert org.unlock.post("/v1/verify", data=two).json["match"] is True
    assert (
        error_code(org.unlock.post("/v1/verify", data=files("image", [BIDEN]))) == "missing_field"
    )
    r = org.other.post("/v1/verify", data={**files("image", [OBAMA_PROBE]), "subject_id": sid})
    assert r.status_code == 404
    other_hits = org.other.post("/v1/identify", data=files("image", [OBAMA_PROBE]))
    assert other_hits.json["matches"] == []


def test_gallery_is_pinned_to_its_model(org, obama):
    onnx = make_app(**org.config, **ONNX_CONFIG).test_client()
    api = Api(onnx, org.admin.headers["Authorization"][7:])
    sid, lock = obama
    r = api.unlock(lock, [OBAMA_PROBE])
    assert r.status_code == 409 and error_code(r) == "model_pinned"
    assert api.enrol(sid, OBAMA_ENROL).status_code == 409
    fresh = Api(onnx, create_key(org.store, "fresh", "admin")[1])
    assert fresh.enrol(fresh.subject("obama"), OBAMA_ENROL).status_code == 201


def test_deletion_erases_and_the_audit_tells_the_story(org, obama):
    sid, lock = obama
    assert org.unlock.unlock(lock, [OBAMA_PROBE]).json["verdict"] == "unlock"
    assert org.unlock.unlock(lock, [BIDEN]).json["verdict"] == "locked"
    r = org.admin.delete(f"/v1/subjects/{sid}")
    assert r.json["templates_erased"] == 3
    r = org.unlock.unlock(lock, [OBAMA_PROBE]).json
    assert r["verdict"] == "locked" and r["subject"] is None
    events = org.admin.get(f"/v1/audit?lock_id={lock}").json["items"]
    assert [(e["action"], e["verdict"]) for e in events] == [
        ("lock.create", None),
        ("grant", None),
        ("unlock", "unlock"),
        ("unlock", "locked"),
        ("unlock", "locked"),
    ]
    everything = org.admin.get("/v1/audit?limit=100").json["items"]
    actions = [e["action"] for e in everything]
    assert actions.index("enrollment") < actions.index("subject.delete")
    deletion = everything[actions.index("subject.delete")]
    assert deletion["subject_id"] == sid and deletion["detail"]["templates_erased"] == 3
    assert all(set(e["detail"]).isdisjoint({"image", "images", "frames"}) for e in everything)
    assert org.admin.get("/v1/audit?since=2100-01-01T00:00:00Z").json["items"] == []
    assert error_code(org.admin.get("/v1/audit?since=yesterday")) == "bad_request"
    assert org.other.get("/v1/audit").json["items"] == []


def test_original_endpoints_can_require_a_key(store_config):
    app = make_app(**store_config, FACEID_REQUIRE_KEY=True)
    client = app.test_client()
    body = {"embedding1": [1.0, 0.0], "embedding2": [1.0, 0.0], "threshold": 0.5}
    assert client.post("/compare_embeddings", json=body).status_code == 401
    key = create_key(services(app).store, "acme", "unlock")[1]
    r = client.post("/compare_embeddings", json=body, headers={"X-API-Key": key})
    assert r.status_code == 200
    assert client.get("/health").status_code == 200


def test_encrypted_gallery_and_kept_images(store_config):
    config = {**store_config, "FACEID_ENCRYPTION_KEY": "ab" * 32, "FACEID_KEEP_IMAGES": True}
    app = make_app(**config)
    store = services(app).store
    api = Api(app.test_client(), create_key(store, "acme", "admin")[1])
    sid = api.subject("obama")
    assert api.enrol(sid, OBAMA_ENROL[:1]).status_code == 201
    lock = api.post("/v1/locks", json={"name": "d", "liveness": "off"}).json["id"]
    api.put(f"/v1/locks/{lock}/grants/{sid}")
    assert api.unlock(lock, [OBAMA_PROBE]).json["verdict"] == "unlock"
    with store.tx() as cur:
        row = store._exec(cur, "SELECT encrypted, image FROM templates").fetchone()
    assert row[0] == SEALED and bytes(row[1]) == OBAMA_ENROL[0].read_bytes()


@pytest.mark.parametrize("top_k", ["0", "101", "x"])
def test_identify_top_k_as_a_form_field_is_validated(org, top_k):
    r = org.unlock.post("/v1/identify", data={**files("image", [OBAMA_PROBE]), "top_k": top_k})
    assert r.status_code == 400 and error_code(r) == "invalid_parameter"


def test_enrolment_advice_says_too_dark_for_a_dark_selfie(org, tmp_path):
    """A selfie filmed in the dark: the report says so in words (not as blur, though a dark
    face loses its fine edges too), for every frame it concerned."""
    from faceid.faces.quality import ADVICE

    sid = org.enroll.subject("obama")
    dark = (letterbox(cv2.imread(str(EXAMPLES / "obama.jpg")), (640, 480)) * 0.15).astype("uint8")
    clip = write_clip(tmp_path / "dark.avi", [dark] * 12)
    r = org.enroll.enrol(sid, [clip.read_bytes()], field="video")
    assert r.status_code == 422 and error_code(r) == "enrollment_rejected", r.json
    report = r.json["error"]["details"]["report"]
    assert report["advice"][0] == {
        "code": "too_dark",
        "frames": report["faces_found"],
        "message": ADVICE["too_dark"],
    }
    r = org.enroll.enrol(sid, [EXAMPLES / "two_people.jpg", EXAMPLES / "obama.jpg"])
    assert r.status_code == 201 and r.json["advice"][0]["code"] == "several_faces", r.json
