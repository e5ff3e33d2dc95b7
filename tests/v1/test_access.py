"""/v1 identify and verify, the gallery's model pin, erasure and the audit log, keys on
the original endpoints, encryption at rest."""

from __future__ import annotations

import pytest

from faceid.lock.keys import create_key
from faceid.store.crypto import SEALED

from ..conftest import (
    EXAMPLES,
    ONNX_CONFIG,
    TEST_IMAGES,
    error_code,
    make_app,
    needs_faces,
    services,
)
from .conftest import BIDEN, OBAMA_ENROL, OBAMA_PROBE, Api, files

pytestmark = needs_faces


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
