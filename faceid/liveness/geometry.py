"""Pure measurements on dlib's 68 face landmarks (image coordinates, iBUG layout).

- :func:`eye_openness`: the eye aspect ratio (Soukupova and Cech, 2016), both eyes
  averaged: about 0.3 open, below about 0.2 closed;
- :func:`head_pose`: yaw and pitch in degrees from a generic 3-D face fitted to six
  landmarks (OpenCV's ``solvePnP``). Yaw is from the person's point of view: positive
  when they turn to their left;
- :func:`rectified_openness`: eye openness after mapping the face, eyes left out, onto a
  reference view by one homography: a tilted photo's squashed eyes come back open;
- :func:`planar_residual`: how far two views of a face are from one perspective
  transform of a plane. A photo, however it is tilted, moves every landmark by one
  homography, so the residual stays at landmark noise; a turning head moves its nose
  against the plane of its eyes and mouth, so the residual grows with the turn.

>>> import numpy as np
>>> pts = np.random.default_rng(0).uniform(0, 100, (68, 2))
>>> tilt = np.array([[0.9, 0.05, 3.0], [0.02, 1.0, -2.0], [4e-4, 0.0, 1.0]])
>>> moved = np.c_[pts, np.ones(68)] @ tilt.T
>>> round(planar_residual(pts, moved[:, :2] / moved[:, 2:]), 6)
0.0
"""

from __future__ import annotations

import cv2
import numpy as np

# iBUG 68 indices
RIGHT_EYE = slice(36, 42)  # the person's right eye (image left in an unmirrored frame)
LEFT_EYE = slice(42, 48)
NOSE_TIP, CHIN = 30, 8
EYES = np.r_[36:48]
#: Points that stay put when the eyes close or the mouth moves: brows, nose, eye corners.
STILL_POINTS = np.r_[17:36, 36, 39, 42, 45]
EYE_OUTER = (36, 45)
MOUTH_CORNERS = (48, 54)

#: A generic head (millimetres, x to the image's right, y up, z towards the camera).
FACE_3D = np.array(
    [
        (0.0, 0.0, 0.0),  # nose tip (30)
        (0.0, -63.6, -12.5),  # chin (8)
        (-43.3, 32.7, -26.0),  # outer corner of the eye on the image's left (36)
        (43.3, 32.7, -26.0),  # outer corner of the eye on the image's right (45)
        (-28.9, -28.9, -24.1),  # mouth corner on the image's left (48)
        (28.9, -28.9, -24.1),  # mouth corner on the image's right (54)
    ],
    dtype=np.float64,
)
POSE_POINTS = (NOSE_TIP, CHIN, EYE_OUTER[0], EYE_OUTER[1], *MOUTH_CORNERS)


def _ear(eye: np.ndarray) -> float:
    vertical = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
    return float(vertical / (2.0 * np.linalg.norm(eye[0] - eye[3]) + 1e-9))


def eye_openness(points: np.ndarray) -> float:
    """Mean eye aspect ratio of both eyes."""
    return (_ear(points[RIGHT_EYE]) + _ear(points[LEFT_EYE])) / 2.0


def interocular(points: np.ndarray) -> float:
    """Distance between the outer eye corners, the face's scale."""
    return float(np.linalg.norm(points[EYE_OUTER[0]] - points[EYE_OUTER[1]]))


def head_pose(points: np.ndarray, width: int, height: int) -> tuple[float, float]:
    """(yaw, pitch) in degrees. Yaw > 0: the person turned to their left (their nose
    moves towards the image's right in an unmirrored frame); pitch > 0: looking up."""
    focal = float(max(width, height))
    camera = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]])
    image = np.array([points[i] for i in POSE_POINTS], dtype=np.float64)
    # image y grows downwards; the model's y grows upwards
    ok, rvec, _ = cv2.solvePnP(
        FACE_3D * np.array([1.0, -1.0, -1.0]), image, camera, None, flags=cv2.SOLVEPNP_ITERATIVE
    )
    if not ok:
        return 0.0, 0.0
    rotation, _ = cv2.Rodrigues(rvec)
    yaw = float(np.degrees(np.arcsin(np.clip(-rotation[2, 0], -1.0, 1.0))))
    pitch = float(np.degrees(np.arctan2(rotation[2, 1], rotation[2, 2])))
    return -yaw, pitch


def planar_residual(a: np.ndarray, b: np.ndarray) -> float:
    """RMS distance of ``b`` from the best homography of ``a``, over the inter-ocular
    distance of ``b``: near 0 for two views of a flat picture, larger for a turning head."""
    homography, _ = cv2.findHomography(a.astype(np.float64), b.astype(np.float64), 0)
    if homography is None:
        return float("inf")
    moved = cv2.perspectiveTransform(a.reshape(-1, 1, 2).astype(np.float64), homography)
    error = np.sqrt(np.mean(np.sum((moved.reshape(-1, 2) - b) ** 2, axis=1)))
    return float(error / max(interocular(b), 1e-9))


def rectified_openness(reference: np.ndarray, points: np.ndarray) -> float:
    """:func:`eye_openness` of ``points`` once the homography that maps the face's still
    points (brows, nose, eye corners) onto ``reference`` is undone: a photo tilted towards
    the camera squashes its eyes along with everything else and stays open here; a blink
    moves the eyelids alone and closes."""
    homography, _ = cv2.findHomography(
        points[STILL_POINTS].astype(np.float64), reference[STILL_POINTS].astype(np.float64), 0
    )
    if homography is None:
        return eye_openness(points)
    eyes = points[EYES].reshape(-1, 1, 2).astype(np.float64)
    moved = np.array(points, dtype=np.float64)
    moved[EYES] = cv2.perspectiveTransform(eyes, homography).reshape(-1, 2)
    return eye_openness(moved)
