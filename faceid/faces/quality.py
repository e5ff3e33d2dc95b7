"""Per-face quality: sharpness, size, frontal pose and exposure, each in [0, 1].

All functions are pure; ``score`` is the product of the parts, so one bad
property (blur, a profile view, a dark frame) sinks the whole face.
"""

from __future__ import annotations

import cv2
import numpy as np

from .detectors.base import Face

#: Laplacian variance of a 112 px grey face crop that counts as fully sharp.
SHARP_VARIANCE = 150.0
#: Face height in pixels that counts as fully large enough.
GOOD_SIZE = 112.0


def _crop(image: np.ndarray, face: Face) -> np.ndarray:
    height, width = image.shape[:2]
    x1, y1, x2, y2 = face.box
    x1, y1 = max(int(x1), 0), max(int(y1), 0)
    x2, y2 = min(int(np.ceil(x2)), width), min(int(np.ceil(y2)), height)
    if x2 <= x1 or y2 <= y1:
        return np.zeros((1, 1), dtype=np.uint8)
    grey = cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY)
    return cv2.resize(grey, (112, 112), interpolation=cv2.INTER_AREA)


def sharpness(grey: np.ndarray) -> float:
    return float(min(cv2.Laplacian(grey, cv2.CV_64F).var() / SHARP_VARIANCE, 1.0))


def exposure(grey: np.ndarray) -> float:
    """1 for a mid-grey mean with few clipped pixels, falling towards black or white."""
    mean = float(grey.mean()) / 255.0
    clipped = float(((grey < 8) | (grey > 247)).mean())
    return min(1.0, max(0.0, 1.2 - abs(mean - 0.5) * 2.0)) * (1.0 - clipped)


def frontal(landmarks: np.ndarray) -> float:
    """1 for a frontal, upright face; lower as yaw (nose off the eye midline) or roll grow."""
    left_eye, right_eye, nose = landmarks[0], landmarks[1], landmarks[2]
    eye_vec = right_eye - left_eye
    eye_dist = float(np.hypot(*eye_vec))
    if eye_dist < 1e-3:
        return 0.0
    mid = (left_eye + right_eye) / 2.0
    yaw = abs(float(nose[0] - mid[0])) / eye_dist  # ~0 frontal, ~0.5 at strong yaw
    roll = abs(float(np.degrees(np.arctan2(eye_vec[1], eye_vec[0]))))
    return float(max(0.0, 1.0 - yaw * 2.0) * max(0.0, 1.0 - max(roll - 10.0, 0.0) / 50.0))


def size(face: Face) -> float:
    return float(min(min(face.width, face.height) / GOOD_SIZE, 1.0))


def assess(image: np.ndarray, face: Face, scale: float = 1.0) -> dict[str, float]:
    """The quality record returned with every face; ``scale``: pixels of the file per
    pixel of ``image`` when it was decoded reduced (the size is the face's in the file)."""
    grey = _crop(image, face)
    parts = {
        "sharpness": sharpness(grey),
        "size": size(face.scaled(scale)),
        "frontal": frontal(face.landmarks),
        "exposure": exposure(grey),
    }
    parts["score"] = float(np.prod(list(parts.values())))
    return {k: round(v, 4) for k, v in parts.items()}


#: What a person enrolling should do, by the stable code of what went wrong.
ADVICE = {
    "no_face": "No face in some frames: look at the camera, face in the middle of the picture.",
    "several_faces": "Two faces or more: only the person enrolling should be in the picture.",
    "too_dark": "Too dark: face a light or turn one on.",
    "too_bright": "Too bright: move out of direct light, or away from a bright window.",
    "hold_still": "Blurred: hold still, and hold the phone steady.",
    "come_closer": "The face is small: come closer to the camera.",
    "face_camera": "Face the camera and keep your head straight.",
}

#: The quality part each piece of advice answers (exposure: see :func:`weakness`).
_PART_ADVICE = {"sharpness": "hold_still", "size": "come_closer", "frontal": "face_camera"}


def brightness(image: np.ndarray, face: Face) -> float:
    """Mean grey level of the face crop, in [0, 1]."""
    return float(_crop(image, face).mean() / 255.0)


#: Exposure under this names the light as the fault first: a dark face also loses the
#: fine edges that sharpness measures, so it would otherwise read as blur.
POOR_EXPOSURE = 0.6


def weakness(parts: dict[str, float], light: float) -> str:
    """The advice code for what most lowers a face's quality (``light``: its brightness)."""
    names = [*_PART_ADVICE, "exposure"]
    weakest = min(names, key=lambda name: parts.get(name, 1.0))
    if parts.get("exposure", 1.0) < POOR_EXPOSURE or weakest == "exposure":
        return "too_dark" if light < 0.5 else "too_bright"
    return _PART_ADVICE[weakest]


def advice(dropped: dict[str, int], weak: list[str]) -> list[dict[str, object]]:
    """Advice in words, most frequent first: frames dropped for having no face or several,
    and ``weak``, the :func:`weakness` of each face below the quality minimum."""
    counts = {code: dropped.get(code, 0) for code in ("no_face", "several_faces")}
    for code in weak:
        counts[code] = counts.get(code, 0) + 1
    ranked = sorted((c for c in counts.items() if c[1]), key=lambda c: -c[1])
    return [{"code": code, "frames": n, "message": ADVICE[code]} for code, n in ranked]
