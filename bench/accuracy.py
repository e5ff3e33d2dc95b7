"""Accuracy and speed of every detector x embedder that runs here, on the shared pair lists.

    python bench/accuracy.py [--detectors hog,yunet,...] [--out bench/ACCURACY.md]

Prints a Markdown table: accuracy at each model's ``standard`` level on
master.csv and face-recognition-pivot.csv, the best threshold on both lists
together, and ms per face (detect + align + embed, one image at a time, largest
face). Also prints, per model, the thresholds with the best mean accuracy over all
detectors (for comparison: the levels themselves come from bench/lfw_levels.py).
"""

from __future__ import annotations

import logging
import os
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import tables  # noqa: E402
from faceid.faces.models import CARDS  # noqa: E402
from faceid.faces.pipeline import Pipeline  # noqa: E402
from faceid.research.evaluate import (  # noqa: E402
    accuracy,
    best_threshold,
    embed_files,
    read_pairs,
    similarities,
)

log = logging.getLogger("bench.accuracy")


def main() -> None:
    args = tables.start(tables.parser(__doc__))
    folder = tables.SHARED / "faces" / "deepface"
    lists = {
        "master.csv": read_pairs(folder / "master.csv"),
        "pivot.csv": read_pairs(folder / "face-recognition-pivot.csv"),
    }
    names = {n for pairs in lists.values() for p in pairs for n in (p.left, p.right)}
    rows, scores = [], {}
    for detector in args.detectors.split(","):
        for embedder in tables.EMBEDDERS:
            pipe = Pipeline.load(tables.config(detector, embedder))
            embed_files(pipe, folder, list(names)[:3])  # warm-up
            emb = embed_files(pipe, folder, names)
            per_list = {k: similarities(v, emb) for k, v in lists.items()}
            sims = np.concatenate([s for s, _ in per_list.values()])
            labels = np.concatenate([lab for _, lab in per_list.values()])
            scores[(detector, pipe.model_id)] = (sims, labels)
            t = CARDS[pipe.model_id].threshold
            best_t, best_acc = best_threshold(sims, labels)
            rows.append(
                f"| {detector} | {pipe.model_id} | "
                + " | ".join(f"{accuracy(s, lab, t):.2%}" for s, lab in per_list.values())
                + f" | {t:.3f} | {best_t:.3f} ({best_acc:.2%}) | "
                f"{emb.seconds_per_face * 1000:.0f} | {len(emb.missing)} |"
            )
            log.info(rows[-1])
    header = (
        f"| detector | model | master.csv ({len(lists['master.csv'])}) | "
        f"pivot.csv ({len(lists['pivot.csv'])}) | standard level | "
        "best threshold (accuracy) | ms/face | images with no face |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    lines = [
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "",
        header,
        *rows,
        "",
        "Thresholds with the best mean accuracy over detectors, both lists (the levels "
        "are set by false accepts instead: bench/lfw_levels.py):",
    ]
    for model in sorted({m for _, m in scores}):
        pairs = [v for (d, m), v in scores.items() if m == model]
        grid = np.round(np.arange(-0.2, 1.0, 0.005), 3)
        mean = np.array([np.mean([accuracy(s, lab, t) for s, lab in pairs]) for t in grid])
        good = grid[mean == mean.max()]
        per_detector = ", ".join(
            f"{d} {accuracy(*v, float(np.median(good))):.2%}"
            for (d, m), v in scores.items()
            if m == model
        )
        lines.append(
            f"- {model}: {good.min():.3f}..{good.max():.3f} (mean {mean.max():.2%}); "
            f"at {float(np.median(good)):.3f}: {per_detector}"
        )
    tables.emit(lines, args.out)


if __name__ == "__main__":
    main()
