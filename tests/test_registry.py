"""Adding a model is one registry entry: a throwaway ArcFace-style model (the shared
MobileFaceNet file, under another name) registered with one card runs end to end, and so
does a throwaway detector (the shared YuNet file, under another name)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from faceid.errors import ConfigError
from faceid.faces import models
from faceid.faces.models import ArcFaceSpec, ModelCard, WeightFile
from faceid.faces.pipeline import Pipeline

from .conftest import EXAMPLES, MODELS, make_app, needs_faces, needs_models, pipeline_config, upload

pytestmark = [needs_faces, needs_models]


def shared_copy(weight_id: str, filename: str) -> WeightFile:
    """A weight file entry for a shared model under another id: found by its file name in
    the shared models folder, checked against its own digest, never downloaded."""
    source = MODELS / filename
    return WeightFile(
        id=weight_id,
        filename=source.name,
        urls=(),
        sha256=hashlib.sha256(source.read_bytes()).hexdigest(),
        description=f"the shared {filename} under another name",
    )


@pytest.fixture
def throwaway() -> Iterator[ModelCard]:
    """One card, registered; taken out of the registry's tables after the test."""
    card = ModelCard(
        id="arcface:throwaway",
        dim=128,
        calibration="a test's: not measured",
        levels={"standard": 0.45},
        weight=shared_copy("throwaway", "mobilefacenet_arcface.onnx"),
        spec=ArcFaceSpec(
            name="throwaway",
            channels="RGB",
            mean=(123.675, 116.28, 103.53),
            std=(58.395, 57.12, 57.375),
        ),
    )
    models.register(card)
    yield card
    for table, key in ((models.CARDS, card.id), (models.WEIGHTS, "throwaway")):
        table.pop(key, None)
    models.ARCFACE.pop("throwaway", None)


def test_a_registered_model_is_fetched_checked_and_served(throwaway: ModelCard):
    pipe = Pipeline.load(
        pipeline_config(detector="yunet", embedder="arcface", arcface_model="throwaway")
    )
    assert pipe.model_id == "arcface:throwaway" and pipe.card.levels == {"standard": 0.45}
    image = cv2.imread(str(EXAMPLES / "obama.jpg"))
    face = pipe.detect(image, largest_only=True)[0]
    reference = Pipeline.load(
        pipeline_config(detector="yunet", embedder="arcface", arcface_model="mobilefacenet-arcface")
    )
    assert np.allclose(pipe.embed([(image, face)]), reference.embed([(image, face)]), atol=1e-5)
    assert "throwaway" in models.WEIGHTS and models.ARCFACE["throwaway"] is throwaway

    served = {"FACEID_EMBEDDER": "arcface", "FACEID_ARCFACE_MODEL": "throwaway"}
    client = make_app(FACEID_DETECTOR="yunet", **served).test_client()
    r = client.post("/extract_embeddings_from_image", data=upload(EXAMPLES / "obama.jpg"))
    assert r.status_code == 200 and r.json["model"] == "arcface:throwaway"
    assert client.get("/").json["levels"] == {"standard": 0.45}


@pytest.fixture
def throwaway_detector() -> Iterator[models.DetectorCard]:
    """One detector card (YuNet's module and file, under another name), registered; taken
    out of the registry's tables after the test."""
    detector = models.DetectorCard(
        name="yunet-throwaway",
        module="yunet",
        weight=shared_copy("yunet-throwaway", "face_detection_yunet_2023mar.onnx"),
    )
    models.register_detector(detector)
    yield detector
    models.DETECTORS.pop(detector.name, None)
    models.WEIGHTS.pop("yunet-throwaway", None)


def test_a_registered_detector_is_fetched_checked_and_served(throwaway_detector):
    pipe = Pipeline.load(pipeline_config(detector="yunet-throwaway"))
    reference = Pipeline.load(pipeline_config(detector="yunet"))
    image = cv2.imread(str(EXAMPLES / "obama.jpg"))
    found, expected = pipe.detect(image), reference.detect(image)
    assert len(found) == len(expected) == 1
    assert np.allclose(found[0].box, expected[0].box)
    assert models.WEIGHTS["yunet-throwaway"] is throwaway_detector.weight

    client = make_app(FACEID_DETECTOR="yunet-throwaway").test_client()
    r = client.post("/extract_embeddings_from_image", data=upload(EXAMPLES / "obama.jpg"))
    assert r.status_code == 200 and len(r.json["faces"]) == 1, r.json


def test_a_taken_detector_name_is_refused():
    with pytest.raises(ConfigError):
        models.register_detector(models.DetectorCard("yunet", "yunet"))
