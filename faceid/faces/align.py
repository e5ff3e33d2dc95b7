"""Pure 5-point face alignment functions.

Landmarks everywhere in faceid are a (5, 2) float array in *image* order:
the eye on the image's left, the eye on the image's right, the nose tip, the
mouth corner on the image's left, the mouth corner on the image's right.
Images are BGR ``uint8`` arrays as OpenCV decodes them.
"""

from __future__ import annotations

import cv2
import numpy as np

#: The ArcFace 5-point template for a 112x112 crop (insightface's reference points).
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def canonical_landmarks(points: np.ndarray) -> np.ndarray:
    """Order eyes and mouth corners left-to-right in the image, whatever a detector called them."""
    pts = np.asarray(points, dtype=np.float32).reshape(5, 2).copy()
    if pts[0, 0] > pts[1, 0]:
        pts[[0, 1]] = pts[[1, 0]]
    if pts[3, 0] > pts[4, 0]:
        pts[[3, 4]] = pts[[4, 3]]
    return pts


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, shift) mapping ``src`` onto ``dst``.

    Umeyama's closed form; returns a 2x3 matrix for ``cv2.warpAffine``.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    rot = u @ np.diag(d) @ vt
    var_src = (src_c**2).sum() / len(src)
    scale = (s * d).sum() / var_src if var_src > 0 else 1.0
    shift = dst_mean - scale * rot @ src_mean
    return np.hstack([scale * rot, shift[:, None]]).astype(np.float32)


def template_for(size: int) -> np.ndarray:
    """The ArcFace template scaled to a square crop of ``size`` pixels."""
    return ARCFACE_TEMPLATE * (size / 112.0)


def align_face(image: np.ndarray, landmarks: np.ndarray, size: int = 112) -> np.ndarray:
    """Warp the face with these landmarks onto the ArcFace template: a ``size`` x ``size`` crop."""
    matrix = similarity_transform(landmarks, template_for(size))
    return cv2.warpAffine(image, matrix, (size, size), borderValue=(0, 0, 0))
