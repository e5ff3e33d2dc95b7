"""Benchmarks: faceid against its peers (DeepFace, face_recognition), measured in one run.

``make bench`` runs :mod:`bench.run`; ``bench/accuracy.py`` is the separate accuracy table.
"""

import os

# One BLAS thread, as gunicorn.conf.py sets for workers (before anything imports NumPy).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
