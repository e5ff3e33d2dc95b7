"""Embed every image under some paths, on every core.

The parent loads the pipeline once (so a bad setting or a missing weight file fails
before any work) and embeds in-process with one worker; with more, each worker process
is started clean (``forkserver``: no model or thread is inherited) and loads its own.
An image that cannot be read, holds no face, or trips the pipeline is recorded in
:attr:`FaceSet.failed`, never raised.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FaceIdError, ModelUnavailable
from ..faces import quality
from ..faces.media import decode_image
from ..faces.pipeline import Pipeline, PipelineConfig
from .faceset import FaceSet

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
MAX_PIXELS = 100_000_000  # a researcher's photos may be large; still refused before decoding

# (face index, vector, box, landmarks, quality) for each face of one image, or why none
Rows = list[tuple[int, np.ndarray, np.ndarray, np.ndarray, float]]
_worker: dict[str, Any] = {}  # in a worker process only: its pipeline and options


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


def embed_image(pipe: Pipeline, path: Path, largest: bool) -> Rows | str:
    """The faces of one image, or why there are none (never raises)."""
    try:
        image = decode_image(path.read_bytes(), MAX_PIXELS)
    except (FaceIdError, OSError) as exc:
        return f"unreadable: {getattr(exc, 'message', exc)}"
    try:
        faces = pipe.detect(image, largest_only=largest)
        if largest:
            faces = faces[:1]  # detect's flag is a hint: smaller faces may still come back
        if not faces:
            return "no_face"
        vectors = pipe.embed([(image, face) for face in faces])
        return [
            (i, vectors[i], face.box, face.landmarks, quality.assess(image, face)["score"])
            for i, face in enumerate(faces)
        ]
    except Exception as exc:  # noqa: BLE001 - one odd image must not end a batch
        log.warning("%s: %s", path, exc)
        return f"error: {type(exc).__name__}: {exc}"


def _start(config: PipelineConfig, largest: bool) -> None:
    """Worker start: the pipeline, loaded once per process."""
    _worker["pipe"] = Pipeline.load(config)
    _worker["largest"] = largest


def _embed(path: Path) -> tuple[str, Rows | str]:
    return str(path), embed_image(_worker["pipe"], path, _worker["largest"])


def _results(
    pipe: Pipeline, config: PipelineConfig, files: Sequence[Path], largest: bool, workers: int
) -> Iterator[tuple[str, Rows | str]]:
    if workers <= 1:
        yield from ((str(path), embed_image(pipe, path, largest)) for path in files)
        return
    # one ONNX thread per process: the processes share the cores
    config = dataclasses.replace(config, onnx_threads=1)
    context = multiprocessing.get_context("forkserver")
    try:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start, initargs=(config, largest)
        ) as pool:
            yield from pool.map(_embed, files, chunksize=2)
    except BrokenProcessPool as exc:
        raise ModelUnavailable(f"A worker process died ({exc}); try --workers 1.") from exc


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
    every core this process may use); ``progress(iterator, total)`` wraps the results (a
    progress bar, say). Paths are stored absolute.

    >>> faces = embed_folder(["../shared/faces/deepface"], largest=True)  # doctest: +SKIP
    >>> faces.save(Path("faces.npz"))  # doctest: +SKIP
    """
    from ..settings import Settings

    config = config or PipelineConfig.from_settings(Settings.load())
    pipe = Pipeline.load(config)  # fails here, once, on a bad setting or missing weights
    files = [p.resolve() for p in find_images(Path(p) for p in paths)]
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = max(1, min(workers or usable or 1, len(files) or 1))
    rows: list[tuple[str, int, np.ndarray, np.ndarray, np.ndarray, float]] = []
    failed: dict[str, str] = {}
    results = _results(pipe, config, files, largest, workers)
    for path, found in progress(results, len(files)) if progress else results:
        if isinstance(found, str):
            failed[path] = found
        else:
            rows.extend((path, *row) for row in found)
    log.info("embedded %d faces from %d images; %d failed", len(rows), len(files), len(failed))
    dim = pipe.embedder.dim
    return FaceSet(
        pipe.model_id,
        np.array([r[2] for r in rows], dtype=np.float32).reshape(len(rows), dim),
        [r[0] for r in rows],
        np.array([r[1] for r in rows], dtype=np.int32),
        np.array([r[3] for r in rows], dtype=np.float32).reshape(len(rows), 4),
        np.array([r[4] for r in rows], dtype=np.float32).reshape(len(rows), 5, 2),
        np.array([r[5] for r in rows], dtype=np.float32),
        failed,
        dict(pipe.card.levels),
    )
