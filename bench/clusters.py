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

import argparse
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faceid.batch import cluster, embed_folder  # noqa: E402
from faceid.faces.pipeline import PipelineConfig  # noqa: E402
from faceid.faces.verification import read_identities  # noqa: E402
from faceid.settings import Settings  # noqa: E402

log = logging.getLogger("bench.clusters")
SHARED = Path(os.environ.get("FACEID_SHARED") or ROOT.parent / "shared")
EMBEDDERS = {"dlib": "dlib-resnet-v1", "arcface": "arcface:mobilefacenet-arcface"}


def main() -> None:
    from sklearn.metrics import adjusted_rand_score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detectors", default="hog,yunet,retinaface-onnx,mtcnn")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("FACEID_MODELS_DIR", str(SHARED / "models"))
    ids = (SHARED / "faces" / "identities.csv").resolve()  # faceset paths are resolved
    identity_of = {str(ids.parent / p): who for p, who in read_identities(ids).items()}
    lines = [
        "| detector | model | photos | clusters (people: 19) | adjusted Rand index "
        "| seconds (embed + cluster, 2 processes) |",
        "|---|---|---|---|---|---|",
    ]
    for detector in args.detectors.split(","):
        for embedder in EMBEDDERS:
            cfg = PipelineConfig.from_settings(
                Settings.load(),
                detector=detector,
                embedder=embedder,
                arcface_model="mobilefacenet-arcface",
            )
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
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
