"""The weights registry: resolve, verify, download (from a local file:// URL), CLI."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest
from click.testing import CliRunner

from faceid.cli import main
from faceid.errors import ModelDownloadError, ModelUnavailable
from faceid.faces import weights
from faceid.faces.weights import ModelFiles

from .conftest import MODELS, needs_models


@needs_models
def test_shared_files_resolve_and_verify():
    for weight_id in ("yunet", "retinaface-mnet025", "mobilefacenet-arcface"):
        assert ModelFiles(MODELS, False).resolve(weight_id).parent == MODELS


def test_missing_file_error_names_the_fix(tmp_path, monkeypatch):
    with pytest.raises(ModelUnavailable) as err:
        ModelFiles(tmp_path, allow_download=False).resolve("yunet")
    msg = err.value.message
    assert "faceid models pull yunet" in msg and "FACEID_MODELS_DIR" in msg
    assert weights.WEIGHTS["yunet"].sha256 in msg
    assert str(tmp_path / "face_detection_yunet_2023mar.onnx") in msg


def test_tampered_file_is_refused(tmp_path, monkeypatch):
    (tmp_path / "face_detection_yunet_2023mar.onnx").write_bytes(b"not the model")
    with pytest.raises(ModelUnavailable, match="SHA-256"):
        ModelFiles(tmp_path, allow_download=False).resolve("yunet")


@needs_models
def test_download_verifies_before_moving_in(tmp_path):
    source = MODELS / "face_detection_yunet_2023mar.onnx"
    good = replace(weights.WEIGHTS["yunet"], urls=(source.as_uri(),))
    target = tmp_path / "m" / good.filename
    assert weights.download(good, target) == target
    assert weights.sha256_of(target) == good.sha256

    bad = replace(good, sha256="0" * 64)
    target2 = tmp_path / "n" / good.filename
    with pytest.raises(ModelDownloadError, match="SHA-256"):
        weights.download(bad, target2)
    assert not target2.exists()
    assert list(target2.parent.iterdir()) == []  # no partial file left behind


@needs_models
def test_unpinned_download_records_its_digest(tmp_path):
    source = MODELS / "mobilefacenet_arcface.onnx"
    unpinned = replace(weights.WEIGHTS["arcface-deepface"], urls=(source.as_uri(),))
    target = tmp_path / unpinned.filename
    weights.download(unpinned, target)
    assert weights.expected_digest(unpinned, target) == weights.sha256_of(source)
    target.write_bytes(b"changed later")
    with pytest.raises(ModelUnavailable):
        weights.verify(unpinned, target)


def test_download_failure_is_a_clear_error(tmp_path):
    broken = replace(weights.WEIGHTS["yunet"], urls=((tmp_path / "absent.onnx").as_uri(),))
    with pytest.raises(ModelDownloadError, match="faceid models pull yunet"):
        weights.download(broken, tmp_path / "x.onnx")


@needs_models
def test_cli_list_and_check():
    runner = CliRunner()
    listed = runner.invoke(main, ["models", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {r["id"]: r for r in json.loads(listed.output)["models"]}
    assert rows["yunet"]["ok"] and not rows["arcface-deepface"]["present"]
    checked = runner.invoke(main, ["models", "check"])
    assert checked.exit_code == 0 and "yunet: ok" in checked.output


def test_cli_check_fails_on_a_bad_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEID_MODELS_DIR", str(tmp_path))
    (tmp_path / "retinaface_mnet025.onnx").write_bytes(b"junk")
    result = CliRunner().invoke(main, ["models", "check"])
    assert result.exit_code == 1 and "BAD digest" in result.output


def test_cli_pull_reports_failure_offline(tmp_path, monkeypatch):
    """Pulling from a file:// address that does not exist stands in for no network."""
    monkeypatch.setenv("FACEID_MODELS_DIR", str(tmp_path))
    monkeypatch.setitem(
        weights.WEIGHTS,
        "yunet",
        replace(weights.WEIGHTS["yunet"], urls=((tmp_path / "gone.onnx").as_uri(),)),
    )
    result = CliRunner().invoke(main, ["models", "pull", "yunet"])
    assert result.exit_code == 1 and "FAILED" in result.output


@needs_models
def test_cli_pull_copies_and_verifies(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEID_MODELS_DIR", str(tmp_path / "models"))
    src = tmp_path / "upstream.onnx"
    shutil.copy(MODELS / "face_detection_yunet_2023mar.onnx", src)
    monkeypatch.setitem(
        weights.WEIGHTS, "yunet", replace(weights.WEIGHTS["yunet"], urls=(src.as_uri(),))
    )
    result = CliRunner().invoke(main, ["models", "pull", "yunet"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "models" / "face_detection_yunet_2023mar.onnx").is_file()


def test_cli_pull_unknown_id():
    result = CliRunner().invoke(main, ["models", "pull", "nope"])
    assert result.exit_code == 2 and "unknown model" in result.output
