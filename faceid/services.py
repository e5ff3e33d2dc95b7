"""What one app serves with: its settings, store, pipeline and gallery indexes.

:func:`faceid.create_app` makes one :class:`Services` and keeps it in
``app.extensions["faceid"]``. The store and the pipeline are opened on first use
(or handed in, e.g. by tests that share one loaded pipeline between apps), so
nothing heavy happens when the app is built.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from .errors import ConfigError
from .faces.levels import DEFAULT_LEVEL
from .faces.pipeline import Pipeline, PipelineConfig
from .liveness import challenge
from .lock.ann import Shelf
from .lock.cache import IndexCache, Launcher, in_memory, index_base, store_key
from .lock.gate import Gate
from .lock.ratelimit import OpenRateLimit
from .settings import Settings
from .store import Store, open_store

log = logging.getLogger(__name__)


class Services:
    """Lazily opened, once per app: thread-safe."""

    def __init__(
        self, settings: Settings, store: Store | None = None, pipeline: Pipeline | None = None
    ) -> None:
        self.settings = settings
        self.pipeline_config = PipelineConfig.from_settings(settings)
        #: The model's card, read once: every level and threshold comes from it.
        self.card = self.pipeline_config.card
        if settings.level != DEFAULT_LEVEL and settings.level not in self.card.levels:
            raise ConfigError(
                f"FACEID_LEVEL={settings.level}: model {self.card.id} has no such level; "
                f"its levels: {', '.join(self.card.levels) or 'none'}."
            )
        if settings.challenge_actions:
            challenge.parse(settings.challenge_actions)  # ConfigError names what is wrong
            log.warning(
                "FACEID_CHALLENGE_ACTIONS is set: every liveness challenge asks for the same "
                "actions, which a recorded clip can answer. For tests and demos only.",
                extra={"actions": settings.challenge_actions},
            )
        if settings.challenge_schedule == "off":
            log.warning(
                "FACEID_CHALLENGE_SCHEDULE=off: a challenge's actions are revealed at once and "
                "their timing is not checked, so a clip recorded before the challenge can "
                "answer it. For tests and demos only."
            )
        self.index_dir = index_base(settings.index_dir)
        if settings.encryption_key and not in_memory(self.index_dir):
            raise ConfigError(
                f"FACEID_INDEX_DIR ({self.index_dir}) is on disk while templates are "
                "encrypted: a large organisation's index (8-bit codes of its faces) would be "
                "written there in the clear. Point it at a memory file system (/dev/shm)."
            )
        self._store = store
        self._pipeline = pipeline
        self._index: IndexCache | None = None
        self._rate_limit: OpenRateLimit | None = None
        self._gate: Gate | None = None
        self._write_rate: OpenRateLimit | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        """The gallery store, migrated on first use."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = open_store(self.settings)
        return self._store

    @property
    def pipeline(self) -> Pipeline:
        """The configured pipeline, loaded on first use."""
        if self._pipeline is None:
            with self._lock:
                if self._pipeline is None:
                    self._pipeline = Pipeline.load(self.pipeline_config)
        return self._pipeline

    @property
    def pipeline_loaded(self) -> bool:
        return self._pipeline is not None

    @property
    def write_rate(self) -> OpenRateLimit | None:
        """Each key's writes to the catalogue, ``FACEID_KEY_WRITE_RATE`` (None: off)."""
        limit = self.settings.key_write_rate
        if not limit:
            return None
        if self._write_rate is None:
            self._write_rate = OpenRateLimit(
                self.store, {"write": (limit, "FACEID_KEY_WRITE_RATE")}
            )
        return self._write_rate

    @property
    def gate(self) -> Gate:
        """This worker's heavy-request slots."""
        if self._gate is None:
            with self._lock:
                if self._gate is None:
                    cfg = self.settings
                    self._gate = Gate(cfg.heavy_requests, cfg.heavy_per_key, cfg.heavy_wait_s)
        return self._gate

    @property
    def rate_limit(self) -> OpenRateLimit | None:
        """The open endpoints' per-client limits, by cost: the extract calls'
        ``FACEID_OPEN_RATE_LIMIT`` and the cheap comparison's ``FACEID_COMPARE_RATE_LIMIT``
        (either off when empty; None when both are)."""
        if not (self.settings.open_rate_limit or self.settings.compare_rate_limit):
            return None
        if self._rate_limit is None:
            extract = (self.settings.open_rate_limit, "FACEID_OPEN_RATE_LIMIT")
            compare = (self.settings.compare_rate_limit, "FACEID_COMPARE_RATE_LIMIT")
            named = {
                "faceid.extract_embeddings_from_image": extract,
                "faceid.extract_embeddings_from_video": extract,
                "faceid.compare_embeddings": compare,
            }
            limits = {endpoint: limit for endpoint, limit in named.items() if limit[0]}
            self._rate_limit = OpenRateLimit(self.store, limits)
        return self._rate_limit

    @property
    def index(self) -> IndexCache:
        """Per-organisation galleries over the store: exact below
        ``FACEID_INDEX_APPROX_FROM`` templates, the host's index above."""
        store = self.store
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = self._galleries(store)
        return self._index

    def _galleries(self, store: Store) -> IndexCache:
        cfg = self.settings
        env = {
            **os.environ,
            "FACEID_DATA_DIR": str(Path(cfg.data_dir).resolve()),
            "FACEID_DATABASE_URL": cfg.database_url,
            "FACEID_ENCRYPTION_KEY": cfg.encryption_key,
            "FACEID_INDEX_DIR": str(self.index_dir),
        }
        root = Shelf(self.index_dir / store_key(cfg.database_url, cfg.data_dir))
        return IndexCache(store, root, cfg.index_approx_from, Launcher(env))
