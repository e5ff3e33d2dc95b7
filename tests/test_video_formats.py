"""Videos as phones and browsers make them, made by FFmpeg from the shared clip.

Each format goes through ``/extract_embeddings_from_video`` and must give a template that
matches Lin-Manuel Miranda's still (the person of the clip) and not Alex Lacamoire's:
rotated HEVC ``.mov`` and rotated H.264 (decoded upright), WebM in VP8 and VP9 written to
a pipe as MediaRecorder writes it (no duration, no frame count), variable frame rate with
audio, 1080p60, MJPEG AVI, a 0.8 s clip, and clips whose face appears late.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from faceid.faces.decoder import DecodeError, Decoder, VideoLimits
from faceid.faces.models import CARDS

from .conftest import EXAMPLES, error_code, needs_faces, require_tool, upload

CLIP = EXAMPLES / "short_hamilton_clip.mp4"
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
PIPE_WEBM = ["-f", "webm", "pipe:1"]  # a pipe cannot be seeked back: no duration, no cues
VP8 = ["-an", "-c:v", "libvpx", "-b:v", "1M", "-deadline", "realtime", "-cpu-used", "8"]
VP9 = ["-an", "-c:v", "libvpx-vp9", "-b:v", "1M", "-deadline", "realtime", "-cpu-used", "8"]

#: name -> (ffmpeg arguments after the input, file suffix, written to a pipe, seconds of
#: video before the face appears). Rotated files are encoded turned and tagged so that a
#: player turns them back upright; the tag is set on a second, stream-copy pass.
FORMATS: dict[str, tuple[list[str], str, bool, float]] = {
    "hevc_rotated_mov": (
        ["-vf", "transpose=1", "-c:v", "libx265", "-tag:v", "hvc1"],
        ".mov",
        False,
        0,
    ),
    "h264_rotated_mp4": (["-vf", "transpose=2", *X264, "-c:a", "aac"], ".mp4", False, 0),
    "h264_rotated_180_mp4": (["-vf", "hflip,vflip", *X264], ".mp4", False, 0),
    "raw_h264_no_timestamps": (["-an", *X264], ".h264", False, 0),
    "webm_vp8_no_duration": (VP8, ".webm", True, 0),
    "webm_vp9_no_duration": (VP9, ".webm", True, 0),
    "vfr_with_audio": (
        [
            "-vf",
            "select='not(between(n,60,180)*mod(n,3))'",
            "-fps_mode",
            "vfr",
            *X264,
            "-c:a",
            "aac",
        ],
        ".mp4",
        False,
        0,
    ),
    "1080p60": (["-t", "4", "-vf", "scale=1920:1080,fps=60", *X264], ".mp4", False, 0),
    "mjpeg_avi": (["-c:v", "mjpeg", "-q:v", "4", "-an"], ".avi", False, 0),
    "clip_0.8s": (["-ss", "4", "-t", "0.8", *X264], ".mp4", False, 0),
    "face_after_3s": (["-vf", "tpad=start_duration=3:color=black", *X264], ".mp4", False, 3.0),
    "webm_face_after_1.5s_no_duration": (
        ["-vf", "tpad=start_duration=1.5:color=black", *VP8],
        ".webm",
        True,
        1.5,
    ),
}
#: the rotation tag each rotated format gets (ffmpeg's "rotate" metadata, counter-clockwise)
ROTATE_TAG = {"hevc_rotated_mov": "90", "h264_rotated_mp4": "270", "h264_rotated_180_mp4": "180"}


def ffmpeg(*args: str, stdout: Path | None = None) -> None:
    cmd = [require_tool("ffmpeg"), "-v", "error", "-y", *args]
    if stdout is None:
        subprocess.run(cmd, check=True, timeout=300)
        return
    with stdout.open("wb") as out:
        subprocess.run(cmd, check=True, timeout=300, stdout=out)


def make_format(name: str, folder: Path) -> Path:
    """The shared clip turned into ``name`` by FFmpeg (made once per session)."""
    args, suffix, piped, _ = FORMATS[name]
    path = folder / f"{name}{suffix}"
    if path.exists():
        return path
    if piped:
        ffmpeg("-i", str(CLIP), *args, *PIPE_WEBM, stdout=path)
    elif name in ROTATE_TAG:
        turned = folder / f"{name}.turned{suffix}"
        ffmpeg("-i", str(CLIP), *args, str(turned))
        tag = f"rotate={ROTATE_TAG[name]}"
        ffmpeg("-i", str(turned), "-c", "copy", "-metadata:s:v:0", tag, str(path))
    else:
        ffmpeg("-i", str(CLIP), *args, str(path))
    return path


def ffmpeg_frame(path: Path, folder: Path) -> np.ndarray:
    """The first frame as FFmpeg's own player logic shows it (rotation applied)."""
    out = folder / f"{path.stem}.first.png"
    ffmpeg("-i", str(path), "-frames:v", "1", str(out))
    image = cv2.imread(str(out))
    assert image is not None
    return image


def ffprobe_times(path: Path) -> list[float]:
    """Every video frame's presentation time, as FFmpeg's prober reads the container."""
    require_tool("ffmpeg")
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "frame=pts_time",
            "-of",
            "csv=p=0",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    times = [float(line.strip(",")) for line in out.split() if line.strip(",")]
    return [t - times[0] for t in times]


@pytest.fixture(scope="module")
def formats_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("formats")


@pytest.fixture(scope="module")
def video_client():
    from .conftest import make_app

    return make_app().test_client()


@pytest.fixture(scope="module")
def people(video_client) -> dict[str, np.ndarray]:
    def embed(name: str) -> np.ndarray:
        r = video_client.post("/extract_embeddings_from_image", data=upload(EXAMPLES / name))
        assert r.status_code == 200, r.json
        return np.array(r.json["faces"][0]["embedding"])

    return {"miranda": embed("lin-manuel-miranda.png"), "lacamoire": embed("alex-lacamoire.png")}


