"""The embedder interface: (image, face) pairs in, one raw vector per face out.

Embedders do their own alignment and return *raw* vectors; the pipeline
L2-normalises them in exactly one place (:func:`faceid.pipeline.l2_normalize`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from ..detectors.base import Face

FaceCrop = tuple[np.ndarray, Face]


class Embedder(ABC):
    """Base of every embedder. ``model_id`` names the vector space; ``dim`` its length."""

    model_id: str = "base"
    dim: int = 0

    @abstractmethod
    def embed(self, items: Sequence[FaceCrop]) -> np.ndarray:
        """Raw (n, dim) float32 embeddings for BGR images and a face in each."""
