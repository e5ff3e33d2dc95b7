"""Decoding user uploads safely: images through Pillow, videos in a confined child process."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import (
    EmptyFile,
    ImageTooLarge,
    InvalidImage,
    InvalidVideo,
    PayloadTooLarge,
    VideoTooLong,
)
from . import decoder, shrink
from .decoder import VideoLimits
from .native import off_loop

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger(__name__)


#: A JPEG decoded with ``reduce`` keeps at least this many pixels on its longer side.
REDUCED_SIDE = 3000


class PixelBudget:
    """The pixels one request may still decode, over all its images
    (``FACEID_MAX_REQUEST_PIXELS``): each image is charged, at the size it will be
    decoded at, before it is decoded."""

    def __init__(self, pixels: int) -> None:
        self.left = self.limit = pixels

    def spend(self, pixels: int) -> None:
        if pixels > self.left:
            raise PayloadTooLarge(
                f"The request's images decode to more than {self.limit} pixels "
                "(FACEID_MAX_REQUEST_PIXELS); send fewer or smaller images.",
                max_pixels=self.limit,
            )
        self.left -= pixels


@dataclass(frozen=True)
class Decoded:
    """A decoded BGR image and how much it was reduced while decoding."""

    image: np.ndarray
    #: pixels of the file per pixel of ``image`` along a side (1.0: decoded at full size)
    scale: float


def decode_image(
    data: bytes, max_pixels: int, reduce: bool = False, budget: PixelBudget | None = None
) -> np.ndarray:
    """The pixels of :func:`decode` (for callers that return no coordinates)."""
    return decode(data, max_pixels, reduce, budget).image


def decode(
    data: bytes, max_pixels: int, reduce: bool = False, budget: PixelBudget | None = None
) -> Decoded:
    """:func:`_decode` off a gevent worker's loop (:func:`.native.off_loop`)."""
    return off_loop(_decode, data, max_pixels, reduce, budget)


def _decode(data: bytes, max_pixels: int, reduce: bool, budget: PixelBudget | None) -> Decoded:
    """A BGR ``uint8`` image from encoded image bytes (JPEG, PNG, WebP, BMP, GIF, TIFF).

    The pixel count is checked from the header before anything is decoded, so a
    decompression bomb costs nothing. EXIF orientation is applied; alpha is dropped.
    With ``reduce``, an image over twice :data:`REDUCED_SIDE` on its longer side is
    decoded smaller, never holding its full-size pixels: a JPEG at a half, a quarter or
    an eighth of its size (the decoder's own scaling, never below that side), a PNG or
    WebP at that side (:mod:`.shrink`); other formats at full size. A 40-megapixel photo
    then holds a quarter of its pixels or fewer. ``scale`` says by how much, for callers
    that return coordinates. ``budget``: the request's :class:`PixelBudget`, charged at
    the decoded size before decoding.
    """
    if not data:
        raise EmptyFile("The uploaded image is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            width, height = img.size
            if width * height > max_pixels:
                raise ImageTooLarge(
                    f"The image is {width}x{height} = {width * height} pixels; "
                    f"the limit is {max_pixels} (FACEID_MAX_IMAGE_PIXELS).",
                    width=width,
                    height=height,
                    max_pixels=max_pixels,
                )
            rgb = _decoded_rgb(data, img, reduce and max(width, height) > 2 * REDUCED_SIDE, budget)
    except (ImageTooLarge, PayloadTooLarge, InvalidImage):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(f"The image is too large to decode safely: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise InvalidImage(
            "The file is not an image faceid can decode (JPEG, PNG, WebP, BMP, GIF, TIFF)."
        ) from exc
    if rgb.ndim != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise InvalidImage("The image has no pixels.")
    scale = max(width, height) / max(rgb.shape[:2])
    return Decoded(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR, dst=rgb), scale)  # in place


def _decoded_rgb(
    data: bytes, img: Image.Image, reduce: bool, budget: PixelBudget | None
) -> np.ndarray:
    """The RGB pixels of the opened ``img``, reduced as :func:`_decode` says when
    ``reduce``; the budget is charged first."""
    width, height = img.size
    if reduce and shrink.streams(img):
        if budget is not None:
            budget.spend(int(np.prod(shrink.shrunk_size(width, height, REDUCED_SIDE))))
        pixels = shrink.shrunk(data, img, REDUCED_SIDE)
        img.close()
        return pixels
    if reduce and img.format == "JPEG":
        scale = max(width, height) / REDUCED_SIDE  # draft picks the reduction
        img.draft("RGB", (int(width / scale), int(height / scale)))
    if budget is not None:
        budget.spend(img.size[0] * img.size[1])
    return _pixels(img)


#: Pillow's modes for 16-bit grey pixels (a 16-bit greyscale PNG opens as one of them).
WIDE_GREY = ("I;16", "I;16B", "I;16L", "I")

#: The EXIF tag that says how a photo is turned (1: upright).
ORIENTATION = 0x0112


