"""Levels of a custom ArcFace file: read from the JSON spec beside it, checked when the
service starts; a file calibrated for none runs at 0.5 with no ``high`` level."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faceid.errors import ConfigError
from faceid.lock.keys import create_key

from .conftest import MODELS, error_code, make_app, needs_models, services

pytestmark = needs_models


def custom_model(folder: Path, spec: dict | None) -> Path:
    """MobileFaceNet under another name, with ``spec`` beside it (or none)."""
    onnx = folder / "mine.onnx"
    onnx.symlink_to(MODELS / "mobilefacenet_arcface.onnx")
    if spec is not None:
        folder.joinpath("mine.json").write_text(json.dumps(spec))
    return onnx


def app_for(path: Path, tmp_path: Path, **config: str):
    return make_app(
        FACEID_EMBEDDER="arcface",
        FACEID_ARCFACE_MODEL=str(path),
        FACEID_DATA_DIR=str(tmp_path / "data"),
        **config,
    )


def test_a_model_calibrated_for_no_level_runs_standard_at_half(tmp_path):
    app = app_for(custom_model(tmp_path, {"name": "mine"}), tmp_path)
    client = app.test_client()
    assert client.get("/").json["levels"] == {}
    key = create_key(services(app).store, "acme", "admin")[1]
    headers = {"Authorization": f"Bearer {key}"}
    r = client.post("/v1/locks", json={"name": "door", "liveness": "off"}, headers=headers)
    assert r.status_code == 201 and r.json["level"] == "standard"
    vault = {"name": "vault", "liveness": "off", "level": "high"}
    r = client.post("/v1/locks", json=vault, headers=headers)
    assert r.status_code == 422 and error_code(r) == "level_unavailable"
    (tmp_path / "b").mkdir()
    with pytest.raises(ConfigError, match="FACEID_LEVEL=high"):
        app_for(custom_model(tmp_path / "b", {"name": "mine"}), tmp_path, FACEID_LEVEL="high")


def test_spec_levels_are_used(tmp_path):
    spec = {"name": "mine", "levels": {"standard": 0.45, "high": 0.6}}
    app = app_for(custom_model(tmp_path, spec), tmp_path)
    assert app.test_client().get("/").json["levels"] == {"standard": 0.45, "high": 0.6}


@pytest.mark.parametrize(
    "levels",
    [
        [0.4, 0.5],
        "0.5",
        {"strict": 0.7},
        {"standard": "0.5"},
        {"standard": True},
        {"standard": float("nan")},
        {"standard": -5},
        {"standard": 0.6, "high": 0.5},
    ],
    ids=["list", "string", "unknown level", "text", "bool", "nan", "below -1", "loose"],
)
def test_bad_spec_levels_stop_the_service_at_start(tmp_path, levels):
    (tmp_path / "m").mkdir()
    path = custom_model(tmp_path / "m", {"name": "mine", "levels": levels})
    with pytest.raises(ConfigError, match=r"mine\.json"):
        app_for(path, tmp_path)


def test_a_bad_threshold_or_broken_spec_stops_the_service(tmp_path):
    for i, text in enumerate(['{"name": "mine", "threshold": "0.6"}', "{not json", '{"x": 1}']):
        folder = tmp_path / str(i)
        folder.mkdir()
        path = custom_model(folder, None)
        folder.joinpath("mine.json").write_text(text)
        with pytest.raises(ConfigError, match=r"mine\.json"):
            app_for(path, tmp_path)
