"""The scale benchmarks run: bench/rush.py (many doors at once on real gunicorn hosts)
and bench/ann.py (the service's host index, mapped by several worker processes), on small
sizes; their full runs write bench/RUSH.md and bench/ANN.md."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import FACES, ROOT, needs_faces

pytestmark = [pytest.mark.slow, needs_faces]


@pytest.mark.skipif(not (FACES / "lfw").is_dir(), reason="the shared LFW half is missing")
def test_rush_of_doors_on_one_and_two_workers(tmp_path):
    """Hosts of one and two workers on one store, each door its own lock, key and LFW
    person, every answer an unlock. (Its peer, DeepFace's API, lives in the benchmark
    environment, which CI's ``make bench`` installs and this suite does not: left out.)"""
    out = tmp_path / "rush.md"
    command = [
        *(sys.executable, "-m", "bench.rush", "--doors", "3", "--workers", "1,2"),
        *("--concurrency", "3", "--seconds", "3", "--no-peer", "--out", str(out)),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split(" | ") for line in out.read_text().splitlines() if "faceid (" in line]
    assert [r[1] for r in rows] == ["1", "2"]  # workers
    for row in rows:
        assert float(row[3]) > 1  # unlocks per second
        assert row[8] == "none"  # no 503, no refusal, no timeout: every answer a 200
    assert "Doors: 3, each its own lock, key and person" in out.read_text()


@pytest.mark.skipif(not (FACES / "lfw").is_dir(), reason="the shared LFW half is missing")
def test_host_index_finds_the_exact_answer_from_two_workers(tmp_path):
    """50,000 templates drawn from the LFW half's dlib embeddings in a SQLite store: the
    service's host index (25 cells, 8 probed) is built from the store, mapped into two
    worker processes at once and, re-ranking from the store, finds exact search's subject
    for at least 99% of 200 queries."""
    out = tmp_path / "ann.md"
    command = [
        *(sys.executable, "bench/ann.py", "--templates", "50000", "--queries", "200"),
        *("--nprobe", "8", "--workers", "2", "--out", str(out)),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [
        line.split(" | ") for line in out.read_text().splitlines() if line.startswith("| 200 |")
    ]
    assert len(rows) == 1 and rows[0][1:3] == ["2", "8"]
    assert float(rows[0][3].rstrip("%")) >= 99.0
    assert "IVF25,SQ8" in out.read_text()
