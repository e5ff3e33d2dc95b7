"""What the standalone table scripts (accuracy, levels, multiframe, clusters) share: the
shared folder, their common options, the pipelines they measure, and how a table leaves.

Each script runs as ``python bench/<name>.py`` from the project root.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from faceid.faces.pipeline import PipelineConfig
from faceid.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("FACEID_SHARED") or ROOT.parent / "shared")
#: The models folder benchmarks run with: links to the shared weights, beside which what
#: faceid converts on first use (dlib's network as ONNX) is cached, never in ../shared.
#: (This module is imported both as ``bench.tables`` and, by scripts, as ``tables``.)
MODELS_VIEW = ROOT / "build" / "models"


def models_view(shared: Path) -> Path:
    """:data:`MODELS_VIEW`, its links to ``shared/models`` made or refreshed."""
    MODELS_VIEW.mkdir(parents=True, exist_ok=True)
    source = shared / "models"
    for path in source.iterdir() if source.is_dir() else ():
        link = MODELS_VIEW / path.name
        if link.is_symlink() or not link.exists():
            link.unlink(missing_ok=True)
            link.symlink_to(path.resolve())
    return MODELS_VIEW


DETECTORS = "hog,yunet,retinaface-onnx,mtcnn"
EMBEDDERS = {"dlib": "dlib-resnet-v1", "arcface": "arcface:mobilefacenet-arcface"}


def parser(doc: str | None, detectors: bool = True) -> argparse.ArgumentParser:
    """The options every table script takes: ``--out`` (and ``--detectors``)."""
    found = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    if detectors:
        found.add_argument("--detectors", default=DETECTORS)
    found.add_argument("--out", type=Path, help="also write the table to this file")
    return found


def start(options: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse, log to stderr, and read ONNX weights from the shared models folder."""
    args = options.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("FACEID_MODELS_DIR", str(models_view(SHARED)))
    return args


def config(detector: str, embedder: str) -> PipelineConfig:
    """A pipeline of the settings with this detector and embedder (MobileFaceNet weights)."""
    return PipelineConfig.from_settings(
        Settings.load(),
        detector=detector,
        embedder=embedder,
        arcface_model="mobilefacenet-arcface",
    )


def emit(lines: Sequence[str], out: Path | None) -> None:
    """Print the table, and write it to ``out`` when given."""
    text = "\n".join(lines)
    print(text)
    if out:
        out.write_text(text + "\n")
