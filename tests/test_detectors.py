"""Every detector that can run here, on real photos, through the one interface."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from faceid.errors import InvalidParameter, ModelUnavailable
from faceid.faces.align import canonical_landmarks
from faceid.faces.media import decode_image
from faceid.faces.pipeline import Pipeline

from .conftest import (
    EXAMPLES,
    MODELS,
    load_pipeline,
    needs_faces,
    needs_models,
    pipeline_config,
    shared_photos,
)

RUNNABLE = ["hog", "yunet", "retinaface-onnx", "mtcnn"]


def load(path):
    return decode_image(path.read_bytes(), 50_000_000)


@needs_faces
@needs_models
@pytest.mark.parametrize("name", RUNNABLE)
def test_detector_finds_one_face_with_landmarks_inside_it(name):
    pipe = load_pipeline(pipeline_config(detector=name))
    image = load(EXAMPLES / "obama.jpg")
    faces = pipe.detect(image)
    assert faces, name
    face = faces[0]
    x1, y1, x2, y2 = face.box
    assert ((face.landmarks[:, 0] > x1) & (face.landmarks[:, 0] < x2)).all()
    assert ((face.landmarks[:, 1] > y1) & (face.landmarks[:, 1] < y2)).all()
    left_eye, right_eye, nose, mouth_l, mouth_r = face.landmarks
    assert left_eye[0] < right_eye[0] and mouth_l[0] < mouth_r[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_l[1], mouth_r[1])
    assert 0 < face.confidence <= 1


@needs_faces
@needs_models
@pytest.mark.parametrize("name", RUNNABLE)
def test_detector_finds_both_people_largest_first(name):
    pipe = load_pipeline(pipeline_config(detector=name))
    faces = pipe.detect(load(EXAMPLES / "two_people.jpg"))
    assert len(faces) >= 2
    areas = [f.area for f in faces]
    assert areas == sorted(areas, reverse=True)


@needs_faces
@needs_models
@pytest.mark.parametrize("name", ["hog", "yunet", "retinaface-onnx"])
def test_downscaled_detection_maps_boxes_back(name):
    """Detection runs on a copy at most 640 px wide; boxes must land on the full image."""
    image = load(EXAMPLES / "obama-1080p.jpg")
    small = load_pipeline(pipeline_config(detector=name)).detect(image)[0]
    full = Pipeline.load(pipeline_config(detector=name, detect_max_side=0)).detect(image)[0]
    assert np.abs(small.landmarks - full.landmarks).max() < 0.05 * full.width


@needs_models
@pytest.mark.parametrize("name", RUNNABLE)
@pytest.mark.parametrize("shape", [(1, 2000), (2000, 1), (1, 1281), (3, 5000), (1, 1), (31, 33)])
def test_thin_images_have_no_face_and_no_error(name, shape):
    """A side that the 640 px downscale would round to 0, and sizes off YuNet's 32 px grid."""
    image = np.random.default_rng(0).integers(0, 255, (*shape, 3), dtype=np.uint8)
    assert load_pipeline(pipeline_config(detector=name)).detect(image) == []


def test_no_face_in_a_blank_image():
    pipe = load_pipeline(pipeline_config())
    assert pipe.detect(np.full((300, 300, 3), 127, dtype=np.uint8)) == []


def test_retinaface_package_weights_missing_says_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(ModelUnavailable) as err:
        Pipeline.load(pipeline_config(detector="retinaface", models_dir=tmp_path))
    message = err.value.message
    assert "faceid models pull retinaface-resnet50" in message
    assert "FACEID_MODELS_DIR" in message and str(tmp_path) in message


def test_unknown_detector_is_refused():
    with pytest.raises(InvalidParameter):
        Pipeline.load(pipeline_config(detector="nope"))


def test_missing_extra_names_it(monkeypatch):
    """The extras are installed where tests run, so their absence is simulated by hiding
    the package from the import system; the error must name the extra to install."""
    import importlib.util

    from faceid.faces import pipeline as pipeline_module

    real = importlib.util.find_spec
    monkeypatch.setattr(
        pipeline_module.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "mtcnn" else real(name, *a),
    )
    with pytest.raises(ModelUnavailable) as err:
        Pipeline.load(pipeline_config(detector="mtcnn"))
    assert "pip install 'faceid[mtcnn]'" in err.value.message


def test_default_pipeline_never_imports_tensorflow():
    """`make run` installs no TensorFlow: the default pipeline must not need it."""
    code = (
        "import sys; from faceid import create_app; "
        "app = create_app({'TESTING': True}); svc = app.extensions['faceid']; "
        "svc.pipeline; import faceid.web, faceid.lock.access, faceid.lock.enrollment; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'mtcnn')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _iou(a, b) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return float(inter / (area - inter))


@needs_faces
def test_hog_cascade_finds_every_face_the_upsampled_pass_finds():
    """Recall on every shared photo (the pair lists' photos, couple.jpg, two_people.jpg,
    the group selfies...): the cascade finds each face the upsampled pass finds."""
    from faceid.faces.detectors.hog import CLOSE_UP_PX, HogDetector

    cascade, full = HogDetector(), HogDetector(cascade=False)
    photos = shared_photos()
    found = missed = close_ups = 0
    for path in sorted(photos):
        image = cv2.imread(str(path))
        theirs = full.detect(image)
        ours = cascade.detect(image)
        found += len(theirs)
        missed += sum(not any(_iou(t.box, o.box) >= 0.5 for o in ours) for t in theirs)
        close_ups += bool(ours) and min(min(f.width, f.height) for f in ours) >= CLOSE_UP_PX
    assert len(photos) >= 90 and found >= 100
    assert missed == 0, f"{missed} of {found} faces missed"
    assert close_ups >= len(photos) // 2  # most photos are close-ups: the saving is real


@needs_faces
@needs_models
def test_yunet_on_onnx_runtime_finds_what_opencv_finds():
    """YuNet runs on ONNX Runtime and is decoded as cv2.FaceDetectorYN decodes it: on every
    shared photo (at the 640 px detection scale, and at full size for the larger ones) both
    find the same faces, with boxes, landmarks and scores equal to a thousandth of a pixel."""
    from faceid.faces.detectors.yunet import YuNetDetector

    model = MODELS / "face_detection_yunet_2023mar.onnx"
    ours = YuNetDetector.from_file(model, max_side=0)
    opencv = cv2.FaceDetectorYN.create(str(model), "", (320, 320), 0.7, 0.3, 5000)
    photos = shared_photos()
    faces = sizes = 0
    for path in photos:
        full = cv2.imread(str(path))
        scale = 640 / max(full.shape[:2])
        small = cv2.resize(full, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        for image in (small, full) if scale < 1 else (full,):
            height, width = image.shape[:2]
            opencv.setInputSize((width, height))
            theirs = opencv.detect(image)[1]
            theirs = np.zeros((0, 15)) if theirs is None else theirs[np.argsort(-theirs[:, 14])]
            found = sorted(ours._detect(image), key=lambda f: -f.confidence)
            assert len(found) == len(theirs), path.name
            for face, row in zip(found, theirs, strict=True):
                x, y, w, h = row[:4]
                assert np.allclose(face.box, [x, y, x + w, y + h], atol=1e-3), path.name
                assert np.allclose(face.confidence, row[14], atol=1e-4), path.name
                landmarks = canonical_landmarks(row[4:14])
                assert np.allclose(face.landmarks, landmarks, atol=1e-3), path.name
            faces += len(found)
            sizes += 1
    assert len(photos) >= 90 and faces >= 100 and sizes > len(photos)
