"""dlib's ResNet rebuilt as an ONNX graph from the weight file face_recognition_models
ships: the same vectors as dlib's own on every face of the shared photos, cached with its
digests, rebuilt when stale, and dlib itself when the graph cannot be had."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
import face_recognition_models as frm
import numpy as np
import pytest

from faceid.errors import ConfigError, ModelUnavailable
from faceid.faces.convert import dlib_onnx
from faceid.faces.convert.dlib_format import FormatError, read
from faceid.faces.embedders.dlib_resnet import DlibEmbedder

from .conftest import (
    load_pipeline,
    needs_faces,
    pipeline_config,
    settings_for,
    shared_photos,
)

SOURCE = Path(frm.face_recognition_model_location())


@needs_faces
def test_onnx_equals_dlib_on_every_face_of_the_shared_photos():
    """Every face HOG finds in every shared photo: the graph's descriptor against dlib's
    own ``compute_face_descriptor(image, shape)``, the call face_recognition makes."""
    pipe = load_pipeline(pipeline_config())
    embedder = pipe.embedder
    assert isinstance(embedder, DlibEmbedder) and embedder.backend == "onnx"
    import dlib

    net = dlib.face_recognition_model_v1(str(SOURCE))
    shape = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
    worst, faces = 1.0, 0
    for path in shared_photos():
        image = cv2.imread(str(path))
        found = pipe.detect(image)
        if not found:
            continue
        ours = embedder.embed([(image, face) for face in found])
        rgb = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        for vector, face in zip(ours, found, strict=True):
            x1, y1, x2, y2 = (int(round(float(v))) for v in face.box)
            points = shape(rgb, dlib.rectangle(x1, y1, x2 - 1, y2 - 1))
            theirs = np.array(net.compute_face_descriptor(rgb, points))
            cos = float(vector @ theirs / np.linalg.norm(vector) / np.linalg.norm(theirs))
            worst, faces = min(worst, cos), faces + 1
            assert cos >= 0.9999, (path.name, cos)
    assert faces >= 100, faces  # 104 faces in the shared photos
    logging.getLogger(__name__).info("worst cosine %.8f over %d faces", worst, faces)


def test_the_graph_is_cached_with_its_digests_and_rebuilt_when_altered(tmp_path, caplog):
    first = dlib_onnx.load(SOURCE, tmp_path)
    cached = tmp_path / dlib_onnx.FILENAME
    meta = json.loads((tmp_path / f"{dlib_onnx.FILENAME}.json").read_text())
    assert cached.read_bytes() == first
    assert meta["converter"] == dlib_onnx.CONVERTER_VERSION
    assert meta["min_cosine_vs_dlib"] >= dlib_onnx.MIN_COSINE
    stamp = cached.stat().st_mtime_ns
    assert dlib_onnx.load(SOURCE, tmp_path) == first and cached.stat().st_mtime_ns == stamp
    cached.write_bytes(first[:-4] + b"\0\0\0\0")  # a tampered cache is not used
    with caplog.at_level(logging.WARNING):
        assert dlib_onnx.load(SOURCE, tmp_path) == first
    assert "stale or altered" in caplog.text


def test_a_bad_weight_file_falls_back_to_dlib_or_is_refused(tmp_path, caplog):
    broken = tmp_path / "broken.dat"
    broken.write_bytes(SOURCE.read_bytes()[:100_000])
    with pytest.raises(FormatError):
        read(broken)
    with pytest.raises(dlib_onnx.ConversionError):
        dlib_onnx.load(broken, tmp_path)
    assert not (tmp_path / dlib_onnx.FILENAME).exists()
    with pytest.raises(FormatError):
        read(Path(frm.pose_predictor_five_point_model_location()))  # another dlib file


def test_backend_setting(tmp_path, monkeypatch, caplog):
    assert DlibEmbedder("dlib").backend == "dlib"
    monkeypatch.setattr(dlib_onnx, "MIN_COSINE", 1.1)  # no graph can agree that well
    with caplog.at_level(logging.WARNING):
        assert DlibEmbedder("auto", tmp_path / "a").backend == "dlib"
    assert "no ONNX graph" in caplog.text
    with pytest.raises(ModelUnavailable):
        DlibEmbedder("onnx", tmp_path / "b")
    with pytest.raises(ConfigError):
        settings_for(FACEID_DLIB_BACKEND="gpu")
