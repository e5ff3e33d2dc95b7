"""Per-organisation in-memory template index, kept fresh against the store.

The store is the source of truth. Each worker holds, per organisation, a
normalised float32 matrix of its templates and the subject of each row. Before
each search the organisation's change counter (one indexed read) is compared
with the index's; any write by any worker or host bumps it, and the index
reloads. Search is one matrix-vector product, never a table scan per request.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from .pipeline import l2_normalize
from .store import Store


@dataclass(frozen=True)
class Hit:
    subject_id: str
    similarity: float
    template_id: str


class GalleryIndex:
    """One organisation's templates: ``search`` gives the best template per subject."""

    def __init__(
        self, version: int, template_ids: list[str], subject_ids: list[str], vectors: np.ndarray
    ) -> None:
        self.version = version
        self.template_ids = np.array(template_ids, dtype=object)
        self.subject_ids = np.array(subject_ids, dtype=object)
        self.vectors = l2_normalize(vectors) if len(vectors) else vectors.astype(np.float32)
        self._subjects: np.ndarray = np.array([], dtype=str)
        self._codes: np.ndarray = np.array([], dtype=int)
        if len(subject_ids):
            self._subjects, self._codes = np.unique(
                self.subject_ids.astype(str), return_inverse=True
            )

    def __len__(self) -> int:
        return len(self.template_ids)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1]) if self.vectors.ndim == 2 and len(self) else 0

    def search(
        self,
        query: np.ndarray,
        top_k: int = 5,
        only: Collection[str] | None = None,
        exclude: str | None = None,
    ) -> list[Hit]:
        """Subjects ranked by their best template's cosine similarity to ``query``."""
        if not len(self) or query.shape[-1] != self.dim:
            return []
        sims = self.vectors @ l2_normalize(query).astype(np.float32)
        mask = np.ones(len(sims), dtype=bool)
        if only is not None:
            mask &= np.isin(self.subject_ids.astype(str), list(only))
        if exclude is not None:
            mask &= self.subject_ids != exclude
        sims = np.where(mask, sims, -np.inf)
        best = np.full(len(self._subjects), -np.inf, dtype=np.float32)
        np.maximum.at(best, self._codes, sims)
        order = np.argsort(-best)[:top_k]
        hits = []
        for code in order:
            if not np.isfinite(best[code]):
                break
            rows = np.flatnonzero(self._codes == code)
            row = rows[np.argmax(sims[rows])]
            hits.append(
                Hit(str(self._subjects[code]), float(best[code]), str(self.template_ids[row]))
            )
        return hits


class IndexCache:
    """The worker's indexes, one per organisation, reloaded when the store's counter moves."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._indexes: dict[str, GalleryIndex] = {}
        self._lock = threading.Lock()

    def get(self, org_id: str) -> GalleryIndex:
        version = self.store.org_version(org_id)
        index = self._indexes.get(org_id)
        if index is not None and index.version == version:
            return index
        with self._lock:
            index = self._indexes.get(org_id)
            if index is None or index.version != version:
                index = GalleryIndex(*self.store.load_gallery(org_id))
                self._indexes[org_id] = index
        return index
