"""LFW's standard protocol (View 2): ten folds of labelled pairs, a threshold chosen on
nine, accuracy on the tenth, reported as mean and standard deviation over the folds.

Pairs come in LFW's own ``pairs.txt`` format: ``Name n1 n2`` (two photos of one person)
or ``Name1 n1 Name2 n2`` (two people), the photo being ``<Name>_<nnnn>.jpg``. The file's
first line may be LFW's header (``folds pairs-per-fold``); then each fold is that many
same-person pairs followed by as many different-person ones. Without it (a subset of the
list, say), the folds are read from the order LFW keeps: each fold lists its
same-person pairs first, so a same-person pair after a different-person one starts the
next fold.

An LFW photo may show several people: the one it is labelled with is the face nearest
the centre of the frame (``face="centre"``), not always the largest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ..faces.detectors.base import Face
from ..faces.media import decode_image
from ..faces.pipeline import Pipeline
from .evaluate import Embeddings, accuracy, best_threshold

log = logging.getLogger(__name__)

FacePolicy = Literal["centre", "largest"]


@dataclass(frozen=True)
class LfwPair:
    left: str
    right: str
    same: bool
    fold: int


def _photo(name: str, number: str) -> str:
    return f"{name}_{int(number):04d}.jpg"


def read_lfw_pairs(path: Path) -> list[LfwPair]:
    """The pairs of an LFW ``pairs.txt`` (or of a subset of its lines), with their folds.

    >>> import tempfile
    >>> text = "A 1 2\\nB 1 3\\nA 1 C 2\\nD 2 3\\nE 1 F 1\\n"
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
    ...     _ = fh.write(text)
    >>> [(p.left, p.right, p.same, p.fold) for p in read_lfw_pairs(Path(fh.name))][2:4]
    [('A_0001.jpg', 'C_0002.jpg', False, 0), ('D_0002.jpg', 'D_0003.jpg', True, 1)]
    """
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    per_fold = None
    if lines and len(lines[0]) == 2 and all(f.isdigit() for f in lines[0]):
        per_fold = int(lines[0][1])
        lines = lines[1:]
    pairs: list[LfwPair] = []
    fold, last_same = 0, True
    for n, fields in enumerate(lines):
        if len(fields) == 3:
            left, right, same = _photo(*fields[:2]), _photo(fields[0], fields[2]), True
        elif len(fields) == 4:
            left, right, same = _photo(*fields[:2]), _photo(*fields[2:]), False
        else:
            raise ValueError(f"{path}:{n + 1}: not an LFW pair line: {' '.join(fields)!r}")
        if per_fold is not None:
            fold = n // (2 * per_fold)
        elif same and not last_same:
            fold += 1
        last_same = same
        pairs.append(LfwPair(left, right, same, fold))
    return pairs


def pick(faces: Sequence[Face], shape: tuple[int, ...], policy: FacePolicy) -> Face | None:
    """The face a photo is labelled with: the one whose box's centre is nearest the
    image's centre, or the largest."""
    if not faces:
        return None
    if policy == "largest":
        return max(faces, key=lambda f: f.area)
    height, width = shape[:2]
    return min(
        faces,
        key=lambda f: np.hypot(
            (f.box[0] + f.box[2]) / 2 - width / 2, (f.box[1] + f.box[3]) / 2 - height / 2
        ),
    )


def embed_photos(
    pipe: Pipeline,
    image_dir: Path,
    names: Iterable[str],
    policy: FacePolicy = "centre",
    progress: Callable[[Iterable[str]], Iterable[str]] = iter,
) -> Embeddings:
    """The embedding of each photo's labelled face (:func:`pick`); faceless photos go to
    ``missing``."""
    out = Embeddings()
    total = 0.0
    for name in progress(sorted(set(names))):
        image = decode_image((image_dir / name).read_bytes(), 100_000_000)
        started = time.perf_counter()
        face = pick(pipe.detect(image, largest_only=policy == "largest"), image.shape, policy)
        if face is not None:
            out.vectors[name] = pipe.embed([(image, face)])[0]
        else:
            out.missing.append(name)
        total += time.perf_counter() - started
    out.seconds_per_face = total / max(len(out.vectors) + len(out.missing), 1)
    return out


def protocol(sims: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> dict[str, object]:
    """Per fold: the best threshold on the other folds and the accuracy it gives on this
    one; their mean, standard deviation and the mean's standard error (LFW reports
    mean +- standard error, sigma / sqrt(folds))."""
    rows = []
    for fold in np.unique(folds):
        test = folds == fold
        threshold, _ = best_threshold(sims[~test], labels[~test])
        rows.append(
            {
                "fold": int(fold) + 1,
                "pairs": int(test.sum()),
                "threshold": round(threshold, 4),
                "accuracy": round(accuracy(sims[test], labels[test], threshold), 4),
            }
        )
    accs = np.array([r["accuracy"] for r in rows], dtype=np.float64)
    std = float(accs.std(ddof=1)) if len(accs) > 1 else 0.0
    return {
        "folds": len(rows),
        "accuracy_mean": round(float(accs.mean()), 4),
        "accuracy_std": round(std, 4),
        "standard_error": round(std / np.sqrt(len(accs)), 4),
        "per_fold": rows,
    }


def lfw_report(
    pipe: Pipeline,
    pairs_file: Path,
    image_dir: Path,
    policy: FacePolicy = "centre",
    progress: Callable[[Iterable[str]], Iterable[str]] = iter,
) -> dict[str, object]:
    """LFW's protocol on ``pairs_file``: a pair with a photo where no face is found scores
    -1 (a refusal: it counts against a same-person pair)."""
    pairs = read_lfw_pairs(pairs_file)
    names = [n for p in pairs for n in (p.left, p.right)]
    emb = embed_photos(pipe, image_dir, names, policy, progress)
    sims, labels = [], []
    for pair in pairs:
        a, b = emb.vectors.get(pair.left), emb.vectors.get(pair.right)
        sims.append(float(a @ b) if a is not None and b is not None else -1.0)
        labels.append(pair.same)
    folds = np.array([p.fold for p in pairs])
    log.info("lfw protocol", extra={"pairs": len(pairs), "no_face": len(emb.missing)})
    return {
        "file": pairs_file.name,
        "face": policy,
        "pairs": len(pairs),
        "same": int(sum(labels)),
        "photos": len(emb.vectors) + len(emb.missing),
        "no_face": emb.missing,
        "ms_per_face": round(emb.seconds_per_face * 1000, 1),
        **protocol(np.array(sims), np.array(labels, dtype=bool), folds),
    }
