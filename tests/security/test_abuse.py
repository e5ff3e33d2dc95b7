"""The owner's door keeps opening while the service is abused, end to end.

``bench/abuse.py`` starts a real gunicorn (the project's config, 2 gevent workers) and
unlocks the owner's door with a photo every half second while 4 attacker threads run
each abuse in turn: faceless 40-megapixel PNG unlocks from another door key, the same
PNGs on the open endpoint, a storage flood and enrolments of 10 photos of 35 megapixels.
Every owner's unlock must open, within 1 s at the 95th percentile (bench/ABUSE.md gives
the figures of a longer run: about a tenth of that). The bound is loose on purpose: the
point is that large uploads no longer hold a worker's loop (before, 1.3-2.8 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ..conftest import ROOT, needs_faces

pytestmark = [needs_faces, pytest.mark.slow]

ABUSES = {
    "faceless 40 MP PNG unlocks, another door key",
    "40 MP PNGs on the open extract endpoint, no key",
    "storage flood, enrolment key, 16 KB metadata",
    "enrolments of 10 photos of 35 MP, enrolment key",
}


def test_the_owners_unlock_stays_under_a_second_under_every_abuse(tmp_path):
    out = tmp_path / "abuse.json"
    command = [sys.executable, "bench/abuse.py", "--seconds", "8", "--json", str(out)]
    done = subprocess.run(
        command, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert set(figures) >= ABUSES, figures
    for name, run in figures.items():
        assert set(run["owner"]) == {"unlock"}, (name, run)  # every one opened
        assert run["owner"]["unlock"] >= 8, (name, run)
        assert run["p95_ms"] < 1000, (name, run)
    for name in ABUSES:  # the attackers were answered (503 busy is an answer), never a 500
        assert not {"0", "500"} & set(figures[name]["attackers"]), (name, figures[name])
