"""Large photos are decoded smaller, never held at full size: a JPEG by its decoder's own
scaling, a PNG or WebP by libvips row by row (faceid.faces.shrink). What comes out must
be the photo (turned as its EXIF says, in RGB whatever its pixel format), its face must
embed as the photo's own, and the extract endpoint must still answer in the file's own
coordinates."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from flask.testing import FlaskClient
from PIL import Image

from faceid.errors import InvalidImage, PayloadTooLarge
from faceid.faces.media import REDUCED_SIDE, PixelBudget, decode, decode_image

from .conftest import EXAMPLES, load_pipeline, make_app, needs_faces, pipeline_config, upload

URL = "/extract_embeddings_from_image"


def _canvas() -> np.ndarray:
    """A 7300 x 5500 (40 MP) BGR photo: obama.jpg scaled 4.5x on a grey field."""
    photo = cv2.imread(str(EXAMPLES / "obama.jpg"))
    up = cv2.resize(photo, None, fx=4.5, fy=4.5, interpolation=cv2.INTER_CUBIC)
    big = np.full((5500, 7300, 3), 90, np.uint8)
    big[: up.shape[0], 1000 : 1000 + up.shape[1]] = up
    return big


@pytest.fixture(scope="module")
def canvas() -> np.ndarray:
    return _canvas()


@pytest.fixture(scope="module")
def big_client() -> FlaskClient:
    """The service with room for a 40 MP photo (the defaults refuse one over 40 M pixels
    or 20 MB)."""
    return make_app(FACEID_MAX_IMAGE_PIXELS=50_000_000, FACEID_MAX_UPLOAD_MB=64).test_client()


def _encoded(image: np.ndarray, ext: str) -> bytes:
    params = [cv2.IMWRITE_PNG_COMPRESSION, 1] if ext == ".png" else []
    return cv2.imencode(ext, image, params)[1].tobytes()


@needs_faces
@pytest.mark.parametrize("ext", [".png", ".webp", ".jpg"])
def test_a_large_photo_decodes_reduced_and_answers_in_its_own_coordinates(big_client, canvas, ext):
    data = _encoded(canvas, ext)
    full = decode(data, 100_000_000)
    reduced = decode(data, 100_000_000, reduce=True)
    assert full.scale == 1.0 and full.image.shape == (5500, 7300, 3)
    assert max(reduced.image.shape[:2]) <= 3650 and reduced.scale >= 2.0
    pipe = load_pipeline(pipeline_config())
    (whole,) = pipe.detect(full.image, largest_only=True)
    (small,) = pipe.detect(reduced.image, largest_only=True)
    a, b = pipe.embed([(full.image, whole), (reduced.image, small)])
    assert float(np.dot(a, b)) >= 0.99
    r = big_client.post(URL, data=upload(data, name=f"big{ext}"))
    assert r.status_code == 200, r.json
    (face,) = r.json["faces"]
    side = whole.width
    assert np.allclose(face["box"], whole.xywh(), atol=0.02 * side)
    assert np.allclose(face["landmarks"], whole.landmarks, atol=0.02 * side)
    assert float(np.dot(face["embedding"], b)) >= 0.9999  # the reduced decode's own face


def _png(image: Image.Image, **save: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", **save)
    return buf.getvalue()


FORMS = ["RGB", "RGBA", "L", "LA", "P", "I;16", "EXIF turned"]


@pytest.fixture(scope="module")
def forms(canvas) -> dict[str, bytes]:
    """The same 6400 x 4800 picture in every pixel form a PNG can hold."""
    rgb = Image.fromarray(cv2.cvtColor(canvas[:4800, 500:6900], cv2.COLOR_BGR2RGB))
    rgba = rgb.copy()
    rgba.putalpha(128)
    wide = np.asarray(rgb.convert("L"), dtype=np.uint16) * 257
    exif = Image.Exif()
    exif[0x0112] = 6
    return {
        "RGB": _png(rgb),
        "RGBA": _png(rgba),
        "L": _png(rgb.convert("L")),
        "LA": _png(rgb.convert("LA")),
        "P": _png(rgb.convert("P")),
        "I;16": _png(Image.fromarray(wide)),
        "EXIF turned": _png(rgb.rotate(90, expand=True), exif=exif),
    }


@needs_faces
@pytest.mark.parametrize("form", FORMS)
def test_every_png_pixel_form_decodes_reduced_as_pillow_decodes_it_whole(forms, form):
    data = forms[form]
    whole = decode_image(data, 100_000_000)
    reduced = decode(data, 100_000_000, reduce=True)
    assert max(reduced.image.shape[:2]) == REDUCED_SIDE
    assert reduced.image.dtype == np.uint8 and reduced.image.shape[2] == 3
    h, w = reduced.image.shape[:2]
    assert abs(w * reduced.scale - whole.shape[1]) < 3
    assert abs(h * reduced.scale - whole.shape[0]) < 3
    expected = cv2.resize(whole, (w, h), interpolation=cv2.INTER_AREA)
    assert float(np.abs(expected.astype(int) - reduced.image).mean()) < 3.0, form


def _strip() -> Image.Image:
    """A 6400 x 600 picture that looks different turned or flipped any way: a gradient,
    one dark corner block, transparent on its left third."""
    x = np.linspace(0, 255, 6400, dtype=np.float32)[None, :].repeat(600, axis=0)
    y = np.linspace(0, 255, 600, dtype=np.float32)[:, None].repeat(6400, axis=1)
    rgba = np.stack([x, y, 255 - x, np.full_like(x, 255)], axis=2).astype(np.uint8)
    rgba[:150, :800, :3] = 10
    rgba[:, :2100, 3] = 0  # invisible, yet Pillow keeps its colour: so must the reduced
    return Image.fromarray(rgba, "RGBA")


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_and_alpha_come_out_as_pillow_gives_them(fmt, orientation):
    picture = _strip()
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    picture.save(buf, fmt, exif=exif, **({"lossless": True} if fmt == "WEBP" else {}))
    whole = decode_image(buf.getvalue(), 100_000_000)
    reduced = decode(buf.getvalue(), 100_000_000, reduce=True).image
    assert max(reduced.shape[:2]) == REDUCED_SIDE
    h, w = reduced.shape[:2]
    assert (whole.shape[0] > whole.shape[1]) == (h > w)
    expected = cv2.resize(whole, (w, h), interpolation=cv2.INTER_AREA)
    assert float(np.abs(expected.astype(int) - reduced).mean()) < 3.0


def test_an_interlaced_png_is_decoded_and_charged_at_full_size(canvas):
    """An interlaced PNG cannot be read row by row: it goes to Pillow whole, and the
    request's pixel budget is charged its full size, not the size it is shrunk to."""
    import pyvips

    rgb = np.ascontiguousarray(canvas[:, :, ::-1])
    data = pyvips.Image.new_from_array(rgb).pngsave_buffer(interlace=True, compression=1)
    budget = PixelBudget(60_000_000)
    decoded = decode(data, 100_000_000, reduce=True, budget=budget)
    assert decoded.scale == 1.0
    assert budget.left == 60_000_000 - 7300 * 5500
    with pytest.raises(PayloadTooLarge):
        decode(data, 100_000_000, reduce=True, budget=budget)


