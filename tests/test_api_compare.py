"""POST /compare_embeddings: verdicts, lists, model pinning, and every bad vector."""

from __future__ import annotations

import numpy as np
import pytest

from faceid.faces.models import CARDS

from .conftest import EXAMPLES, error_code, needs_faces, upload

URL = "/compare_embeddings"


def unit(seed: int, dim: int = 128) -> list[float]:
    v = np.random.default_rng(seed).normal(size=dim)
    return (v / np.linalg.norm(v)).tolist()


def test_identical_vectors_unlock(client):
    v = unit(1)
    r = client.post(URL, json={"embedding1": v, "embedding2": v})
    assert r.status_code == 200
    body = r.json
    assert body["similarity"] == pytest.approx(1.0) and body["distance"] == pytest.approx(0.0)
    assert body["match"] is True and body["verdict"] == "unlock"
    assert body["threshold"] == CARDS["dlib-resnet-v1"].threshold
    assert body["model"] == "dlib-resnet-v1"


def test_unrelated_vectors_stay_locked(client):
    r = client.post(URL, json={"embedding1": unit(1), "embedding2": unit(2)})
    assert r.json["verdict"] == "locked" and r.json["match"] is False


def test_explicit_threshold_wins(client):
    r = client.post(URL, json={"embedding1": unit(1), "embedding2": unit(2), "threshold": -1})
    assert r.json["threshold"] == -1 and r.json["verdict"] == "unlock"


def at(similarity: float) -> tuple[list[float], list[float]]:
    """Two unit vectors whose cosine is ``similarity``."""
    e1, e2 = np.eye(128)[0], np.eye(128)[1]
    return e1.tolist(), (similarity * e1 + np.sqrt(1 - similarity**2) * e2).tolist()


def test_levels_pick_the_threshold_and_say_which(client):
    levels = CARDS["dlib-resnet-v1"].levels
    a, b = at((levels["standard"] + levels["high"]) / 2)  # a lookalike between the levels
    standard = client.post(URL, json={"embedding1": a, "embedding2": b}).json
    assert (standard["level"], standard["threshold"]) == ("standard", levels["standard"])
    assert standard["verdict"] == "unlock"
    high = client.post(URL, json={"embedding1": a, "embedding2": b, "level": "high"}).json
    assert (high["level"], high["threshold"]) == ("high", levels["high"])
    assert high["verdict"] == "locked"
    custom = client.post(URL, json={"embedding1": a, "embedding2": b, "threshold": 0.99}).json
    assert (custom["level"], custom["threshold"], custom["verdict"]) == ("custom", 0.99, "locked")


def test_a_level_the_model_lacks_is_refused(client):
    """arcface-deepface carries DeepFace's published cut as standard and no high level."""
    body = {
        "embedding1": unit(1, 512),
        "embedding2": unit(1, 512),
        "model": "arcface:arcface-deepface",
    }
    assert client.post(URL, json=body).json["level"] == "standard"
    r = client.post(URL, json={**body, "level": "high"})
    assert r.status_code == 422 and error_code(r) == "level_unavailable"
    assert r.json["error"]["details"]["levels"] == ["standard"]  # names, not thresholds


def test_lists_use_the_best_pair(client):
    target = unit(7)
    r = client.post(
        URL, json={"embedding1": [unit(1), unit(2), target], "embedding2": [unit(3), target]}
    )
    assert r.json["best_pair"] == [2, 1] and r.json["verdict"] == "unlock"


def test_face_objects_are_accepted_with_their_model(client):
    v = unit(3)
    r = client.post(
        URL,
        json={
            "embedding1": {"embedding": v, "model": "dlib-resnet-v1"},
            "embedding2": [{"embedding": v, "model": "dlib-resnet-v1"}],
        },
    )
    assert r.status_code == 200 and r.json["model"] == "dlib-resnet-v1"


@needs_faces
def test_real_faces_round_trip(client):
    def emb(name):
        return client.post("/extract_embeddings_from_image", data=upload(EXAMPLES / name)).json[
            "faces"
        ][0]

    obama, obama2, biden = emb("obama.jpg"), emb("obama2.jpg"), emb("biden.jpg")
    assert (
        client.post(URL, json={"embedding1": obama, "embedding2": obama2}).json["verdict"]
        == "unlock"
    )
    assert (
        client.post(URL, json={"embedding1": obama, "embedding2": biden}).json["verdict"]
        == "locked"
    )


