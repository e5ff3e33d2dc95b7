"""Reading a request: the app's services, the caller's key, JSON bodies, queries and uploads.

Every parse error becomes one of :mod:`faceid.errors`' leaves, so views stay three lines:
parse, call one function, return JSON.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app, g, request
from pydantic import BaseModel, ValidationError

from ..errors import (
    BadRequest,
    InvalidEmbedding,
    InvalidJSON,
    InvalidParameter,
    MissingField,
    PayloadTooLarge,
)
from ..lock.context import Context
from ..lock.gate import OPEN_ENDPOINTS
from ..lock.keys import Principal, authenticate
from ..services import Services
from ..store import Store

M = TypeVar("M", bound=BaseModel)


def services() -> Services:
    """The current app's :class:`~faceid.services.Services`."""
    found: Services = current_app.extensions["faceid"]
    return found


def store() -> Store:
    """The current app's gallery store."""
    return services().store


# -- who is calling ----------------------------------------------------------------------
def presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-API-Key")


def authenticate_request() -> None:
    """Resolve the caller's key into ``g.principal`` (401 without a valid one)."""
    g.principal = authenticate(services().store, presented_key())


WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def limit_writes() -> None:
    """A key's writes to the catalogue (subjects, faces, locks, grants, keys) count
    against ``FACEID_KEY_WRITE_RATE``; the door calls have their attempt budgets."""
    if request.method not in WRITES or (request.endpoint or "").startswith("v1.access."):
        return
    limiter = services().write_rate
    if limiter is not None:
        limiter.hit(g.principal.key_id, "write")


def heavy(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view that decodes media and looks for faces: it runs once its worker's gate
    (:class:`faceid.lock.gate.Gate`) admits it, or answers ``503 busy``."""

    @functools.wraps(view)
    def admitted(*args: Any, **kwargs: Any) -> Any:
        principal: Principal | None = g.get("principal")
        with services().gate.admit(principal.key_id if principal else OPEN_ENDPOINTS):
            return view(*args, **kwargs)

    return admitted


def caller(*scopes: str) -> Principal:
    """The authenticated caller, refused (403) unless its scope allows this call."""
    principal: Principal = g.principal
    principal.require(*scopes)
    return principal


def context(*scopes: str) -> Context:
    """Everything a lock decision needs, for a caller with one of ``scopes``."""
    svc = services()
    who = caller(*scopes)
    return Context(svc.store, svc.index, svc.pipeline, svc.settings, who, svc.card)


# -- bodies and queries ------------------------------------------------------------------
def _request_json() -> Any:
    """The parsed JSON body, or None when it is absent, malformed or nested absurdly deep."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def json_body(model: type[M]) -> M:
    """The JSON body validated by ``model`` (400 invalid_json / missing_field / bad_request)."""
    limit = services().settings.max_json_kb
    if (request.content_length or 0) > limit * 1024:
        raise PayloadTooLarge(f"A JSON body may hold at most {limit} KB (FACEID_MAX_JSON_KB).")
    data = _request_json()
    if data is None:
        raise InvalidJSON("The body must be a JSON object (Content-Type: application/json).")
    if not isinstance(data, dict):
        raise InvalidJSON("The JSON body must be an object.")
    try:  # strict: JSON's types as the schema states them (no "0.5" or false for a number)
        return model.model_validate(data, strict=True)
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


def query(model: type[M], *, form: bool = False) -> M:
    """The query string validated by ``model`` (400 invalid_parameter); with ``form``,
    the multipart form's plain fields count too and win over the query string's."""
    data = request.args.to_dict()
    if form:
        data.update(request.form.to_dict())
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidParameter(f"Query parameter '{where}': {first['msg']}") from exc


def timestamp(name: str, raw: str | None) -> float | None:
    """A time given as epoch seconds or ISO 8601, as epoch seconds (400 otherwise)."""
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise BadRequest(f"'{name}' must be epoch seconds or ISO 8601.") from exc


# -- uploads -----------------------------------------------------------------------------
def upload(field: str, model: type[BaseModel]) -> bytes:
    """The file bytes from multipart field ``field``, or base64 in a JSON body."""
    if request.files:
        if field not in request.files:
            raise MissingField(f"Send the file in the multipart field '{field}'.")
        return request.files[field].read()
    if request.is_json:
        encoded = getattr(json_body(model), field)
        try:
            return base64.b64decode(encoded.split(",", 1)[-1], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest(f"'{field}' is not valid base64.") from exc
    raise MissingField(f"Send a multipart/form-data upload with the field '{field}'.")


def files(field: str) -> list[bytes]:
    """Every file in multipart field ``field`` (at most FACEID_MAX_FILES)."""
    limit = services().settings.max_files
    uploads = request.files.getlist(field)
    if len(uploads) > limit:
        raise InvalidParameter(f"At most {limit} files in '{field}' (FACEID_MAX_FILES).")
    return [u.read() for u in uploads]


def one_file(field: str) -> bytes:
    found = files(field)
    if len(found) != 1:
        raise MissingField(f"Send exactly one file in the multipart field '{field}'.")
    return found[0]


def form_value(name: str) -> str | None:
    """A plain field from the multipart form, else from the query string."""
    return request.form.get(name) or request.args.get(name)


def flag(name: str) -> bool:
    """A yes/no form or query field (``true``/``1``/``yes``); 400 for anything else."""
    raw = (form_value(name) or "false").strip().lower()
    if raw not in ("true", "1", "yes", "false", "0", "no"):
        raise InvalidParameter(f"'{name}' must be true or false.")
    return raw in ("true", "1", "yes")
