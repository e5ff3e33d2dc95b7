"""Accuracy on the shared labelled pairs, through the HTTP API, at the default thresholds.

Each image is posted once to /extract_embeddings_from_image; each pair's two face
objects are posted to /compare_embeddings with no threshold, so the model's
documented default decides.
"""

from __future__ import annotations

import pytest

from faceid.faces.evaluate import read_pairs

from .conftest import DEEPFACE, ONNX_CONFIG, make_app, needs_faces, needs_models, upload

PAIR_LISTS = ["master.csv", "face-recognition-pivot.csv"]


def api_accuracy(config: dict) -> dict[str, float]:
    client = make_app(**config).test_client()
    lists = {name: read_pairs(DEEPFACE / name) for name in PAIR_LISTS}
    names = sorted({n for pairs in lists.values() for p in pairs for n in (p.left, p.right)})
    faces = {}
    for name in names:
        r = client.post("/extract_embeddings_from_image?max_faces=1", data=upload(DEEPFACE / name))
        assert r.status_code == 200, (name, r.json)
        faces[name] = r.json["faces"][0]
    out = {}
    for list_name, pairs in lists.items():
        right = 0
        for pair in pairs:
            r = client.post(
                "/compare_embeddings",
                json={"embedding1": faces[pair.left], "embedding2": faces[pair.right]},
            )
            assert r.status_code == 200, r.json
            right += r.json["match"] == pair.same
        out[list_name] = right / len(pairs)
    return out


@needs_faces
@pytest.mark.slow
@pytest.mark.parametrize(
    "config",
    [
        pytest.param({}, id="default-hog+dlib"),
        pytest.param(
            {**ONNX_CONFIG, "FACEID_DETECTOR": "retinaface-onnx"},
            id="retinaface-onnx+mobilefacenet",
            marks=needs_models,
        ),
        pytest.param(ONNX_CONFIG, id="yunet+mobilefacenet", marks=needs_models),
    ],
)
def test_pairs_are_decided_with_at_least_99_percent_accuracy(config):
    accuracy = api_accuracy(config)
    for list_name, value in accuracy.items():
        assert value >= 0.99, (list_name, accuracy)


@needs_faces
@needs_models
@pytest.mark.slow
def test_readme_accuracy_script_runs(tmp_path):
    """README names bench/accuracy.py as the source of its table; run it on one detector."""
    import subprocess
    import sys

    from .conftest import ROOT

    out = tmp_path / "table.md"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "accuracy.py"),
            "--detectors",
            "yunet",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    text = out.read_text()
    assert (
        "| yunet | dlib-resnet-v1 |" in text and "| yunet | arcface:mobilefacenet-arcface |" in text
    )
