"""Item 2: 1:1 verification of labelled pairs, faceid against DeepFace.verify.

faceid's side is the default pipeline embedding both images and comparing the
cosine similarity with ``faceid.faces.models.CARDS``; DeepFace's side is
``DeepFace.verify(model_name="Dlib", detector_backend="dlib")`` on the same files.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from faceid.faces.media import decode_image
from faceid.faces.models import CARDS
from faceid.faces.pipeline import Pipeline, PipelineConfig
from faceid.research.evaluate import Pair, accuracy, embed_files, read_pairs, similarities
from faceid.settings import Settings as ServiceSettings

from . import peers
from .context import Results, Settings
from .embed import embed_largest
from .report import Row
from .stats import ms, percentile, speedup

log = logging.getLogger(__name__)

FACEID_PASSES = 3
Decide = Callable[[Path, Path], bool]


@dataclass(frozen=True)
class Pass:
    """One pass over the pairs: seconds and decision per pair, and calls that raised."""

    seconds: tuple[float, ...]
    same: tuple[bool, ...]
    failures: int

    @property
    def total(self) -> float:
        return sum(self.seconds)


def spread(pairs: list[Pair], count: int) -> list[Pair]:
    """``count`` pairs spread evenly over the list (all of them when count >= len)."""
    if count >= len(pairs):
        return pairs
    picks = np.unique(np.linspace(0, len(pairs) - 1, count).round().astype(int))
    return [pairs[i] for i in picks]


def subset(pairs: list[Pair], count: int) -> list[Pair]:
    """A balanced subset: half same-person pairs, half different, each spread evenly."""
    same = [p for p in pairs if p.same]
    different = [p for p in pairs if not p.same]
    half = min(count // 2, len(same))
    return spread(same, half) + spread(different, count - half)


def run_pass(decide: Decide, folder: Path, pairs: list[Pair]) -> Pass:
    seconds, same, failures = [], [], 0
    for pair in pairs:
        started = time.perf_counter()
        try:
            verdict = decide(folder / pair.left, folder / pair.right)
        except ValueError:  # DeepFace: "Face could not be detected"
            verdict, failures = False, failures + 1
        seconds.append(time.perf_counter() - started)
        same.append(verdict)
    return Pass(tuple(seconds), tuple(same), failures)


def correct(run: Pass, pairs: list[Pair]) -> int:
    return sum(s == p.same for s, p in zip(run.same, pairs, strict=True))


def faceid_decider(pipe: Pipeline) -> Decide:
    threshold = CARDS[pipe.model_id].threshold

    def decide(left: Path, right: Path) -> bool:
        a, b = (embed_largest(pipe, p.read_bytes()) for p in (left, right))
        return a is not None and b is not None and float(a @ b) >= threshold

    return decide


def deepface_decider(left: Path, right: Path) -> bool:
    return peers.deepface_verify(str(left), str(right))


def describe(run: Pass, pairs: list[Pair], note: str) -> str:
    right = correct(run, pairs)
    return (
        f"mean {ms(run.total / len(pairs))}/pair, per-pair p50 {ms(percentile(run.seconds, 50))} "
        f"({note}); accuracy {right}/{len(pairs)} = {right / len(pairs):.1%}"
        + (f"; {run.failures} raised (no face)" if run.failures else "")
    )


def run(settings: Settings, results: Results) -> None:
    folder = settings.deepface_dir
    everything = read_pairs(folder / "master.csv")
    pairs = subset(everything, settings.pairs)
    pipe = Pipeline.load(PipelineConfig.from_settings(ServiceSettings.load()))
    ours = faceid_decider(pipe)
    log.info("item 2: faceid on %d pairs, %d passes", len(pairs), FACEID_PASSES)
    run_pass(ours, folder, pairs[:2])  # warm-up
    passes = sorted((run_pass(ours, folder, pairs) for _ in range(FACEID_PASSES)), key=_total)
    mine = passes[len(passes) // 2]
    log.info("item 2: DeepFace.verify on %d pairs, one pass", len(pairs))
    run_pass(deepface_decider, folder, pairs[:1])  # warm-up
    theirs = run_pass(deepface_decider, folder, pairs)
    same = sum(p.same for p in pairs)
    label = (
        f"{len(pairs)} of {len(everything)} master.csv pairs: {same} same-person and "
        f"{len(pairs) - same} different, each spread evenly through the list"
    )
    results.add(
        Row(
            "2",
            f"1:1 verify, faceid default ({pipe.model_id}, cosine >= {pipe.card.threshold})",
            label,
            describe(mine, pairs, f"median of {FACEID_PASSES} passes"),
            "DeepFace.verify(Dlib, dlib): " + describe(theirs, pairs, "one pass"),
            speedup(theirs.total, mine.total),
        )
    )
    results.facts.update(
        {
            "verify_speedup": theirs.total / mine.total,
            "verify_acc_faceid": correct(mine, pairs) / len(pairs),
            "verify_acc_peer": correct(theirs, pairs) / len(pairs),
            "verify_pairs": len(pairs),
            "verify_max_side": max(
                _longer_side(folder / n) for p in pairs for n in (p.left, p.right)
            ),
        }
    )
    names = sorted({n for p in pairs for n in (p.left, p.right)})
    results.texts["verify_stages"] = stages(pipe, folder, names)
    _full_list(results, pipe, folder, everything, theirs.total / len(pairs))


def stages(pipe: Pipeline, folder: Path, names: list[str]) -> str:
    """faceid's median decode / detect / align+embed time per image of the subset."""
    parts: dict[str, list[float]] = {"decode": [], "detect": [], "align+embed": []}
    for name in names:
        data = (folder / name).read_bytes()
        started = time.perf_counter()
        image = decode_image(data, 100_000_000)
        decoded = time.perf_counter()
        faces = pipe.detect(image)
        detected = time.perf_counter()
        if faces:
            pipe.embed([(image, faces[0])])
        parts["decode"].append(decoded - started)
        parts["detect"].append(detected - decoded)
        parts["align+embed"].append(time.perf_counter() - detected)
    medians = ", ".join(f"{k} {ms(percentile(v, 50))}" for k, v in parts.items())
    return f"per image, median over the {len(names)} images: {medians}"


def _full_list(
    results: Results, pipe: Pipeline, folder: Path, pairs: list[Pair], peer_per_pair: float
) -> None:
    """faceid's accuracy on every pair (each image embedded once); the peer is too slow."""
    log.info("item 2: faceid accuracy on all %d pairs", len(pairs))
    emb = embed_files(pipe, folder, {n for p in pairs for n in (p.left, p.right)})
    sims, labels = similarities(pairs, emb)
    acc = accuracy(sims, labels, CARDS[pipe.model_id].threshold)
    results.add(
        Row(
            "2",
            "accuracy, faceid default on the whole list",
            f"all {len(pairs)} master.csv pairs",
            f"{acc:.1%} ({len(emb.missing)} images with no face)",
            f"not run: at its {ms(peer_per_pair)}/pair above it would take "
            f"~{peer_per_pair * len(pairs) / 60:.0f} min",
        )
    )


def _total(run: Pass) -> float:
    return run.total


def _longer_side(path: Path) -> int:
    with Image.open(path) as image:
        return max(image.size)
