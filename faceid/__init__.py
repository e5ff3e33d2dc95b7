"""faceid: a face-verification service and face-ID lock.

Public names: :func:`create_app`, :class:`Settings`, :class:`Pipeline`,
:class:`PipelineConfig`, and the error tree in :mod:`faceid.errors`. Nothing heavy is
imported here: models load on first use.

The packages tell the architecture::

    faceid/
      errors.py    every error leaf (status + stable code)
      settings.py  one typed Settings, read once
      services.py  what one app serves with: settings, store, pipeline, indexes
      web/         the factory, request parsing, OpenAPI, one blueprint per concern
      faces/       model registry, levels, pipeline, detectors, embedders, alignment,
                   media, multi-frame fusion, evaluation
      lock/        keys and scopes, lookups, enrolment, access decisions, index
      store/       SQLite and PostgreSQL, migrations, encryption, its CLI commands
      batch/       researchers' tools: embed a folder, similarity, clusters, search
      liveness/    landmarks, head pose, eye openness, planar motion (the challenge
                   flow that will use them is not built yet)
      cli.py       the ``faceid`` command
"""

from __future__ import annotations

from .faces.pipeline import Pipeline, PipelineConfig
from .settings import Settings
from .version import __version__
from .web import create_app

__all__ = ["Pipeline", "PipelineConfig", "Settings", "__version__", "create_app"]
