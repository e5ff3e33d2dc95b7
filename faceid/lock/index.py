"""Exact search over a set of templates: a normalised float32 matrix and each row's subject.

A worker holds one for each small organisation (faceid.lock.cache reloads it when the
organisation's change counter moves); a large organisation's search re-ranks its
candidates with one too (faceid.lock.approx). Search is one matrix-vector product.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from ..faces.pipeline import l2_normalize


@dataclass(frozen=True)
class Hit:
    subject_id: str
    similarity: float
    template_id: str


class Gallery(ABC):
    """What a search over an organisation's templates answers, however it is held."""

    @abstractmethod
    def search(
        self,
        query: np.ndarray,
        top_k: int = 5,
        only: Collection[str] | None = None,
        exclude: str | None = None,
    ) -> list[Hit]:
        """Subjects ranked by their best template's cosine similarity to ``query``."""

    def best(
        self, query: np.ndarray, only: Collection[str] | None = None, exclude: str | None = None
    ) -> Hit | None:
        """The closest subject to ``query`` (within ``only``, never ``exclude``), or None."""
        hits = self.search(query, top_k=1, only=only, exclude=exclude)
        return hits[0] if hits else None


class GalleryIndex(Gallery):
    """One organisation's templates: ``search`` gives the best template per subject."""

    def __init__(
        self, version: int, template_ids: list[str], subject_ids: list[str], vectors: np.ndarray
    ) -> None:
        self.version = version
        self.template_ids = template_ids
        self.subject_ids = subject_ids
        self.vectors = l2_normalize(vectors) if len(vectors) else vectors.astype(np.float32)
        rows: dict[str, list[int]] = {}
        for row, subject in enumerate(subject_ids):
            rows.setdefault(subject, []).append(row)
        self._rows = {s: np.array(r, dtype=np.int64) for s, r in rows.items()}

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
        """Subjects ranked by their best template's cosine similarity to ``query``.

        ``only`` restricts the search to those subjects (a lock's grants: only their rows
        are scored); otherwise every row is scored in one matrix-vector product and the
        best ``top_k`` x 16 rows are grouped by subject.
        """
        if not len(self) or query.shape[-1] != self.dim:
            return []
        q = l2_normalize(query).astype(np.float32)
        if only is not None:
            rows = [self._rows[s] for s in only if s in self._rows and s != exclude]
            if not rows:
                return []
            candidates = np.concatenate(rows)
            sims = self.vectors[candidates] @ q
        else:
            sims = self.vectors @ q
            if exclude in self._rows:
                sims[self._rows[exclude]] = -np.inf
            keep = min(len(sims), top_k * 16)
            candidates = np.argpartition(-sims, keep - 1)[:keep]
            sims = sims[candidates]
        best: dict[str, tuple[float, int]] = {}
        for row, sim in zip(candidates.tolist(), sims.tolist(), strict=True):
            subject = self.subject_ids[row]
            if sim > best.get(subject, (-np.inf, 0))[0] and np.isfinite(sim):
                best[subject] = (sim, row)
        ranked = sorted(best.items(), key=lambda item: -item[1][0])[:top_k]
        return [Hit(s, float(sim), self.template_ids[row]) for s, (sim, row) in ranked]

    def nearest(self, query: np.ndarray, k: int) -> list[str]:
        """Ids of the ``k`` templates nearest to ``query``, whoever they belong to."""
        if not len(self) or query.shape[-1] != self.dim:
            return []
        sims = self.vectors @ l2_normalize(query).astype(np.float32)
        rows = np.argpartition(-sims, min(k, len(sims)) - 1)[:k]
        return [self.template_ids[row] for row in rows.tolist()]
