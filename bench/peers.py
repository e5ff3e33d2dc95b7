"""The peers faceid is measured against: DeepFace (Dlib model) and face_recognition.

DeepFace would download its weights on first use; this machine has no internet, so
:func:`prepare_deepface_home` links the same dlib files that ship in the
``face_recognition_models`` package into a temporary ``$DEEPFACE_HOME``.
Both libraries are imported lazily, after the environment is set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

#: The file names DeepFace's Dlib recogniser and dlib detector look for under
#: ``$DEEPFACE_HOME/.deepface/weights`` (deepface/models/*/Dlib.py).
DEEPFACE_DLIB_FILES = (
    "dlib_face_recognition_resnet_model_v1.dat",
    "shape_predictor_5_face_landmarks.dat",
)
DEEPFACE_MODEL = "Dlib"


def prepare_deepface_home(home: Path) -> dict[str, str]:
    """Link the dlib weights into ``home`` and return the environment DeepFace needs."""
    import face_recognition_models

    source = Path(face_recognition_models.__file__).parent / "models"
    weights = home / ".deepface" / "weights"
    weights.mkdir(parents=True, exist_ok=True)
    for name in DEEPFACE_DLIB_FILES:
        link = weights / name
        if not link.exists():
            link.symlink_to(source / name)
    return {
        "DEEPFACE_HOME": str(home),
        "DEEPFACE_LOG_LEVEL": "40",  # errors only: DeepFace logs with print()
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }


def configure(home: Path) -> None:
    """Set up this process for DeepFace (call before the first DeepFace import)."""
    os.environ.update(prepare_deepface_home(home))


def deepface_represent(image: str | np.ndarray, backend: str) -> list[float]:
    """DeepFace's embedding of the largest face (Dlib model)."""
    from deepface import DeepFace

    result = DeepFace.represent(
        img_path=image, model_name=DEEPFACE_MODEL, detector_backend=backend, max_faces=1
    )
    return list(result[0]["embedding"])


def deepface_verify(left: str | list[float], right: str | list[float]) -> bool:
    """DeepFace.verify with the Dlib model and dlib detector (images or embeddings)."""
    from deepface import DeepFace

    result: dict[str, Any] = DeepFace.verify(
        img1_path=left,
        img2_path=right,
        model_name=DEEPFACE_MODEL,
        detector_backend="dlib",
        silent=True,
    )
    return bool(result["verified"])


def face_recognition_encode(rgb: np.ndarray) -> np.ndarray | None:
    """face_recognition's encoding of the largest face found by its HOG detector."""
    import face_recognition

    boxes = face_recognition.face_locations(rgb)
    if not boxes:
        return None
    largest = max(boxes, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]))
    return np.asarray(face_recognition.face_encodings(rgb, known_face_locations=[largest])[0])


def face_recognition_file(path: str) -> np.ndarray | None:
    """Load an image file the library's own way, then encode its largest face."""
    import face_recognition

    return face_recognition_encode(face_recognition.load_image_file(path))
