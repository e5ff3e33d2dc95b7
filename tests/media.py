"""Small real media made on the fly from the shared stills (no files are committed)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_clip(
    path: Path, frames: list[np.ndarray], fps: float = 10.0, codec: str = "MJPG"
) -> Path:
    """Write BGR frames (all the size of the first) with OpenCV's FFmpeg writer."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, (width, height))
    assert writer.isOpened(), f"OpenCV cannot write {codec} to {path.suffix}"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def still_clip(
    path: Path,
    image: Path | np.ndarray,
    count: int = 12,
    codec: str = "MJPG",
    size: tuple[int, int] = (640, 480),
) -> Path:
    frame = cv2.imread(str(image)) if isinstance(image, Path) else image
    return write_clip(path, [letterbox(frame, size)] * count, codec=codec)


def letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Fit an image into ``size`` (width, height) keeping its aspect, on black."""
    width, height = size
    scale = min(width / image.shape[1], height / image.shape[0])
    resized = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)))
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    y, x = (height - resized.shape[0]) // 2, (width - resized.shape[1]) // 2
    canvas[y : y + resized.shape[0], x : x + resized.shape[1]] = resized
    return canvas


def tilt(image: np.ndarray, degrees: float, axis: str = "vertical") -> np.ndarray:
    """A printed photo turned by ``degrees`` about its vertical (or horizontal) centre line,
    as a camera at one image-width's distance sees it: one perspective warp of a plane."""
    height, width = image.shape[:2]
    focal = float(width)
    rotation = cv2.Rodrigues(
        np.array(
            [0.0, np.radians(degrees), 0.0]
            if axis == "vertical"
            else [np.radians(degrees), 0.0, 0.0]
        )
    )[0]
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    plane = np.c_[corners - (width / 2, height / 2), np.zeros(4)] @ rotation.T + (0, 0, focal)
    seen = focal * plane[:, :2] / plane[:, 2:] + (width / 2, height / 2)
    warp = cv2.getPerspectiveTransform(corners.astype(np.float32), seen.astype(np.float32))
    return cv2.warpPerspective(image, warp, (width, height), borderValue=(128, 128, 128))
