"""A set of embedded faces: what ``faceid embed`` writes and the other tools read.

>>> import numpy as np
>>> faces = FaceSet.of_vectors("dlib-resnet-v1", np.eye(3, 128), ["a.jpg", "b.jpg", "c.jpg"])
>>> len(faces), faces.dim
(3, 128)
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InvalidParameter


@dataclass
class FaceSet:
    """One row per face: its unit vector, source image, index in that image (0 is the
    largest), box ``[x1, y1, x2, y2]``, 5 landmarks and quality score; ``failed`` maps
    each image that gave no face to why (unreadable, no face); ``levels``: the model's
    operating points when the set was made (a custom model's come from its spec)."""

    model_id: str
    vectors: np.ndarray
    paths: list[str]
    face_index: np.ndarray
    boxes: np.ndarray
    landmarks: np.ndarray
    quality: np.ndarray
    failed: dict[str, str] = field(default_factory=dict)
    levels: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of_vectors(cls, model_id: str, vectors: np.ndarray, paths: Sequence[str]) -> FaceSet:
        """Vectors with nothing else known (boxes, landmarks and quality left empty)."""
        n = len(paths)
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return cls(
            model_id,
            unit.astype(np.float32),
            list(paths),
            np.zeros(n, dtype=np.int32),
            np.full((n, 4), np.nan, dtype=np.float32),
            np.full((n, 5, 2), np.nan, dtype=np.float32),
            np.full(n, np.nan, dtype=np.float32),
        )

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1]) if self.vectors.ndim == 2 else 0

    def save(self, path: Path | str) -> tuple[Path, Path]:
        """The set as ``.npz`` (added to ``path`` when missing) and a CSV index beside it;
        returns both paths."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        failed = sorted(self.failed.items())
        np.savez(
            path,
            levels=np.array(json.dumps(self.levels)),
            model_id=np.array(self.model_id),
            vectors=self.vectors,
            paths=np.array(self.paths, dtype=str),
            face_index=self.face_index,
            boxes=self.boxes,
            landmarks=self.landmarks,
            quality=self.quality,
            failed_paths=np.array([p for p, _ in failed], dtype=str),
            failed_reasons=np.array([r for _, r in failed], dtype=str),
        )
        index = path.with_suffix(".csv")
        with index.open("w", newline="", encoding="utf-8", errors="surrogateescape") as fh:
            out = csv.writer(fh)
            out.writerow(["row", "path", "face", "x1", "y1", "x2", "y2", "quality"])
            for i, source in enumerate(self.paths):
                box = [round(float(v), 1) for v in self.boxes[i]]
                out.writerow([i, source, int(self.face_index[i]), *box, float(self.quality[i])])
        return path, index

    @classmethod
    def load(cls, path: Path) -> FaceSet:
        """A set saved by :meth:`save` (no pickles are read); 400 for any other file."""
        try:
            return cls._read(path)
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            raise InvalidParameter(f"{path} is not a face set written by faceid embed.") from exc

    @classmethod
    def _read(cls, path: Path) -> FaceSet:
        with np.load(path, allow_pickle=False) as data:
            faces = cls(
                str(data["model_id"]),
                data["vectors"],
                [str(p) for p in data["paths"]],
                data["face_index"],
                data["boxes"],
                data["landmarks"],
                data["quality"],
                dict(
                    zip(
                        map(str, data["failed_paths"]),
                        map(str, data["failed_reasons"]),
                        strict=True,
                    )
                ),
                json.loads(str(data["levels"])) if "levels" in data.files else {},
            )
        n = len(faces.paths)
        if faces.vectors.ndim != 2 or len(faces.vectors) != n or len(faces.face_index) != n:
            raise ValueError("rows disagree")
        if not np.isfinite(faces.vectors).all():
            raise ValueError("vectors are not finite")
        return faces
