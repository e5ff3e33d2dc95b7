"""Verification studies: genuine and impostor scores, EER, TAR at fixed FAR, FRR at each
operating point, the hardest pairs, bootstrap confidence intervals, ROC/DET plots.

An identities file (``path,identity``) labels every pair of its photos, so false
accepts are measured over all different-person pairs, not only those a pair list holds.

>>> s = Scores.of([("a", "b", 0.9, True), ("a", "c", 0.2, False)])
>>> equal_error_rate(s.genuine, s.impostor)[0]
0.0
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FARS = (1e-2, 1e-3, 1e-4)
NO_FACE = -1.0  # the score of a pair with a photo where no face was found


def read_identities(path: Path) -> dict[str, str]:
    """Photo path (relative to the file's folder) -> identity, from ``path,identity`` rows."""
    with path.open(newline="") as fh:
        return {row["path"]: row["identity"] for row in csv.DictReader(fh)}


@dataclass(frozen=True)
class Scores:
    """Cosine similarities of same-person (genuine) and different-person (impostor) pairs."""

    genuine: np.ndarray
    impostor: np.ndarray
    pairs: tuple[tuple[str, str, float, bool], ...]

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str, float, bool]]) -> Scores:
        rows = tuple(pairs)
        genuine = np.array([s for _, _, s, same in rows if same], dtype=np.float64)
        impostor = np.array([s for _, _, s, same in rows if not same], dtype=np.float64)
        return cls(genuine, impostor, rows)

    @classmethod
    def all_vs_all(cls, identity_of: dict[str, str], vectors: dict[str, np.ndarray]) -> Scores:
        """Every pair of photos; a photo with no face scores NO_FACE against everyone."""
        rows = []
        for a, b in itertools.combinations(sorted(identity_of), 2):
            va, vb = vectors.get(a), vectors.get(b)
            score = float(va @ vb) if va is not None and vb is not None else NO_FACE
            rows.append((a, b, score, identity_of[a] == identity_of[b]))
        return cls.of(rows)

    def hardest(self, same: bool, n: int = 5) -> list[dict[str, Any]]:
        """The impostor pairs that scored highest, or the genuine pairs that scored lowest."""
        rows = sorted((r for r in self.pairs if r[3] == same), key=lambda r: r[2], reverse=not same)
        return [{"a": a, "b": b, "similarity": round(s, 4)} for a, b, s, _ in rows[:n]]


def far_at(impostor: np.ndarray, threshold: float) -> float:
    """Share of impostor pairs accepted (similarity at or above ``threshold``)."""
    return float((impostor >= threshold).mean()) if len(impostor) else 0.0


def frr_at(genuine: np.ndarray, threshold: float) -> float:
    """Share of genuine pairs refused (similarity below ``threshold``)."""
    return float((genuine < threshold).mean()) if len(genuine) else 0.0


