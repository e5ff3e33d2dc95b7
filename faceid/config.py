"""Defaults for every setting; each can be overridden by a ``FACEID_*`` environment variable."""

from __future__ import annotations

import os
from typing import Any

DEFAULTS: dict[str, Any] = {
    "FACEID_DETECTOR": "hog",
    "FACEID_EMBEDDER": "dlib",
    "FACEID_ARCFACE_MODEL": "arcface-deepface",
    "FACEID_DETECT_MAX_SIDE": 640,
    "FACEID_ONNX_THREADS": 0,
    "FACEID_MAX_UPLOAD_MB": 20,
    "FACEID_MAX_IMAGE_PIXELS": 40_000_000,
    "FACEID_VIDEO_MAX_FRAMES": 16,
    "FACEID_PRELOAD": False,
    "FACEID_JSON_LOGS": True,
    "FACEID_LOG_LEVEL": "INFO",
    # lock service
    "FACEID_DATA_DIR": "data",
    "FACEID_DATABASE_URL": "",
    "FACEID_REQUIRE_KEY": False,
    "FACEID_ENCRYPTION_KEY": "",
    "FACEID_KEEP_IMAGES": False,
    "FACEID_LOCKOUT_ATTEMPTS": 5,
    "FACEID_LOCKOUT_WINDOW_S": 300,
    "FACEID_LOCKOUT_S": 300,
    "FACEID_ENROLL_MIN_FRAMES": 3,
    "FACEID_ENROLL_MIN_QUALITY": 0.1,
    "FACEID_ENROLL_TEMPLATES": 5,
    "FACEID_MAX_FILES": 10,
}


def _coerce(default: Any, raw: str) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def from_environ(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The ``FACEID_*`` settings present in the environment, typed like their defaults."""
    environ = dict(os.environ if environ is None else environ)
    out: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        if key in environ and environ[key] != "":
            try:
                out[key] = _coerce(default, environ[key])
            except ValueError as exc:
                raise ValueError(
                    f"{key}={environ[key]!r} is not a valid {type(default).__name__}"
                ) from exc
    return out
