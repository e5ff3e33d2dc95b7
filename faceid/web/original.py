"""The original endpoints: service information, health, extract from an image or a video,
compare embeddings. They store nothing and stay open unless FACEID_REQUIRE_KEY=1."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for

from ..faces import compare as comparing
from ..faces import extract
from ..faces.media import video_limits
from ..version import __version__
from .openapi import documented
from .requests import authenticate_request, heavy, json_body, query, services, upload
from .schemas import (
    CompareRequest,
    CompareResponse,
    ExtractQuery,
    ImageForm,
    ImageRequest,
    ImageResponse,
    IndexResponse,
    StatusResponse,
    VideoForm,
    VideoRequest,
    VideoResponse,
)

bp = Blueprint("faceid", __name__)

UPLOAD_ERRORS = (400, 401, 413, 415, 422, 429, 503)
_KEYED = {
    "faceid.extract_embeddings_from_image",
    "faceid.extract_embeddings_from_video",
    "faceid.compare_embeddings",
}


@bp.before_request
def _guard_open_endpoints() -> None:
    """Per-client rate limit on the endpoints that do face work without a key, and a key
    when FACEID_REQUIRE_KEY=1."""
    if request.endpoint not in _KEYED:
        return
    svc = services()
    if svc.rate_limit is not None:
        svc.rate_limit.hit(request.remote_addr or "unknown", str(request.endpoint))
    if svc.settings.require_key:
        authenticate_request()


def _limits() -> extract.Limits:
    cfg = services().settings
    return extract.Limits(max_pixels=cfg.max_image_pixels, video=video_limits(cfg))


@bp.get("/")
@documented(200, IndexResponse, (), tag="service")
def index() -> Any:
    """Service information: version, models, the active model's levels, links."""
    svc = services()
    cfg = svc.settings
    card = svc.card
    models: dict[str, Any] = {"detector": cfg.detector, "embedder": cfg.embedder}
    if cfg.embedder == "arcface":
        models["arcface_model"] = cfg.arcface_model
    models.update(model=card.id, threshold=card.threshold)
    links = {
        name: url_for(endpoint)
        for name, endpoint in (
            ("extract_image", "faceid.extract_embeddings_from_image"),
            ("extract_video", "faceid.extract_embeddings_from_video"),
            ("compare", "faceid.compare_embeddings"),
            ("health", "faceid.health"),
            ("ready", "faceid.ready"),
            ("openapi", "openapi.openapi"),
        )
    }
    return jsonify(
        service="faceid",
        version=__version__,
        models=models,
        levels=dict(card.levels),
        links=links,
    )


@bp.get("/health")
@documented(200, StatusResponse, (), tag="service")
def health() -> Any:
    """Liveness: the process answers."""
    return jsonify(status="ok")


@bp.get("/ready")
@documented(200, StatusResponse, (), tag="service", also={503: StatusResponse})
def ready() -> Any:
    """Readiness: 200 ``ready`` once the models are loaded, 503 ``loading`` before."""
    loaded = services().pipeline_loaded
    return jsonify(status="ready" if loaded else "loading"), 200 if loaded else 503


@bp.post("/extract_embeddings_from_image")
@documented(
    200,
    ImageResponse,
    UPLOAD_ERRORS,
    tag="faces",
    query=ExtractQuery,
    json=ImageRequest,
    form=ImageForm,
)
@heavy
def extract_embeddings_from_image() -> Any:
    """Embeddings of the faces in an image (multipart ``image`` or base64 JSON), largest first."""
    max_faces = query(ExtractQuery).max_faces
    data = upload("image", ImageRequest)
    return jsonify(extract.extract_image(services().pipeline, data, max_faces, _limits()))


@bp.post("/extract_embeddings_from_video")
@documented(200, VideoResponse, UPLOAD_ERRORS, tag="faces", json=VideoRequest, form=VideoForm)
@heavy
def extract_embeddings_from_video() -> Any:
    """Per-frame embeddings, a template and a consistency score from a short video."""
    data = upload("video", VideoRequest)
    return jsonify(extract.extract_video(services().pipeline, data, _limits()))


@bp.post("/compare_embeddings")
@documented(200, CompareResponse, (400, 401, 413, 422, 429, 503), tag="faces", json=CompareRequest)
def compare_embeddings() -> Any:
    """Cosine similarity and an unlock/locked verdict for two embeddings (or lists), at the
    model's ``standard`` level unless ``level`` or ``threshold`` says otherwise."""
    body = json_body(CompareRequest).model_dump()
    result = comparing.compare(
        body["embedding1"],
        body["embedding2"],
        threshold=body["threshold"],
        level=body["level"],
        model=body["model"],
        default=services().card,
    )
    return jsonify(result)
