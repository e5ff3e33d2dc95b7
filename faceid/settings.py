"""One typed settings object: defaults -> ``instance/config.py`` -> ``FACEID_*`` -> overrides.

Every setting is a field of :class:`Settings`; its environment variable is the field
name in upper case with the ``FACEID_`` prefix (``detector`` <- ``FACEID_DETECTOR``).
The web app, the CLI and gunicorn's config all call :meth:`Settings.load`, so they
agree on every value.

>>> Settings.load(environ={}, instance_path=None).detector
'hog'
>>> Settings.load(environ={"FACEID_LOCKOUT_ATTEMPTS": "3"}, instance_path=None).lockout_attempts
3
>>> Settings.load({"FACEID_PIPELINE": "recommended"}, environ={}, instance_path=None).detector
'yunet'
"""

from __future__ import annotations

import os
import runpy
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError
from .faces.presets import DEFAULT, DEFAULT_ARCFACE_MODEL, PRESETS

PREFIX = "FACEID_"
#: Where ``instance/config.py`` is looked for unless ``FACEID_INSTANCE_PATH`` says otherwise:
#: the ``instance`` folder beside the package, as Flask's own default for a source checkout.
DEFAULT_INSTANCE_PATH = Path(__file__).resolve().parent.parent / "instance"


class Settings(BaseModel):
    """Every setting, with its default. Read-only once loaded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # -- models ---------------------------------------------------------------
    pipeline: Literal["", "default", "recommended"] = ""
    detector: str = DEFAULT.detector
    embedder: str = DEFAULT.embedder
    arcface_model: str = DEFAULT_ARCFACE_MODEL
    models_dir: Path = Path("~/.cache/faceid/models")
    allow_download: bool = True
    detect_max_side: int = Field(640, ge=0)
    onnx_threads: int = Field(0, ge=0)
    dlib_backend: Literal["auto", "onnx", "dlib"] = "auto"
    preload: bool = False
    # -- inputs ---------------------------------------------------------------
    max_upload_mb: float = Field(20, gt=0)
    max_json_kb: int = Field(2048, ge=1)
    max_image_pixels: int = Field(40_000_000, ge=1)
    max_request_pixels: int = Field(100_000_000, ge=1)
    video_max_frames: int = Field(16, ge=1, le=256)
    video_max_pixels: int = Field(8_294_400, ge=1)
    video_max_seconds: float = Field(60, gt=0)
    video_decode_timeout_s: float = Field(30, gt=0)
    video_decode_memory_mb: int = Field(2048, ge=256)
    max_files: int = Field(10, ge=1, le=100)
    # -- logs and serving -----------------------------------------------------
    json_logs: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(2, ge=1)
    timeout: int = Field(120, ge=1)
    # -- lock service ---------------------------------------------------------
    data_dir: Path = Path("data")
    database_url: str = ""
    require_key: bool = False
    open_rate_limit: str = "120/minute"
    compare_rate_limit: str = "6000/minute"
    encryption_key: str = Field("", repr=False)
    keep_images: bool = False
    lockout_attempts: int = Field(5, ge=1)
    key_attempts: int = Field(20, ge=1)
    subject_attempts: int = Field(5, ge=1)
    lockout_window_s: float = Field(300, gt=0)
    lockout_s: float = Field(300, gt=0)
    lockout_max_s: float = Field(86400, gt=0)
    lockout_day_factor: int = Field(4, ge=1)
    refund_attempts: int = Field(30, ge=1)
    quota_subjects: int = Field(100_000, ge=1)
    quota_templates: int = Field(1_000_000, ge=1)
    quota_locks: int = Field(10_000, ge=1)
    quota_keys: int = Field(10_000, ge=1)
    audit_retention_days: float = Field(365, gt=0)
    index_approx_from: int = Field(200_000, ge=1)
    index_dir: str = ""
    key_write_rate: str = "300/minute"
    heavy_requests: int = Field(2, ge=1, le=64)
    heavy_per_key: int = Field(1, ge=1, le=64)
    heavy_wait_s: float = Field(10, ge=0, le=600)
    enroll_min_frames: int = Field(3, ge=1)
    enroll_min_quality: float = Field(0.1, ge=0, le=1)
    enroll_templates: int = Field(5, ge=1)
    level: Literal["standard", "high"] = "standard"
    # -- liveness -------------------------------------------------------------
    lock_liveness: Literal["off", "challenge"] = "challenge"
    enroll_liveness: Literal["off", "challenge"] = "off"
    challenge_ttl_s: float = Field(60, gt=0, le=600)
    challenge_actions: str = ""
    challenge_schedule: Literal["on", "off"] = "on"
    challenge_max_frames: int = Field(150, ge=10, le=256)
    challenge_max_seconds: float = Field(16, gt=0, le=60)

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        """``pipeline`` fills in detector, embedder and ArcFace weights (those not set)."""
        if isinstance(data, dict) and data.get("pipeline") in PRESETS:
            return {**PRESETS[data["pipeline"]].settings(), **data}
        return data

    @field_validator("open_rate_limit", "compare_rate_limit", "key_write_rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        """``off`` (or empty, in a config file or override) turns the limit off: an empty
        environment variable counts as unset, so ``off`` is the way to say it there."""
        if value.strip().lower() == "off":
            return ""
        if value:
            from limits import parse

            parse(value)  # ValueError names what is wrong
        return value

    @classmethod
    def names(cls) -> dict[str, str]:
        """Environment variable -> field name, for every setting."""
        return {PREFIX + name.upper(): name for name in cls.model_fields}

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        instance_path: Path | str | None = DEFAULT_INSTANCE_PATH,
    ) -> Settings:
        """Defaults, then ``instance_path/config.py``, then ``FACEID_*`` variables, then
        ``overrides`` (keys as ``FACEID_*`` names or field names). Raises ConfigError."""
        environ = os.environ if environ is None else environ
        if instance_path is not None and environ.get(PREFIX + "INSTANCE_PATH"):
            instance_path = environ[PREFIX + "INSTANCE_PATH"]
        values: dict[str, Any] = {}
        if instance_path is not None:
            values.update(_from_pyfile(Path(instance_path) / "config.py"))
        values.update({k: v for k, v in environ.items() if k in cls.names() and v != ""})
        values.update(overrides or {})
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Settings:
        """Settings from ``FACEID_*`` (or field) names; unknown ``FACEID_*`` names are refused."""
        names = cls.names()
        fields: dict[str, Any] = {}
        for key, value in values.items():
            if key in names:
                fields[names[key]] = value
            elif key in cls.model_fields:
                fields[key] = value
            elif key.startswith(PREFIX) and key != PREFIX + "INSTANCE_PATH":
                raise ConfigError(f"Unknown setting {key}; known: {', '.join(sorted(names))}.")
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = PREFIX + str(first["loc"][0]).upper() if first["loc"] else "?"
            raise ConfigError(f"{name}={first.get('input')!r}: {first['msg']}") from exc

    @property
    def models_path(self) -> Path:
        return self.models_dir.expanduser()

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)


def _from_pyfile(path: Path) -> dict[str, Any]:
    """The ``FACEID_*`` names a Python settings file defines (Flask's instance config)."""
    if not path.is_file():
        return {}
    return {k: v for k, v in runpy.run_path(str(path)).items() if k.startswith(PREFIX)}
