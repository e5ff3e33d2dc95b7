"""Each attack of the hardening issue, performed against a real gunicorn; each must fail.

The site (conftest) runs with FACEID_KEY_ATTEMPTS=8 and the default lock budget of 5.
The attacks that need settings of their own start their own gunicorn beside this file:
lockouts that reset and free refunds (``test_lockouts``), storage floods
(``test_quotas``), floods of heavy requests (``test_gate``) and memory per request
(``test_memory``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import BIDEN, OBAMA, STRANGER, Site

SCORES = {"similarity", "threshold", "distance", "candidates"}


def image(path):
    return [("image", (path.name, path.read_bytes()))]


def test_verify_is_no_oracle(site: Site):
    """30 verify calls with non-matching faces: no score, and the key's budget stops it."""
    key = site.new_key("unlock")
    answers = []
    for _ in range(30):
        r = site.call(
            key, "POST", "/v1/verify", files=image(BIDEN), data={"subject_id": site.obama}
        )
        answers.append(r)
    evaluated = [r.json() for r in answers if r.status_code == 200]
    assert evaluated and all(a == {"match": False, "subject_id": site.obama} for a in evaluated)
    assert len(evaluated) <= 5  # the claimed subject's budget (5) runs out before the key's
    refused = [r for r in answers if r.status_code == 429]
    assert len(refused) == 30 - len(evaluated)
    assert all(int(r.headers["Retry-After"]) > 0 for r in refused)
    scores = [e["similarity"] for e in site.audit("verify", subject_id=site.obama)]
    assert scores and all(isinstance(s, float) for s in scores)  # the scores go to admins


def test_identify_is_no_oracle(site: Site):
    """A stranger's face lists nobody, and repeated calls are stopped by the key's budget."""
    key = site.new_key("unlock")
    answers = [site.call(key, "POST", "/v1/identify", files=image(STRANGER)) for _ in range(30)]
    evaluated = [r.json() for r in answers if r.status_code == 200]
    assert evaluated and all(a == {"match": False, "matches": []} for a in evaluated)
    assert len(evaluated) <= 8
    assert {r.status_code for r in answers} == {200, 429}


def test_failed_unlock_tells_nothing(site: Site):
    """The owner's photo held up among 9 frames of the intruder: locked, with no
    similarity for the best frame, so one attempt cannot rank candidate images either."""
    key = site.new_key("unlock", locks=(site.lock,))
    lock = site.lock
    files = [("frames", (f"f{i}.jpg", BIDEN.read_bytes())) for i in range(9)]
    files.append(("frames", ("o.jpg", OBAMA.read_bytes())))
    r = site.call(key, "POST", f"/v1/locks/{lock}/unlock", files=files)
    assert r.status_code == 200
    body = r.json()
    assert body["verdict"] == "locked" and body["reason"] == "no_match"
    assert not SCORES & set(body), body
    assert site.audit("unlock", lock_id=lock)[-1]["detail"]["reason"] == "mixed_faces"
    site.unlock(key, lock, OBAMA)  # the owner opens it: the attempt above stays counted


def test_enrol_key_cannot_poison_a_subject(site: Site):
    """An enroll key adds biden to obama, or replaces obama's face with biden: 422."""
    key = site.new_key("enroll")
    path = f"/v1/subjects/{site.obama}/enrollments"
    r = site.call(key, "POST", path, files=[("images", ("b.jpg", BIDEN.read_bytes()))])
    assert r.status_code == 422 and r.json()["error"]["code"] == "face_mismatch"
    r = site.call(
        key, "POST", path, files=[("images", ("b.jpg", BIDEN.read_bytes()))], data={"force": "true"}
    )
    assert r.status_code == 403  # only an admin key may override
    faces = site.call(key, "GET", f"/v1/subjects/{site.obama}/faces").json()["items"]
    r = site.call(
        key, "PUT", f"/v1/subjects/{site.obama}/faces/{faces[0]['id']}", files=image(BIDEN)
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "face_mismatch"
    door = site.new_key("unlock")
    assert site.unlock(door, site.lock, BIDEN).json()["verdict"] == "locked"
    assert site.audit("identity.refused", subject_id=site.obama)


def test_parallel_failures_cannot_race_the_lockout(site: Site):
    """16 parallel failed unlocks against a 5-attempt lock: at most 5 are evaluated."""
    lock = site.new_lock("race", grant=site.obama)
    keys = [site.new_key("unlock") for _ in range(4)]  # several keys: the lock's budget binds
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda i: site.unlock(keys[i % 4], lock, BIDEN), range(16)))
    codes = [r.status_code for r in answers]
    assert codes.count(200) <= 5 and codes.count(200) + codes.count(429) == 16
    assert len(site.audit("unlock", lock_id=lock)) == codes.count(200)
    assert site.unlock(keys[0], lock, OBAMA).status_code == 429  # shut for everyone now


