"""gunicorn settings for faceid, read from the same Settings as the app
(FACEID_HOST, FACEID_PORT, FACEID_WORKERS, FACEID_TIMEOUT, or instance/config.py)."""

import os
import shutil
import tempfile

# Prometheus multiprocess mode: every worker writes its metrics here and /metrics sums
# them. Set before faceid (and so prometheus_client) is imported; a fresh folder per start.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="faceid-metrics-"))

from faceid.settings import Settings  # noqa: E402

# One BLAS thread per worker: workers are already processes, and BLAS threads spinning
# against each other cost more than they give (a 10,000-template search measured 8 ms
# with 2 threads and 0.07 ms with 1 on a busy 2-core machine).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

_settings = Settings.load()
bind = f"{_settings.host}:{_settings.port}"
workers = _settings.workers
timeout = _settings.timeout
accesslog = "-"
# Slow or stalled clients must not jam the doors. Sync workers hold one request at a time,
# so a few sockets trickling their headers would block every worker (gunicorn's docs ask
# for a buffering proxy in front of them). gevent workers read requests in greenlets:
# a trickling socket costs one greenlet, not a worker.
worker_class = "gevent"
worker_connections = 1000


def post_fork(server, worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """At most two malloc arenas per worker. glibc gives each thread that allocates an
    arena of its own and keeps what is freed there for reuse, so with images decoded on
    native threads (faceid.faces.native.off_loop) a worker's memory would grow with the
    threads that ever decoded."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to tune
        ctypes.CDLL("libc.so.6").mallopt(-8, 2)  # M_ARENA_MAX


def post_worker_init(worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """Load the models and open the store once per worker, before it takes requests
    (``/ready`` turns 200). A database that is down does not stop the worker: the store
    is opened on first use instead, and calls that need it answer 503 until it is back."""
    from faceid.errors import StoreUnavailable

    services = worker.wsgi.extensions["faceid"]
    _ = services.pipeline
    try:
        _ = services.store
    except StoreUnavailable:
        worker.log.warning("the database is unavailable; the store opens on first use")


def child_exit(server, worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """A worker's live gauges go with it."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
