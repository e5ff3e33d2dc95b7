"""Large PNG and WebP photos decoded straight to a smaller size by libvips (``pyvips``).

Pillow decodes these formats whole: a 40-megapixel PNG held 120 MB of pixels before it
could be made smaller. libvips reads it row by row and shrinks as it goes, so only the
smaller picture is ever held (and WebP's decoder scales while it decodes). JPEG keeps
Pillow's draft mode, which does the same for it. An interlaced PNG cannot be read row by
row, so it is left to Pillow. The picture comes out as Pillow's would, only smaller:
alpha dropped before it is shrunk (not composited), turned upright as its EXIF
orientation says. libvips is loaded on first use only.
"""

from __future__ import annotations

import logging
from functools import cache
from types import ModuleType

import numpy as np
from PIL import Image

from ..errors import InvalidImage

log = logging.getLogger(__name__)

#: Pillow's format name -> the libvips loader that must read the bytes.
LOADERS = {"PNG": "pngload", "WEBP": "webpload"}


@cache
def _vips() -> ModuleType | None:
    """pyvips, set up for untrusted uploads; None (logged once) when libvips cannot be
    loaded, and large PNGs and WebPs are then decoded whole by Pillow."""
    try:
        import pyvips
    except (ImportError, OSError) as exc:
        log.warning("libvips cannot be loaded; large PNGs decode at full size: %s", exc)
        return None
    pyvips.block_untrusted_set(True)  # only libvips's fuzzed loaders
    pyvips.cache_set_max(0)  # nothing is kept between requests
    pyvips.concurrency_set(1)  # a request's decode is one thread, like Pillow's
    return pyvips


def streams(img: Image.Image) -> bool:
    """Whether the opened ``img`` is one libvips can decode smaller as it reads it."""
    return img.format in LOADERS and not img.info.get("interlace") and _vips() is not None


def shrunk_size(width: int, height: int, side: int) -> tuple[int, int]:
    """The size :func:`shrunk` gives an image of ``width`` x ``height``: its longer side
    ``side``, its shape kept."""
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def shrunk(data: bytes, img: Image.Image, side: int) -> np.ndarray:
    """An RGB ``uint8`` array of the PNG or WebP image in ``data`` (opened as ``img``,
    which :func:`streams` accepted) with its longer side ``side`` pixels, decoded in one
    pass without ever holding the full-size pixels, then turned upright by the EXIF
    orientation libvips read (Pillow would have to decode a PNG whole to find an eXIf
    chunk placed after the pixels; libvips also reads XMP's)."""
    vips = _vips()
    assert vips is not None, "streams() said libvips is there"
    fmt = str(img.format)
    # WebP's decoder scales as it decodes; a PNG is shrunk row by row as it is read
    options = {"scale": side / max(img.size)} if fmt == "WEBP" else {}
    try:
        image = vips.Image.new_from_buffer(
            data, "", access="sequential", fail_on="error", **options
        )
        loader = str(image.get("vips-loader"))
        if not loader.startswith(LOADERS[fmt]):
            raise InvalidImage(f"The {fmt} image was read as {loader}.")
        if image.hasalpha():
            image = image.extract_band(0, n=image.bands - 1)
        image = image.colourspace("srgb")  # grey, 16-bit and palette images to 8-bit RGB
        if image.format != "uchar":
            image = image.cast("uchar")
        image = image.thumbnail_image(side, height=side, size="down", no_rotate=True)
        pixels = np.asarray(image.numpy(), dtype=np.uint8)
        orientation = image.get("orientation") if image.get_typeof("orientation") else 1
    except vips.Error as exc:
        log.info("libvips refused an image", extra={"format": fmt, "error": str(exc)[:200]})
        raise InvalidImage(f"The {fmt} image could not be decoded.") from exc
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise InvalidImage(f"The {fmt} image has {pixels.shape} pixels, not RGB.")
    return turned(pixels, int(orientation))


def turned(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """``pixels`` as stored, turned upright for EXIF ``orientation`` (1-8) as Pillow's
    ``ImageOps.exif_transpose`` turns them."""
    turns = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
        8: lambda a: np.rot90(a, 1),
    }
    turn = turns.get(orientation)
    return np.ascontiguousarray(turn(pixels)) if turn else pixels
