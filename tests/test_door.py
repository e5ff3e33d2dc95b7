"""``faceid door``, the reference door client, against a real gunicorn.

A video file stands in for the door's camera (the only camera here). The service runs
with ``FACEID_CHALLENGE_ACTIONS=turn_left,turn_right`` and ``FACEID_CHALLENGE_SCHEDULE=off``
so that a recording of the person turning left then right can answer (the cues come
every 1.8 s, unchecked); the same recording played in the other order, a
wrong key, a service that is down and a missing camera each give their exit status.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from faceid.liveness.evalset import PERSON_CLIP, encode, read_clip

from .conftest import FACES, ROOT, needs_faces
from .server import Server, free_port
from .test_e2e_lock import call

pytestmark = [needs_faces, pytest.mark.slow]
CLIP = FACES / "liveness" / PERSON_CLIP


def cut(folder: Path, start: float, end: float) -> Path:
    frames, fps = read_clip(CLIP, start, end)
    path = folder / f"camera-{start}-{end}.mp4"
    path.write_bytes(encode(frames, fps))
    return path


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A served door: the person enrolled and granted, and the door's own key."""
    folder = tmp_path_factory.mktemp("door")
    srv = Server(
        {
            "FACEID_DATA_DIR": str(folder / "data"),
            "FACEID_CHALLENGE_ACTIONS": "turn_left,turn_right",
            "FACEID_CHALLENGE_SCHEDULE": "off",  # a recording answers: its motion alone
        }
    )
    srv.start()
    try:
        admin = srv.key("acme", "admin")
        person = call(srv, admin, "POST", "/v1/subjects", json={"name": "Franck"}).json()["id"]
        enrol = cut(folder, 16.0, 20.0).read_bytes()
        r = call(
            srv,
            admin,
            "POST",
            f"/v1/subjects/{person}/enrollments",
            files=[("video", ("enrol.mp4", enrol))],
        )
        assert r.status_code == 201, r.text
        lock = call(srv, admin, "POST", "/v1/locks", json={"name": "front"}).json()["id"]
        call(srv, admin, "PUT", f"/v1/locks/{lock}/grants/{person}")
        key = subprocess.run(
            [
                sys.executable,
                "-m",
                "faceid.cli",
                "keys",
                "create",
                "--org",
                "acme",
                "--scope",
                "unlock",
                "--lock",
                lock,
            ],
            cwd=ROOT,
            env=srv.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        yield {"url": srv.base, "key": key, "lock": lock, "folder": str(folder)}
    finally:
        srv.stop()


def run_door(
    door: dict[str, str],
    camera: Path | str,
    *extra: str,
    key: str | None = None,
    url: str | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACEID_DOOR_KEY": key or door["key"]}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "faceid.cli",
            "door",
            "--url",
            url or door["url"],
            "--lock",
            door["lock"],
            "--camera",
            str(camera),
            "--countdown",
            "0",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin,
    )


def test_door_opens_for_the_person_answering_its_challenge(door):
    camera = cut(Path(door["folder"]), 8.5, 13.5)  # turns left, then right
    out = run_door(door, camera)
    assert out.returncode == 0, (out.stdout, out.stderr)
    lines = out.stdout.splitlines()
    assert lines[0].startswith("Challenge: 2 actions")
    assert "1/2: Turn your head to YOUR LEFT, then back to the camera" in lines
    assert "2/2: Turn your head to YOUR RIGHT, then back to the camera" in lines
    assert lines.index("1/2: Turn your head to YOUR LEFT, then back to the camera") < lines.index(
        "2/2: Turn your head to YOUR RIGHT, then back to the camera"
    )
    assert lines[-1] == "OPEN: Franck"


def test_door_stays_locked_for_a_recording_in_the_wrong_order(door):
    camera = cut(Path(door["folder"]), 3.3, 8.0)  # turns right, then left
    out = run_door(door, camera)
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert out.stdout.splitlines()[-1] == "LOCKED: challenge_failed:turn_left"


def test_door_as_a_service_runs_its_relay_command_on_open(door, tmp_path):
    camera = cut(Path(door["folder"]), 8.5, 13.5)
    relay = tmp_path / "opened"
    out = run_door(door, camera, "--loop", "--on-open", f"touch {relay}", stdin="\n")
    assert out.returncode == 0, (out.stdout, out.stderr)
    assert out.stdout.count("OPEN: Franck") == 1 and relay.exists()


def test_door_reports_no_verdict_for_a_bad_key_a_dead_service_or_camera(door, tmp_path):
    camera = cut(Path(door["folder"]), 8.5, 13.5)
    out = run_door(door, camera, key="fk_not_a_key")
    assert out.returncode == 2 and "NO VERDICT" in out.stderr and "(unauthorized)" in out.stderr
    out = run_door(door, camera, url=f"http://127.0.0.1:{free_port()}")
    assert out.returncode == 2 and "(unreachable)" in out.stderr
    out = run_door(door, tmp_path / "no-such-camera.mp4")
    assert out.returncode == 2 and "(camera)" in out.stderr


class Misbehaving:
    """A stand-in for a broken service or a proxy in front of it (a redirect, a JSON array,
    an HTML error page): the real service cannot be made to answer so, hence this fake."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        import http.server
        import threading

        reply = (status, body, headers)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                code, content, extra = reply
                self.send_response(code)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.mark.parametrize(
    ("status", "body", "headers", "code"),
    [
        (301, b"", {"Location": "http://127.0.0.1:9/steal"}, "(http_301)"),
        (200, b"[]", {"Content-Type": "application/json"}, "(bad_response)"),
        (201, b'{"challenge_id": "c"}', {"Content-Type": "application/json"}, "(bad_response)"),
        (502, b"<html>bad gateway</html>", {"Content-Type": "text/html"}, "(http_502)"),
    ],
)
def test_door_gives_no_verdict_for_answers_that_are_not_the_apis(door, status, body, headers, code):
    fake = Misbehaving(status, body, headers)
    try:
        camera = cut(Path(door["folder"]), 8.5, 13.5)
        out = run_door(door, camera, url=fake.url)
    finally:
        fake.close()
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "NO VERDICT" in out.stderr and code in out.stderr
    assert "Traceback" not in out.stderr


def test_a_failing_relay_command_is_reported_and_the_door_goes_on(door, tmp_path):
    camera = cut(Path(door["folder"]), 8.5, 13.5)
    out = run_door(door, camera, "--loop", "--on-open", str(tmp_path / "no-relay"), stdin="\n")
    assert out.returncode == 0, (out.stdout, out.stderr)
    assert "OPEN: Franck" in out.stdout and "the --on-open command failed" in out.stderr
