"""The worker's galleries, one per organisation, kept fresh against the store.

Before each search the organisation's change counter (one indexed read) is compared with
the gallery's; any write by any worker or host moves it. A small organisation (fewer than
``FACEID_INDEX_APPROX_FROM`` templates) is searched exactly in a float32 matrix the worker
reloads when the counter moves (faceid.lock.index). A large one is searched through the
host's index (faceid.lock.ann, built once per host in a child process under a file lock,
mapped by every worker) plus the templates written since its build
(faceid.lock.approx). The index is rebuilt when the writes since its build pass
``REBUILD_SHARE`` of its rows (at least ``REBUILD_MIN``); the old one serves until then.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import IndexBuilding
from ..store import Store
from .ann import Manifest, Shelf
from .approx import ApproxGallery
from .index import GalleryIndex

log = logging.getLogger(__name__)

REBUILD_MIN = 5_000  # writes since the build before a rebuild, at the least
REBUILD_SHARE = 0.05  # ... or this share of the build's rows, whichever is more
EXACT_HEADROOM = 4  # above this many times the threshold, no worker loads a gallery whole
LAUNCH_EVERY_S = 60.0  # a worker asks for an organisation's build at most this often

Gallery = GalleryIndex | ApproxGallery


class IndexCache:
    """Each organisation's gallery in this worker (``get``)."""

    def __init__(
        self,
        store: Store,
        shelf: Shelf | None = None,
        approx_from: int = 0,
        launch: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.shelf = shelf
        self.approx_from = approx_from
        self.launch = launch or (lambda org_id: None)
        self._indexes: dict[str, Gallery] = {}
        self._lock = threading.Lock()

    def get(self, org_id: str) -> Gallery:
        version = self.store.org_version(org_id)
        manifest = self.shelf.manifest(org_id) if self.shelf is not None else None
        current = self._indexes.get(org_id)
        if manifest is None and isinstance(current, GalleryIndex) and current.version == version:
            return current
        if (
            isinstance(current, ApproxGallery)
            and manifest is not None
            and current.built == manifest.version
            and current.version >= version
        ):
            return current
        with self._lock:
            if manifest is not None:
                return self._approx(org_id, manifest, version)
            return self._exact(org_id)

    def _approx(self, org_id: str, manifest: Manifest, version: int) -> ApproxGallery:
        current = self._indexes.get(org_id)
        if not isinstance(current, ApproxGallery) or current.built != manifest.version:
            assert self.shelf is not None
            current = ApproxGallery(self.store, org_id, self.shelf.open(org_id, manifest))
            self._indexes[org_id] = current
        current.catch_up(version)
        if version - manifest.version > max(REBUILD_MIN, manifest.count * REBUILD_SHARE):
            self.launch(org_id)
        return current

    def _exact(self, org_id: str) -> GalleryIndex:
        if self.shelf is not None:
            count = self.store.template_count(org_id)
            if count >= self.approx_from:
                self.launch(org_id)
                if count > self.approx_from * EXACT_HEADROOM:
                    raise IndexBuilding(
                        f"This organisation's {count} templates are being indexed on this "
                        "host; try again shortly (or run `faceid index build` at deploy).",
                        retry_after=30,
                    )
        index = GalleryIndex(*self.store.load_gallery(org_id))
        self._indexes[org_id] = index
        return index


def index_root(setting: str, store: Store) -> Path:
    """The host's index folder for this store: ``FACEID_INDEX_DIR`` (default: shared memory,
    else the temporary folder), one sub-folder per store so two stores never share files."""
    if setting:
        base = Path(setting).expanduser()
    else:
        shm = Path("/dev/shm")
        base = Path(shm if shm.is_dir() and os.access(shm, os.W_OK) else tempfile.gettempdir())
        base = base / f"faceid-index-{os.getuid()}"
    key = hashlib.sha256(store.describe().encode()).hexdigest()[:16]
    root = base / key
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def in_memory(path: Path) -> bool:
    """True when ``path`` lives on a memory file system (tmpfs, ramfs)."""
    best, kind = "", ""
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 2 and str(path).startswith(fields[1]) and len(fields[1]) > len(best):
            best, kind = fields[1], fields[2]
    return kind in ("tmpfs", "ramfs")


class Launcher:
    """Starts ``faceid index build --org ID`` in its own process (its memory never the
    worker's), at most once every ``LAUNCH_EVERY_S`` per organisation from this worker;
    the build's file lock keeps it to one per host."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self._last: dict[str, float] = {}
        self._running: list[subprocess.Popen[bytes]] = []

    def __call__(self, org_id: str) -> None:
        self._running = [p for p in self._running if p.poll() is None]
        now = time.monotonic()
        if now - self._last.get(org_id, -LAUNCH_EVERY_S) < LAUNCH_EVERY_S:
            return
        self._last[org_id] = now
        log.info("host index build started", extra={"org": org_id})
        self._running.append(
            subprocess.Popen(  # noqa: S603 - our own command, no shell
                [sys.executable, "-m", "faceid.cli", "index", "build", "--org-id", org_id],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
