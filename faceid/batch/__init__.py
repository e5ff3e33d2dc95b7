"""Batch tools for researchers: embed a folder once, then compare, cluster and search.

- :func:`embed_folder`: every image under some paths -> a :class:`FaceSet` (vectors,
  boxes, landmarks, quality, source paths, model id), saved as ``.npz`` + a CSV index;
- :func:`similarity_matrix`, :func:`cluster` (people, cut at the model's level) and
  :func:`search` over a :class:`FaceSet`.

The ``faceid embed|similarity|cluster|search`` commands are thin wrappers of these.
Nothing heavy is imported here: models load when :func:`embed_folder` runs.
"""

from __future__ import annotations

from .analysis import cluster, search, similarity_matrix
from .embed import embed_folder, find_images
from .faceset import FaceSet

__all__ = ["FaceSet", "cluster", "embed_folder", "find_images", "search", "similarity_matrix"]
