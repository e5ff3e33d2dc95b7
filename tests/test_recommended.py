"""The door owner's recommendation as README gives it: ``faceid models pull recommended``,
then one setting, ``FACEID_PIPELINE=recommended``, on a real server."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from faceid.errors import ConfigError
from faceid.faces.models import CARDS, WEIGHTS
from faceid.faces.presets import PRESETS
from faceid.settings import Settings

from .conftest import EXAMPLES, MODELS, ROOT, needs_faces, needs_models
from .server import Server


def pull(models_dir, *names: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACEID_MODELS_DIR": str(models_dir), "FACEID_ALLOW_DOWNLOAD": "0"}
    return subprocess.run(
        [sys.executable, "-m", "faceid.cli", "models", "pull", *names],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_preset_fills_in_the_pipeline():
    s = Settings.load({"FACEID_PIPELINE": "recommended"}, environ={}, instance_path=None)
    assert (s.detector, s.embedder, s.arcface_model) == (
        "yunet",
        "arcface",
        "mobilefacenet-arcface",
    )
    s = Settings.load(
        {"FACEID_PIPELINE": "recommended", "FACEID_DETECTOR": "retinaface-onnx"},
        environ={},
        instance_path=None,
    )
    assert s.detector == "retinaface-onnx"  # a setting given outright wins
    with pytest.raises(ConfigError, match="FACEID_PIPELINE"):
        Settings.load({"FACEID_PIPELINE": "fastest"}, environ={}, instance_path=None)
    assert PRESETS["default"].weights == ()  # the offline default needs no download


def test_pulling_the_default_downloads_nothing(tmp_path):
    result = pull(tmp_path, "default")
    assert result.returncode == 0 and "nothing to download" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_pulling_without_the_files_says_what_to_do(tmp_path):
    result = pull(tmp_path, "recommended")
    assert result.returncode == 1
    assert "yunet: FAILED" in result.stderr and "FACEID_MODELS_DIR" in result.stderr


@needs_faces
@needs_models
@pytest.mark.slow
def test_recommended_pipeline_is_one_pull_and_one_setting(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    for name in PRESETS["recommended"].weights:  # placed by hand, as on an air-gapped site
        filename = WEIGHTS[name].filename
        (models / filename).symlink_to(MODELS / filename)
    result = pull(models, "recommended")
    assert result.returncode == 0, result.stderr
    assert "yunet: ok" in result.stdout and "mobilefacenet-arcface: ok" in result.stdout
    server = Server(
        {
            "FACEID_PIPELINE": "recommended",
            "FACEID_DATA_DIR": str(tmp_path / "data"),
            "FACEID_OPEN_RATE_LIMIT": "off",
        }
    )
    server.env["FACEID_MODELS_DIR"] = str(models)
    server.start()
    try:
        index = requests.get(server.base + "/", timeout=10).json()
        faces = []
        for name in ("obama.jpg", "obama2.jpg"):
            with (EXAMPLES / name).open("rb") as fh:
                r = requests.post(
                    server.base + "/extract_embeddings_from_image",
                    files={"image": fh},
                    timeout=60,
                )
            faces.append(r.json()["faces"][0])
        verdict = requests.post(
            server.base + "/compare_embeddings",
            json={"embedding1": faces[0], "embedding2": faces[1]},
            timeout=10,
        ).json()
    finally:
        server.stop()
    card = CARDS["arcface:mobilefacenet-arcface"]
    assert index["models"]["detector"] == "yunet" and index["models"]["model"] == card.id
    assert index["levels"] == dict(card.levels)
    assert verdict["verdict"] == "unlock" and verdict["level"] == "standard"
