"""A host's compact index of one organisation's templates: FAISS files every worker maps.

An inverted file (``lists`` k-means cells) of 8-bit scalar-quantised unit vectors, one
byte a value, searched by inner product (cosine), its labels the rows of a fixed-width
file of template ids. Workers map both files (``faiss.IO_FLAG_MMAP_IFC``, ``np.memmap``),
so a host holds one copy in its page cache whatever its worker count. A search probes
``nprobe`` cells and gives candidate template ids; the caller re-ranks them exactly
(faceid.lock.approx). At 1e7 templates of 128 values: 4,096 cells, about 1.3 GiB for the
codes and 0.3 GiB for the ids (bench/ANN.md).

One folder per organisation under the host's index folder (``FACEID_INDEX_DIR``)::

    current.json     the build in force: change counter read before it, rows, dim, files
    v<N>.faiss       the inverted file of build N
    v<N>.ids         its rows' template ids
    build.lock       held (flock) by the one process building, so a host builds once
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..faces.pipeline import l2_normalize

log = logging.getLogger(__name__)

LISTS_MAX = 4096  # cells at 1e7 templates and above
PER_LIST = 2_000  # templates a cell holds on average, up to LISTS_MAX cells
TRAIN_PER_LIST = 64  # training vectors a cell (FAISS asks for at least 39)
NPROBE = 64  # cells probed a search: 100% recall@1 at 1e7 in bench/ANN.md (32: 99.9%)
ID_WIDTH = 24  # bytes a template id may take in the ids file ("face_" + 16 hex digits: 21)


@dataclass(frozen=True)
class Manifest:
    """One build: the organisation's change counter read before its first page, its rows,
    their dimension, its cells, and when it took how long."""

    version: int
    count: int
    dim: int
    lists: int
    built_at: float
    seconds: float

    @property
    def name(self) -> str:
        return f"v{self.version}"


def lists_for(count: int) -> int:
    return max(1, min(LISTS_MAX, count // PER_LIST))


class HostIndex:
    """One build, mapped read-only: ``candidates`` gives template ids near a query."""

    def __init__(self, folder: Path, manifest: Manifest, nprobe: int = NPROBE) -> None:
        import faiss

        self.manifest = manifest
        index: Any = faiss.read_index(
            str(folder / f"{manifest.name}.faiss"), faiss.IO_FLAG_MMAP_IFC
        )
        index.nprobe = min(nprobe, manifest.lists)
        self.index = index
        self.ids = np.memmap(folder / f"{manifest.name}.ids", dtype=f"S{ID_WIDTH}", mode="r")

    def candidates(self, query: np.ndarray, k: int) -> list[str]:
        """Ids of about the ``k`` templates nearest to the unit vector ``query``."""
        _, rows = self.index.search(np.ascontiguousarray(query[None], dtype=np.float32), k)
        found = rows[0][rows[0] >= 0]
        return [raw.decode() for raw in self.ids[np.sort(found)]]


class Shelf:
    """The host's index folder: which build is in force for an organisation, building one
    under the organisation's file lock, and mapping it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._seen: dict[str, tuple[tuple[int, int], Manifest]] = {}

    def folder(self, org_id: str) -> Path:
        return self.root / org_id

    def manifest(self, org_id: str) -> Manifest | None:
        """The build in force (one ``stat`` when it has not changed), or None."""
        path = self.folder(org_id) / "current.json"
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return None
        stamp = (info.st_ino, info.st_mtime_ns)
        seen = self._seen.get(org_id)
        if seen is None or seen[0] != stamp:
            seen = (stamp, Manifest(**json.loads(path.read_text())))
            self._seen[org_id] = seen
        return seen[1]

    def open(self, org_id: str, manifest: Manifest) -> HostIndex:
        return HostIndex(self.folder(org_id), manifest)

    @contextmanager
    def building(self, org_id: str) -> Iterator[bool]:
        """Hold the organisation's build lock, then the host's (one build at a time: each
        holds an index in memory); yields False at once, holding nothing, when another
        process of this host holds the organisation's."""
        folder = self.folder(org_id)
        self.root.mkdir(exist_ok=True, mode=0o700)
        folder.mkdir(exist_ok=True, mode=0o700)
        with open(folder / "build.lock", "a", opener=_private) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            with open(self.root / "build.lock", "a", opener=_private) as host:
                fcntl.flock(host, fcntl.LOCK_EX)
                yield True

    def retire(self, org_id: str) -> None:
        """Take the organisation's index out of force (workers search it exactly again)."""
        folder = self.folder(org_id)
        (folder / "current.json").unlink(missing_ok=True)
        _drop_builds(folder)

    def build(
        self, org_id: str, version: int, count: int, pages: Iterable[tuple[list[str], np.ndarray]]
    ) -> Manifest:
        """Index ``pages`` (template ids, vectors) as the build at change counter ``version``
        (``count``: about how many rows, to size the cells), then put it in force. Call while
        holding :meth:`building`."""
        folder = self.folder(org_id)
        for stale in folder.glob("*.tmp"):  # left by a build that died: the lock is ours
            stale.unlink()
        started = time.perf_counter()
        rows, dim, lists = _write(folder, f"v{version}", pages, lists_for(count))
        manifest = Manifest(version, rows, dim, lists, time.time(), time.perf_counter() - started)
        _publish(folder, manifest)
        log.info("host index built", extra={"org": org_id, **asdict(manifest)})
        return manifest


