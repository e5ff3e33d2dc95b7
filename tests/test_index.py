"""The in-memory index against a brute-force reference, on synthetic unit vectors."""

from __future__ import annotations

import numpy as np
import pytest

from faceid.lock.index import GalleryIndex


def gallery(n_subjects: int, per_subject: int, dim: int = 64, seed: int = 0) -> GalleryIndex:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n_subjects * per_subject, dim)).astype(np.float32)
    subjects = [f"s{i // per_subject}" for i in range(len(vectors))]
    return GalleryIndex(1, [f"t{i}" for i in range(len(vectors))], subjects, vectors)


def reference(index: GalleryIndex, query: np.ndarray) -> dict[str, float]:
    sims = index.vectors @ (query / np.linalg.norm(query))
    best: dict[str, float] = {}
    for subject, sim in zip(index.subject_ids, sims.tolist(), strict=True):
        best[subject] = max(best.get(subject, -2.0), sim)
    return best


@pytest.mark.parametrize("seed", range(5))
def test_search_matches_brute_force(seed):
    index = gallery(300, 4, seed=seed)
    query = index.vectors[seed * 7] + 0.3 * np.random.default_rng(seed).normal(size=64)
    truth = sorted(reference(index, query).items(), key=lambda kv: -kv[1])[:5]
    hits = index.search(query.astype(np.float32), top_k=5)
    assert [(h.subject_id, round(h.similarity, 5)) for h in hits] == [
        (s, round(v, 5)) for s, v in truth
    ]


def test_only_and_exclude():
    index = gallery(50, 3)
    query = index.vectors[0]
    assert index.search(query, top_k=1)[0].subject_id == "s0"
    assert index.search(query, top_k=3, exclude="s0")[0].subject_id != "s0"
    hits = index.search(query, top_k=5, only=["s3", "s9", "nobody"])
    assert {h.subject_id for h in hits} == {"s3", "s9"}
    assert index.search(query, only=[]) == []
    assert index.search(query, only=["s0"], exclude="s0") == []


def test_empty_and_wrong_length():
    empty = GalleryIndex(0, [], [], np.zeros((0, 0), dtype=np.float32))
    assert empty.search(np.ones(8, dtype=np.float32)) == []
    assert gallery(2, 2).search(np.ones(8, dtype=np.float32)) == []
