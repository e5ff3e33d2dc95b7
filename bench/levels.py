"""Operating points by false-accept rate: the calibration behind each model card's levels.

    python bench/levels.py [--detectors hog,yunet,...] [--rounds 200] [--out bench/LEVELS.md]
                           [--plot bench/levels.png]

For each model, every detector that runs here embeds the photos of ``identities.csv``
(all-vs-all: every different-person pair is an impostor pair). The impostor scores of all
detectors are pooled (a level belongs to the model, so it must hold whichever detector
feeds it), the top 10% are fitted with a generalised Pareto tail
(:mod:`faceid.faces.tail`), and each level's threshold is where the fitted false-accept
rate meets the level's target (``standard`` 1e-4, ``high`` 1e-6), rounded up to three
decimals. 95% intervals resample photos. The table then shows, per detector, the false
accepts and false rejects measured at those thresholds.
"""

from __future__ import annotations

import logging
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import tables  # noqa: E402
from faceid.faces.evaluate import embed_files  # noqa: E402
from faceid.faces.levels import LEVELS, Tail  # noqa: E402
from faceid.faces.models import CARDS  # noqa: E402
from faceid.faces.pipeline import Pipeline  # noqa: E402
from faceid.faces.tail import tail_report  # noqa: E402
from faceid.faces.verification import Scores, read_identities  # noqa: E402

log = logging.getLogger("bench.levels")


def scores_per_detector(embedder: str, detectors: list[str], ids: Path) -> dict[str, Scores]:
    identity_of = read_identities(ids)
    out = {}
    for detector in detectors:
        emb = embed_files(Pipeline.load(tables.config(detector, embedder)), ids.parent, identity_of)
        out[detector] = Scores.all_vs_all(identity_of, emb.vectors)
        log.info("%s + %s: %d photos without a face", detector, embedder, len(emb.missing))
    return out


def calibrate(
    model: str, per_detector: dict[str, Scores], rounds: int
) -> tuple[list[str], np.ndarray, Tail]:
    """The tables for one model, its pooled impostor scores and their fitted tail."""
    pooled = np.concatenate([s.impostor for s in per_detector.values()])
    report = tail_report(list(per_detector.values()), tuple(LEVELS.values()), rounds)
    tail = Tail(report["u"], report["p_u"], report["xi"], report["sigma"])
    levels = {name: math.ceil(tail.threshold(far) * 1000) / 1000 for name, far in LEVELS.items()}
    lines = [
        f"### {model}",
        "",
        f"Pooled over {', '.join(per_detector)}: {len(pooled)} impostor scores; tail cut "
        f"u = {report['u']} ({report['exceedances']} above it), shape xi = {report['xi']}, "
        f"scale sigma = {report['sigma']}. Card now: {dict(CARDS[model].levels)}.",
        "",
        f"Card entry: `levels={levels}, tail={tail!r}`",
        "",
        "| level | target FAR | fitted threshold (95% CI, photo bootstrap) | threshold |",
        "|---|---|---|---|",
    ]
    for name, far in LEVELS.items():
        fitted = report["threshold_at_far"][f"{far:g}"]
        ci = fitted.get("ci95", ["-", "-"])
        lines.append(
            f"| {name} | {far:g} | {fitted['threshold']} ({ci[0]}..{ci[1]}) | {levels[name]} |"
        )
    lines += [
        "",
        "| detector | genuine | impostor | max impostor | "
        + " | ".join(f"{n}: false accepts, false rejects" for n in LEVELS)
        + " |",
        "|---|---|---|---|" + "---|" * len(LEVELS),
    ]
    for detector, s in per_detector.items():
        cells = [
            f"{int((s.impostor >= t).sum())}, {int((s.genuine < t).sum())} "
            f"({(s.genuine < t).mean():.1%})"
            for t in levels.values()
        ]
        lines.append(
            f"| {detector} | {len(s.genuine)} | {len(s.impostor)} | "
            f"{s.impostor.max():.4f} | " + " | ".join(cells) + " |"
        )
    return [*lines, ""], pooled, tail


def plot(fits: dict[str, tuple[np.ndarray, Tail, dict[str, float]]], path: Path) -> None:
    """Empirical impostor survival (log scale) against the fitted tail, levels marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(fits), figsize=(6.5 * len(fits), 4.5), squeeze=False)
    for ax, (model, (impostor, fit, levels)) in zip(axes[0], fits.items(), strict=True):
        ranked = np.sort(impostor)[::-1]
        survival = np.arange(1, len(ranked) + 1) / len(ranked)
        ax.semilogy(ranked, survival, ".", ms=2, label="measured")
        grid = np.linspace(fit.u, max(levels.values()) + 0.01, 200)
        ax.semilogy(grid, [fit.far(t) for t in grid], "-", label="fitted tail")
        for name, t in levels.items():
            ax.axvline(t, color="k", linestyle="--", linewidth=1)
            ax.text(t, 3e-7, f" {name} {t:g}", rotation=90, fontsize=8)
        ax.set(xlabel="cosine similarity", ylabel="false accept rate", title=model, ylim=(1e-7, 1))
        ax.set_xlim(float(np.quantile(impostor, 0.5)), max(levels.values()) + 0.02)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    options = tables.parser(__doc__)
    options.add_argument("--rounds", type=int, default=200, help="bootstrap rounds")
    options.add_argument("--plot", type=Path, help="draw the fitted tails to this PNG")
    args = tables.start(options)
    ids = tables.SHARED / "faces" / "identities.csv"
    lines = [f"On {ids.name}; every level rounded up to three decimals.", ""]
    fits = {}
    for embedder, model in tables.EMBEDDERS.items():
        per_detector = scores_per_detector(embedder, args.detectors.split(","), ids)
        table, pooled, fit = calibrate(model, per_detector, args.rounds)
        lines += table
        fits[model] = (pooled, fit, dict(CARDS[model].levels))
    tables.emit(lines, args.out)
    if args.plot:
        plot(fits, args.plot)


if __name__ == "__main__":
    main()
