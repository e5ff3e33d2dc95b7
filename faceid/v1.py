"""The ``/v1`` lock API: organisations' subjects, faces, locks, unlock, identify, verify, audit.

Every call needs an API key; every id is looked up inside the key's organisation,
so another organisation's ids answer 404.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel, Field, field_validator

from . import access, enrollment
from .api import _json_body, spec
from .auth import Principal, authenticate
from .errors import BadRequest, InvalidParameter, MissingField
from .gallery import Context, NotFound, Policy, find_lock, find_subject
from .index import IndexCache
from .pipeline import PipelineConfig, get_pipeline
from .store import Store, open_store

bp = Blueprint("v1", __name__, url_prefix="/v1")

_indexes: dict[int, IndexCache] = {}
_indexes_lock = threading.Lock()


MAX_METADATA_BYTES = 16_384


class SubjectIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("metadata")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value)) > MAX_METADATA_BYTES:
            raise ValueError(f"metadata must be at most {MAX_METADATA_BYTES} bytes of JSON")
        return value


class LockIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


def store() -> Store:
    return open_store(current_app.config)


def index_for(s: Store) -> IndexCache:
    with _indexes_lock:
        return _indexes.setdefault(id(s), IndexCache(s))


def presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("X-API-Key")


@bp.before_request
def _authenticate() -> None:
    g.principal = authenticate(store(), presented_key())


def caller(*scopes: str) -> Principal:
    principal: Principal = g.principal
    principal.require(*scopes)
    return principal


def context(*scopes: str) -> Context:
    cfg = current_app.config
    s = store()
    policy = Policy(
        lockout_attempts=int(cfg["FACEID_LOCKOUT_ATTEMPTS"]),
        lockout_window_s=float(cfg["FACEID_LOCKOUT_WINDOW_S"]),
        lockout_s=float(cfg["FACEID_LOCKOUT_S"]),
        enroll_min_frames=int(cfg["FACEID_ENROLL_MIN_FRAMES"]),
        enroll_min_quality=float(cfg["FACEID_ENROLL_MIN_QUALITY"]),
        enroll_templates=int(cfg["FACEID_ENROLL_TEMPLATES"]),
        keep_images=bool(cfg["FACEID_KEEP_IMAGES"]),
        max_pixels=int(cfg["FACEID_MAX_IMAGE_PIXELS"]),
        video_max_frames=int(cfg["FACEID_VIDEO_MAX_FRAMES"]),
    )
    return Context(
        s, index_for(s), get_pipeline(PipelineConfig.from_mapping(cfg)), policy, caller(*scopes)
    )


def page() -> tuple[int, int]:
    try:
        limit = int(request.args.get("limit", 50))
        offset = int(request.args.get("offset", 0))
    except ValueError as exc:
        raise InvalidParameter("limit and offset must be integers.") from exc
    if not 1 <= limit <= 500 or offset < 0:
        raise InvalidParameter("limit must be 1..500 and offset >= 0.")
    return limit, offset


def files(field: str) -> list[bytes]:
    limit = int(current_app.config["FACEID_MAX_FILES"])
    uploads = request.files.getlist(field)
    if len(uploads) > limit:
        raise InvalidParameter(f"At most {limit} files in '{field}' (FACEID_MAX_FILES).")
    return [u.read() for u in uploads]


def one_file(field: str) -> bytes:
    found = files(field)
    if len(found) != 1:
        raise MissingField(f"Send exactly one file in the multipart field '{field}'.")
    return found[0]


def listing(items: list[dict[str, Any]], total: int, limit: int, offset: int) -> Response:
    return jsonify(items=items, total=total, limit=limit, offset=offset)


# -- subjects ------------------------------------------------------------------------
@bp.post("/subjects")
@spec.validate(json=SubjectIn, skip_validation=True)
def create_subject() -> Any:
    who = caller("enroll")
    body = _json_body(SubjectIn)
    subject = store().create_subject(who.org_id, body.name, body.metadata)
    store().audit(who.org_id, "subject.create", key_id=who.key_id, subject_id=subject.id)
    return jsonify(subject.to_json()), 201


@bp.get("/subjects")
def list_subjects() -> Any:
    who = caller("enroll")
    limit, offset = page()
    subjects, total = store().list_subjects(who.org_id, limit, offset)
    return listing([s.to_json() for s in subjects], total, limit, offset)


@bp.get("/subjects/<subject_id>")
def get_subject(subject_id: str) -> Any:
    who = caller("enroll")
    return jsonify(find_subject(store(), who.org_id, subject_id).to_json())


@bp.delete("/subjects/<subject_id>")
def delete_subject(subject_id: str) -> Any:
    who = caller("enroll")
    find_subject(store(), who.org_id, subject_id)
    erased = store().delete_subject(who.org_id, subject_id)
    store().audit(
        who.org_id,
        "subject.delete",
        key_id=who.key_id,
        subject_id=subject_id,
        templates_erased=erased,
    )
    return jsonify(id=subject_id, deleted=True, templates_erased=erased)


@bp.post("/subjects/<subject_id>/enrollments")
def enroll(subject_id: str) -> Any:
    ctx = context("enroll")
    video = files("video")
    images = files("images")
    if bool(video) == bool(images) or len(video) > 1:
        raise MissingField("Send one selfie 'video' or 1..N 'images' (multipart), not both.")
    report = enrollment.enroll(ctx, subject_id, video=video[0] if video else None, images=images)
    return jsonify(report), 201


# -- faces (templates) ------------------------------------------------------------------
@bp.get("/subjects/<subject_id>/faces")
def list_faces(subject_id: str) -> Any:
    who = caller("enroll")
    find_subject(store(), who.org_id, subject_id)
    faces = [t.to_json() for t in store().list_templates(who.org_id, subject_id)]
    return listing(faces, len(faces), len(faces), 0)


@bp.delete("/subjects/<subject_id>/faces/<face_id>")
def delete_face(subject_id: str, face_id: str) -> Any:
    who = caller("enroll")
    if not store().delete_template(who.org_id, subject_id, face_id):
        raise NotFound(f"No face '{face_id}' for subject '{subject_id}'.")
    store().audit(
        who.org_id, "face.delete", key_id=who.key_id, subject_id=subject_id, template_id=face_id
    )
    return jsonify(id=face_id, deleted=True)


@bp.put("/subjects/<subject_id>/faces/<face_id>")
def replace_face(subject_id: str, face_id: str) -> Any:
    ctx = context("enroll")
    return jsonify(enrollment.replace_face(ctx, subject_id, face_id, one_file("image")))


# -- locks and grants ----------------------------------------------------------------
@bp.post("/locks")
@spec.validate(json=LockIn, skip_validation=True)
def create_lock() -> Any:
    who = caller("admin")
    lock = store().create_lock(who.org_id, _json_body(LockIn).name)
    store().audit(who.org_id, "lock.create", key_id=who.key_id, lock_id=lock.id)
    return jsonify(lock.to_json()), 201


@bp.get("/locks")
def list_locks() -> Any:
    who = caller("admin")
    limit, offset = page()
    locks, total = store().list_locks(who.org_id, limit, offset)
    return listing([lock.to_json() for lock in locks], total, limit, offset)


@bp.get("/locks/<lock_id>")
def get_lock(lock_id: str) -> Any:
    who = caller("admin")
    lock = find_lock(store(), who.org_id, lock_id)
    return jsonify({**lock.to_json(), "granted": store().granted(lock_id)})


@bp.delete("/locks/<lock_id>")
def delete_lock(lock_id: str) -> Any:
    who = caller("admin")
    find_lock(store(), who.org_id, lock_id)
    store().delete_lock(who.org_id, lock_id)
    store().audit(who.org_id, "lock.delete", key_id=who.key_id, lock_id=lock_id)
    return jsonify(id=lock_id, deleted=True)


@bp.put("/locks/<lock_id>/grants/<subject_id>")
def grant(lock_id: str, subject_id: str) -> Any:
    who = caller("admin")
    find_lock(store(), who.org_id, lock_id)
    find_subject(store(), who.org_id, subject_id)
    created = store().grant(lock_id, subject_id)
    store().audit(who.org_id, "grant", key_id=who.key_id, lock_id=lock_id, subject_id=subject_id)
    return jsonify(lock_id=lock_id, subject_id=subject_id, granted=True), 201 if created else 200


@bp.delete("/locks/<lock_id>/grants/<subject_id>")
def revoke(lock_id: str, subject_id: str) -> Any:
    who = caller("admin")
    find_lock(store(), who.org_id, lock_id)
    if not store().revoke(lock_id, subject_id):
        raise NotFound(f"Subject '{subject_id}' holds no grant on lock '{lock_id}'.")
    store().audit(who.org_id, "revoke", key_id=who.key_id, lock_id=lock_id, subject_id=subject_id)
    return jsonify(lock_id=lock_id, subject_id=subject_id, granted=False)


@bp.post("/locks/<lock_id>/unlock")
def unlock(lock_id: str) -> Any:
    ctx = context("unlock")
    frames = files("frames")
    video = files("video")
    if bool(frames) == bool(video) or len(video) > 1:
        raise MissingField("Send 1..N 'frames' or one short 'video' (multipart), not both.")
    return jsonify(access.unlock(ctx, lock_id, frames=frames, video=video[0] if video else None))


# -- identify, verify, audit ------------------------------------------------------------
@bp.post("/identify")
def identify() -> Any:
    ctx = context("unlock")
    try:
        top_k = int(request.args.get("top_k", request.form.get("top_k", 5)))
    except ValueError as exc:
        raise InvalidParameter("top_k must be an integer.") from exc
    return jsonify(access.identify(ctx, one_file("image"), top_k))


@bp.post("/verify")
def verify() -> Any:
    ctx = context("unlock")
    subject_id = request.form.get("subject_id") or request.args.get("subject_id")
    image = one_file("image")
    if subject_id:
        return jsonify(access.verify(ctx, image, subject_id=subject_id, other=None))
    if "image2" not in request.files:
        raise MissingField("Send 'subject_id' or a second image 'image2'.")
    return jsonify(access.verify(ctx, image, subject_id=None, other=one_file("image2")))


def _when(name: str) -> float | None:
    raw = request.args.get(name)
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


@bp.get("/audit")
def audit() -> Any:
    who = caller("admin")
    limit, offset = page()
    events = store().audit_events(
        who.org_id,
        lock_id=request.args.get("lock_id"),
        since=_when("since"),
        until=_when("until"),
        limit=limit,
        offset=offset,
    )
    return jsonify(items=events, limit=limit, offset=offset)
