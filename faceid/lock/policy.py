"""Where a live challenge is required, decided in one place: by a lock's own policy for
its doors' unlocks, by ``FACEID_ENROLL_LIVENESS`` for enrolment. A call that needs one and
sends none is refused before anything is decoded (``409 liveness_required``); a call that
answers a challenge goes to :mod:`.liveness`, any other to the frames' path."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import LivenessRequired, MissingField
from ..store import Lock
from . import enrollment, liveness
from .context import Context


def require_challenge(lock: Lock) -> None:
    """Refuse a door's frames or plain video when ``lock`` takes only challenge answers."""
    if lock.liveness == "challenge":
        raise LivenessRequired(
            "This lock requires a live challenge: POST /v1/locks/{id}/challenges, perform the "
            "actions it lists, and send the clip as 'video' with its 'challenge_id'.",
            liveness=lock.liveness,
        )


def require_no_challenge(ctx: Context) -> None:
    """Refuse a face replaced from a photo while enrolment requires a live challenge (a
    photo would bypass it)."""
    if ctx.settings.enroll_liveness == "challenge":
        raise LivenessRequired(
            "Enrolment requires a live challenge, so faces are not replaced from photos: "
            "delete the face and enrol again with a challenge clip."
        )


def enroll(
    ctx: Context,
    subject_id: str,
    *,
    video: bytes | None,
    images: Sequence[bytes],
    challenge_id: str | None,
    force: bool,
) -> dict[str, Any]:
    """Enrol a subject: from a clip answering ``challenge_id``, required when the settings
    ask for live enrolment; otherwise from a selfie video or photos."""
    if challenge_id is None and ctx.settings.enroll_liveness == "challenge":
        raise LivenessRequired(
            "Enrolment requires a live challenge: POST /v1/subjects/{id}/challenges, perform "
            "the actions it lists, and send the clip as 'video' with its 'challenge_id'."
        )
    if challenge_id is None:
        return enrollment.enroll(ctx, subject_id, video=video, images=images, force=force)
    if video is None or len(challenge_id) > 64:
        raise MissingField("Send the clip answering the challenge as one 'video'.")
    return liveness.enroll(ctx, subject_id, video, challenge_id, force)
