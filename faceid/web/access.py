"""Decisions: unlock a door, identify (1:N), verify (1:1). Scope ``unlock``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from ..errors import InvalidParameter, MissingField
from ..lock import access, liveness
from ..lock.catalogue import find_lock
from .openapi import documented
from .requests import context, files, form_value, heavy, one_file, query
from .schemas import ImageForm
from .schemas_v1 import (
    ChallengeOut,
    IdentifyQuery,
    IdentifyResult,
    UnlockForm,
    UnlockResult,
    VerifyForm,
    VerifyResult,
)

bp = Blueprint("access", __name__)

#: What a call that embeds an upload can answer besides success.
DECISION_ERRORS = (400, 401, 403, 404, 409, 413, 415, 422, 503)


@bp.post("/locks/<lock_id>/challenges")
@documented(201, ChallengeOut, (401, 403, 404, 429), keyed=True, tag="access")
def challenge(lock_id: str) -> Any:
    """A liveness challenge for this door: actions to perform on camera, in order."""
    ctx = context("unlock")
    ctx.caller.check_lock(lock_id)
    find_lock(ctx.store, ctx.org_id, lock_id)
    return jsonify(liveness.issue(ctx, f"lock:{lock_id}")), 201


@bp.get("/locks/<lock_id>/challenges/<challenge_id>")
@documented(200, ChallengeOut, (401, 403, 404), keyed=True, tag="access")
def show_challenge(lock_id: str, challenge_id: str) -> Any:
    """The challenge's cues due so far, and when the next one is."""
    ctx = context("unlock")
    ctx.caller.check_lock(lock_id)
    return jsonify(liveness.show(ctx, f"lock:{lock_id}", challenge_id))


@bp.post("/locks/<lock_id>/unlock")
@documented(200, UnlockResult, (*DECISION_ERRORS, 429), keyed=True, tag="access", form=UnlockForm)
@heavy
def unlock(lock_id: str) -> Any:
    """A door's verdict on 1..N ``frames`` or one short ``video``; on a ``challenge`` lock,
    a ``video`` answering the challenge ``challenge_id``."""
    ctx = context("unlock")
    frames = files("frames")
    video = files("video")
    if bool(frames) == bool(video) or len(video) > 1:
        raise MissingField("Send 1..N 'frames' or one short 'video' (multipart), not both.")
    challenge_id = form_value("challenge_id") or None
    if challenge_id is not None and len(challenge_id) > 64:
        raise InvalidParameter("'challenge_id' is not a challenge id.")
    return jsonify(
        access.unlock(
            ctx,
            lock_id,
            frames=frames,
            video=video[0] if video else None,
            challenge_id=challenge_id,
        )
    )


@bp.post("/identify")
@documented(
    200,
    IdentifyResult,
    DECISION_ERRORS,
    keyed=True,
    tag="access",
    query=IdentifyQuery,
    form=ImageForm,
)
@heavy
def identify() -> Any:
    """1:N: subjects ranked by similarity; ``match`` only at or above the threshold."""
    ctx = context("unlock")
    top_k = query(IdentifyQuery, form=True).top_k
    return jsonify(access.identify(ctx, one_file("image"), top_k))


@bp.post("/verify")
@documented(200, VerifyResult, DECISION_ERRORS, keyed=True, tag="access", form=VerifyForm)
@heavy
def verify() -> Any:
    """1:1: ``image`` against subject ``subject_id``, or against a second image ``image2``."""
    ctx = context("unlock")
    subject_id = form_value("subject_id")
    image = one_file("image")
    if subject_id:
        return jsonify(access.verify(ctx, image, subject_id=subject_id, other=None))
    second = files("image2")
    if len(second) != 1:
        raise MissingField("Send 'subject_id' or one second image 'image2'.")
    return jsonify(access.verify(ctx, image, subject_id=None, other=second[0]))
