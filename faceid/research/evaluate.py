"""Accuracy of a pipeline on labelled pairs: the numbers behind README's table.

Pair lists are CSV files with two image columns (``file_x``, ``file_y``) and a
Yes/No decision column (``Decision`` or ``decision``); image paths are resolved
by basename against ``image_dir``.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..faces.media import decode_image
from ..faces.pipeline import Pipeline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pair:
    left: str
    right: str
    same: bool


def read_pairs(path: Path) -> list[Pair]:
    """Labelled pairs from a CSV file (basenames of the image paths)."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    key = "Decision" if rows and "Decision" in rows[0] else "decision"
    return [
        Pair(Path(r["file_x"]).name, Path(r["file_y"]).name, r[key].strip().lower() == "yes")
        for r in rows
    ]


@dataclass
class Embeddings:
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    seconds_per_face: float = 0.0


def embed_files(
    pipe: Pipeline,
    image_dir: Path,
    names: Iterable[str],
    progress: Callable[[Iterable[str]], Iterable[str]] = iter,
) -> Embeddings:
    """The largest face's embedding for each image; images with no face go to ``missing``.
    ``progress`` wraps the list of names (a progress bar, say)."""
    out = Embeddings()
    total = 0.0
    for name in progress(sorted(set(names))):
        image = decode_image((image_dir / name).read_bytes(), 100_000_000)
        started = time.perf_counter()
        faces = pipe.detect(image, largest_only=True)
        if faces:
            out.vectors[name] = pipe.embed([(image, faces[0])])[0]
        total += time.perf_counter() - started
        if not faces:
            out.missing.append(name)
    out.seconds_per_face = total / max(len(out.vectors) + len(out.missing), 1)
    return out


def similarities(pairs: list[Pair], emb: Embeddings) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarity and label per pair; a pair with a faceless image scores -1."""
    sims, labels = [], []
    for pair in pairs:
        a, b = emb.vectors.get(pair.left), emb.vectors.get(pair.right)
        sims.append(float(a @ b) if a is not None and b is not None else -1.0)
        labels.append(pair.same)
    return np.array(sims), np.array(labels, dtype=bool)


def accuracy(sims: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    return float(((sims >= threshold) == labels).mean()) if len(sims) else 0.0


def best_threshold(sims: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The threshold (midpoint between neighbouring scores) with the best accuracy.

    Ties go to the widest margin: the middle of the best run of thresholds.
    """
    values = np.unique(sims)
    cuts = np.concatenate([[values[0] - 1e-3], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-3]])
    accs = np.array([accuracy(sims, labels, t) for t in cuts])
    best = accs.max()
    idx = np.flatnonzero(accs == best)
    runs = np.split(idx, np.flatnonzero(np.diff(idx) != 1) + 1)
    longest = max(runs, key=lambda r: cuts[r[-1]] - cuts[r[0]])
    return float((cuts[longest[0]] + cuts[longest[-1]]) / 2), float(best)


def _scores(sims: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    best_t, best_acc = best_threshold(sims, labels)
    return {
        "accuracy": round(accuracy(sims, labels, threshold), 4),
        "best_threshold": round(best_t, 3),
        "best_accuracy": round(best_acc, 4),
    }


def pair_report(
    pipe: Pipeline, lists: dict[str, list[Pair]], image_dir: Path, threshold: float
) -> dict[str, object]:
    """Accuracy per pair list and over all of them, the best thresholds, and ms per face."""
    names = {n for pairs in lists.values() for p in pairs for n in (p.left, p.right)}
    emb = embed_files(pipe, image_dir, names)
    report: dict[str, object] = {
        "model": pipe.model_id,
        "threshold": threshold,
        "ms_per_face": round(emb.seconds_per_face * 1000, 1),
        "no_face": emb.missing,
    }
    all_sims, all_labels = [], []
    for name, pairs in lists.items():
        sims, labels = similarities(pairs, emb)
        all_sims.append(sims)
        all_labels.append(labels)
        report[name] = {"pairs": len(pairs), **_scores(sims, labels, threshold)}
    report["all"] = _scores(np.concatenate(all_sims), np.concatenate(all_labels), threshold)
    return report


def identity_report(
    pipe: Pipeline,
    identities: Path,
    thresholds: dict[str, float],
    *,
    plot_to: Path | None = None,
    rounds: int = 500,
    progress: Callable[[Iterable[str]], Iterable[str]] = iter,
) -> dict[str, object]:
    """All-vs-all verification over an identities file (paths relative to its folder),
    with the fitted impostor tail (:mod:`.tail`: needs scipy)."""
    from . import tail, verification

    identity_of = verification.read_identities(identities)
    emb = embed_files(pipe, identities.parent, identity_of, progress)
    scores = verification.Scores.all_vs_all(identity_of, emb.vectors)
    report: dict[str, object] = {
        "file": identities.name,
        "photos": len(identity_of),
        "identities": len(set(identity_of.values())),
        "no_face": emb.missing,
        **verification.report(scores, thresholds, rounds),
        "tail": tail.tail_report([scores], rounds=rounds),
    }
    if plot_to is not None:
        verification.plot(scores, plot_to, f"{pipe.model_id} on {identities.name}", thresholds)
        report["plot"] = str(plot_to)
    return report