@needs_faces
@pytest.mark.parametrize("name", list(FORMATS))
def test_format_gives_the_persons_template(video_client, people, formats_dir, name):
    path = make_format(name, formats_dir)
    r = video_client.post(
        "/extract_embeddings_from_video", data=upload(path, field="video", name=path.name)
    )
    assert r.status_code == 200, r.json
    body = r.json
    template = np.array(body["template"])
    threshold = CARDS[body["model"]].threshold
    assert template @ people["miranda"] >= threshold
    assert template @ people["lacamoire"] < threshold
    times = [face["time_s"] for face in body["faces"]]
    late = FORMATS[name][3]
    assert min(times) >= late - 0.05, "a frame before the face appeared was used"
    if late:
        # sampled over the whole clip, not only its first frames
        assert max(times) > late + 5


@needs_faces
@pytest.mark.parametrize("name", ["webm_vp8_no_duration", "webm_face_after_1.5s_no_duration"])
def test_webm_without_duration_is_sampled_over_its_length(formats_dir, name):
    path = make_format(name, formats_dir)
    decoder = Decoder(str(path), VideoLimits(max_frames=16))
    try:
        assert not decoder.seekable
        frames = decoder.frames()
    finally:
        decoder.close()
    real = ffprobe_times(path)
    assert decoder.frame_count == len(real)
    assert len(frames) == 16 and frames[-1][0] == len(real) - 1
    for index, time_s, _ in frames:
        assert time_s == pytest.approx(real[index], abs=0.002)


@needs_faces
def test_variable_frame_rate_times_are_the_frames_own(formats_dir):
    path = make_format("vfr_with_audio", formats_dir)
    real = ffprobe_times(path)
    decoder = Decoder(str(path), VideoLimits(max_frames=40))
    try:
        frames = decoder.frames()
    finally:
        decoder.close()
    gaps = np.diff(real)
    assert gaps.max() > 2.5 * gaps.min(), "the clip is not variable-frame-rate"
    assert len(frames) == 40
    for index, time_s, _ in frames:
        assert time_s == pytest.approx(real[index], abs=0.002)
    # the average frame rate would put the middle of the clip ~0.8 s early
    index, time_s, _ = frames[20]
    assert abs(index / decoder.fps - time_s) > 0.5


@needs_faces
@pytest.mark.parametrize("name", list(ROTATE_TAG))
def test_rotated_video_decodes_as_a_player_shows_it(formats_dir, name):
    path = make_format(name, formats_dir)
    shown = ffmpeg_frame(path, formats_dir)
    assert shown.shape[:2] == (360, 640), "FFmpeg shows the clip upright and landscape"
    decoder = Decoder(str(path), VideoLimits(max_frames=1))
    try:
        assert decoder.rotation == (360 - int(ROTATE_TAG[name])) % 360
        (_, _, image), *_ = decoder.frames()
    finally:
        decoder.close()
    assert image.shape == shown.shape
    assert np.abs(image.astype(int) - shown).mean() < 2


@needs_faces
def test_webm_without_duration_too_long_is_refused(formats_dir):
    from .conftest import make_app

    path = make_format("webm_vp8_no_duration", formats_dir)
    client = make_app(FACEID_VIDEO_MAX_SECONDS=5).test_client()
    r = client.post(
        "/extract_embeddings_from_video", data=upload(path, field="video", name=path.name)
    )
    assert r.status_code in (413, 422) and error_code(r) == "video_too_long", r.json


def test_times_stay_in_order_and_a_clip_without_length_is_measured(formats_dir):
    """Times handed on never go back (the uploader's container sets them), and a clip that
    declares no length is refused as too long while it is counted."""
    path = make_format("webm_vp8_no_duration", formats_dir)
    decoder = Decoder(str(path), VideoLimits(max_frames=300, max_seconds=60))
    try:
        times = [time_s for _, time_s, _ in decoder.frames()]
    finally:
        decoder.close()
    assert times == sorted(times)
    with pytest.raises(DecodeError) as refused:
        Decoder(str(path), VideoLimits(max_seconds=1.2)).close()  # 11 s of video
    assert refused.value.code == "video_too_long"


def test_raw_h264_without_timestamps_is_timed_by_its_frame_rate(formats_dir):
    path = make_format("raw_h264_no_timestamps", formats_dir)
    decoder = Decoder(str(path), VideoLimits(max_frames=16))
    try:
        frames = decoder.frames()
    finally:
        decoder.close()
    times = [time_s for _, time_s, _ in frames]
    assert len(frames) == 16 and times[0] == 0 and times == sorted(set(times))
    assert times[-1] == pytest.approx(frames[-1][0] / decoder.fps, abs=0.002)


def test_a_wrong_declared_frame_count_is_counted_again(formats_dir):
    """A browser WebM given a duration afterwards (remuxed): its container estimates more
    frames than it holds, so sampling by that count would lose the clip's end."""
    piped = make_format("webm_face_after_1.5s_no_duration", formats_dir)
    path = formats_dir / "webm_remuxed_with_duration.webm"
    ffmpeg("-i", str(piped), "-c", "copy", str(path))
    capture = cv2.VideoCapture(str(path))
    declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    real = ffprobe_times(path)
    assert declared > len(real), "the container's estimate is right: nothing to test"
    decoder = Decoder(str(path), VideoLimits(max_frames=16))
    try:
        frames = decoder.frames()
    finally:
        decoder.close()
    assert decoder.frame_count == len(real) and len(frames) == 16
    assert frames[-1][0] == len(real) - 1
