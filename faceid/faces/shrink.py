"""Large PNG and WebP photos decoded straight to a smaller size by libvips (``pyvips``).

Pillow decodes these formats whole: a 40-megapixel PNG held 120 MB of pixels before it
could be made smaller. libvips reads it row by row and shrinks as it goes, so only the
smaller picture is ever held (and WebP's decoder scales while it decodes). JPEG keeps
Pillow's draft mode, which does the same for it. libvips is loaded on first use only.
"""

from __future__ import annotations

import logging
from functools import cache
from types import ModuleType

import numpy as np

from ..errors import InvalidImage

log = logging.getLogger(__name__)

#: Pillow's format name -> the libvips loader that must have read the bytes.
LOADERS = {"PNG": "pngload", "WEBP": "webpload"}


@cache
def _vips() -> ModuleType:
    import pyvips

    pyvips.block_untrusted_set(True)  # only libvips's fuzzed loaders
    pyvips.cache_set_max(0)  # nothing is kept between requests
    pyvips.concurrency_set(1)  # a request's decode is one thread, like Pillow's
    return pyvips


def shrunk_size(width: int, height: int, side: int) -> tuple[int, int]:
    """The size :func:`shrunk` gives an image of ``width`` x ``height``: its longer side
    ``side``, its shape kept."""
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def shrunk(data: bytes, fmt: str, side: int) -> np.ndarray:
    """An RGB ``uint8`` array of the PNG or WebP image in ``data`` with its longer side
    ``side`` pixels (EXIF orientation applied, alpha dropped), decoded in one pass
    without ever holding the full-size pixels."""
    vips = _vips()
    try:
        image = vips.Image.thumbnail_buffer(
            data, side, height=side, size="down", option_string="fail_on=error"
        )
        loader = str(image.get("vips-loader"))
        if not loader.startswith(LOADERS[fmt]):
            raise InvalidImage(f"The {fmt} image was read as {loader}.")
        if image.hasalpha():
            image = image.extract_band(0, n=image.bands - 1)
        image = image.colourspace("srgb")  # grey, 16-bit and palette images to 8-bit RGB
        if image.format != "uchar":
            image = image.cast("uchar")
        pixels = np.asarray(image.numpy(), dtype=np.uint8)
    except vips.Error as exc:
        log.info("libvips refused an image", extra={"format": fmt, "error": str(exc)[:200]})
        raise InvalidImage(f"The {fmt} image could not be decoded.") from exc
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise InvalidImage(f"The {fmt} image has {pixels.shape} pixels, not RGB.")
    return pixels
