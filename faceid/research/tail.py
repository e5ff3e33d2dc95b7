"""The upper tail of impostor scores, fitted, so that operating points can be set by
false-accept rates far below what a few thousand impostor pairs can measure.

Peaks over a threshold: the impostor scores above their ``1 - fraction`` quantile ``u``
are fitted by maximum likelihood with a generalised Pareto distribution (shape ``xi``,
scale ``sigma``), so ``FAR(t) = p_u * GPD.sf(t - u)`` where ``p_u`` is the share of
impostor scores above ``u``. Confidence intervals resample photos, not pairs: the pairs
of one photo are not independent, so resampling pairs would understate the doubt.

Needs scipy (the ``eval`` extra); nothing here runs in the service.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..faces.levels import Tail
from .verification import Scores

#: Share of the impostor scores (the highest) that the tail model is fitted on.
TAIL_FRACTION = 0.1


def fit_tail(impostor: np.ndarray, fraction: float = TAIL_FRACTION) -> tuple[Tail, int]:
    """The generalised Pareto tail of ``impostor`` above its ``1 - fraction`` quantile, by
    maximum likelihood, and how many scores it was fitted on."""
    from scipy import stats

    u = float(np.quantile(impostor, 1.0 - fraction))
    excess = impostor[impostor > u] - u
    if len(excess) < 10:
        raise ValueError(f"{len(excess)} impostor scores above the tail cut: too few to fit")
    xi, _, sigma = stats.genpareto.fit(excess, floc=0.0)
    return Tail(u, len(excess) / len(impostor), float(xi), float(sigma)), len(excess)


def score_matrix(
    pairs: Iterable[tuple[str, str, float, bool]],
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Photo names, their similarity matrix and their same-person matrix, from scored pairs."""
    rows = list(pairs)
    names = sorted({n for a, b, _, _ in rows for n in (a, b)})
    at = {n: i for i, n in enumerate(names)}
    sims = np.full((len(names), len(names)), np.nan)
    same = np.eye(len(names), dtype=bool)
    for a, b, score, is_same in rows:
        i, j = at[a], at[b]
        sims[i, j] = sims[j, i] = score
        same[i, j] = same[j, i] = is_same
    return names, sims, same


def photo_bootstrap(
    pair_sets: Sequence[Iterable[tuple[str, str, float, bool]]],
    fars: tuple[float, ...],
    rounds: int = 200,
    seed: int = 0,
) -> dict[float, list[float]]:
    """95% intervals of the fitted threshold at each FAR, resampling photos with replacement
    (a photo drawn twice is one photo: its pairs with itself are left out).

    Several pair sets over the same photos (one per detector, say) are pooled: each round
    draws one set of photos for all of them."""
    matrices = [score_matrix(pairs) for pairs in pair_sets]
    if len({tuple(names) for names, _, _ in matrices}) != 1:
        raise ValueError("pooled pair sets must score the same photos")
    size = len(matrices[0][0])
    rng = np.random.default_rng(seed)
    found: dict[float, list[float]] = {far: [] for far in fars}
    upper = np.triu_indices(size, 1)
    for _ in range(rounds):
        idx = rng.integers(0, size, size)
        grid = np.ix_(idx, idx)
        distinct = (idx[:, None] != idx[None, :])[upper]
        drawn = [sims[grid][upper][distinct & ~same[grid][upper]] for _, sims, same in matrices]
        impostor = np.concatenate(drawn)
        fit, _ = fit_tail(impostor[~np.isnan(impostor)])
        for far in fars:
            found[far].append(fit.threshold(far))
    return {far: [float(v) for v in np.percentile(t, [2.5, 97.5])] for far, t in found.items()}


def tail_report(
    sets: Sequence[Scores],
    fars: tuple[float, ...] = (1e-4, 1e-6),
    rounds: int = 200,
) -> dict[str, Any]:
    """The fit of the pooled impostor scores of ``sets`` (one study, or one per detector
    over the same photos) and the threshold at each FAR with its photo-bootstrap interval."""
    fit, exceedances = fit_tail(np.concatenate([s.impostor for s in sets]))
    intervals = photo_bootstrap([s.pairs for s in sets], fars, rounds) if rounds else {}
    return {
        "model": "generalised Pareto over the top "
        f"{TAIL_FRACTION:.0%} of impostor scores (maximum likelihood)",
        "u": round(fit.u, 6),
        "p_u": round(fit.p_u, 6),
        "exceedances": exceedances,
        "xi": round(fit.xi, 6),
        "sigma": round(fit.sigma, 6),
        "threshold_at_far": {
            f"{far:g}": {
                "threshold": round(fit.threshold(far), 4),
                **({"ci95": [round(v, 4) for v in intervals[far]]} if far in intervals else {}),
            }
            for far in fars
        },
    }
