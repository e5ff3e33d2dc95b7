"""The Makefile's development target: ``make test-fast`` is the suite less what is marked
slow (a dry run: running it from inside the suite would run the suite twice)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import ROOT


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_fast_runs_the_suite_without_the_slow_tests():
    dry = subprocess.run(
        ["make", "-n", "test-fast"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert dry.stdout.strip().splitlines()[-1].endswith('pytest -m "not slow"')
