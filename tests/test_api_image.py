"""POST /extract_embeddings_from_image: real faces, and every bad form of the input."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from .conftest import (
    DEEPFACE,
    EXAMPLES,
    TEST_IMAGES,
    error_code,
    make_app,
    needs_faces,
    needs_models,
    upload,
)

URL = "/extract_embeddings_from_image"


def png(width: int, height: int, colour: int = 127) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (colour,) * 3).save(buf, "PNG")
    return buf.getvalue()


@needs_faces
def test_one_face_gives_a_unit_vector_with_its_model(client):
    r = client.post(URL, data=upload(EXAMPLES / "obama.jpg"))
    assert r.status_code == 200, r.json
    body = r.json
    assert body["model"] == "dlib-resnet-v1"
    (face,) = body["faces"]
    vec = np.array(face["embedding"])
    assert vec.shape == (128,) and abs(np.linalg.norm(vec) - 1) < 1e-3
    assert face["model"] == "dlib-resnet-v1"
    x, y, w, h = face["box"]
    assert w > 100 and h > 100
    assert len(face["landmarks"]) == 5 and all(len(p) == 2 for p in face["landmarks"])
    assert set(face["quality"]) == {"sharpness", "size", "frontal", "exposure", "score"}
    assert 0 <= face["quality"]["score"] <= 1


@needs_faces
@needs_models
def test_onnx_pipeline_gives_its_own_model_id(onnx_client):
    r = onnx_client.post(URL, data=upload(EXAMPLES / "obama.jpg"))
    assert r.status_code == 200
    assert r.json["model"] == "arcface:mobilefacenet-arcface"
    assert len(r.json["faces"][0]["embedding"]) == 128


@needs_faces
def test_many_faces_largest_first_and_capped(client):
    r = client.post(URL, data=upload(DEEPFACE / "selfie-many-people.jpg"))
    assert r.status_code == 200
    faces = r.json["faces"]
    assert len(faces) >= 3
    areas = [f["box"][2] * f["box"][3] for f in faces]
    assert areas == sorted(areas, reverse=True)
    r2 = client.post(URL + "?max_faces=2", data=upload(DEEPFACE / "selfie-many-people.jpg"))
    assert [f["box"] for f in r2.json["faces"]] == [f["box"] for f in faces[:2]]


@needs_faces
def test_base64_json_body_matches_multipart(client):
    raw = (EXAMPLES / "obama.jpg").read_bytes()
    a = client.post(URL, data=upload(raw)).json
    b = client.post(URL, json={"image": base64.b64encode(raw).decode()}).json
    c = client.post(URL, json={"image": "data:image/jpeg;base64," + base64.b64encode(raw).decode()})
    assert a == b == c.json


@needs_faces
def test_32bit_png_with_alpha(client):
    r = client.post(URL, data=upload(TEST_IMAGES / "32bit.png", name="a.png"))
    assert r.status_code in (200, 422)
    if r.status_code == 422:
        assert error_code(r) == "no_face"


@needs_faces
def test_exif_rotation_is_applied(client):
    """A photo stored sideways with an EXIF orientation tag must still show an upright face."""
    img = Image.open(EXAMPLES / "obama.jpg").rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 90 degrees counter-clockwise; viewers turn it back
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    r = client.post(URL, data=upload(buf.getvalue()))
    assert r.status_code == 200
    assert r.json["faces"][0]["quality"]["frontal"] > 0.5


@needs_faces
def test_16bit_greyscale_png(client):
    """A 16-bit greyscale PNG is scaled to 8 bits, not clipped to white (Pillow's own
    conversion clips it)."""
    grey = np.asarray(Image.open(EXAMPLES / "obama.jpg").convert("L"), dtype=np.uint16) * 257
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, "PNG")
    r = client.post(URL, data=upload(buf.getvalue(), name="grey16.png"))
    assert r.status_code == 200, r.json
    assert len(r.json["faces"]) == 1


BAD = [
    ("empty file", b"", 400, "empty_file"),
    ("random bytes", bytes(range(256)) * 40, 415, "invalid_image"),
    ("text file", b"hello, this is not an image\n" * 10, 415, "invalid_image"),
    ("pdf header", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", 415, "invalid_image"),
    ("blank image", png(200, 200), 422, "no_face"),
    ("one pixel", png(1, 1), 422, "no_face"),
    # Downscaled for detection to at most 640 px, one side would round to 0 pixels.
    ("one row of 2000 pixels", png(2000, 1), 422, "no_face"),
    ("one column of 2000 pixels", png(1, 2000), 422, "no_face"),
]


@pytest.mark.parametrize(("label", "data", "status", "code"), BAD, ids=[b[0] for b in BAD])
def test_bad_files(client, label, data, status, code):
    r = client.post(URL, data=upload(data))
    assert r.status_code == status, (label, r.json)
    assert error_code(r) == code


@needs_faces
def test_truncated_jpeg(client):
    raw = (EXAMPLES / "obama.jpg").read_bytes()
    r = client.post(URL, data=upload(raw[:200]))
    assert r.status_code == 415 and error_code(r) == "invalid_image"


def test_decompression_bomb_is_refused_before_decoding():
    """A 30000x30000 PNG compresses to a few hundred KB; the header check refuses it."""
    buf = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buf, "PNG")
    client = make_app().test_client()
    r = client.post(URL, data=upload(buf.getvalue(), name="bomb.png"))
    assert r.status_code == 413 and error_code(r) == "image_too_large"


def test_pixel_limit_is_configurable():
    client = make_app(FACEID_MAX_IMAGE_PIXELS=100 * 100).test_client()
    r = client.post(URL, data=upload(png(101, 100)))
    assert r.status_code == 413 and error_code(r) == "image_too_large"


def test_upload_over_the_size_limit():
    client = make_app(FACEID_MAX_UPLOAD_MB=1).test_client()
    r = client.post(URL, data=upload(b"\xff" * (2 * 2**20)))
    assert r.status_code == 413 and error_code(r) == "payload_too_large"


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": {"photo": (io.BytesIO(b"x"), "a.jpg")}}, 400, "missing_field"),
        ({"data": b"raw bytes", "content_type": "image/jpeg"}, 400, "missing_field"),
        ({"json": {"image": "***not base64***"}}, 400, "bad_request"),
        ({"json": {"picture": "aGVsbG8="}}, 400, "missing_field"),
        ({"json": {"image": 42}}, 400, "bad_request"),
        ({"json": ["image"]}, 400, "invalid_json"),
        ({"data": "{not json", "content_type": "application/json"}, 400, "invalid_json"),
    ],
)
def test_bad_requests(client, kwargs, status, code):
    r = client.post(URL, **kwargs)
    assert r.status_code == status, r.json
    assert error_code(r) == code


@pytest.mark.parametrize(
    "query", ["max_faces=0", "max_faces=-1", "max_faces=abc", "max_faces=1000"]
)
def test_bad_max_faces(client, query):
    r = client.post(f"{URL}?{query}", data=upload(png(10, 10)))
    assert r.status_code == 400 and error_code(r) == "invalid_parameter"


def test_wrong_method_is_json(client):
    r = client.get(URL)
    assert r.status_code == 405 and error_code(r) == "method_not_allowed"


@needs_faces
@needs_models
def test_custom_arcface_file_with_its_spec(tmp_path):
    """Any ArcFace-style ONNX file runs from a path, fed as its JSON spec says."""
    from .conftest import MODELS

    onnx = tmp_path / "my-mobilefacenet.onnx"
    onnx.symlink_to(MODELS / "mobilefacenet_arcface.onnx")
    spec = {
        "name": "my-mfn",
        "size": 112,
        "channels": "RGB",
        "mean": [123.675, 116.28, 103.53],
        "std": [58.395, 57.12, 57.375],
    }
    onnx.with_suffix(".json").write_text(json.dumps(spec))
    client = make_app(
        FACEID_DETECTOR="yunet", FACEID_EMBEDDER="arcface", FACEID_ARCFACE_MODEL=str(onnx)
    ).test_client()
    assert client.get("/").json["models"]["model"] == "arcface:my-mfn"
    a = client.post(URL, data=upload(EXAMPLES / "obama.jpg")).json
    b = client.post(URL, data=upload(EXAMPLES / "obama2.jpg")).json
    c = client.post(URL, data=upload(EXAMPLES / "biden.jpg")).json
    assert a["model"] == "arcface:my-mfn"
    same = np.dot(a["faces"][0]["embedding"], b["faces"][0]["embedding"])
    other = np.dot(a["faces"][0]["embedding"], c["faces"][0]["embedding"])
    assert same > 0.42 > other
    r = client.post(
        "/compare_embeddings", json={"embedding1": a["faces"][0], "embedding2": b["faces"][0]}
    )
    assert r.status_code == 422 and error_code(r) == "invalid_embedding"  # no default threshold


def test_missing_custom_arcface_file_is_a_503(tmp_path):
    client = make_app(
        FACEID_EMBEDDER="arcface", FACEID_ARCFACE_MODEL=str(tmp_path / "absent.onnx")
    ).test_client()
    r = client.post(URL, data=upload(png(50, 50)))
    assert r.status_code == 503 and error_code(r) == "model_unavailable"
