"""gunicorn settings for faceid; FACEID_HOST, FACEID_PORT and FACEID_WORKERS override."""

import os

# One BLAS thread per worker: workers are already processes, and BLAS threads spinning
# against each other cost more than they give (a 10,000-template search measured 8 ms
# with 2 threads and 0.07 ms with 1 on a busy 2-core machine).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

bind = f"{os.environ.get('FACEID_HOST', '127.0.0.1')}:{os.environ.get('FACEID_PORT', '8000')}"
workers = int(os.environ.get("FACEID_WORKERS", "2"))
timeout = int(os.environ.get("FACEID_TIMEOUT", "120"))
accesslog = "-"


def post_worker_init(worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """Open the store and load the models once per worker, before it takes requests
    (``/ready`` turns 200)."""
    from faceid.pipeline import PipelineConfig, get_pipeline
    from faceid.store import open_store

    open_store(worker.wsgi.config)
    get_pipeline(PipelineConfig.from_mapping(worker.wsgi.config))
