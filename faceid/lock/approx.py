"""A large organisation's gallery in one worker: the host index's candidates plus what was
written since its build, re-ranked exactly from the store.

The host index (faceid.lock.ann) is a snapshot taken at a change counter. Every template
written after it (added or rewritten: ``templates.version`` above the snapshot's) is kept
here exactly, read incrementally as the counter moves. A search takes the index's
candidates and this delta's best, reads those templates from the store by id (so a
deleted one drops out and a rewritten one scores as it is now, sealed vectors opened as
usual) and ranks them on their float32 vectors: a score is always exact, only a template
the index failed to propose can be missed. A lock with few grants never uses the index:
its subjects' templates are read and scored directly, also while a host still builds
its first index (:class:`PendingGallery`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection

import numpy as np

from ..errors import IndexBuilding
from ..faces.pipeline import l2_normalize
from ..store import Store
from ..store.gallery import Rows
from .ann import HostIndex, Manifest, Shelf
from .index import Gallery, GalleryIndex, Hit

log = logging.getLogger(__name__)

RERANK = 64  # candidates re-ranked a search (x4 when only some subjects count)
EXACT_GRANTS = 200  # at most this many subjects to search: read and scored exactly
PAGE = 20_000  # templates a page while building


class ApproxGallery(Gallery):
    """Same questions as :class:`GalleryIndex` (``search``, ``best``), answered from the
    host index, the delta and the store."""

    def __init__(self, store: Store, org_id: str, host: HostIndex) -> None:
        self.store = store
        self.org_id = org_id
        self.host = host
        self.built = host.manifest.version
        self.version = self.built  # the change counter the delta has caught up with
        self.erased = 0  # the counter of the organisation's last erasure, as last read
        self._delta: dict[str, tuple[str, np.ndarray]] = {}
        self._delta_index = _exact(self.version, Rows([], [], np.zeros((0, self.dim))))

    @property
    def manifest(self) -> Manifest:
        return self.host.manifest

    @property
    def dim(self) -> int:
        return self.manifest.dim

    def __len__(self) -> int:
        return self.manifest.count + len(self._delta)

    @property
    def delta(self) -> int:
        """Templates written since the build that this worker holds exactly."""
        return len(self._delta)

    def catch_up(self, version: int) -> None:
        """Read the templates written since the last catch-up (the counter was read first)."""
        if version <= self.version:
            return
        rows = self.store.templates_since(self.org_id, self.version, self.dim)
        self.erased = self.store.org_erased(self.org_id)
        for template_id, subject_id, vector in zip(
            rows.template_ids, rows.subject_ids, rows.vectors, strict=True
        ):
            self._delta[template_id] = (subject_id, vector)
        ids = list(self._delta)
        vectors = np.array([self._delta[t][1] for t in ids], np.float32).reshape(-1, self.dim)
        self._delta_index = _exact(version, Rows(ids, [self._delta[t][0] for t in ids], vectors))
        self.version = version

    def search(
        self,
        query: np.ndarray,
        top_k: int = 5,
        only: Collection[str] | None = None,
        exclude: str | None = None,
    ) -> list[Hit]:
        """As :meth:`GalleryIndex.search`."""
        if query.shape[-1] != self.dim:
            return []
        if only is not None and len(only) <= EXACT_GRANTS:
            return granted(self.store, self.org_id, query, top_k, only, exclude)
        q = l2_normalize(query).astype(np.float32)
        k = max(RERANK * (4 if only is not None else 1), top_k * 16)
        ids = self.host.candidates(q, k) + self._delta_index.nearest(q, k)
        rows = self.store.templates_by_id(self.org_id, ids, self.dim)
        return _exact(self.version, rows).search(q, top_k, only, exclude)


class PendingGallery(Gallery):
    """A large organisation's gallery while this host builds its first index: a lock's
    few grants are searched exactly from the store; a wider search waits (503)."""

    def __init__(self, store: Store, org_id: str, count: int, version: int) -> None:
        self.store, self.org_id, self.count, self.version = store, org_id, count, version

    def search(
        self,
        query: np.ndarray,
        top_k: int = 5,
        only: Collection[str] | None = None,
        exclude: str | None = None,
    ) -> list[Hit]:
        if only is not None and len(only) <= EXACT_GRANTS:
            return granted(self.store, self.org_id, query, top_k, only, exclude)
        raise IndexBuilding(
            f"This organisation's {self.count} templates are being indexed on this host; "
            "try again shortly (or run `faceid index build` at deploy).",
            retry_after=30,
        )


def granted(
    store: Store,
    org_id: str,
    query: np.ndarray,
    top_k: int,
    only: Collection[str],
    exclude: str | None,
) -> list[Hit]:
    """Exact search over a few subjects' templates, read from the store."""
    rows = store.subjects_templates(org_id, [s for s in only if s != exclude])
    return _exact(0, rows).search(query, top_k, exclude=exclude)


def _exact(version: int, rows: Rows) -> GalleryIndex:
    return GalleryIndex(version, rows.template_ids, rows.subject_ids, rows.vectors)


def build_host_index(
    store: Store, shelf: Shelf, org_id: str, keep_from: int = 1
) -> Manifest | None:
    """Build the organisation's host index from the store, one build at a time per host;
    None when another process is building this one, or when the organisation holds fewer
    than ``keep_from`` templates (then any index it had is retired: searched exactly
    again). The change counter is read before the first page."""
    with shelf.building(org_id) as ours:
        if not ours:
            return None
        version = store.org_version(org_id)
        count = store.template_count(org_id)
        if count < max(1, keep_from):
            shelf.retire(org_id)
            return None
        pages = ((rows.template_ids, rows.vectors) for rows in store.template_pages(org_id, PAGE))
        return shelf.build(org_id, version, count, pages)
