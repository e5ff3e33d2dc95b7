"""Memory per request, attacked end to end: 4 enrolments at once, each of 10 photos of
35 megapixels (12 MB a request, under the upload limit), against a real gunicorn with 2
workers. Photos are decoded one at a time, large JPEGs at a reduced scale, and only the
part around each face is kept, so no worker's peak resident memory passes 1 GiB. And the
photos of one request decode to at most FACEID_MAX_REQUEST_PIXELS together."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
import requests

from ..conftest import EXAMPLES, needs_faces
from ..server import Server
from .conftest import Site

pytestmark = [needs_faces, pytest.mark.slow]

GIB = 2**30


def workers(master: int) -> list[int]:
    """The gunicorn workers: the master's children."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            found.append(int(stat.parent.name))
    return found


def peak_rss(pid: int) -> int:
    """VmHWM: the most resident memory the process has held, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for {pid}")


def test_four_enrolments_of_ten_35_megapixel_photos_stay_under_a_gib(tmp_path):
    server = Server({"FACEID_DATA_DIR": str(tmp_path / "data")})
    server.start()
    try:
        admin = server.key("acme", "admin")
        photos = []
        for name in ("obama.jpg", "obama-720p.jpg", "obama-1080p.jpg", "obama2.jpg"):
            photo = cv2.imread(str(EXAMPLES / name))
            scale = (35e6 / (photo.shape[0] * photo.shape[1])) ** 0.5  # 35 MP, its shape kept
            image = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
            ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 60])
            photos.append(data.tobytes())
        files = [("images", (f"p{i}.jpg", photos[i % len(photos)])) for i in range(10)]
        assert sum(len(f[1][1]) for f in files) < 20 * 2**20  # under FACEID_MAX_UPLOAD_MB

        def enrol(i: int) -> int:
            key = server.key("acme", "enroll")  # one key each: the gate's share is per key
            headers = {"Authorization": f"Bearer {key}"}
            subject = requests.post(
                server.base + "/v1/subjects", json={"name": f"p{i}"}, headers=headers, timeout=60
            ).json()["id"]
            return requests.post(
                f"{server.base}/v1/subjects/{subject}/enrollments",
                files=files,
                headers=headers,
                timeout=300,
            ).status_code

        with ThreadPoolExecutor(4) as pool:
            codes = list(pool.map(enrol, range(4)))
        # the same face in four subjects: the first enrols, the others are that person
        assert codes.count(201) >= 1 and set(codes) <= {201, 422}, codes
        assert requests.get(server.base + "/health", timeout=10).status_code == 200
        assert server.proc is not None
        peaks = [peak_rss(pid) for pid in workers(server.proc.pid)]
    finally:
        server.stop()
    assert len(peaks) == 2 and max(peaks) < GIB, [f"{p / 2**20:.0f} MiB" for p in peaks]
    del admin


def faceless_png(pixels: int) -> bytes:
    """A grey PNG of about ``pixels`` pixels: small to send, costly to decode in full."""
    side = int(pixels**0.5)
    ok, data = cv2.imencode(".png", np.full((side, side, 3), 128, np.uint8))
    assert ok
    return data.tobytes()


def test_the_photos_of_one_request_decode_to_at_most_the_request_cap(site: Site):
    """Ten faceless 36-megapixel PNGs in one unlock (each under FACEID_MAX_IMAGE_PIXELS)
    would be ten full decodes; the request's cap (100 M pixels) refuses it at the third,
    before decoding it. Two of them are decoded and found faceless."""
    png = faceless_png(36_000_000)
    key = site.new_key("unlock", (site.lock,))
    many = [("frames", (f"f{i}.png", png)) for i in range(10)]
    r = site.call(key, "POST", f"/v1/locks/{site.lock}/unlock", files=many)
    assert r.status_code == 413, r.text
    error = r.json()["error"]
    assert error["code"] == "payload_too_large" and "FACEID_MAX_REQUEST_PIXELS" in error["message"]
    two = many[:2]
    r = site.call(key, "POST", f"/v1/locks/{site.lock}/unlock", files=two)
    assert r.status_code == 422 and r.json()["error"]["code"] in {"no_face", "no_usable_frame"}