def rates(genuine: np.ndarray, impostor: np.ndarray) -> tuple[np.ndarray, ...]:
    """(thresholds, FAR, FRR) at every distinct score, vectorised with sorted arrays."""
    cuts = np.unique(np.concatenate([genuine, impostor, [np.inf]]))
    imp, gen = np.sort(impostor), np.sort(genuine)
    far = (len(imp) - np.searchsorted(imp, cuts, "left")) / max(len(imp), 1)
    frr = np.searchsorted(gen, cuts, "left") / max(len(gen), 1)
    return cuts, far, frr


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(EER, threshold): where false accepts and false rejects are closest."""
    cuts, far, frr = rates(genuine, impostor)
    i = int(np.argmin(np.abs(far - frr)))
    return float((far[i] + frr[i]) / 2), float(cuts[i])


def tar_at_far(genuine: np.ndarray, impostor: np.ndarray, far: float) -> tuple[float, float]:
    """(TAR, threshold) at the lowest threshold that accepts at most ``far`` of impostors."""
    allowed = int(np.floor(far * len(impostor) + 1e-9))
    ranked = np.sort(impostor)[::-1]
    # just above the first impostor that must be refused (any threshold when none must be)
    threshold = -1.0 if allowed >= len(ranked) else float(np.nextafter(ranked[allowed], np.inf))
    return 1.0 - frr_at(genuine, threshold), threshold


def bootstrap(
    genuine: np.ndarray, impostor: np.ndarray, rounds: int = 500, seed: int = 0
) -> dict[str, list[float]]:
    """95% intervals of EER and TAR at each FAR, resampling both score sets."""
    rng = np.random.default_rng(seed)
    eers: list[float] = []
    tars: dict[float, list[float]] = {far: [] for far in FARS}
    for _ in range(rounds):
        g = rng.choice(genuine, len(genuine))
        i = rng.choice(impostor, len(impostor))
        eers.append(equal_error_rate(g, i)[0])
        for far in FARS:
            tars[far].append(tar_at_far(g, i, far)[0])

    def interval(values: list[float]) -> list[float]:
        low, high = np.percentile(values, [2.5, 97.5])
        return [round(float(low), 4), round(float(high), 4)]

    return {
        "eer": interval(eers),
        **{f"tar_at_far_{far:g}": interval(v) for far, v in tars.items()},
    }


def report(scores: Scores, thresholds: dict[str, float], rounds: int = 500) -> dict[str, Any]:
    """Everything a verification study reports, as JSON-ready values."""
    g, i = scores.genuine, scores.impostor
    eer, eer_t = equal_error_rate(g, i)
    out: dict[str, Any] = {
        "genuine_pairs": len(g),
        "impostor_pairs": len(i),
        "eer": round(eer, 4),
        "eer_threshold": round(eer_t, 4),
    }
    for far in FARS:
        tar, t = tar_at_far(g, i, far)
        out[f"tar_at_far_{far:g}"] = {"tar": round(tar, 4), "threshold": round(t, 4)}
    out["operating_points"] = {
        name: {
            "threshold": t,
            "false_accepts": int((i >= t).sum()),
            "far": round(far_at(i, t), 6),
            "false_rejects": int((g < t).sum()),
            "frr": round(frr_at(g, t), 4),
        }
        for name, t in thresholds.items()
    }
    out["hardest_impostors"] = scores.hardest(same=False)
    out["hardest_genuine"] = scores.hardest(same=True)
    if rounds:
        out["bootstrap_95"] = bootstrap(g, i, rounds)
    return out


def plot(scores: Scores, path: Path, title: str, thresholds: dict[str, float]) -> None:
    """ROC, DET and score histograms in one PNG (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = figure(scores, title, thresholds)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def figure(scores: Scores, title: str, thresholds: dict[str, float]) -> Any:
    """The ROC, DET and score-histogram figure (pyplot's current backend: inline in a
    notebook)."""
    import matplotlib.pyplot as plt

    g, i = scores.genuine, scores.impostor
    cuts, far, frr = rates(g, i)
    cuts = cuts[np.isfinite(cuts)]
    floor = 0.5 / max(len(i), 1)
    fig, (roc, det, hist) = plt.subplots(1, 3, figsize=(15, 4.5))
    roc.semilogx(np.maximum(far, floor), 1 - frr)  # FAR 0 drawn at half a pair
    roc.set(xlabel="false accept rate", ylabel="true accept rate", title="ROC")
    det.loglog(np.maximum(far, floor), np.maximum(frr, 0.5 / max(len(g), 1)))
    det.set(xlabel="false accept rate", ylabel="false reject rate", title="DET")
    bins = np.linspace(max(float(cuts.min()) - 0.02, -1.0), 1, 60)
    hist.hist(i, bins=bins, alpha=0.6, density=True, label=f"impostor ({len(i)})")
    hist.hist(g, bins=bins, alpha=0.6, density=True, label=f"genuine ({len(g)})")
    for name, t in thresholds.items():
        hist.axvline(t, color="k", linestyle="--", linewidth=1)
        hist.text(t, hist.get_ylim()[1] * 0.9, f" {name} {t:g}", fontsize=8)
    hist.set(xlabel="cosine similarity", title="scores")
    hist.legend()
    for ax in (roc, det):
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
