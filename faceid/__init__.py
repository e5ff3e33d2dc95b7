"""faceid: a face-verification service.

Public names: :func:`create_app`, :class:`Pipeline`, :class:`PipelineConfig`, and the
error tree in :mod:`faceid.errors`. Nothing heavy is imported here: models load
on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .app import create_app  # noqa: E402
from .pipeline import Pipeline, PipelineConfig  # noqa: E402

__all__ = ["Pipeline", "PipelineConfig", "__version__", "create_app"]