BAD = [
    ("different lengths", {"embedding1": unit(1), "embedding2": unit(1, 512)}, "model_mismatch"),
    (
        "different models",
        {
            "embedding1": {"embedding": unit(1), "model": "dlib-resnet-v1"},
            "embedding2": {"embedding": unit(1), "model": "arcface:mobilefacenet-arcface"},
        },
        "model_mismatch",
    ),
    (
        "model vs length",
        {"embedding1": unit(1, 512), "embedding2": unit(2, 512), "model": "dlib-resnet-v1"},
        "model_mismatch",
    ),
    (
        "ragged list",
        {"embedding1": [unit(1), unit(1, 64)], "embedding2": unit(1)},
        "model_mismatch",
    ),
    ("empty vector", {"embedding1": [], "embedding2": unit(1)}, "invalid_embedding"),
    ("zero vector", {"embedding1": [0.0] * 128, "embedding2": unit(1)}, "invalid_embedding"),
    ("strings", {"embedding1": ["a"] * 128, "embedding2": unit(1)}, "invalid_embedding"),
    ("nested too deep", {"embedding1": [[[1.0]]], "embedding2": unit(1)}, "invalid_embedding"),
    ("a number", {"embedding1": 3, "embedding2": unit(1)}, "invalid_embedding"),
    ("null", {"embedding1": None, "embedding2": unit(1)}, "invalid_embedding"),
    ("huge", {"embedding1": [0.1] * 10000, "embedding2": [0.1] * 10000}, "invalid_embedding"),
    (
        "unknown model length",
        {"embedding1": unit(1, 7), "embedding2": unit(2, 7)},
        "invalid_embedding",
    ),
    ("missing embedding2", {"embedding1": unit(1)}, "missing_field"),
    (
        "threshold too big",
        {"embedding1": unit(1), "embedding2": unit(1), "threshold": 5},
        "bad_request",
    ),
    (
        "threshold a string",
        {"embedding1": unit(1), "embedding2": unit(1), "threshold": "x"},
        "bad_request",
    ),
    (
        "unknown level",
        {"embedding1": unit(1), "embedding2": unit(1), "level": "max"},
        "bad_request",
    ),
    ("level a number", {"embedding1": unit(1), "embedding2": unit(1), "level": 1}, "bad_request"),
    (
        "level and threshold",
        {"embedding1": unit(1), "embedding2": unit(1), "level": "high", "threshold": 0.5},
        "invalid_parameter",
    ),
]


@pytest.mark.parametrize(("label", "body", "code"), BAD, ids=[b[0] for b in BAD])
def test_bad_vectors(client, label, body, code):
    r = client.post(URL, json=body)
    assert 400 <= r.status_code < 500, (label, r.json)
    assert error_code(r) == code


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_values(client, bad):
    v = unit(1)
    text = "[" + ",".join([bad] + [repr(x) for x in v[1:]]) + "]"
    body = f'{{"embedding1": {text}, "embedding2": {v}}}'
    r = client.post(URL, data=body, content_type="application/json")
    assert r.status_code == 422 and error_code(r) == "invalid_embedding"


@pytest.mark.parametrize(
    ("data", "ctype"),
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ("[" * 100_000 + "]" * 100_000, "application/json"),
        ('{"embedding1": ' + "[" * 5000 + "]" * 5000 + "}", "application/json"),
        ("embedding1=1", "application/x-www-form-urlencoded"),
        ("", "application/json"),
    ],
)
def test_malformed_json(client, data, ctype):
    r = client.post(URL, data=data, content_type=ctype)
    assert r.status_code == 400 and error_code(r) == "invalid_json"


@pytest.mark.parametrize("scale", [1e300, 1e-300, 5e-324])
def test_extreme_magnitudes_give_a_real_similarity(client, scale):
    """Found by schemathesis: huge values overflowed float32 and answered a null similarity."""
    body = {"embedding1": [scale, scale], "embedding2": [scale, 0.0], "threshold": 0.5}
    r = client.post("/compare_embeddings", json=body)
    assert r.status_code == 200, r.json
    assert r.json["similarity"] == pytest.approx(0.707107, abs=1e-5)


@pytest.mark.parametrize("threshold", ["0.5", False, [0.5]])
def test_a_threshold_that_is_no_number_is_refused(client, threshold):
    """JSON bodies are validated strictly: a string, a boolean or a list is no number."""
    body = {"embedding1": [1.0, 0.0], "embedding2": [0.0, 1.0], "threshold": threshold}
    r = client.post("/compare_embeddings", json=body)
    assert r.status_code == 400 and error_code(r) == "bad_request", r.json
