"""Random malformed bodies never produce a 500 (seeded, so failures reproduce)."""

from __future__ import annotations

import io
import json
import random
from typing import Any

import pytest

from faceid.lock.keys import create_key

from .conftest import make_app, services


def junk(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1e308, -1e-308, 2**70, float("nan"), float("inf")])
    if kind == 3:
        return rng.random() * 2 - 1
    if kind == 4:
        return "".join(rng.choice('aé\x00"\\{[') for _ in range(rng.randrange(6)))
    if kind == 5:
        return []
    if kind == 6:
        return [junk(rng, depth + 1) for _ in range(rng.randrange(1, 5))]
    if kind == 7:
        return [rng.random() for _ in range(rng.choice([1, 3, 128, 512]))]
    return {
        rng.choice(["embedding", "model", "name", "x"]): junk(rng, depth + 1)
        for _ in range(rng.randrange(1, 4))
    }


def bodies(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        body: dict[str, Any] = {}
        for key in ("embedding1", "embedding2", "threshold", "model", "name", "metadata"):
            if rng.random() < 0.7:
                body[key] = junk(rng)
        out.append(json.dumps(body))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_compare_never_500(client, seed):
    for body in bodies(seed, 150):
        r = client.post("/compare_embeddings", data=body, content_type="application/json")
        assert r.status_code < 500, (body, r.json)
        assert r.status_code == 200 or "error" in r.json


def test_v1_json_and_uploads_never_500(tmp_path):
    app = make_app(FACEID_DATA_DIR=str(tmp_path / "data"))
    key = create_key(services(app).store, "acme", "admin")[1]
    client = app.test_client()
    headers = {"X-API-Key": key}
    for body in bodies(99, 100):
        for url in ("/v1/subjects", "/v1/locks"):
            r = client.post(url, data=body, content_type="application/json", headers=headers)
            assert r.status_code < 500, (url, body, r.json)
    sid = client.post("/v1/subjects", json={"name": "x"}, headers=headers).json["id"]
    rng = random.Random(7)
    for _ in range(30):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 3000)))
        prefix = rng.choice([b"", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"RIFF", b"GIF89a"])
        field = rng.choice(["images", "video"])
        r = client.post(
            f"/v1/subjects/{sid}/enrollments",
            headers=headers,
            data={field: (io.BytesIO(prefix + blob), "f")},
        )
        assert 400 <= r.status_code < 500, r.json
