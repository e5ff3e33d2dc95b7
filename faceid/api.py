"""The HTTP API: thin views that parse the request, call one service function, return JSON."""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeVar

from flask import Blueprint, current_app, jsonify, request, url_for
from pydantic import BaseModel, ValidationError
from spectree import Response, SpecTree

from . import __version__, service
from .errors import BadRequest, InvalidEmbedding, InvalidJSON, InvalidParameter, MissingField
from .pipeline import Pipeline, PipelineConfig, arcface_model_id, get_pipeline, is_loaded
from .schemas import (
    CompareRequest,
    CompareResponse,
    ErrorResponse,
    ExtractQuery,
    ImageRequest,
    ImageResponse,
    IndexResponse,
    StatusResponse,
    VideoRequest,
    VideoResponse,
)

bp = Blueprint("faceid", __name__)
spec = SpecTree("flask", title="faceid", version=__version__, path="apidoc")
M = TypeVar("M", bound=BaseModel)

_ERRORS = {f"HTTP_{s}": ErrorResponse for s in (400, 413, 415, 422, 503)}


_KEYED = {
    "faceid.extract_embeddings_from_image",
    "faceid.extract_embeddings_from_video",
    "faceid.compare_embeddings",
}


@bp.before_request
def _require_key() -> None:
    """The original endpoints store nothing and stay open unless FACEID_REQUIRE_KEY=1."""
    if current_app.config["FACEID_REQUIRE_KEY"] and request.endpoint in _KEYED:
        from .auth import authenticate
        from .store import open_store
        from .v1 import presented_key

        authenticate(open_store(current_app.config), presented_key())


def _pipeline() -> Pipeline:
    return get_pipeline(PipelineConfig.from_mapping(current_app.config))


def _limits() -> service.Limits:
    cfg = current_app.config
    return service.Limits(
        max_pixels=int(cfg["FACEID_MAX_IMAGE_PIXELS"]),
        video_max_frames=int(cfg["FACEID_VIDEO_MAX_FRAMES"]),
    )


def _request_json() -> Any:
    """The parsed JSON body, or None when it is absent, malformed or nested absurdly deep."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def _json_body(model: type[M]) -> M:
    data = _request_json()
    if data is None:
        raise InvalidJSON("The body must be a JSON object (Content-Type: application/json).")
    if not isinstance(data, dict):
        raise InvalidJSON("The JSON body must be an object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        if first["type"] == "missing":
            raise MissingField(f"'{where}' is required.") from exc
        if where.startswith("embedding"):
            raise InvalidEmbedding(
                f"{where.split('.')[0]} must be a list of numbers, a list of such lists, "
                'or {"embedding": [...], "model": "..."}.'
            ) from exc
        raise BadRequest(f"'{where}': {first['msg']}") from exc


def _upload(field: str, model: type[ImageRequest] | type[VideoRequest]) -> bytes:
    """The file bytes from multipart field ``field``, or base64 in a JSON body."""
    if request.files:
        if field not in request.files:
            raise MissingField(f"Send the file in the multipart field '{field}'.")
        return request.files[field].read()
    if request.is_json:
        encoded = getattr(_json_body(model), field)
        try:
            return base64.b64decode(encoded.split(",", 1)[-1], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest(f"'{field}' is not valid base64.") from exc
    raise MissingField(f"Send a multipart/form-data upload with the field '{field}'.")


def _query(model: type[M]) -> M:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidParameter(f"Query parameter '{where}': {first['msg']}") from exc


@bp.get("/")
@spec.validate(resp=Response(HTTP_200=IndexResponse), skip_validation=True)
def index() -> Any:
    cfg = current_app.config
    model = _configured_model_id()
    return jsonify(
        service="faceid",
        version=__version__,
        models={
            "detector": cfg["FACEID_DETECTOR"],
            "embedder": cfg["FACEID_EMBEDDER"],
            **(
                {"arcface_model": cfg["FACEID_ARCFACE_MODEL"]}
                if cfg["FACEID_EMBEDDER"] == "arcface"
                else {}
            ),
            "model": model,
            "threshold": service.THRESHOLDS.get(model),
        },
        links={
            "extract_image": url_for("faceid.extract_embeddings_from_image"),
            "extract_video": url_for("faceid.extract_embeddings_from_video"),
            "compare": url_for("faceid.compare_embeddings"),
            "health": url_for("faceid.health"),
            "ready": url_for("faceid.ready"),
            "openapi": url_for("faceid.openapi"),
        },
    )


@bp.get("/health")
@spec.validate(resp=Response(HTTP_200=StatusResponse), skip_validation=True)
def health() -> Any:
    return jsonify(status="ok")


@bp.get("/ready")
@spec.validate(
    resp=Response(HTTP_200=StatusResponse, HTTP_503=StatusResponse), skip_validation=True
)
def ready() -> Any:
    loaded = is_loaded(PipelineConfig.from_mapping(current_app.config))
    return jsonify(status="ready" if loaded else "loading"), 200 if loaded else 503


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3 description, with the API-key schemes on every ``/v1`` operation."""
    document = dict(spec.spec)
    components = dict(document.get("components", {}))
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "faceid API key"},
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    document["components"] = components
    for path, operations in document.get("paths", {}).items():
        if path.startswith("/v1/"):
            for operation in operations.values():
                operation["security"] = [{"bearer": []}, {"apiKey": []}]
    return jsonify(document)


@bp.post("/extract_embeddings_from_image")
@spec.validate(
    query=ExtractQuery,
    json=ImageRequest,
    resp=Response(HTTP_200=ImageResponse, **_ERRORS),
    skip_validation=True,
)
def extract_embeddings_from_image() -> Any:
    """Embeddings of the faces in an image (multipart ``image`` or base64 JSON), largest first."""
    query = _query(ExtractQuery)
    data = _upload("image", ImageRequest)
    return jsonify(service.extract_image(_pipeline(), data, query.max_faces, _limits()))


@bp.post("/extract_embeddings_from_video")
@spec.validate(
    json=VideoRequest, resp=Response(HTTP_200=VideoResponse, **_ERRORS), skip_validation=True
)
def extract_embeddings_from_video() -> Any:
    """Per-frame embeddings, a template and a consistency score from a short video."""
    data = _upload("video", VideoRequest)
    return jsonify(service.extract_video(_pipeline(), data, _limits()))


@bp.post("/compare_embeddings")
@spec.validate(
    json=CompareRequest, resp=Response(HTTP_200=CompareResponse, **_ERRORS), skip_validation=True
)
def compare_embeddings() -> Any:
    """Cosine similarity and an unlock/locked verdict for two embeddings (or lists)."""
    body = _json_body(CompareRequest)
    default_model = _configured_model_id()
    return jsonify(service.compare(body, default_model))


def _configured_model_id() -> str:
    cfg = current_app.config
    if cfg["FACEID_EMBEDDER"] == "dlib":
        return "dlib-resnet-v1"
    return arcface_model_id(str(cfg["FACEID_ARCFACE_MODEL"]))
