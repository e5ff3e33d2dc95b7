"""``/v1/subjects``: people, their enrolments and their faces (templates). Scope ``enroll``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from ..errors import MissingField
from ..lock import catalogue, enrollment, liveness, policy
from .openapi import documented
from .requests import (
    caller,
    context,
    files,
    flag,
    form_value,
    heavy,
    json_body,
    one_file,
    query,
    store,
)
from .schemas_v1 import (
    ChallengeOut,
    Deleted,
    EnrollForm,
    EnrollReport,
    FaceList,
    FaceReplaced,
    PageQuery,
    ReplaceFaceForm,
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
    return jsonify(catalogue.create_subject(store(), who, body.name, body.metadata)), 201


@bp.get("/subjects")
@documented(200, SubjectList, (400, *KEY_ERRORS), keyed=True, tag="subjects", query=PageQuery)
def list_subjects() -> Any:
    """The organisation's subjects, paged."""
    who = caller("enroll")
    page = query(PageQuery)
    return jsonify(catalogue.list_subjects(store(), who, page.limit, page.offset))


@bp.get("/subjects/<subject_id>")
@documented(200, SubjectOut, (*KEY_ERRORS, 404), keyed=True, tag="subjects")
def get_subject(subject_id: str) -> Any:
    """One subject."""
    who = caller("enroll")
    return jsonify(catalogue.find_subject(store(), who.org_id, subject_id).to_json())


@bp.delete("/subjects/<subject_id>")
@documented(200, SubjectDeleted, (*KEY_ERRORS, 404), keyed=True, tag="subjects")
def delete_subject(subject_id: str) -> Any:
    """Erase a person, every template and grant of theirs (right to erasure; audited)."""
    return jsonify(catalogue.delete_subject(store(), caller("enroll"), subject_id))


@bp.post("/subjects/<subject_id>/enrollments")
@documented(201, EnrollReport, (*MEDIA_ERRORS, 429), keyed=True, tag="subjects", form=EnrollForm)
@heavy
def enroll(subject_id: str) -> Any:
    """Add templates from one selfie ``video`` or 1..N ``images``; a quality report back.
    With ``challenge_id`` (required when ``FACEID_ENROLL_LIVENESS=challenge``) the video
    must answer that liveness challenge first."""
    ctx = context("enroll")
    video = files("video")
    images = files("images")
    if bool(video) == bool(images) or len(video) > 1:
        raise MissingField("Send one selfie 'video' or 1..N 'images' (multipart), not both.")
    challenge_id = form_value("challenge_id") or None
    report = policy.enroll(
        ctx,
        subject_id,
        video=video[0] if video else None,
        images=images,
        challenge_id=challenge_id,
        force=flag("force"),
    )
    return jsonify(report), 201


@bp.post("/subjects/<subject_id>/challenges")
@documented(201, ChallengeOut, (*KEY_ERRORS, 404, 429), keyed=True, tag="subjects")
def challenge(subject_id: str) -> Any:
    """A liveness challenge for enrolling this subject from a live clip."""
    ctx = context("enroll")
    ctx.subject(subject_id)
    return jsonify(liveness.issue(ctx, f"subject:{subject_id}")), 201


@bp.get("/subjects/<subject_id>/challenges/<challenge_id>")
@documented(200, ChallengeOut, (*KEY_ERRORS, 404), keyed=True, tag="subjects")
def show_challenge(subject_id: str, challenge_id: str) -> Any:
    """The enrolment challenge's cues due so far, and when the next one is."""
    ctx = context("enroll")
    return jsonify(liveness.show(ctx, f"subject:{subject_id}", challenge_id))


@bp.get("/subjects/<subject_id>/faces")
@documented(200, FaceList, (*KEY_ERRORS, 404), keyed=True, tag="subjects")
def list_faces(subject_id: str) -> Any:
    """A subject's templates (never the vectors)."""
    return jsonify(catalogue.list_faces(store(), caller("enroll"), subject_id))


@bp.delete("/subjects/<subject_id>/faces/<face_id>")
@documented(200, Deleted, (*KEY_ERRORS, 404), keyed=True, tag="subjects")
def delete_face(subject_id: str, face_id: str) -> Any:
    """Delete one template."""
    return jsonify(catalogue.delete_face(store(), caller("enroll"), subject_id, face_id))


@bp.put("/subjects/<subject_id>/faces/<face_id>")
@documented(200, FaceReplaced, MEDIA_ERRORS, keyed=True, tag="subjects", form=ReplaceFaceForm)
@heavy
def replace_face(subject_id: str, face_id: str) -> Any:
    """Replace one template with the face in ``image`` (refused while enrolment requires a
    live challenge: a photo would bypass it)."""
    ctx = context("enroll")
    policy.require_no_challenge(ctx)
    image = one_file("image")
    return jsonify(enrollment.replace_face(ctx, subject_id, face_id, image, force=flag("force")))
