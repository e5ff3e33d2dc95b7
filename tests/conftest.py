"""Shared fixtures: the app, its client, paths into ../shared, helpers for uploads.

Tests find the shared faces and models through FACEID_SHARED (default ../shared
beside the project) and skip with a reason when it is absent.
"""

from __future__ import annotations

import atexit
import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from faceid import Pipeline, PipelineConfig, Settings, create_app
from faceid.services import Services

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("FACEID_SHARED") or ROOT.parent / "shared").resolve()
FACES = SHARED / "faces"
DEEPFACE = FACES / "deepface"
EXAMPLES = FACES / "face_recognition" / "examples"
TEST_IMAGES = FACES / "face_recognition" / "tests" / "test_images"
MODELS = SHARED / "models"


def _models_view() -> Path:
    """The models folder the tests' pipelines use: the shared weights linked into a folder
    of this test run's own, so that what is converted on first use (dlib's network as
    ONNX) is cached there and nothing is written into ../shared."""
    view = Path(tempfile.mkdtemp(prefix="faceid-test-models-"))
    atexit.register(shutil.rmtree, view, True)
    if MODELS.is_dir():
        for path in MODELS.iterdir():
            (view / path.name).symlink_to(path)
    return view


MODELS_DIR = _models_view()


def shared_photos() -> list[Path]:
    """The shared photos the detector and model tests were measured on (96: the pair
    lists', the examples', the group selfies), not the LFW half in ``lfw/`` (3,588 photos,
    for the evaluation) nor the clips' folder."""
    suffixes = (".jpg", ".jpeg", ".png")
    return sorted(
        p
        for p in FACES.rglob("*")
        if p.suffix.lower() in suffixes
        and not {"liveness", "lfw"} & set(p.relative_to(FACES).parts)
    )


needs_faces = pytest.mark.skipif(
    not FACES.is_dir(), reason=f"shared face images not found at {FACES} (set FACEID_SHARED)"
)
needs_models = pytest.mark.skipif(
    not MODELS.is_dir(), reason=f"shared ONNX models not found at {MODELS} (set FACEID_SHARED)"
)

ONNX_CONFIG = {
    "FACEID_DETECTOR": "yunet",
    "FACEID_EMBEDDER": "arcface",
    "FACEID_ARCFACE_MODEL": "mobilefacenet-arcface",
}


@pytest.fixture(autouse=True)
def _models_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the weights registry at the shared models and forbid downloads in tests."""
    monkeypatch.setenv("FACEID_MODELS_DIR", str(MODELS_DIR))
    monkeypatch.setenv("FACEID_ALLOW_DOWNLOAD", "0")


_pipelines: dict[PipelineConfig, Pipeline] = {}


def settings_for(**config: Any) -> Settings:
    """Settings as the app would read them, with ``config`` (``FACEID_*`` names) on top."""
    return Settings.load(config)


def load_pipeline(cfg: PipelineConfig) -> Pipeline:
    """One loaded pipeline per configuration for the whole test session (loading is slow)."""
    if cfg not in _pipelines:
        _pipelines[cfg] = Pipeline.load(cfg)
    return _pipelines[cfg]


def pipeline_config(**fields: Any) -> PipelineConfig:
    """A pipeline configuration reading weights from the shared models folder."""
    return PipelineConfig(**{"models_dir": MODELS_DIR, "allow_download": False, **fields})


def make_app(**config: Any) -> Flask:
    """An app on these settings that shares the session's loaded pipelines. The open
    endpoints' rate limits and the keys' write rate are off unless a test sets them
    (tests/security/ does)."""
    settings = settings_for(
        **{
            "FACEID_OPEN_RATE_LIMIT": "",
            "FACEID_COMPARE_RATE_LIMIT": "",
            "FACEID_KEY_WRITE_RATE": "",
            **config,
        }
    )
    cfg = PipelineConfig.from_settings(settings)
    try:
        pipeline: Pipeline | None = load_pipeline(cfg)
    except Exception:  # noqa: BLE001 - a model that cannot load here: let the app answer 503
        pipeline = None
    return create_app({"TESTING": True}, settings=settings, pipeline=pipeline)


def services(app: Flask) -> Services:
    found: Services = app.extensions["faceid"]
    return found


@pytest.fixture
def app() -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def onnx_client() -> FlaskClient:
    return make_app(**ONNX_CONFIG).test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


def upload(path_or_bytes: Path | bytes, field: str = "image", name: str = "f.jpg") -> dict:
    """A multipart body with one file."""
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    return {field: (io.BytesIO(data), name)}


def error_code(response: Any) -> str:
    body = response.get_json()
    assert body is not None, response.data[:200]
    assert set(body) == {"error"}, body
    assert body["error"]["message"], body
    return str(body["error"]["code"])


@pytest.fixture(scope="session")
def tmp_media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A PostgreSQL server for the session: FACEID_TEST_DATABASE_URL, or one started here."""
    from .pg import TempPostgres

    url = os.environ.get("FACEID_TEST_DATABASE_URL")
    if url:
        yield type("External", (), {"new_database": staticmethod(lambda: url)})()
        return
    try:
        server = TempPostgres()
    except (RuntimeError, OSError, KeyError, subprocess.SubprocessError) as exc:
        if os.environ.get("FACEID_REQUIRE_POSTGRES"):
            pytest.fail(f"FACEID_REQUIRE_POSTGRES is set but PostgreSQL did not start: {exc}")
        pytest.skip(f"no PostgreSQL here: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store_config(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Settings for a fresh, empty store of each kind."""
    if request.param == "sqlite":
        return {"FACEID_DATA_DIR": str(tmp_path / "data")}
    return {"FACEID_DATABASE_URL": request.getfixturevalue("postgres").new_database()}


def require_tool(name: str) -> str:
    """The path of a Debian program a test drives (ffmpeg, chromium), or a skip saying so.

    ``.ci/run`` installs them and sets FACEID_REQUIRE_TOOLS=1, which turns the skip into a
    failure there, so CI cannot pass by skipping.
    """

    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed (Debian package; .ci/run installs it)"
    if os.environ.get("FACEID_REQUIRE_TOOLS"):
        pytest.fail(f"FACEID_REQUIRE_TOOLS is set but {message}")
    pytest.skip(message)