@needs_faces
def test_a_broken_large_png_is_refused_as_an_image_not_a_fault(big_client, canvas):
    data = _encoded(canvas, ".png")
    for bad in (data[: len(data) // 2], data[:100_000] + bytes(len(data) - 100_000)):
        with pytest.raises(InvalidImage):
            decode(bad, 100_000_000, reduce=True)
        r = big_client.post(URL, data=upload(bad, name="big.png"))
        assert r.status_code == 415 and r.json["error"]["code"] == "invalid_image"


_PEAK = """
import json, sys
from faceid.faces import media, shrink

shrink._vips()  # libvips loads once per process, not per image

def status(field):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field))

data = open(sys.argv[1], "rb").read()
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # the peak (VmHWM) starts again from what is held now
before = status("VmRSS:")
image = media.decode_image(data, 100_000_000, reduce=sys.argv[2] == "reduce")
print(json.dumps({"grew_mib": (status("VmHWM:") - before) / 1024, "shape": image.shape}))
"""


@needs_faces
def test_a_reduced_png_never_holds_its_full_size_pixels(tmp_path, canvas):
    """Peak memory of one decode, in a fresh process: a 40 MP PNG's full-size pixels
    are 115 MiB; decoded whole, the process grew by 383 MiB (Pillow's pixels, the array,
    their copies); decoded reduced (libvips loaded beforehand), by 67 MiB. Asserted: under the
    full-size pixels, and under a quarter of the whole."""
    path = tmp_path / "big.png"
    path.write_bytes(_encoded(canvas, ".png"))
    grew = {}
    for how in ("whole", "reduce"):
        out = subprocess.run(
            [sys.executable, "-c", _PEAK, str(path), how], capture_output=True, check=True
        )
        grew[how] = json.loads(out.stdout)["grew_mib"]
    full_pixels = canvas.nbytes / 2**20
    assert grew["whole"] >= full_pixels
    assert grew["reduce"] < min(full_pixels, grew["whole"] / 4), grew
