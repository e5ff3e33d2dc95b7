"""README's "Clients" section is true: its generated-client walkthrough runs as it is
against a real gunicorn, and its systemd unit starts ``faceid door`` with real options."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from faceid.clients.cli import door

from .conftest import ROOT, SHARED, needs_faces
from .server import Server

README = ROOT / "README.md"


def block(first_line: str, language: str = "sh") -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)
    (found,) = [b for b in blocks if b.startswith(first_line)]
    return str(found)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server({"FACEID_DATA_DIR": str(tmp_path / "data")})
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@needs_faces
@pytest.mark.slow
def test_generated_client_walkthrough(server: Server) -> None:
    script = block("# client walkthrough").replace("http://127.0.0.1:8000", server.base)
    script = script.replace("../shared", str(SHARED))
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env={**server.env, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    enrolment, bad_video, photo, challenge = (
        json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")
    )
    assert enrolment["templates"] >= 3
    assert bad_video == {"error": "invalid_video"}
    assert photo == {"error": "liveness_required"}
    assert len(challenge["cues"]) == 1 and 3 <= challenge["count"] <= 4  # the first cue only
    assert 0.6 <= challenge["next_cue_in_s"] <= 4.0


def test_systemd_unit_runs_faceid_door_with_its_real_options() -> None:
    unit = block("[Unit]", language="ini")
    (line,) = [ln for ln in unit.splitlines() if ln.startswith("ExecStart=")]
    argv = shlex.split(line.removeprefix("ExecStart="))
    assert argv[0].endswith("/.venv/bin/faceid") and argv[1] == "door"
    known = {opt for param in door.params for opt in param.opts}
    given = [arg for arg in argv[2:] if arg.startswith("--")]
    assert given and set(given) <= known, set(given) - known
    environment = " ".join(ln for ln in unit.splitlines() if ln.startswith("Environment="))
    envvars = {param.envvar for param in door.params if param.envvar}
    assert {"FACEID_URL", "FACEID_LOCK"} <= envvars and "FACEID_DOOR_KEY" in envvars
    assert "FACEID_URL=" in environment and "FACEID_LOCK=" in environment
    assert "--key" not in argv, "the key belongs in the environment file, not on the command line"
