"""Compare embeddings by cosine similarity and give a verdict at an operating point: one of
the model's levels (``standard`` unless asked otherwise) or an explicit threshold."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidEmbedding, InvalidParameter, ModelMismatch
from . import models
from .levels import DEFAULT_LEVEL, level_threshold
from .pipeline import l2_normalize

MAX_DIM = 4096


def _vectors(value: Any, name: str) -> tuple[np.ndarray, set[str]]:
    """An (n, d) array and the model ids named, from any accepted embedding form."""
    items = value if isinstance(value, list) and value and not _is_number(value[0]) else [value]
    rows, named = [], set()
    for item in items:
        if isinstance(item, dict):
            if item.get("model"):
                named.add(str(item["model"]))
            item = item.get("embedding", [])
        rows.append(item)
    if not rows or any(len(r) == 0 for r in rows):
        raise InvalidEmbedding(f"{name} is empty.")
    if len({len(r) for r in rows}) != 1:
        raise ModelMismatch(f"The vectors in {name} have different lengths.")
    array = np.asarray(rows, dtype=np.float64)
    if array.shape[1] > MAX_DIM:
        raise InvalidEmbedding(f"{name} has {array.shape[1]} values; at most {MAX_DIM}.")
    if not np.isfinite(array).all():
        raise InvalidEmbedding(f"{name} holds NaN or infinite values.")
    if (~array.any(axis=1)).any():
        raise InvalidEmbedding(f"{name} holds an all-zero vector.")
    return array, named


def _unit(rows: np.ndarray) -> np.ndarray:
    """Unit rows in float32, scaled by their largest value first so that neither huge
    (1e300) nor tiny (1e-300) values overflow or vanish on the way to float32."""
    scaled = rows / np.abs(rows).max(axis=1, keepdims=True)
    return l2_normalize(scaled.astype(np.float32))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def compare(
    embedding1: Any,
    embedding2: Any,
    *,
    threshold: float | None,
    model: str | None,
    default: models.ModelCard,
    level: str | None = None,
) -> dict[str, Any]:
    """Cosine similarity of the best pair, and a lock verdict at the operating point:
    ``threshold`` when given (level ``custom``), else the model's ``level`` (default
    ``standard``).

    Each side is a vector, a list of vectors, or ``{"embedding": [...], "model": "..."}``
    (or a list of those). The model comes from ``model``, the face objects, or the
    server's own model (``default``) when the vector length matches it.

    >>> card = models.card("dlib-resnet-v1")
    >>> compare([0.6, 0.8], [0.8, 0.6], threshold=0.9, model=None, default=card)["match"]
    True
    """
    if threshold is not None and level is not None:
        raise InvalidParameter('Send "level" or "threshold", not both.')
    left, models_left = _vectors(embedding1, "embedding1")
    right, models_right = _vectors(embedding2, "embedding2")
    named = models_left | models_right | ({model} if model else set())
    if len(named) > 1:
        raise ModelMismatch(
            f"Embeddings come from different models ({', '.join(sorted(named))}); "
            "they live in different spaces and cannot be compared.",
            models=sorted(named),
        )
    if left.shape[1] != right.shape[1]:
        raise ModelMismatch(
            f"embedding1 has {left.shape[1]} values and embedding2 {right.shape[1]}: "
            "they come from different models.",
        )
    card = _card_for(named.pop() if named else None, left.shape[1], default)
    level, threshold = _operating_point(card, level, threshold, left.shape[1])
    sims = _unit(left) @ _unit(right).T
    i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
    similarity = float(np.clip(sims[i, j], -1.0, 1.0))
    match = similarity >= threshold
    return {
        "similarity": round(similarity, 6),
        "distance": round(1.0 - similarity, 6),
        "threshold": threshold,
        "level": level,
        "match": match,
        "verdict": "unlock" if match else "locked",
        "model": card.id if card is not None else None,
        "best_pair": [int(i), int(j)],
    }


def _operating_point(
    card: models.ModelCard | None, level: str | None, threshold: float | None, dim: int
) -> tuple[str, float]:
    """(level, threshold): the explicit threshold ("custom"), else the model's level;
    refused when the model is unknown or has no such level."""
    if card is not None and card.dim and card.dim != dim:
        raise ModelMismatch(f"Model {card.id} makes {card.dim}-value embeddings, not {dim}.")
    if threshold is not None:
        return "custom", threshold
    if card is None or not card.levels:
        raise InvalidEmbedding(
            f"No operating point for {dim}-value vectors of unknown model; "
            f'send "model" (one of {", ".join(models.CARDS)}) or "threshold".',
        )
    return level_threshold(card, level or DEFAULT_LEVEL)


def _card_for(name: str | None, dim: int, default: models.ModelCard) -> models.ModelCard | None:
    """The card of the named model, or the server's own when the vector length fits it."""
    if name is None:
        return default if default.dim == dim else None
    if name == default.id:
        return default
    return models.card(name) or models.ModelCard(id=name, dim=0, calibration="")
