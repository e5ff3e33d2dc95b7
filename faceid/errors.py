"""One exception tree for everything faceid refuses, mapped to JSON errors.

::

    FaceIdError                      500 internal (a bug if it reaches a user)
    ├── ConfigError                  500 config_error (a setting is unusable; found at start)
    ├── BadRequest                   400 bad_request
    │   ├── InvalidJSON              400 invalid_json
    │   ├── MissingField             400 missing_field
    │   ├── InvalidEmbedding         422 invalid_embedding
    │   └── InvalidParameter         400 invalid_parameter
    ├── InvalidMedia                 415/422 family
    │   ├── EmptyFile                400 empty_file
    │   ├── InvalidImage             415 invalid_image
    │   ├── ImageTooLarge            413 image_too_large
    │   ├── InvalidVideo             415 invalid_video
    │   ├── VideoTooLong             413 video_too_long
    │   └── NoUsableFrame            422 no_usable_frame
    │       └── ComeCloser           422 come_closer (a face, too small in every frame)
    ├── NoFace                       422 no_face
    ├── ModelMismatch                422 model_mismatch
    ├── LevelUnavailable             422 level_unavailable (the model has no such level)
    ├── PayloadTooLarge              413 payload_too_large
    │   └── QuotaExceeded            413 quota_exceeded (an organisation's subjects, ...)
    ├── Unauthorized                 401 unauthorized
    ├── Forbidden                    403 forbidden
    │   └── IdentityAnchored         403 identity_anchored (a granted subject's identity)
    ├── NotFound                     404 not_found
    ├── ModelPinned                  409 model_pinned
    ├── LivenessRequired             409 liveness_required (ask for a challenge first)
    ├── EnrollmentRejected           422 enrollment_rejected
    ├── FaceMismatch                 422 face_mismatch (new faces must match the subject's)
    ├── TooManyAttempts              429 too_many_attempts (with Retry-After)
    │   └── RateLimited              429 rate_limited (with Retry-After)
    ├── ModelUnavailable             503 model_unavailable
    ├── StoreUnavailable             503 store_unavailable (the database is down; retry)
    ├── ServiceBusy                  503 busy (too many heavy requests at once; Retry-After)
    │   └── IndexBuilding            503 index_building (a large gallery is being indexed)
    └── ModelDownloadError           502 model_download_failed

Every leaf carries one HTTP status and one stable ``code`` string; the message
is for humans and may change.
"""

from __future__ import annotations

from typing import Any


class FaceIdError(Exception):
    """Base of every error faceid raises on purpose."""

    status: int = 500
    code: str = "internal"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.retry_after: int | None = details.get("retry_after")  # sent as Retry-After

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class BadRequest(FaceIdError):
    """The request is malformed."""

    status = 400
    code = "bad_request"


class InvalidJSON(BadRequest):
    """The body is not valid JSON, or not the JSON object expected."""

    code = "invalid_json"


class MissingField(BadRequest):
    """A required form field, file or JSON key is absent."""

    code = "missing_field"


class InvalidParameter(BadRequest):
    """A query parameter or option is out of range or of the wrong type."""

    code = "invalid_parameter"


class InvalidEmbedding(BadRequest):
    """An embedding is not a finite numeric vector of a usable length."""

    status = 422
    code = "invalid_embedding"


class InvalidMedia(FaceIdError):
    """An uploaded file cannot be used."""

    status = 422
    code = "invalid_media"


class EmptyFile(InvalidMedia):
    """The uploaded file has no bytes."""

    status = 400
    code = "empty_file"


class InvalidImage(InvalidMedia):
    """The bytes do not decode as an image."""

    status = 415
    code = "invalid_image"


class ImageTooLarge(InvalidMedia):
    """The image has more pixels than the configured limit (decompression bomb guard)."""

    status = 413
    code = "image_too_large"


class InvalidVideo(InvalidMedia):
    """The bytes do not decode as a video."""

    status = 415
    code = "invalid_video"


