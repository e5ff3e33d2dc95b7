"""/v1 keys, subjects and enrolment: scopes, paging, enrolment from photos and videos, and
its refusals."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from ..conftest import (
    EXAMPLES,
    TEST_IMAGES,
    error_code,
    needs_faces,
)
from ..media import letterbox, write_clip
from .conftest import BIDEN, OBAMA_ENROL, OBAMA_PROBE, files

pytestmark = needs_faces


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
