"""Researchers' batch tools from the command line, as README gives them: embed a folder,
similarity matrix, clustering into people, search; and their bad inputs."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from faceid.batch import FaceSet, find_images
from faceid.research.verification import read_identities

from .conftest import (
    EXAMPLES,
    FACES,
    ROOT,
    load_pipeline,
    needs_faces,
    needs_models,
    pipeline_config,
)

pytestmark = needs_faces


def faceid(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "faceid.cli", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, "FACEID_INSTANCE_PATH": str(ROOT / "no-instance")},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def identities(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The photos of identities.csv, largest face each, embedded by the default pipeline."""
    out = tmp_path_factory.mktemp("ids") / "faces.npz"
    identity_of = read_identities(FACES / "identities.csv")
    faceid("embed", *(FACES / p for p in sorted(identity_of)), "--largest", "--out", out)
    return out, {str(FACES / p): who for p, who in identity_of.items()}


@pytest.mark.slow
def test_embed_the_shared_faces_with_a_corrupt_and_a_faceless_image(tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (extra / "blank.png").write_bytes(_blank_png())
    (extra / "thin.png").write_bytes(_blank_png((1, 5000)))  # once tripped the resize
    out = tmp_path / "all.npz"
    result = faceid("embed", FACES, extra, "--out", out)
    summary = json.loads(result.stdout)
    assert summary["images"] == len(find_images([FACES])) + 3
    assert summary["failed"][str(extra / "thin.png")] == "no_face"
    assert summary["failed"][str(extra / "broken.jpg")].startswith("unreadable")
    assert summary["failed"][str(extra / "blank.png")] == "no_face"
    assert f"skipped {extra / 'broken.jpg'}" in result.stderr
    faces = FaceSet.load(out)
    assert faces.model_id == "dlib-resnet-v1" and len(faces) == summary["faces"] >= 90
    assert faces.vectors.shape == (len(faces), 128) and faces.landmarks.shape[1:] == (5, 2)
    assert np.allclose(np.linalg.norm(faces.vectors, axis=1), 1, atol=1e-4)
    with Path(summary["index"]).open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(faces) and rows[0]["path"] == faces.paths[0]
    two_people = [r for r in rows if r["path"].endswith("two_people.jpg")]
    assert [r["face"] for r in two_people] == ["0", "1"]  # every face, not only the largest


def test_an_unexpected_error_on_one_image_is_reported_not_raised(monkeypatch):
    """The detector fails on one image: embed_image reports it and the batch goes on.

    No real image is known to make a detector fail any more (a 1x5000 image did, until
    the downscale kept every side at least one pixel), so the failure is injected."""
    from faceid.batch.embed import embed_image

    pipe = load_pipeline(pipeline_config())

    def failing(*args, **kwargs):
        raise RuntimeError("the detector failed")

    monkeypatch.setattr(pipe, "detect", failing)
    found = embed_image(pipe, EXAMPLES / "obama.jpg", largest=True)
    assert found == "error: RuntimeError: the detector failed"


def _blank_png(shape: tuple[int, int] = (200, 200)) -> bytes:
    import cv2

    ok, data = cv2.imencode(".png", np.full((*shape, 3), 200, np.uint8))
    assert ok
    return data.tobytes()


@pytest.mark.slow
def test_cluster_recovers_the_identities(identities, tmp_path):
    """Adjusted Rand index of at least 0.95 against identities.csv, default pipeline."""
    from sklearn.metrics import adjusted_rand_score

    npz, identity_of = identities
    out, sheets = tmp_path / "clusters.csv", tmp_path / "sheets"
    summary = json.loads(faceid("cluster", npz, "--out", out, "--sheet", sheets).stdout)
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 77 and summary["cut"] == 0.941
    score = adjusted_rand_score(
        [identity_of[r["path"]] for r in rows], [r["cluster"] for r in rows]
    )
    assert score >= 0.95, score
    assert len(list(sheets.glob("cluster_*.png"))) == summary["clusters"]
    assert 19 <= summary["clusters"] <= 21


@pytest.mark.slow
def test_similarity_matrix_and_heatmap(identities, tmp_path):
    npz, _ = identities
    out, plot = tmp_path / "m.npy", tmp_path / "heat.png"
    faceid("similarity", npz, "--out", out, "--plot", plot)
    matrix = np.load(out)
    assert matrix.shape == (77, 77) and np.allclose(matrix, matrix.T)
    assert np.allclose(np.diag(matrix), 1, atol=1e-4)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_search_finds_the_same_person_first(identities):
    npz, identity_of = identities
    probe = FACES / "deepface" / "img2.jpg"
    hits = json.loads(faceid("search", npz, probe, "--top-k", "3").stdout)["hits"]
    assert hits[0]["path"] == str(probe) and hits[0]["match"]
    assert identity_of[hits[1]["path"]] == identity_of[str(probe)] and hits[1]["match"]


@pytest.mark.slow
def test_bad_inputs_are_refused_with_a_message(identities, tmp_path):
    npz, _ = identities
    assert (
        faceid("embed", tmp_path / "nope", "--out", tmp_path / "x.npz", check=False).returncode == 2
    )
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    matrix = tmp_path / "matrix.npy"
    np.save(matrix, np.eye(3))
    for wrong in (junk, matrix):
        r = faceid("cluster", wrong, "--out", tmp_path / "c.csv", check=False)
        assert r.returncode == 1 and "not a face set" in r.stderr
    r = faceid("search", npz, EXAMPLES / "obama.jpg", "--top-k", "0", check=False)
    assert r.returncode == 2
    blank = tmp_path / "blank.png"
    blank.write_bytes(_blank_png())
    r = faceid("search", npz, blank, check=False)
    assert r.returncode == 1 and "No face" in r.stderr
    r = faceid("search", npz, EXAMPLES / "obama.jpg", "--embedder", "arcface", check=False)
    assert r.returncode == 2 and "dlib-resnet-v1" in r.stderr


@pytest.mark.slow
def test_readme_python_example_runs(tmp_path, monkeypatch):
    """README's ``faceid.batch`` example, run as it is from a scratch folder."""
    import re

    from .conftest import SHARED

    text = (ROOT / "README.md").read_text()
    (block,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(block.replace("../shared", str(SHARED)), namespace)  # noqa: S102
    assert len(namespace["people"]) == len(namespace["faces"]) >= 60  # 63 photos there
    assert len(set(namespace["people"].tolist())) >= 10
    assert namespace["matrix"].shape == (len(namespace["faces"]),) * 2
    assert (tmp_path / "faces.npz").is_file() and (tmp_path / "faces.csv").is_file()


def test_largest_keeps_one_face_per_image():
    from faceid.batch import embed_folder

    two = [EXAMPLES / "two_people.jpg"]
    assert len(embed_folder(two, workers=1)) == 2
    only = embed_folder(two, largest=True, workers=1)
    assert len(only) == 1 and only.face_index.tolist() == [0]


@needs_models
@pytest.mark.slow
def test_readme_clusters_script_runs(tmp_path):
    """bench/clusters.py, README's source for the adjusted Rand indexes, on one detector."""
    out = tmp_path / "clusters.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "clusters.py"), "--detectors", "yunet", "--out", out],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in out.read_text().splitlines() if line.startswith("| yunet |")]
    assert len(rows) == 2 and all(float(row.split("|")[5]) >= 0.95 for row in rows)


def test_an_empty_set_and_a_custom_models_levels(tmp_path):
    from faceid.batch import cluster, search

    empty = FaceSet.of_vectors("dlib-resnet-v1", np.zeros((0, 128)), [])
    assert search(empty, np.ones(128)) == [] and cluster(empty).tolist() == []
    custom = FaceSet.of_vectors("arcface:mine", np.eye(2, 4), ["a.jpg", "b.jpg"])
    custom.levels = {"standard": 0.2}
    path, index = custom.save(tmp_path / "custom")  # .npz is added
    loaded = FaceSet.load(path)
    assert path.suffix == ".npz" and index.is_file() and loaded.levels == {"standard": 0.2}
    assert search(loaded, np.array([1.0, 0.1, 0, 0]), top_k=1)[0]["match"]
    plain = FaceSet.of_vectors("arcface:other", np.eye(2, 4), ["a.jpg", "b.jpg"])
    assert cluster(plain).tolist() == [0, 1]  # calibrated for nothing: standard at 0.5
