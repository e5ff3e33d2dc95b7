"""Embed every image under some paths, on every core.

Each worker process loads the pipeline once and embeds whole images; an image that
cannot be read, or holds no face, is recorded in :attr:`FaceSet.failed`, never raised.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FaceIdError
from ..faces import quality
from ..faces.media import decode_image
from ..faces.pipeline import Pipeline, PipelineConfig
from .faceset import FaceSet

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
MAX_PIXELS = 100_000_000

# (face index, vector, box, landmarks, quality) for each face of one image, or why none
Rows = list[tuple[int, np.ndarray, np.ndarray, np.ndarray, float]]
_worker: dict[str, Any] = {}


def find_images(paths: Iterable[Path]) -> list[Path]:
    """Image files among ``paths`` and under the folders among them, sorted, by suffix."""
    found: set[Path] = set()
    for path in map(Path, paths):
        if path.is_dir():
            found.update(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            found.add(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return sorted(p for p in found if p.is_file())


def _start(config: PipelineConfig, largest: bool) -> None:
    """Worker start: the pipeline, loaded once per process."""
    _worker["pipe"] = Pipeline.load(config)
    _worker["largest"] = largest


def _embed(path: Path) -> tuple[str, Rows | str]:
    pipe: Pipeline = _worker["pipe"]
    try:
        image = decode_image(path.read_bytes(), MAX_PIXELS)
    except (FaceIdError, OSError) as exc:
        return str(path), f"unreadable: {getattr(exc, 'message', exc)}"
    faces = pipe.detect(image, largest_only=_worker["largest"])
    if _worker["largest"]:
        faces = faces[:1]  # detect's flag is a hint: smaller faces may still come back
    if not faces:
        return str(path), "no_face"
    vectors = pipe.embed([(image, face) for face in faces])
    return str(path), [
        (i, vectors[i], face.box, face.landmarks, quality.assess(image, face)["score"])
        for i, face in enumerate(faces)
    ]


def _results(files: Sequence[Path], workers: int) -> Iterator[tuple[str, Rows | str]]:
    if workers <= 1:
        yield from map(_embed, files)
        return
    with ProcessPoolExecutor(workers, initializer=_start, initargs=_worker["args"]) as pool:
        yield from pool.map(_embed, files, chunksize=2)


def embed_folder(
    paths: Iterable[Path | str],
    config: PipelineConfig | None = None,
    *,
    largest: bool = False,
    workers: int | None = None,
    progress: Callable[[Iterator[Any], int], Iterator[Any]] | None = None,
) -> FaceSet:
    """Every face (or only the largest, ``largest=True``) of every image under ``paths``.

    ``config``: the pipeline (default: the settings' one); ``workers``: processes (default:
    every core); ``progress(iterator, total)`` wraps the results (a progress bar, say).

    >>> faces = embed_folder(["../shared/faces/deepface"], largest=True)  # doctest: +SKIP
    >>> faces.save(Path("faces.npz"))  # doctest: +SKIP
    """
    from ..settings import Settings

    config = config or PipelineConfig.from_settings(Settings.load())
    files = find_images(Path(p) for p in paths)
    workers = max(1, min(workers or os.cpu_count() or 1, len(files) or 1))
    if workers > 1:  # one ONNX thread per process: the processes share the cores
        config = dataclasses.replace(config, onnx_threads=1)
    _worker["args"] = (config, largest)
    if workers == 1:
        _start(config, largest)
    model_id = config.card.id
    rows: list[tuple[str, int, np.ndarray, np.ndarray, np.ndarray, float]] = []
    failed: dict[str, str] = {}
    results = _results(files, workers)
    for path, found in progress(results, len(files)) if progress else results:
        if isinstance(found, str):
            failed[path] = found
        else:
            rows.extend((path, *row) for row in found)
    log.info("embedded %d faces from %d images; %d failed", len(rows), len(files), len(failed))
    dim = len(rows[0][2]) if rows else 0
    return FaceSet(
        model_id,
        np.array([r[2] for r in rows], dtype=np.float32).reshape(len(rows), dim),
        [r[0] for r in rows],
        np.array([r[1] for r in rows], dtype=np.int32),
        np.array([r[3] for r in rows], dtype=np.float32).reshape(len(rows), 4),
        np.array([r[4] for r in rows], dtype=np.float32).reshape(len(rows), 5, 2),
        np.array([r[5] for r in rows], dtype=np.float32),
        failed,
    )
