"""The API description: every route's request and response models, and every status it answers.

Views declare their contract with :func:`documented`; ``/openapi.json`` serves the
document spectree builds from those pydantic models, and ``/docs`` an interactive page
(Swagger UI shipped inside the ``flask-swagger-ui`` package: no CDN, works offline).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, jsonify
from pydantic import BaseModel
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import InType, SecureType

from ..version import __version__
from .schemas import ErrorResponse

KEY_SCHEMES = [
    SecurityScheme(
        name="bearer",
        data=SecuritySchemeData(
            type=SecureType.HTTP, scheme="bearer", description="faceid API key"
        ),
    ),
    SecurityScheme(
        name="apiKey",
        data=SecuritySchemeData(type=SecureType.API_KEY, field_in=InType.HEADER, name="X-API-Key"),
    ),
]

spec = SpecTree(
    "flask",
    title="faceid",
    version=__version__,
    path="apidoc",
    page_templates={},
    security_schemes=KEY_SCHEMES,
    annotations=False,
    mode="strict",  # document the decorated views only (not /docs itself)
    # plain model names in the document, so generated clients get plain class names
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda parent, child: child,
)

bp = Blueprint("openapi", __name__)


def documented(
    ok: int,
    model: type[BaseModel] | None,
    errors: tuple[int, ...],
    *,
    keyed: bool = False,
    tag: str,
    also: dict[int, type[BaseModel]] | None = None,
    **request_models: type[BaseModel],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Describe a view: its success status and model, the error statuses it can answer
    (each with :class:`ErrorResponse`), whether it needs a key, and its request models
    (``query=``, ``json=``, ``form=``). Validation stays in the view, which maps it to
    faceid's own error codes."""
    statuses: dict[str, Any] = {f"HTTP_{ok}": model}
    statuses.update({f"HTTP_{status}": ErrorResponse for status in errors})
    statuses.update({f"HTTP_{status}": other for status, other in (also or {}).items()})
    options: dict[str, Any] = dict(request_models)
    return spec.validate(
        resp=Response(**statuses),
        tags=[tag],
        security=[{"bearer": []}, {"apiKey": []}] if keyed else None,
        skip_validation=True,
        **options,
    )


#: Routes whose success is plain text, not JSON: (path, method) -> media type.
PLAIN_TEXT = {("/metrics", "get"): "text/plain"}


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3 description of every route."""
    document = spec.spec
    for (path, method), media in PLAIN_TEXT.items():
        operation = document["paths"].get(path, {}).get(method)
        if operation is not None:
            operation["responses"]["200"]["content"] = {media: {"schema": {"type": "string"}}}
    return jsonify(document)


def register(app: Flask) -> None:
    """Serve ``/openapi.json`` and ``/docs`` on ``app``."""
    from flask_swagger_ui import get_swaggerui_blueprint

    app.register_blueprint(bp)
    spec.register(app)
    app.register_blueprint(
        get_swaggerui_blueprint("/docs", "/openapi.json", config={"app_name": "faceid API"}),
        url_prefix="/docs",
    )
