"""Reading an organisation's templates for search: all at once for a small gallery,
in pages for a host's index build, by change counter for what came after a build, and by
id or subject for an exact re-rank.

Each read gives a :class:`Rows`: template ids, subject ids and float32 vectors as stored,
with rows that fail their authentication (or have another length) left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .subjects import SubjectsMixin

_COLUMNS = "SELECT id, subject_id, vector, encrypted, dim, model_id FROM templates "
#: Most ids in one ``IN (...)`` list (SQLite's default limit on parameters is 32,766).
_IN_LIMIT = 500


@dataclass(frozen=True)
class Rows:
    """Templates read from the store, in the order read."""

    template_ids: list[str]
    subject_ids: list[str]
    vectors: np.ndarray  # (n, dim) float32

    def __len__(self) -> int:
        return len(self.template_ids)


class GalleryMixin(SubjectsMixin):
    """Every read takes the organisation id and checks each row's seal."""

    def _rows(self, org_id: str, rows: Sequence[Sequence[Any]], dim: int = 0) -> Rows:
        kept = []
        for row in rows:
            vector = self._unpack((org_id, row[1], row[0], row[5]), row[2], row[3])
            if vector is not None and len(vector) == row[4] and (not dim or row[4] == dim):
                kept.append((row[0], row[1], vector))
        width = int(kept[0][2].shape[0]) if kept else dim
        vectors = np.array([k[2] for k in kept], dtype=np.float32).reshape(len(kept), width)
        return Rows([k[0] for k in kept], [k[1] for k in kept], vectors)

    def load_gallery(self, org_id: str) -> tuple[int, list[str], list[str], np.ndarray]:
        """(version, template ids, subject ids, vectors) of an organisation, for the index."""
        with self.tx(write=False) as cur:
            version = self._exec(cur, "SELECT version FROM orgs WHERE id = ?", (org_id,)).fetchone()
            rows = self._exec(cur, _COLUMNS + "WHERE org_id = ? ORDER BY id", (org_id,)).fetchall()
        found = self._rows(org_id, rows)
        return (
            int(version[0]) if version else 0,
            found.template_ids,
            found.subject_ids,
            found.vectors,
        )

    def org_erased(self, org_id: str) -> int:
        """The change counter of the organisation's last template deleted or rewritten."""
        with self.tx(write=False) as cur:
            row = self._exec(
                cur, "SELECT erased_version FROM orgs WHERE id = ?", (org_id,)
            ).fetchone()
        return int(row[0]) if row else 0

    def template_count(self, org_id: str) -> int:
        with self.tx(write=False) as cur:
            row = self._exec(
                cur, "SELECT COUNT(*) FROM templates WHERE org_id = ?", (org_id,)
            ).fetchone()
        return int(row[0])

    def template_pages(self, org_id: str, page: int = 20_000) -> Iterator[Rows]:
        """Every template of the organisation, ``page`` rows at a time in id order, each page
        its own short read. Read the change counter first: a template written at or below it
        is in some page unless it was deleted or rewritten (a higher counter) meanwhile."""
        after = ""
        while True:
            with self.tx(write=False) as cur:
                rows = self._exec(
                    cur,
                    _COLUMNS + "WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?",
                    (org_id, after, page),
                ).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            yield self._rows(org_id, rows)

    def templates_since(self, org_id: str, version: int, dim: int = 0) -> Rows:
        """Templates written (added or rewritten) after the change counter was ``version``."""
        with self.tx(write=False) as cur:
            rows = self._exec(
                cur, _COLUMNS + "WHERE org_id = ? AND version > ?", (org_id, version)
            ).fetchall()
        return self._rows(org_id, rows, dim)

    def templates_by_id(self, org_id: str, template_ids: Sequence[str], dim: int = 0) -> Rows:
        """The templates of these ids that still exist."""
        return self._rows_where(org_id, "id", template_ids, dim)

    def subjects_templates(self, org_id: str, subject_ids: Sequence[str], dim: int = 0) -> Rows:
        """Every template of these subjects."""
        return self._rows_where(org_id, "subject_id", subject_ids, dim)

    def _rows_where(self, org_id: str, column: str, values: Sequence[str], dim: int) -> Rows:
        rows: list[Sequence[Any]] = []
        unique = list(dict.fromkeys(values))
        with self.tx(write=False) as cur:
            for start in range(0, len(unique), _IN_LIMIT):
                part = unique[start : start + _IN_LIMIT]
                marks = ", ".join("?" * len(part))
                rows += self._exec(
                    cur, _COLUMNS + f"WHERE org_id = ? AND {column} IN ({marks})", (org_id, *part)
                ).fetchall()
        return self._rows(org_id, rows, dim)
