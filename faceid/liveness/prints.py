"""Presentation attacks made from a still: a printed photo moved as a sheet of paper is
moved (one perspective warp of a plane per frame), or bent round a cylinder (no longer one
plane). The liveness evaluation (:mod:`.evalset`) and its end-to-end tests play them."""

from __future__ import annotations

import cv2
import numpy as np


def letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` scaled to fit ``size`` (width, height), its aspect kept, on black."""
    width, height = size
    scale = min(width / image.shape[1], height / image.shape[0])
    inner = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    x, y = (width - inner[0]) // 2, (height - inner[1]) // 2
    canvas[y : y + inner[1], x : x + inner[0]] = cv2.resize(image, inner)
    return canvas


def sheet(
    image: np.ndarray,
    degrees: float,
    axis: str = "vertical",
    scale: float = 1.0,
    shift: tuple[float, float] = (0.0, 0.0),
    roll: float = 0.0,
) -> np.ndarray:
    """A printed photo turned by ``degrees`` about its vertical (or horizontal) centre line,
    rolled, scaled and shifted, as a camera at one image-width's distance sees it: one
    perspective warp of a plane."""
    height, width = image.shape[:2]
    focal = float(width)
    angles = [0.0, np.radians(degrees), 0.0] if axis == "vertical" else [np.radians(degrees), 0, 0]
    rotation = cv2.Rodrigues(np.array(angles, dtype=np.float64))[0]
    spin = cv2.Rodrigues(np.array([0.0, 0.0, np.radians(roll)]))[0]
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    flat = np.c_[(corners - (width / 2, height / 2)) * scale, np.zeros(4)]
    plane = flat @ (rotation @ spin).T + (0, 0, focal)
    seen = focal * plane[:, :2] / plane[:, 2:] + (width / 2 + shift[0], height / 2 + shift[1])
    warp = cv2.getPerspectiveTransform(corners.astype(np.float32), seen.astype(np.float32))
    return cv2.warpPerspective(image, warp, (width, height), borderValue=(128, 128, 128))


def bent(image: np.ndarray, degrees: float, curve: float = 1.2, strips: int = 24) -> np.ndarray:
    """A print bent round a vertical cylinder (radius: the image's width over ``curve``),
    bulging towards the camera and turned by ``degrees``: strips of the image, each one
    small plane on the cylinder, drawn far ones first."""
    height, width = image.shape[:2]
    focal, radius = float(width), width / curve
    turn = cv2.Rodrigues(np.array([0.0, np.radians(degrees), 0.0]))[0]
    out = np.full_like(image, 128)

    def on_cylinder(x: float, y: float) -> np.ndarray:
        angle = (x - width / 2) / radius
        return np.array([radius * np.sin(angle), y - height / 2, -radius * (1 - np.cos(angle))])

    pieces = []
    edges = np.linspace(0, width, strips + 1)
    for x0, x1 in zip(edges[:-1], edges[1:], strict=True):
        flat = np.array([[x0, 0], [x1, 0], [x1, height], [x0, height]], dtype=np.float32)
        space = np.array([on_cylinder(x, y) for x, y in flat]) @ turn.T + (0, 0, focal)
        seen = focal * space[:, :2] / space[:, 2:] + (width / 2, height / 2)
        pieces.append((-space[:, 2].mean(), flat, seen.astype(np.float32)))
    for _, flat, seen in sorted(pieces, key=lambda piece: piece[0]):
        warp = cv2.getPerspectiveTransform(flat, seen)
        strip = np.zeros(image.shape[:2], dtype=np.uint8)
        strip[:, int(flat[0][0]) : int(np.ceil(flat[1][0]))] = 255
        mask = cv2.warpPerspective(strip, warp, (width, height)) > 0
        out[mask] = cv2.warpPerspective(image, warp, (width, height))[mask]
    return out


def photo_motions(still: np.ndarray, fps: float = 15.0) -> dict[str, list[np.ndarray]]:
    """A still moved as a sheet of paper is, 4 s each: tilted left then right, up then
    down, shaken, zoomed in and out, bent and turned, tilted while shaken."""
    t = np.linspace(0, 1, int(4 * fps))
    swing = 40 * np.sin(2 * np.pi * t)  # 0 -> +40 -> 0 -> -40 -> 0 degrees
    rng = np.random.default_rng(7)
    return {
        "photo_tilt_left_right": [sheet(still, a) for a in swing],
        "photo_tilt_up_down": [sheet(still, a, axis="horizontal") for a in swing],
        "photo_shaken": [
            sheet(
                still,
                float(rng.normal(0, 12)),
                roll=float(rng.normal(0, 6)),
                shift=(float(rng.normal(0, 8)), float(rng.normal(0, 8))),
            )
            for _ in t
        ],
        "photo_zoomed": [
            sheet(still, 10 * np.sin(4 * np.pi * x), scale=1 + 0.4 * np.sin(np.pi * x)) for x in t
        ],
        "photo_bent": [bent(still, a) for a in swing],
        "photo_tilted_and_shaken": [
            sheet(
                still,
                float(a + rng.normal(0, 6)),
                roll=float(rng.normal(0, 4)),
                shift=(float(rng.normal(0, 6)), float(rng.normal(0, 6))),
            )
            for a in swing
        ],
    }
