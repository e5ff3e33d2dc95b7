"""POST /extract_embeddings_from_video: the real clip, containers, and bad videos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceid.faces.models import CARDS

from .conftest import (
    EXAMPLES,
    FACES,
    ONNX_CONFIG,
    error_code,
    load_pipeline,
    make_app,
    needs_faces,
    needs_models,
    pipeline_config,
    upload,
)
from .media import letterbox, still_clip, write_clip

URL = "/extract_embeddings_from_video"
CLIP = EXAMPLES / "short_hamilton_clip.mp4"


def post_video(client, data, name="clip.mp4"):
    return client.post(URL, data=upload(data, field="video", name=name))


def image_embedding(client, name):
    r = client.post("/extract_embeddings_from_image", data=upload(EXAMPLES / name))
    assert r.status_code == 200
    return np.array(r.json["faces"][0]["embedding"])


@needs_faces
@pytest.mark.parametrize(
    "config",
    [
        pytest.param({}, id="default"),
        pytest.param(ONNX_CONFIG, id="yunet+mobilefacenet", marks=needs_models),
    ],
)
def test_hamilton_template_matches_miranda_not_lacamoire(config):
    client = make_app(**config).test_client()
    r = post_video(client, CLIP.read_bytes())
    assert r.status_code == 200, r.json
    body = r.json
    assert body["frames_sampled"] == 16
    assert 0 < body["frames_used"] <= 16 and len(body["faces"]) == body["frames_used"]
    assert body["frames_used"] + sum(body["dropped"].values()) == body["frames_sampled"]
    indexes = [f["frame_index"] for f in body["faces"]]
    assert indexes == sorted(indexes) and indexes[-1] > 200  # spread over the whole clip
    template = np.array(body["template"])
    assert abs(np.linalg.norm(template) - 1) < 1e-3
    frames = np.array([f["embedding"] for f in body["faces"]])
    assert body["consistency"] == pytest.approx((frames @ template).min(), abs=1e-3)
    threshold = CARDS[body["model"]].threshold
    miranda = image_embedding(client, "lin-manuel-miranda.png")
    lacamoire = image_embedding(client, "alex-lacamoire.png")
    assert template @ miranda >= threshold
    assert template @ lacamoire < threshold
    verdict = client.post(
        "/compare_embeddings",
        json={
            "embedding1": body["template"],
            "embedding2": miranda.tolist(),
            "model": body["model"],
        },
    )
    assert verdict.json["verdict"] == "unlock"


@needs_faces
def test_max_frames_setting(tmp_path):
    client = make_app(FACEID_VIDEO_MAX_FRAMES=4).test_client()
    r = post_video(client, CLIP.read_bytes())
    assert r.status_code == 200 and r.json["frames_sampled"] == 4


@needs_faces
@pytest.mark.parametrize(
    ("suffix", "codec"), [(".avi", "MJPG"), (".mp4", "mp4v"), (".mov", "mp4v"), (".mkv", "XVID")]
)
def test_containers(client, tmp_path, suffix, codec):
    path = still_clip(tmp_path / f"obama{suffix}", EXAMPLES / "obama.jpg", codec=codec)
    r = post_video(client, path.read_bytes(), name=path.name)
    assert r.status_code == 200, r.json
    assert r.json["frames_used"] == 12 and r.json["consistency"] > 0.95


def test_no_face_in_any_frame(client, tmp_path):
    path = still_clip(tmp_path / "grey.avi", np.full((480, 640, 3), 90, dtype=np.uint8))
    r = post_video(client, path.read_bytes())
    assert r.status_code == 422 and error_code(r) == "no_usable_frame"
    assert r.json["error"]["details"]["dropped"]["no_face"] == 12


@needs_faces
def test_frames_with_two_people_are_dropped(client, tmp_path):
    two = letterbox(cv2.imread(str(EXAMPLES / "two_people.jpg")), (640, 480))
    one = letterbox(cv2.imread(str(EXAMPLES / "obama.jpg")), (640, 480))
    path = write_clip(tmp_path / "mixed.avi", [two] * 8 + [one] * 8)
    r = post_video(client, path.read_bytes())
    assert r.status_code == 200
    assert r.json["dropped"]["several_faces"] >= 6 and r.json["frames_used"] >= 6
    only_two = write_clip(tmp_path / "two.avi", [two] * 6)
    r2 = post_video(client, only_two.read_bytes())
    assert r2.status_code == 422 and error_code(r2) == "no_usable_frame"


@needs_faces
@pytest.mark.parametrize(
    ("label", "make", "status", "code"),
    [
        ("empty", lambda: b"", 400, "empty_file"),
        ("random bytes", lambda: bytes(range(256)) * 100, 415, "invalid_video"),
        ("text", lambda: b"not a video at all\n" * 50, 415, "invalid_video"),
        ("truncated mp4", lambda: CLIP.read_bytes()[:5000], 415, "invalid_video"),
        (
            "half an mp4",
            lambda: CLIP.read_bytes()[: len(CLIP.read_bytes()) // 2],
            415,
            "invalid_video",
        ),
        ("a jpeg", lambda: (EXAMPLES / "obama.jpg").read_bytes(), 415, "invalid_video"),
    ],
)
def test_bad_videos(client, label, make, status, code):
    r = post_video(client, make())
    assert r.status_code == status, (label, r.json)
    assert error_code(r) == code


def test_frames_over_the_pixel_limit(tmp_path):
    client = make_app(FACEID_MAX_IMAGE_PIXELS=320 * 240).test_client()
    path = still_clip(tmp_path / "big.avi", np.zeros((480, 640, 3), np.uint8), count=2)
    r = post_video(client, path.read_bytes())
    assert r.status_code == 413 and error_code(r) == "image_too_large"


def test_video_over_the_upload_limit():
    client = make_app(FACEID_MAX_UPLOAD_MB=1).test_client()
    r = post_video(client, b"\0" * (3 * 2**20))
    assert r.status_code == 413 and error_code(r) == "payload_too_large"


def test_missing_video_field(client):
    r = client.post(URL, data=upload(b"abc", field="file"))
    assert r.status_code == 400 and error_code(r) == "missing_field"


def wide_shot(path, face_px: float):
    """A real clip of one person facing the camera as a wide shot: 24 of its frames,
    each scaled so the face is about ``face_px`` a side and set in the middle of a
    640x360 frame (grey where the scaled frame does not reach)."""
    capture = cv2.VideoCapture(str(FACES / "liveness" / "blinks_frontal.mp4"))
    frames = []
    while len(frames) < 24:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
        for _ in range(9):  # every 10th frame, spread over the clip
            capture.grab()
    capture.release()
    face = load_pipeline(pipeline_config()).detect(frames[0], largest_only=True)[0]
    scale = face_px / min(face.width, face.height)
    cx, cy = (face.box[0] + face.box[2]) / 2 * scale, (face.box[1] + face.box[3]) / 2 * scale
    shift = np.float32([[scale, 0, 320 - cx], [0, scale, 180 - cy]])  # the face mid-frame
    out = [
        cv2.warpAffine(f, shift, (640, 360), flags=cv2.INTER_AREA, borderValue=(110, 110, 110))
        for f in frames
    ]
    return write_clip(path, out)


@needs_faces
@pytest.mark.parametrize("face_px", [45, 50])
def test_a_wide_shot_is_searched_again_at_a_finer_scale(client, tmp_path, face_px):
    """A face of 45-50 px in every frame of a 640x360 clip: HOG's selfie-scale search
    (80 px and more) finds none, the finer one finds it in every frame: a template."""
    r = post_video(client, wide_shot(tmp_path / "wide.avi", face_px).read_bytes())
    assert r.status_code == 200, r.json
    assert r.json["frames_used"] == 16 and r.json["consistency"] > 0.8
    assert r.json["dropped"] == {"no_face": 0, "several_faces": 0}


@needs_faces
@pytest.mark.parametrize(
    "config",
    [
        pytest.param({}, id="hog"),
        pytest.param(ONNX_CONFIG, id="yunet", marks=needs_models),
    ],
)
def test_a_face_too_small_in_every_frame_is_asked_to_come_closer(tmp_path, config):
    """A face of about 30 px in every frame is there (HOG finds it at the finer scale,
    YuNet at any) but too small to embed: 422 come_closer, not a template of it."""
    client = make_app(**config).test_client()
    r = post_video(client, wide_shot(tmp_path / "tiny.avi", 30).read_bytes())
    assert r.status_code == 422 and error_code(r) == "come_closer", r.json
    assert r.json["error"]["details"]["face_px"] < 40