class VideoTooLong(InvalidMedia):
    """The video lasts longer than FACEID_VIDEO_MAX_SECONDS."""

    status = 413
    code = "video_too_long"


class NoUsableFrame(InvalidMedia):
    """The video decoded but no sampled frame holds exactly one usable face."""

    status = 422
    code = "no_usable_frame"


class ComeCloser(NoUsableFrame):
    """The video's frames hold a face, but too small in every one to embed reliably."""

    code = "come_closer"


class NoFace(FaceIdError):
    """No face was found in the image."""

    status = 422
    code = "no_face"


class ModelMismatch(FaceIdError):
    """Embeddings from different models (or of different lengths) cannot be compared."""

    status = 422
    code = "model_mismatch"


class LevelUnavailable(FaceIdError):
    """The model was not calibrated for the operating point asked for."""

    status = 422
    code = "level_unavailable"


class PayloadTooLarge(FaceIdError):
    """The upload is larger than FACEID_MAX_UPLOAD_MB, or its images decode to more pixels
    than FACEID_MAX_REQUEST_PIXELS."""

    status = 413
    code = "payload_too_large"


class ModelUnavailable(FaceIdError):
    """A model's weights are missing or its package is not installed."""

    status = 503
    code = "model_unavailable"


class ServiceBusy(FaceIdError):
    """The worker already runs as many heavy requests as it may (or this key its share);
    retry after ``retry_after`` seconds."""

    status = 503
    code = "busy"


class StoreUnavailable(FaceIdError):
    """The database cannot be reached right now; the service keeps retrying."""

    status = 503
    code = "store_unavailable"


class IndexBuilding(ServiceBusy):
    """A large gallery's host index is being built; retry after ``retry_after`` seconds."""

    code = "index_building"


class ModelDownloadError(FaceIdError):
    """Weights could not be downloaded or failed their SHA-256 check."""

    status = 502
    code = "model_download_failed"


class ConfigError(FaceIdError):
    """A setting is present but unusable (found when settings are loaded)."""

    code = "config_error"


class QuotaExceeded(PayloadTooLarge):
    """The organisation holds as many subjects, templates, locks or keys as its quota
    allows (``FACEID_QUOTA_*``): delete some, or ask the operator for more."""

    code = "quota_exceeded"


class Unauthorized(FaceIdError):
    """No key, or a key that is unknown, malformed or revoked."""

    status = 401
    code = "unauthorized"


class Forbidden(FaceIdError):
    """The key is valid but its scope does not allow this call."""

    status = 403
    code = "forbidden"


class IdentityAnchored(Forbidden):
    """Only an admin may leave a subject who holds grants without faces, or give faces to
    one who has none: a door's key holder must not swap the face a door opens for."""

    code = "identity_anchored"


class NotFound(FaceIdError):
    """The id does not exist in the caller's organisation."""

    status = 404
    code = "not_found"


class ModelPinned(FaceIdError):
    """The organisation's gallery was built with another model."""

    status = 409
    code = "model_pinned"


class LivenessRequired(FaceIdError):
    """The lock (or enrolment) requires a live challenge clip, and none was sent."""

    status = 409
    code = "liveness_required"


class EnrollmentRejected(FaceIdError):
    """The enrolment media cannot make a trustworthy template; ``details.reasons`` says why."""

    status = 422
    code = "enrollment_rejected"


class FaceMismatch(FaceIdError):
    """Faces added to (or replacing one of) a subject's templates do not match them."""

    status = 422
    code = "face_mismatch"


class TooManyAttempts(FaceIdError):
    """The lock is shut after repeated failed unlocks; retry after ``retry_after`` seconds."""

    status = 429
    code = "too_many_attempts"


class RateLimited(TooManyAttempts):
    """A client sent more requests to an open endpoint than FACEID_OPEN_RATE_LIMIT allows."""

    code = "rate_limited"
