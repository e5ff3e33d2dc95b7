"""All-against-all similarity, clustering into people at a model's level, and search.

>>> import numpy as np
>>> from faceid.batch.faceset import FaceSet
>>> v = np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0]])
>>> faces = FaceSet.of_vectors("dlib-resnet-v1", v, ["ann1.jpg", "ann2.jpg", "bob.jpg"])
>>> cluster(faces).tolist()  # cut at dlib's standard level, 0.941
[0, 0, 1]
>>> [hit["path"] for hit in search(faces, np.array([1.0, 0.05]), top_k=2)]
['ann1.jpg', 'ann2.jpg']
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..errors import InvalidParameter
from ..faces.levels import DEFAULT_LEVEL, level_threshold
from ..faces.models import card as model_card
from .faceset import FaceSet


def similarity_matrix(faces: FaceSet) -> np.ndarray:
    """Cosine similarity of every face with every face (float32, n x n)."""
    return np.clip(faces.vectors @ faces.vectors.T, -1.0, 1.0).astype(np.float32)


class _Levels(NamedTuple):
    id: str
    levels: dict[str, float]


def cut(faces: FaceSet, level: str = DEFAULT_LEVEL, threshold: float | None = None) -> float:
    """The similarity at or above which two faces are one person: ``threshold``, else the
    ``level`` of the model the set was made with (its recorded levels, else the registry's;
    a model calibrated for none: ``standard`` at 0.5)."""
    if threshold is not None:
        return threshold
    known = model_card(faces.model_id)
    levels = faces.levels or (dict(known.levels) if known else {})
    return level_threshold(_Levels(faces.model_id, levels), level)[1]


def cluster(
    faces: FaceSet, level: str = DEFAULT_LEVEL, threshold: float | None = None
) -> np.ndarray:
    """A person label (0, 1, ...) per face: average-linkage clustering (SciPy) cut where
    the mean similarity between two groups falls below the level's threshold; labels are
    numbered by first appearance."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if len(faces) < 2:
        return np.zeros(len(faces), dtype=np.int64)
    distance = 1.0 - similarity_matrix(faces).astype(np.float64)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(np.clip(distance, 0.0, 2.0), checks=False), method="average")
    raw = fcluster(tree, t=1.0 - cut(faces, level, threshold), criterion="distance")
    first: dict[int, int] = {}
    return np.array([first.setdefault(int(c), len(first)) for c in raw], dtype=np.int64)


def search(
    faces: FaceSet,
    vector: np.ndarray,
    top_k: int = 5,
    level: str = DEFAULT_LEVEL,
    threshold: float | None = None,
) -> list[dict[str, Any]]:
    """The ``top_k`` faces closest to ``vector``, best first, and whether each matches."""
    if not len(faces):
        return []
    if len(vector) != faces.dim:
        raise InvalidParameter(f"a {len(vector)}-value vector against {faces.dim}-value faces")
    if not 1 <= top_k <= max(len(faces), 1):
        top_k = max(1, min(top_k, len(faces)))
    limit = cut(faces, level, threshold)
    unit = vector / np.linalg.norm(vector)
    sims = faces.vectors @ unit.astype(np.float32)
    order = np.argsort(-sims)[:top_k]
    return [
        {
            "row": int(i),
            "path": faces.paths[i],
            "face": int(faces.face_index[i]),
            "similarity": round(float(sims[i]), 4),
            "match": bool(sims[i] >= limit),
        }
        for i in order
    ]