def _write(
    folder: Path, name: str, pages: Iterable[tuple[list[str], np.ndarray]], lists: int
) -> tuple[int, int, int]:
    """Train on the first pages (ids come in random order), add every page, write the two
    files under temporary names; returns (rows, dim, cells)."""
    import faiss

    index: Any = None
    waiting: list[tuple[list[str], np.ndarray]] = []
    rows, dim = 0, 0
    ids_tmp, index_tmp = folder / f"{name}.ids.tmp", folder / f"{name}.faiss.tmp"
    with open(ids_tmp, "wb", opener=_private) as ids_file:
        for ids, vectors in pages:
            if not len(ids):
                continue
            if max(map(len, ids)) > ID_WIDTH:
                raise ValueError(f"a template id longer than {ID_WIDTH} characters")
            ids_file.write(np.array(ids, dtype=f"S{ID_WIDTH}").tobytes())
            waiting.append((ids, l2_normalize(vectors).astype(np.float32)))
            rows, dim = rows + len(ids), vectors.shape[1]
            if index is None and sum(len(w[0]) for w in waiting) < lists * TRAIN_PER_LIST:
                continue
            index = index or _trained(waiting, lists)
            for _, part in waiting:
                index.add(part)
            waiting = []
        if index is None and waiting:
            index = _trained(waiting, lists)
            for _, part in waiting:
                index.add(part)
    if index is None:
        raise ValueError("no template to index")
    faiss.write_index(index, str(index_tmp))
    os.chmod(index_tmp, 0o600)
    ids_tmp.rename(folder / f"{name}.ids")
    index_tmp.rename(folder / f"{name}.faiss")
    return rows, dim, int(index.nlist)


def _trained(waiting: list[tuple[list[str], np.ndarray]], lists: int) -> Any:
    import faiss

    sample = np.concatenate([part for _, part in waiting])[: lists * TRAIN_PER_LIST]
    dim = sample.shape[1]
    index = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(dim),
        dim,
        min(lists, len(sample)),
        faiss.ScalarQuantizer.QT_8bit,
        faiss.METRIC_INNER_PRODUCT,
    )
    index.train(np.ascontiguousarray(sample))
    return index


def _publish(folder: Path, manifest: Manifest) -> None:
    """Put ``manifest`` in force (an atomic rename), then drop older builds' files (workers
    still mapping them keep them until they move to this one)."""
    tmp = folder / "current.json.tmp"
    with open(tmp, "w", opener=_private) as out:
        json.dump(asdict(manifest), out)
    tmp.replace(folder / "current.json")
    _drop_builds(folder, keep=manifest.name)


def _drop_builds(folder: Path, keep: str = "") -> None:
    """Delete the builds' files in ``folder`` but those of build ``keep``."""
    for old in [*folder.glob("v*.faiss"), *folder.glob("v*.ids")]:
        if old.name.split(".")[0] != keep:
            old.unlink(missing_ok=True)


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)
