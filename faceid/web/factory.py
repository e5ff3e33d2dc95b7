"""The application factory: settings, services, blueprints, OpenAPI, and JSON errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .. import logs, metrics
from ..errors import FaceIdError, PayloadTooLarge
from ..faces.pipeline import Pipeline
from ..services import Services
from ..settings import Settings
from ..store import Store
from . import access, keys, locks, monitoring, openapi, original, page, subjects
from .requests import authenticate_request, limit_writes

log = logging.getLogger(__name__)


def create_app(
    test_config: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    store: Store | None = None,
    pipeline: Pipeline | None = None,
) -> Flask:
    """Build the app. Settings: defaults, then ``instance/config.py``, then ``FACEID_*``,
    then ``test_config`` (or a ready ``settings``). A ``store`` or ``pipeline`` handed in
    is used instead of opening one.

    >>> app = create_app({"TESTING": True})
    >>> app.name
    'faceid'
    """
    app = Flask("faceid", instance_relative_config=True)
    flask_config = {k: v for k, v in (test_config or {}).items() if not k.startswith("FACEID_")}
    if settings is None:
        overrides = {k: v for k, v in (test_config or {}).items() if k.startswith("FACEID_")}
        settings = Settings.load(overrides, instance_path=app.instance_path)
    app.config.from_mapping(flask_config)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if not app.testing:
        logs.configure(settings.log_level, settings.json_logs)

    services = Services(settings, store=store, pipeline=pipeline)
    app.extensions["faceid"] = services
    app.register_blueprint(original.bp)
    app.register_blueprint(monitoring.bp)
    app.register_blueprint(page.bp)
    app.register_blueprint(_v1())
    openapi.register(app)
    _register_errors(app, settings)
    _time_requests(app)

    if settings.preload:
        _ = services.pipeline
    return app


def _v1() -> Blueprint:
    """The lock API under ``/v1``: every call authenticated by an organisation's key."""
    v1 = Blueprint("v1", __name__, url_prefix="/v1")
    v1.before_request(authenticate_request)
    v1.before_request(limit_writes)
    for child in (subjects.bp, locks.bp, access.bp, keys.bp):
        v1.register_blueprint(child)
    return v1


def _time_requests(app: Flask) -> None:
    """Request latency by route (the URL rule, never the raw path: ids stay out)."""

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule else "unmatched"
            metrics.REQUEST_SECONDS.labels(
                route, request.method, str(response.status_code)
            ).observe(time.perf_counter() - started)
        return response


def _register_errors(app: Flask, settings: Settings) -> None:
    @app.errorhandler(FaceIdError)
    def faceid_error(exc: FaceIdError) -> Any:
        log.info("request refused", extra={"code": exc.code, "status": exc.status})
        metrics.REFUSALS.labels(exc.code).inc()
        response = jsonify(exc.to_dict())
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response, exc.status

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> Any:
        limit = f"{settings.max_upload_mb:g}"
        err = PayloadTooLarge(f"The upload exceeds {limit} MB (FACEID_MAX_UPLOAD_MB).")
        return jsonify(err.to_dict()), err.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        code = (exc.name or "error").lower().replace(" ", "_")
        body = {"error": {"code": code, "message": exc.description or exc.name}}
        response = jsonify(body)
        for name, value in exc.get_headers():  # a 405's Allow, for one
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, exc.code or 500

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unhandled error")
        body = {"error": {"code": "internal", "message": "Internal error; it has been logged."}}
        return jsonify(body), 500
