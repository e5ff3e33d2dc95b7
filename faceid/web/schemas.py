"""Request and response models: the views validate with them and ``/openapi.json`` is made
from them, so the description cannot drift from what the code accepts and returns."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

Vector = list[float]
#: Caps that keep /compare_embeddings' work and memory bounded (422 beyond them).
MAX_DIM = 4096
MAX_VECTORS = 256
#: A vector of at least one value, not all of them zero (it has no direction: 422).
InVector = Annotated[
    list[float],
    Field(min_length=1, max_length=MAX_DIM, json_schema_extra={"not": {"items": {"const": 0}}}),
]
#: A multipart file field (the views read it from ``request.files``).
BaseFile = Annotated[Any, WithJsonSchema({"type": "string", "format": "binary", "minLength": 1})]


# -- errors ------------------------------------------------------------------------------
class ErrorBody(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. no_face")
    message: str = Field(description="for humans; may change")
    details: dict[str, Any] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


# -- the original endpoints --------------------------------------------------------------
class EmbeddingRef(BaseModel):
    """An embedding with the model that produced it, as the extract endpoints return it."""

    embedding: InVector
    model: str | None = Field(None, max_length=200)


EmbeddingInput = (
    InVector
    | Annotated[list[InVector], Field(min_length=1, max_length=MAX_VECTORS)]
    | EmbeddingRef
    | Annotated[list[EmbeddingRef], Field(min_length=1, max_length=MAX_VECTORS)]
)


class CompareRequest(BaseModel):
    """Two embeddings, or two lists of them (the best pair counts); ``level`` or
    ``threshold``, not both."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "not": {
                "required": ["level", "threshold"],
                "properties": {"level": {"type": "string"}, "threshold": {"type": "number"}},
            }
        },
    )

    embedding1: EmbeddingInput
    embedding2: EmbeddingInput
    threshold: float | None = Field(
        None, ge=-1.0, le=1.0, description="explicit cosine similarity cut (not with level)"
    )
    level: Literal["standard", "high"] | None = Field(
        None, description="the model's operating point (default standard)"
    )
    model: str | None = Field(None, max_length=200, description="model id the vectors come from")


class CompareResponse(BaseModel):
    similarity: float
    distance: float
    threshold: float
    level: Literal["standard", "high", "custom"]
    match: bool
    verdict: Literal["unlock", "locked"]
    model: str | None
    best_pair: list[int]


#: Standard base64 with its padding, optionally after a data URL's ``data:...,`` prefix.
BASE64 = r"^(data:[^,]*,)?(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


class ImageRequest(BaseModel):
    """JSON alternative to a multipart upload: the file's bytes in base64."""

    image: str = Field(min_length=1, pattern=BASE64)


class VideoRequest(BaseModel):
    video: str = Field(min_length=1, pattern=BASE64)


class ImageForm(BaseModel):
    image: BaseFile


class VideoForm(BaseModel):
    video: BaseFile


class ExtractQuery(BaseModel):
    max_faces: int = Field(10, ge=1, le=100, description="largest faces to return")


class Quality(BaseModel):
    sharpness: float
    size: float
    frontal: float
    exposure: float
    score: float


class FaceOut(BaseModel):
    model: str
    embedding: Vector
    box: list[int] = Field(description="[x, y, w, h] in pixels")
    landmarks: list[list[float]] = Field(description="5 points: eyes, nose, mouth corners")
    confidence: float
    quality: Quality


class ImageResponse(BaseModel):
    model: str
    faces: list[FaceOut]


class VideoFace(BaseModel):
    model: str
    frame_index: int
    time_s: float
    embedding: Vector
    box: list[int]
    quality: Quality


class VideoResponse(BaseModel):
    model: str
    frames_sampled: int
    frames_used: int
    faces: list[VideoFace]
    template: Vector
    consistency: float
    dropped: dict[str, int]


class IndexResponse(BaseModel):
    service: str
    version: str
    models: dict[str, str | int | float | None]
    levels: dict[str, float] = Field(description="the active model's operating points")
    links: dict[str, str]


class StatusResponse(BaseModel):
    status: str
