"""Request and response models of the ``/v1`` lock API (see :mod:`.schemas` for why)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from .schemas import BaseFile

MAX_METADATA_BYTES = 16_384


# -- /v1: shared -------------------------------------------------------------------------
class PageQuery(BaseModel):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=2**62)


class Deleted(BaseModel):
    id: str
    deleted: bool


# -- /v1: subjects and faces -------------------------------------------------------------
class SubjectIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("metadata")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value)) > MAX_METADATA_BYTES:
            raise ValueError(f"metadata must be at most {MAX_METADATA_BYTES} bytes of JSON")
        return value


class SubjectOut(BaseModel):
    id: str
    name: str
    metadata: dict[str, Any]
    created_at: float
    templates: int


class SubjectList(BaseModel):
    items: list[SubjectOut]
    total: int
    limit: int
    offset: int


class SubjectDeleted(Deleted):
    templates_erased: int


class EnrollForm(BaseModel):
    """One selfie ``video``, or 1..N ``images`` (not both)."""

    video: BaseFile | None = None
    images: list[BaseFile] | None = None
    force: bool = Field(False, description="admin only: add faces that do not match (audited)")
    challenge_id: str | None = Field(None, description="the challenge the video answers")


class TemplateOut(BaseModel):
    id: str
    quality: float
    source: str


class AdviceOut(BaseModel):
    """What to do better: ``code`` (faces.quality.ADVICE), frames concerned, in words."""

    code: str
    frames: int
    message: str


class EnrollReport(BaseModel):
    subject_id: str
    frames_sampled: int
    faces_found: int
    dropped: dict[str, int]
    templates: list[TemplateOut]
    threshold: float
    consistency: float
    seconds: float
    advice: list[AdviceOut] = Field(
        default_factory=list, description="what to do better, in words, most frequent first"
    )


class FaceRecord(BaseModel):
    id: str
    subject_id: str
    model: str
    quality: float
    source: str
    created_at: float


class FaceList(BaseModel):
    items: list[FaceRecord]
    total: int
    limit: int
    offset: int


class ReplaceFaceForm(BaseModel):
    image: BaseFile
    force: bool = Field(False, description="admin only: a face that does not match (audited)")


class FaceReplaced(BaseModel):
    id: str
    quality: float


# -- /v1: locks, grants, decisions, audit ------------------------------------------------
Level = Literal["standard", "high"]


Liveness = Literal["off", "challenge"]


class LockIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    level: Level | None = Field(None, description="operating point (default FACEID_LEVEL)")
    liveness: Liveness | None = Field(
        None, description="challenge: unlock only with a live clip (default FACEID_LOCK_LIVENESS)"
    )


class LockPolicy(BaseModel):
    """Give ``level``, ``liveness`` or both."""

    level: Level | None = None
    liveness: Liveness | None = None


class LockOut(BaseModel):
    id: str
    name: str
    level: Level
    liveness: Liveness
    created_at: float


class LockDetail(LockOut):
    granted: list[str]


class LockList(BaseModel):
    items: list[LockOut]
    total: int
    limit: int
    offset: int


class LockoutReset(BaseModel):
    lock_id: str
    reset: bool


class Grant(BaseModel):
    lock_id: str
    subject_id: str
    granted: bool


class UnlockForm(BaseModel):
    """1..N ``frames``, or one short ``video`` (not both)."""

    frames: list[BaseFile] | None = None
    video: BaseFile | None = None
    challenge_id: str | None = Field(None, description="the challenge the video answers")


class Cue(BaseModel):
    """One action to do on camera (left: the person's), shown ``at_s`` seconds after the
    first cue: the clip's timeline starts when the first cue is shown."""

    action: Literal["turn_left", "turn_right", "blink"]
    instruction: str
    at_s: float


class ChallengeOut(BaseModel):
    """The cues due so far, in order, of ``count``; ask again (``GET``) in
    ``next_cue_in_s`` for the next one (null: all shown). Post the clip, recorded from the
    first cue, by ``expires_at``."""

    challenge_id: str
    cues: list[Cue]
    count: int
    next_cue_in_s: float | None
    expires_at: float
    expires_in_s: float
    used: bool


UnlockReason = Literal[
    "match",
    "no_match",
    "not_live",
    "face_changed",
    "face_lost",
    "challenge_expired",
    "challenge_used",
    "challenge_unknown",
    "challenge_failed:turn_left",
    "challenge_failed:turn_right",
    "challenge_failed:blink",
    "challenge_failed:extra_turn",
    "challenge_timing",
    "clip_too_long",
    "retry_slower",
    "retry_closer",
    "retry_in_view",
]


class SubjectRef(BaseModel):
    id: str
    name: str | None


class UnlockResult(BaseModel):
    """A verdict, never a score: similarities and detailed reasons go to the audit log."""

    verdict: Literal["unlock", "locked"]
    subject: SubjectRef | None
    frames_used: int
    reason: UnlockReason
    locked_out_for_s: int | None = None


class IdentifyQuery(BaseModel):
    top_k: int = Field(5, ge=1, le=100)


class IdentifyResult(BaseModel):
    """The subjects that match, best first; never a non-matching candidate or a score."""

    match: bool
    matches: list[SubjectRef]


class VerifyForm(BaseModel):
    """``image`` plus ``subject_id`` (1:1 against a subject) or a second image ``image2``."""

    image: BaseFile
    subject_id: str | None = None
    image2: BaseFile | None = None


class VerifyResult(BaseModel):
    match: bool
    subject_id: str | None


class AuditQuery(PageQuery):
    lock_id: str | None = None
    since: str | None = Field(None, description="epoch seconds or ISO 8601")
    until: str | None = Field(None, description="epoch seconds or ISO 8601")


class AuditEvent(BaseModel):
    id: int
    at: float
    key_id: str | None
    action: str
    lock_id: str | None
    subject_id: str | None
    verdict: str | None
    similarity: float | None
    detail: dict[str, Any]


class AuditList(BaseModel):
    items: list[AuditEvent]
    limit: int
    offset: int
