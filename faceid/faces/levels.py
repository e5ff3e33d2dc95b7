"""Operating points: the named levels every verdict is taken at, and the fitted impostor
tail behind them.

A level is a cosine cut aiming at a false-accept rate (:data:`LEVELS`). A model's card
(:mod:`.models`) holds its cut for each level and the :class:`Tail` they were read from;
:func:`level_threshold` looks a level up for a verdict and refuses one the model lacks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import LevelUnavailable

#: Operating points, strictest last, and the false-accept rate each aims at.
LEVELS: dict[str, float] = {"standard": 1e-4, "high": 1e-6}
DEFAULT_LEVEL = "standard"
#: The cut a model calibrated for no level uses at ``standard`` (it has no ``high``).
UNCALIBRATED_THRESHOLD = 0.5


@dataclass(frozen=True)
class Tail:
    """A generalised Pareto model of a model's impostor scores above ``u`` (shape ``xi``,
    scale ``sigma``; ``p_u`` of impostor scores lie above ``u``), fitted by
    :mod:`faceid.research.tail`. Closed forms, so the service needs no scipy.

    >>> round(Tail(u=0.8, p_u=0.1, xi=-0.2, sigma=0.02).threshold(1e-4), 4)
    0.8749
    """

    u: float
    p_u: float
    xi: float
    sigma: float

    def far(self, threshold: float) -> float:
        """Modelled share of impostor pairs at or above ``threshold`` (above ``u`` only)."""
        z = max(threshold - self.u, 0.0) / self.sigma
        if self.xi == 0:
            return self.p_u * math.exp(-z)
        base = 1.0 + self.xi * z
        return self.p_u * base ** (-1.0 / self.xi) if base > 0 else 0.0

    def threshold(self, far: float) -> float:
        """The similarity whose modelled false-accept rate is ``far`` (< ``p_u``)."""
        q = far / self.p_u
        if self.xi == 0:
            return self.u - self.sigma * math.log(q)
        return self.u + self.sigma / self.xi * (q ** (-self.xi) - 1.0)


def checked_levels(levels: Any, what: str) -> dict[str, float]:
    """``levels`` as ``{level: cut}``, or ValueError: a mapping of known levels to finite
    cuts in [-1, 1], ``high`` no looser than ``standard``."""
    if not isinstance(levels, Mapping):
        raise ValueError(f'{what}: expected an object like {{"standard": 0.5}}')
    out: dict[str, float] = {}
    for name, value in levels.items():
        if name not in LEVELS:
            raise ValueError(f"{what}: unknown level {name!r}; known: {', '.join(LEVELS)}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{what}: {name} must be a number, not {value!r}")
        if not (math.isfinite(value) and -1.0 <= value <= 1.0):
            raise ValueError(f"{what}: {name} must be a cosine similarity in [-1, 1]")
        out[name] = float(value)
    if "high" in out and out["high"] < out.get("standard", -1.0):
        raise ValueError(f"{what}: high ({out['high']}) is looser than standard")
    return out


class HasLevels(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def levels(self) -> Mapping[str, float]: ...


def level_threshold(card: HasLevels, level: str) -> tuple[str, float]:
    """(level, threshold) of a model's level. A model calibrated for no level uses 0.5 at
    ``standard``; a level the model lacks is refused (422)."""
    if not card.levels and level == DEFAULT_LEVEL:
        return level, UNCALIBRATED_THRESHOLD
    if level not in card.levels:
        raise LevelUnavailable(
            f"Model {card.id} has no '{level}' level; its levels: "
            f"{', '.join(card.levels) or 'none (standard at 0.5)'}.",
            model=card.id,
            levels=list(card.levels),
        )
    return level, card.levels[level]
