"""The application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from . import config, logs
from .errors import FaceIdError, PayloadTooLarge
from .pipeline import PipelineConfig, get_pipeline

log = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``instance/config.py``, then ``FACEID_*``, then tests'.

    >>> app = create_app({"TESTING": True})
    >>> app.name
    'faceid'
    """
    app = Flask("faceid", instance_relative_config=True)
    app.config.from_mapping(config.DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(config.from_environ())
    if test_config:
        app.config.from_mapping(test_config)
    app.config["MAX_CONTENT_LENGTH"] = int(float(app.config["FACEID_MAX_UPLOAD_MB"]) * 2**20)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    if not app.testing:
        logs.configure(app.config["FACEID_LOG_LEVEL"], app.config["FACEID_JSON_LOGS"])

    from .api import bp, spec
    from .v1 import bp as v1_bp

    app.register_blueprint(bp)
    app.register_blueprint(v1_bp)
    spec.register(app)
    _register_errors(app)

    if app.config["FACEID_PRELOAD"]:
        get_pipeline(PipelineConfig.from_mapping(app.config))
    return app


def _register_errors(app: Flask) -> None:
    @app.errorhandler(FaceIdError)
    def faceid_error(exc: FaceIdError) -> Any:
        log.info("request refused", extra={"code": exc.code, "status": exc.status})
        response = jsonify(exc.to_dict())
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response, exc.status

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> Any:
        limit = app.config["FACEID_MAX_UPLOAD_MB"]
        err = PayloadTooLarge(f"The upload exceeds {limit} MB (FACEID_MAX_UPLOAD_MB).")
        return jsonify(err.to_dict()), err.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        code = (exc.name or "error").lower().replace(" ", "_")
        body = {"error": {"code": code, "message": exc.description or exc.name}}
        return jsonify(body), exc.code or 500

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unhandled error")
        body = {"error": {"code": "internal", "message": "Internal error; it has been logged."}}
        return jsonify(body), 500
