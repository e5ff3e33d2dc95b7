"""How well ``faceid cluster`` recovers people: the figures behind README's
"For researchers" table.

    python bench/clusters.py [--detectors hog,yunet,...] [--out bench/CLUSTERS.md]

For every detector x embedder that runs here, the photos of ``identities.csv`` (largest
face each) are embedded with :func:`faceid.batch.embed_folder`, clustered at the model's
``standard`` level with :func:`faceid.batch.cluster`, and scored against the labels with
scikit-learn's adjusted Rand index. A photo with no face found counts as a cluster of its
own (it could not be grouped with anyone).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import tables  # noqa: E402
from faceid.batch import cluster, embed_folder  # noqa: E402
from faceid.research.verification import read_identities  # noqa: E402

log = logging.getLogger("bench.clusters")


def main() -> None:
    from sklearn.metrics import adjusted_rand_score

    args = tables.start(tables.parser(__doc__))
    ids = (tables.SHARED / "faces" / "identities.csv").resolve()  # faceset paths are resolved
    identity_of = {str(ids.parent / p): who for p, who in read_identities(ids).items()}
    lines = [
        "| detector | model | photos | clusters (people: 19) | adjusted Rand index "
        "| seconds (embed + cluster, 2 processes) |",
        "|---|---|---|---|---|---|",
    ]
    for detector in args.detectors.split(","):
        for embedder in tables.EMBEDDERS:
            cfg = tables.config(detector, embedder)
            started = time.perf_counter()
            faces = embed_folder(sorted(identity_of), cfg, largest=True)
            labels = dict(zip(faces.paths, map(int, cluster(faces)), strict=True))
            found = [labels.get(p, -1 - i) for i, p in enumerate(sorted(identity_of))]
            truth = [identity_of[p] for p in sorted(identity_of)]
            score = adjusted_rand_score(truth, found)
            lines.append(
                f"| {detector} | {faces.model_id} | {len(identity_of)} | {len(set(found))} | "
                f"{score:.4f} | {time.perf_counter() - started:.0f} |"
            )
            log.info(lines[-1])
    tables.emit(lines, args.out)


if __name__ == "__main__":
    main()
