"""Decoding user uploads safely: images through Pillow, videos through OpenCV/FFmpeg."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import EmptyFile, ImageTooLarge, InvalidImage, InvalidVideo

log = logging.getLogger(__name__)


def decode_image(data: bytes, max_pixels: int) -> np.ndarray:
    """A BGR ``uint8`` array from encoded image bytes (JPEG, PNG, WebP, BMP, GIF, TIFF).

    The pixel count is checked from the header before anything is decoded, so a
    decompression bomb costs nothing. EXIF orientation is applied; alpha is dropped.
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
            upright = ImageOps.exif_transpose(img)
            rgb = np.asarray(upright.convert("RGB"))
    except ImageTooLarge:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(f"The image is too large to decode safely: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise InvalidImage(
            "The file is not an image faceid can decode (JPEG, PNG, WebP, BMP, GIF, TIFF)."
        ) from exc
    if rgb.ndim != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise InvalidImage("The image has no pixels.")
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


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


class VideoFile:
    """Video bytes in a temporary file, opened with OpenCV (FFmpeg backend).

    Use as a context manager; the file is removed on exit.
    """

    def __init__(self, data: bytes, max_pixels: int) -> None:
        if not data:
            raise EmptyFile("The uploaded video is empty.")
        if _is_still_image(data):
            raise InvalidVideo(
                "The file is a still image, not a video; "
                "send it to /extract_embeddings_from_image instead."
            )
        self.max_pixels = max_pixels
        fd, self.path = tempfile.mkstemp(prefix="faceid-", suffix=".video")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        self._cap = cv2.VideoCapture(self.path, cv2.CAP_FFMPEG)
        if not self._cap.isOpened():
            self.close()
            raise InvalidVideo("The file is not a video faceid can decode (mp4, mov, webm, avi).")
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS)) or 25.0
        if not np.isfinite(self.fps) or self.fps <= 0 or self.fps > 1000:
            self.fps = 25.0
        self.frame_count = max(int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width * height > max_pixels:
            self.close()
            raise ImageTooLarge(
                f"Video frames are {width}x{height}; the limit is {max_pixels} pixels.",
                width=width,
                height=height,
            )

    def __enter__(self) -> VideoFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        cap = getattr(self, "_cap", None)
        if cap is not None:
            cap.release()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def sample(self, max_frames: int, seek_gap: int = 24) -> Iterator[Frame]:
        """Up to ``max_frames`` frames spread evenly over the clip.

        Gaps longer than ``seek_gap`` frames are skipped by seeking; short gaps by
        ``grab()``, which is cheaper than a seek to the previous keyframe.
        """
        if self.frame_count <= 0:
            yield from self._sequential(max_frames)
            return
        wanted = np.unique(
            np.linspace(0, self.frame_count - 1, min(max_frames, self.frame_count))
            .round()
            .astype(int)
        )
        position = 0
        for index in wanted:
            gap = int(index) - position
            if gap > seek_gap or gap < 0:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            else:
                for _ in range(gap):
                    self._cap.grab()
            ok, image = self._cap.read()
            position = int(index) + 1
            if not ok or image is None:
                log.debug("frame %d did not decode", index)
                continue
            yield Frame(int(index), round(int(index) / self.fps, 3), image)

    def _sequential(self, max_frames: int) -> Iterator[Frame]:
        index = 0
        while index < max_frames:
            ok, image = self._cap.read()
            if not ok or image is None:
                return
            yield Frame(index, round(index / self.fps, 3), image)
            index += 1
