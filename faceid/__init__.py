"""faceid: a face-verification service and face-ID lock.

Public names: :func:`create_app`, :class:`Settings`, :class:`Pipeline`,
:class:`PipelineConfig`, and the error tree in :mod:`faceid.errors`. Nothing heavy is
imported here: models load on first use.

The packages tell the architecture, top layer first (``tests/test_architecture.py``
keeps every import pointing down this list and the package free of cycles)::

    faceid/
      cli.py       the ``faceid`` command
      web/         the factory, request parsing, OpenAPI, one blueprint per concern
      services.py  what one app serves with: settings, store, pipeline, indexes, gate
      batch/       researchers' tools: embed a folder, similarity, clusters, search
      research/    evaluation: pair lists, verification studies, the impostor tail,
                   LFW's protocol (nothing a request needs)
      lock/        keys and scopes (and ``faceid keys``), lookups, enrolment, access
                   and liveness decisions, budgets, the gate, the gallery index
      liveness/    challenges, landmarks, head pose, 3-D motion cues, clip tracking,
                   the evaluation set
      store/       SQLite and PostgreSQL, migrations, encryption, ``faceid init-db``
      settings.py  one typed Settings, read once
      faces/       model registry, levels, pipeline, detectors, embedders, ONNX
                   sessions, alignment, media, sampling, multi-frame fusion
      clients/     the reference door client; imports nothing of the server
      metrics.py, logs.py, version.py
      errors.py    every error leaf (status + stable code)
"""

from __future__ import annotations

from .faces.pipeline import Pipeline, PipelineConfig
from .settings import Settings
from .version import __version__
from .web import create_app

__all__ = ["Pipeline", "PipelineConfig", "Settings", "__version__", "create_app"]
