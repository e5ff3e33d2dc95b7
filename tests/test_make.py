"""The Makefile's development target: ``make test-fast`` is the suite less what is marked
slow (a dry run: running it from inside the suite would run the suite twice)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from .conftest import ROOT


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_fast_runs_the_suite_without_the_slow_tests():
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "test-fast"],
        cwd=ROOT,
        env=env,  # run from `make test`, a nested make would print its directories
        capture_output=True,
        text=True,
        check=True,
    )
    assert any(line.endswith('pytest -m "not slow"') for line in dry.stdout.splitlines())