def test_one_key_cannot_shut_every_door(site: Site):
    """A key failing on many locks is stopped by its own budget (8 here)."""
    key = site.new_key("unlock")
    locks = [site.new_lock(f"door{i}", grant=site.obama) for i in range(4)]
    evaluated = 0
    for lock in locks:
        for _ in range(5):
            r = site.unlock(key, lock, BIDEN)
            evaluated += r.status_code == 200
    assert evaluated == 8
    shut = [
        lock
        for lock in locks
        if site.unlock(site.new_key("unlock"), lock, OBAMA).status_code == 429
    ]
    assert len(shut) <= 1  # 8 failures shut at most one 5-attempt door
    assert len(site.audit("attempts.refused")) >= 1


def test_door_key_knows_only_its_doors(site: Site):
    other = site.new_lock("back", grant=site.obama)
    key = site.new_key("unlock", locks=(site.lock,))
    assert site.unlock(key, other, OBAMA).status_code == 404
    assert site.call(key, "POST", "/v1/identify", files=image(OBAMA)).status_code == 403
    r = site.call(key, "POST", "/v1/verify", files=image(OBAMA), data={"subject_id": site.obama})
    assert r.status_code == 403
    assert site.unlock(key, site.lock, OBAMA).json()["verdict"] == "unlock"
    key_id = "_".join(key.split("_")[1:3])
    assert site.call(site.admin, "DELETE", f"/v1/keys/{key_id}").status_code == 200
    assert site.unlock(key, site.lock, OBAMA).status_code == 401


def test_compare_is_no_memory_bomb(site: Site):
    body = {"embedding1": [[1.0]] * 20_000, "embedding2": [[1.0]] * 20_000, "threshold": 0.5}
    r = site.call(site.admin, "POST", "/compare_embeddings", json=body)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_embedding"
    big = {"embedding1": [0.5] * 300_000, "embedding2": [0.5] * 300_000}  # over 2 MB of JSON
    r = site.call(site.admin, "POST", "/compare_embeddings", json=big)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert site.call(site.admin, "GET", "/health").status_code == 200


@pytest.mark.parametrize("path", ["/v1/subjects", "/v1/locks", "/v1/audit"])
def test_huge_offset_is_a_400(site: Site, path: str):
    r = site.call(site.admin, "GET", f"{path}?offset=99999999999999999999")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_parameter"


def test_enrol_key_cannot_swap_a_granted_face(site: Site):
    """The face swap: an enroll key deletes every face of a granted subject, then enrols a
    stranger into it, so the stranger opens that subject's doors. The last face of a
    subject who holds grants, and the first faces of one who has none, are an admin's."""
    key, admin = site.new_key("enroll"), site.admin
    alex = site.call(admin, "POST", "/v1/subjects", json={"name": "alex"}).json()["id"]
    faces_path = f"/v1/subjects/{alex}/faces"
    enrol_path = f"/v1/subjects/{alex}/enrollments"
    alex_photo = [("images", (STRANGER.name, STRANGER.read_bytes()))]
    biden_photo = [("images", (BIDEN.name, BIDEN.read_bytes()))]
    assert site.call(key, "POST", enrol_path, files=alex_photo).status_code == 201
    lock = site.new_lock("alex's door", grant=alex)
    (face,) = site.call(key, "GET", faces_path).json()["items"]
    r = site.call(key, "DELETE", f"{faces_path}/{face['id']}")
    assert r.status_code == 403 and r.json()["error"]["code"] == "identity_anchored"
    assert len(site.call(key, "GET", faces_path).json()["items"]) == 1  # nothing lost
    r = site.call(key, "POST", enrol_path, files=biden_photo)
    assert r.status_code == 422 and r.json()["error"]["code"] == "face_mismatch"
    # an admin removes the last face (audited): the subject keeps its grant, faceless
    assert site.call(admin, "DELETE", f"{faces_path}/{face['id']}").status_code == 200
    r = site.call(key, "POST", enrol_path, files=biden_photo)
    assert r.status_code == 403 and r.json()["error"]["code"] == "identity_anchored"
    door = site.new_key("unlock", locks=(lock,))
    assert site.unlock(door, lock, BIDEN).json()["verdict"] == "locked"
    assert site.audit("identity.refused", subject_id=alex)[-1]["detail"]["reason"] == "anchored"
    # granted before enrolment: the first faces come from an admin key too
    newcomer = site.call(admin, "POST", "/v1/subjects", json={"name": "new"}).json()["id"]
    site.call(admin, "PUT", f"/v1/locks/{lock}/grants/{newcomer}")
    r = site.call(key, "POST", f"/v1/subjects/{newcomer}/enrollments", files=biden_photo)
    assert r.status_code == 403 and r.json()["error"]["code"] == "identity_anchored"
    assert site.call(admin, "POST", enrol_path, files=alex_photo).status_code == 201
    assert site.audit("identity.anchored", subject_id=alex)
    assert site.unlock(door, lock, STRANGER).json()["verdict"] == "unlock"
