"""The worker's galleries, one per organisation, kept fresh against the store.

Before each search the organisation's change counter (one indexed read) is compared with
the gallery's; any write by any worker or host moves it. A small organisation (fewer than
``FACEID_INDEX_APPROX_FROM`` templates) is searched exactly in a float32 matrix the worker
reloads when the counter moves (faceid.lock.index). A large one is searched through the
host's index (faceid.lock.ann, built once per host in a child process under a file lock,
mapped by every worker) plus the templates written since its build
(faceid.lock.approx). The index is rebuilt when the writes since its build pass
``REBUILD_SHARE`` of its rows (at least ``REBUILD_MIN``), or ``ERASE_AFTER_S`` after its
build when a face was erased since (its codes must leave the host too); the old one
serves until then. Until a host's first build is done, a gallery too large to load whole
answers a lock's few grants from the store and anything wider with 503 (PendingGallery).
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import ConfigError
from ..store import Store
from .ann import Manifest, Shelf
from .approx import ApproxGallery, PendingGallery
from .index import Gallery, GalleryIndex

log = logging.getLogger(__name__)

REBUILD_MIN = 5_000  # writes since the build before a rebuild, at the least
REBUILD_SHARE = 0.05  # ... or this share of the build's rows, whichever is more
ERASE_AFTER_S = 600.0  # a build holding erased faces' codes is rebuilt once this old
EXACT_HEADROOM = 4  # above this many times the threshold, no worker loads a gallery whole
LAUNCH_EVERY_S = 60.0  # a worker asks for an organisation's build at most this often
LAUNCH_BACKOFF_S = 3600.0  # ... and, after failed builds, at most this seldom


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
        if manifest is not None and manifest.version > version:
            manifest = None  # built from a store since restored to an earlier state: rebuild
        current = self._indexes.get(org_id)
        if isinstance(current, GalleryIndex | PendingGallery) and manifest is None:
            if isinstance(current, PendingGallery):
                self.launch(org_id)  # again, should the build have died (the launcher spaces it)
            if current.version == version:
                return current
        if (
            isinstance(current, ApproxGallery)
            and manifest is not None
            and current.built == manifest.version
            and current.version >= version
        ):
            self._erasures_due(current)
            return current
        with self._lock:
            if manifest is not None:
                return self._approx(org_id, manifest, version)
            return self._exact(org_id, version)

    def _approx(self, org_id: str, manifest: Manifest, version: int) -> ApproxGallery:
        current = self._indexes.get(org_id)
        if not isinstance(current, ApproxGallery) or current.built != manifest.version:
            assert self.shelf is not None
            current = ApproxGallery(self.store, org_id, self.shelf.open(org_id, manifest))
            self._indexes[org_id] = current
        current.catch_up(version)
        if version - manifest.version > max(REBUILD_MIN, manifest.count * REBUILD_SHARE):
            self.launch(org_id)
        self._erasures_due(current)
        return current

    def _erasures_due(self, gallery: ApproxGallery) -> None:
        """Rebuild an index that still holds erased faces' codes once it is old enough."""
        age = time.time() - gallery.manifest.built_at
        if gallery.erased > gallery.built and age > ERASE_AFTER_S:
            self.launch(gallery.org_id)

    def _exact(self, org_id: str, version: int) -> GalleryIndex | PendingGallery:
        current = self._indexes.get(org_id)
        if isinstance(current, GalleryIndex | PendingGallery) and current.version >= version:
            return current  # loaded by another request while this one waited
        if self.shelf is not None:
            count = self.store.template_count(org_id)
            if count >= self.approx_from:
                self.launch(org_id)
                if count > self.approx_from * EXACT_HEADROOM:
                    pending = PendingGallery(self.store, org_id, count, version)
                    self._indexes[org_id] = pending
                    return pending
        index = GalleryIndex(*self.store.load_gallery(org_id))
        self._indexes[org_id] = index
        return index


def index_base(setting: str) -> Path:
    """The host's index folder, ``FACEID_INDEX_DIR`` (default: shared memory, else the
    temporary folder), made private to this user: refused (``ConfigError``) when it is a
    link or another user's, since whoever can write there can feed workers index files."""
    if setting:
        base = Path(setting).expanduser().absolute()
    else:
        shm = Path("/dev/shm")
        base = Path(shm if shm.is_dir() and os.access(shm, os.W_OK) else tempfile.gettempdir())
        base = base / f"faceid-index-{os.getuid()}"
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = os.lstat(base)
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
        raise ConfigError(
            f"FACEID_INDEX_DIR {base} is a link or belongs to another user; point "
            "FACEID_INDEX_DIR at a folder of this service's own."
        )
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(base, 0o700)
    return base


def store_key(database_url: str, data_dir: Path) -> str:
    """A folder name per store, so two stores on one host never share index files."""
    where = database_url or str(Path(data_dir).resolve() / "faceid.db")
    return hashlib.sha256(where.encode()).hexdigest()[:16]


def in_memory(path: Path) -> bool:
    """True when ``path`` lives on a memory file system (tmpfs, ramfs)."""
    best, kind = "", ""
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 2 and path.is_relative_to(fields[1]) and len(fields[1]) > len(best):
            best, kind = fields[1], fields[2]
    return kind in ("tmpfs", "ramfs")


class Launcher:
    """Starts ``faceid index build --org ID`` in its own process (its memory never the
    worker's), at most once every ``LAUNCH_EVERY_S`` per organisation from this worker;
    the build's file lock keeps it to one per host."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self._last: dict[str, float] = {}
        self._wait: dict[str, float] = {}  # doubles after each failed build, up to the cap
        self._running: dict[str, subprocess.Popen[bytes]] = {}

    def __call__(self, org_id: str) -> None:
        for org, proc in list(self._running.items()):
            if proc.poll() is not None:
                failed = proc.returncode != 0
                wait = min(LAUNCH_BACKOFF_S, 2 * self._wait.get(org, LAUNCH_EVERY_S))
                self._wait[org] = wait if failed else LAUNCH_EVERY_S
                del self._running[org]
        now = time.monotonic()
        wait = self._wait.get(org_id, LAUNCH_EVERY_S)
        if org_id in self._running or now - self._last.get(org_id, -wait) < wait:
            return
        self._last[org_id] = now
        log.info("host index build started", extra={"org": org_id})
        self._running[org_id] = subprocess.Popen(  # noqa: S603 - our own command, no shell
            [sys.executable, "-m", "faceid.cli", "index", "build", "--org-id", org_id],
            cwd="/",  # never import a faceid/ folder from wherever the server was started
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
