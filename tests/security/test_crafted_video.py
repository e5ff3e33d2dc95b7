"""Hostile videos against a real gunicorn: huge frames, endless clips, broken files and a
decoder past its deadline are refused with 4xx, the workers live on, and no file is left."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from ..conftest import EXAMPLES, make_app
from ..media import still_clip, write_clip
from .conftest import Site


def post_video(site: Site, data: bytes):  # noqa: ANN201
    return site.call(
        site.admin, "POST", "/extract_embeddings_from_video", files=[("video", ("v.avi", data))]
    )


def leftovers() -> set[str]:
    return {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("faceid-")}


def test_frames_larger_than_the_limit(site: Site, tmp_path: Path):
    """4000x3000 frames (12 Mpx) against the 8.3 Mpx video limit: refused, not decoded."""
    big = write_clip(tmp_path / "big.avi", [np.zeros((3000, 4000, 3), np.uint8)] * 2)
    r = post_video(site, big.read_bytes())
    assert r.status_code == 413 and r.json()["error"]["code"] == "image_too_large"


def test_a_clip_longer_than_the_limit(site: Site, tmp_path: Path):
    """70 frames at 1 fps declare 70 s, over the 60 s limit."""
    frames = [np.full((64, 64, 3), i, np.uint8) for i in range(70)]
    long = write_clip(tmp_path / "long.avi", frames, fps=1.0)
    r = post_video(site, long.read_bytes())
    assert r.status_code == 413 and r.json()["error"]["code"] == "video_too_long"


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_broken_files(site: Site, tmp_path: Path, cut: float):
    """A real clip cut short, and one with its middle overwritten by noise."""
    data = bytearray(still_clip(tmp_path / "c.avi", EXAMPLES / "obama.jpg").read_bytes())
    size = int(len(data) * cut)
    noise = np.random.default_rng(1).integers(0, 256, size - size // 2, np.uint8)
    data[size // 2 : size] = noise.tobytes()
    r = post_video(site, bytes(data[:size]))
    assert r.status_code in (200, 413, 415, 422), r.text[:300]
    assert site.call(site.admin, "GET", "/health").status_code == 200


def test_no_file_is_left_behind(site: Site, tmp_path: Path):
    before = leftovers()
    clip = still_clip(tmp_path / "ok.avi", EXAMPLES / "obama.jpg", count=4)
    assert post_video(site, clip.read_bytes()).status_code == 200
    assert post_video(site, b"\x00" * 5000).status_code == 415
    assert leftovers() <= before


def test_a_decoder_past_its_deadline_is_killed(tmp_path: Path):
    """A deadline no decode can meet stands in for a file crafted to hang FFmpeg."""
    client = make_app(FACEID_VIDEO_DECODE_TIMEOUT_S=0.01).test_client()
    clip = still_clip(tmp_path / "ok.avi", EXAMPLES / "obama.jpg", count=4)
    r = client.post("/extract_embeddings_from_video", data={"video": (clip.open("rb"), "v.avi")})
    assert r.status_code == 415 and "did not decode within" in r.json["error"]["message"]


@pytest.mark.parametrize(
    "output",
    [
        b'{"index": 0, "time_s": 0.0, "sha',  # killed while writing a header
        b"\x00\xff garbage\n",  # not JSON
        b'{"index": 0}\n',  # a header without its shape
        b'{"index": 0, "time_s": 0.0, "shape": [2, 2, 3]}\n' + b"\x00" * 5,  # pixels cut off
    ],
)
def test_a_decoder_cut_off_mid_output_is_a_refused_video(output: bytes):
    """A child killed by its limits can leave any prefix of its output: never a 500."""
    from faceid.errors import InvalidVideo
    from faceid.faces.media import VideoLimits, _read_frames

    with pytest.raises(InvalidVideo):
        _read_frames(output, -9, VideoLimits())