def _pixels(img: Image.Image) -> np.ndarray:
    """An opened image's pixels as a writable RGB array, upright, holding at most two
    copies of them at once (the decoder's and the array): a copy is made to turn or to
    convert only when the image needs it."""
    if img.getexif().get(ORIENTATION, 1) != 1:
        turned = ImageOps.exif_transpose(img)
        img.close()
        img = turned
    if img.mode in WIDE_GREY:  # Pillow's convert clips 16-bit grey at 255: scale it
        grey = (np.asarray(img, dtype=np.uint32) // 257).clip(0, 255).astype(np.uint8)
        img.close()
        return np.repeat(grey[:, :, None], 3, axis=2)
    if img.mode != "RGB":
        converted = img.convert("RGB")
        img.close()
        img = converted
    pixels = np.array(img)
    img.close()
    return pixels


def _is_still_image(data: bytes) -> bool:
    """True for bytes Pillow recognises as an image (FFmpeg would open them as a 1-frame video)."""
    try:
        with Image.open(io.BytesIO(data)):
            return True
    except Exception:  # noqa: BLE001 - anything Pillow cannot open is not a still image
        return False


@dataclass(frozen=True)
class Frame:
    index: int
    time_s: float
    image: np.ndarray


def video_limits(settings: Settings, max_frames: int | None = None) -> VideoLimits:
    """The limits ``settings`` put on one video (frames: ``max_frames`` if given)."""
    return VideoLimits(
        max_frames=max_frames or settings.video_max_frames,
        max_pixels=min(settings.video_max_pixels, settings.max_image_pixels),
        max_seconds=settings.video_max_seconds,
        deadline_s=settings.video_decode_timeout_s,
        memory_mb=settings.video_decode_memory_mb,
    )


_DECODE_ERRORS = {
    "invalid_video": InvalidVideo,
    "image_too_large": ImageTooLarge,
    "video_too_long": VideoTooLong,
}


def decode_video(data: bytes, limits: VideoLimits) -> list[Frame]:
    """Frames spread over a video, decoded by a confined child process (:mod:`.decoder`).

    The bytes live in an anonymous in-memory file handed to the child, so nothing is left
    on disk whatever happens to either process. A child that runs past the deadline is
    killed; one that crashes or runs out of memory is reported as an undecodable video.
    """
    if not data:
        raise EmptyFile("The uploaded video is empty.")
    if _is_still_image(data):
        raise InvalidVideo(
            "The file is a still image, not a video; "
            "send it to /extract_embeddings_from_image instead."
        )
    fd = os.memfd_create("faceid-video")
    try:
        with os.fdopen(os.dup(fd), "wb") as fh:
            fh.write(data)
        output, code = _run_decoder(fd, limits)
    finally:
        os.close(fd)
    return _read_frames(output, code, limits)


def _run_decoder(fd: int, limits: VideoLimits) -> tuple[bytes, int]:
    argv = [sys.executable, decoder.__file__, f"/proc/self/fd/{fd}", *limits.to_argv()]
    env = {"PATH": os.environ.get("PATH", ""), "MALLOC_ARENA_MAX": "2", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        argv,
        pass_fds=(fd,),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        output, _ = proc.communicate(timeout=limits.deadline_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        log.warning("video decoder killed at its deadline", extra={"deadline_s": limits.deadline_s})
        raise InvalidVideo(
            f"The video did not decode within {limits.deadline_s:g} s "
            "(FACEID_VIDEO_DECODE_TIMEOUT_S)."
        ) from None
    return output, proc.returncode


def _read_frames(output: bytes, code: int, limits: VideoLimits) -> list[Frame]:
    """The frames the child wrote; anything it cut short or garbled is a refused video."""
    frames: list[Frame] = []
    view = memoryview(output)
    at = 0
    try:
        while at < len(output):
            end = output.index(b"\n", at)
            meta = json.loads(bytes(view[at:end]))
            at = end + 1
            if "error" in meta:
                error = _DECODE_ERRORS.get(str(meta["error"]), InvalidVideo)
                raise error(str(meta.get("message", "The video cannot be decoded.")))
            h, w, c = (int(v) for v in meta["shape"])
            if c != 3 or h * w > limits.max_pixels or at + h * w * 3 > len(output):
                raise InvalidVideo("The video decoder sent a malformed frame.")
            image = np.frombuffer(view[at : at + h * w * 3], dtype=np.uint8).reshape(h, w, 3)
            at += h * w * 3
            frames.append(Frame(int(meta["index"]), float(meta["time_s"]), image.copy()))
    except (ValueError, KeyError, TypeError) as exc:  # a header cut off or garbled
        log.warning("video decoder output unreadable", extra={"exit_code": code})
        raise InvalidVideo("The video decoder stopped before it finished a frame.") from exc
    if code != 0 and not frames:
        log.warning("video decoder failed", extra={"exit_code": code})
        raise InvalidVideo("The file is not a video faceid can decode (mp4, mov, webm, avi).")
    return frames
