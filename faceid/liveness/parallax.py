"""Parallax of the face's own texture: one plane (a photo) or a solid (a head)?

The 68 landmarks come from a predictor that fits a face-shaped model to whatever it is
shown; on a printed photo tilted in front of the camera it can bend its points the way a
turning head would (measured: a photo of a slightly turned face, tilted by 40 degrees,
read as a turn by the landmarks' residual alone). The image's own texture has no such
prior. :func:`parallax` follows corners inside the face's box from the clip's frontal
frame through every frame (pyramidal Lucas-Kanade optical flow) and reports, per frame,
the share of them that one homography of the frontal frame does not explain (error over
:data:`TOLERANCE` inter-ocular distances). Over each turn (median of its frames), a real
head left 0.38-0.78 of them off the plane; tilted and bent photos 0.00-0.18; a shaken
photo, its flow blurred, up to 0.42: so this cue is used together with the landmarks'
residual (:mod:`.actions`), which the shaken photos fail.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

TOLERANCE = 0.03  # inter-ocular distances a point may miss the plane by
MAX_CORNERS = 200
MIN_POINTS = 12  # fewer followed corners than this: no evidence of depth


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _off_plane(start: np.ndarray, now: np.ndarray, scale: float) -> float:
    homography, _ = cv2.findHomography(start, now, cv2.RANSAC, TOLERANCE * scale)
    if homography is None:
        return 0.0
    moved = cv2.perspectiveTransform(start.reshape(-1, 1, 2), homography).reshape(-1, 2)
    return float(np.mean(np.linalg.norm(moved - now.reshape(-1, 2), axis=1) > TOLERANCE * scale))


def parallax(
    images: Sequence[np.ndarray], box: np.ndarray, reference: int, scale: float
) -> list[float]:
    """Per image, the share of the reference image's corners (inside ``box``) that the best
    homography leaves more than ``TOLERANCE * scale`` pixels away; 0 where too few corners
    could be followed (no evidence of depth is no depth)."""
    height, width = images[reference].shape[:2]
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[max(0, y1) : max(0, y2), max(0, x1) : max(0, x2)] = 255
    first = _gray(images[reference])
    corners = cv2.goodFeaturesToTrack(first, MAX_CORNERS, 0.01, max(3.0, scale / 12), mask=mask)
    found = [0.0] * len(images)
    if corners is None or len(corners) < MIN_POINTS:
        return found
    for step in (1, -1):
        points, alive, previous = corners.copy(), np.ones(len(corners), dtype=bool), first
        index = reference + step
        while 0 <= index < len(images):
            current = _gray(images[index])
            points, status, _ = cv2.calcOpticalFlowPyrLK(
                previous,
                current,
                points,
                None,
                winSize=(21, 21),
                maxLevel=3,  # type: ignore[call-overload]
            )
            alive &= status.ravel() == 1
            if alive.sum() >= MIN_POINTS:
                found[index] = _off_plane(corners[alive], points[alive], scale)
            previous, index = current, index + step
    return found
