"""Liveness evaluated in presentation-attack terms.

The evaluation (:mod:`bench.liveness`) runs every attempt of
:mod:`faceid.liveness.evalset` through the service: genuine answers cut from the real clips
of five people are measured (BPCER at most 5% over all, no person above 20%, the first
clip's hand-picked cuts at most 10%), and no attack of any kind may open (APCER 0%): a photo
moved as a sheet, real clips replayed against an order they do not follow, eyes that move
while the head does not, a cut to another person, one frame repeated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import ROOT, SHARED, needs_faces


@needs_faces
@pytest.mark.slow
def test_presentation_attacks_fail_and_genuine_answers_open(tmp_path):
    """The evaluation script as README runs it (one speed round), read from its JSON."""
    out = tmp_path / "liveness.json"
    env = {**os.environ, "FACEID_SHARED": str(SHARED)}
    command = [sys.executable, "bench/liveness.py", "--rounds", "1", "--draws", "2000"]
    command += ["--json", str(out)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "APCER" in done.stdout and "cost of liveness" in done.stdout
    result = json.loads(out.read_text())
    kinds = result["kinds"]
    assert set(kinds) == {"genuine", "photo", "replay", "gaze", "switch", "repeat"}
    for kind, counts in kinds.items():
        if kind != "genuine":
            assert counts["accepted"] == 0, (kind, result["rows"])
    people = result["people"]
    assert len(people) >= 5, people  # every real clip whose person turns their head
    first = people["man, blue screen, 24 fps"]  # the hand-picked cuts of the first clip
    assert first["attempts"] >= 9
    assert first["attempts"] - first["accepted"] <= 0.1 * first["attempts"], result["rows"]
    # Every genuine cut, judged timed on the cues its motions answer: none of the 66
    # decided is refused (bench/LIVENESS.md), 3 are refunded (2 retry_slower, 1
    # retry_in_view: BPNRR 4.3%). Held here: BPCER at most 5% over all, no person above 20%.
    refused = sum(c["attempts"] - c["accepted"] - c["retry"] for c in people.values())
    decided = sum(c["attempts"] - c["retry"] for c in people.values())
    failed = [row for row in result["rows"] if row[0] == "genuine" and not row[3]]
    assert refused <= 0.05 * decided, failed
    for person, counts in people.items():
        answered = counts["attempts"] - counts["retry"]
        assert counts["attempts"] - counts["accepted"] - counts["retry"] <= 0.2 * answered, (
            person,
            counts,
        )
    # The replay library: four timed actions at one pace let at most 1% of challenges
    # through at k = 20 (0-0.46% over 10,000 challenges in bench/LIVENESS.md), where the
    # order alone lets up to 100% through.
    library = result["replay_library"]
    assert len(library) >= 5
    for person, rates in library.items():
        assert rates["timed k=20"] <= 0.01, (person, rates)
        assert rates["timed k=5"] <= rates["timed k=20"] + 0.01, (person, rates)
        if rates["untimed k=20"] > 0.5:
            assert rates["timed k=20"] <= rates["untimed k=20"] / 10, (person, rates)
    assert kinds["genuine"]["attempts"] >= 60
