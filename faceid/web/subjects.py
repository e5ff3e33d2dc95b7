"""``/v1/subjects``: people, their enrolments and their faces (templates). Scope ``enroll``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from ..errors import MissingField, NotFound
from ..lock import enrollment
from ..lock.catalogue import find_subject
from .openapi import documented
from .requests import caller, context, files, json_body, one_file, query, services
from .schemas import ImageForm
from .schemas_v1 import (
    Deleted,
    EnrollForm,
    EnrollReport,
    FaceList,
    FaceReplaced,
    PageQuery,
    SubjectDeleted,
    SubjectIn,
    SubjectList,
    SubjectOut,
)

bp = Blueprint("subjects", __name__)

KEY_ERRORS = (401, 403)
#: What an upload that is embedded can answer besides success.
MEDIA_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422, 503)


@bp.post("/subjects")
@documented(201, SubjectOut, (400, *KEY_ERRORS, 413), keyed=True, tag="subjects", json=SubjectIn)
def create_subject() -> Any:
    """Create a person (no face yet)."""
    who = caller("enroll")
    body = json_body(SubjectIn)
    store = services().store
    subject = store.create_subject(who.org_id, body.name, body.metadata)
    store.audit(who.org_id, "subject.create", key_id=who.key_id, subject_id=subject.id)
    return jsonify(subject.to_json()), 201


@bp.get("/subjects")
@documented(200, SubjectList, (400, *KEY_ERRORS), keyed=True, tag="subjects", query=PageQuery)
def list_subjects() -> Any:
    """The organisation's subjects, paged."""
    who = caller("enroll")
    page = query(PageQuery)
    subjects, total = services().store.list_subjects(who.org_id, page.limit, page.offset)
    items = [s.to_json() for s in subjects]
    return jsonify(items=items, total=total, limit=page.limit, offset=page.offset)


@bp.get("/subjects/<subject_id>")
@documented(200, SubjectOut, (*KEY_ERRORS, 404), keyed=True, tag="subjects")
def get_subject(subject_id: str) -> Any:
    """One subject."""
    who = caller("enroll")
    return jsonify(find_subject(services().store, who.org_id, subject_id).to_json())


@bp.delete("/subjects/<subject_id>")
@documented(200, SubjectDeleted, (*KEY_ERRORS, 404), keyed=True, tag="subjects")
def delete_subject(subject_id: str) -> Any:
    """Erase a person, every template and grant of theirs (right to erasure; audited)."""
    who = caller("enroll")
    store = services().store
    find_subject(store, who.org_id, subject_id)
    erased = store.delete_subject(who.org_id, subject_id)
    store.audit(
        who.org_id,
        "subject.delete",
        key_id=who.key_id,
        subject_id=subject_id,
        templates_erased=erased,
    )
    return jsonify(id=subject_id, deleted=True, templates_erased=erased)


@bp.post("/subjects/<subject_id>/enrollments")
@documented(201, EnrollReport, MEDIA_ERRORS, keyed=True, tag="subjects", form=EnrollForm)
def enroll(subject_id: str) -> Any:
    """Add templates from one selfie ``video`` or 1..N ``images``; a quality report back."""
    ctx = context("enroll")
    video = files("video")
    images = files("images")
    if bool(video) == bool(images) or len(video) > 1:
        raise MissingField("Send one selfie 'video' or 1..N 'images' (multipart), not both.")
    report = enrollment.enroll(ctx, subject_id, video=video[0] if video else None, images=images)
    return jsonify(report), 201


@bp.get("/subjects/<subject_id>/faces")
@documented(200, FaceList, (*KEY_ERRORS, 404), keyed=True, tag="subjects")
def list_faces(subject_id: str) -> Any:
    """A subject's templates (never the vectors)."""
    who = caller("enroll")
    store = services().store
    find_subject(store, who.org_id, subject_id)
    faces = [t.to_json() for t in store.list_templates(who.org_id, subject_id)]
    return jsonify(items=faces, total=len(faces), limit=len(faces), offset=0)


@bp.delete("/subjects/<subject_id>/faces/<face_id>")
@documented(200, Deleted, (*KEY_ERRORS, 404), keyed=True, tag="subjects")
def delete_face(subject_id: str, face_id: str) -> Any:
    """Delete one template."""
    who = caller("enroll")
    store = services().store
    if not store.delete_template(who.org_id, subject_id, face_id):
        raise NotFound(f"No face '{face_id}' for subject '{subject_id}'.")
    store.audit(
        who.org_id, "face.delete", key_id=who.key_id, subject_id=subject_id, template_id=face_id
    )
    return jsonify(id=face_id, deleted=True)


@bp.put("/subjects/<subject_id>/faces/<face_id>")
@documented(200, FaceReplaced, MEDIA_ERRORS, keyed=True, tag="subjects", form=ImageForm)
def replace_face(subject_id: str, face_id: str) -> Any:
    """Replace one template with the face in ``image``."""
    ctx = context("enroll")
    return jsonify(enrollment.replace_face(ctx, subject_id, face_id, one_file("image")))
