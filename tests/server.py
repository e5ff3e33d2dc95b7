"""A real gunicorn with the project's config on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

from .conftest import ROOT


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Server:
    """gunicorn with the project's config, on a free port of a loopback address (several
    hosts of one machine each take their own: 127.0.0.2, 127.0.0.3, ...)."""

    def __init__(self, env: dict[str, str], host: str = "127.0.0.1") -> None:
        self.env = {
            **os.environ,
            **env,
            "FACEID_WORKERS": "2",
            "FACEID_HOST": host,
            "FACEID_PORT": str(free_port(host)),
        }
        self.env.pop("FACEID_MODELS_DIR", None)
        self.base = f"http://{host}:{self.env['FACEID_PORT']}"
        self.proc: subprocess.Popen[bytes] | None = None
        # the server's log goes to a file: a pipe nobody drains would block the workers
        self.log = tempfile.NamedTemporaryFile(prefix="faceid-server-", suffix=".log")  # noqa: SIM115

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log_text()[-3000:])
            try:
                if requests.get(self.base + "/ready", timeout=5).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.5)
        raise RuntimeError("gunicorn did not become ready")

    def log_text(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)

    def key(self, org: str, scope: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "faceid.cli", "keys", "create", "--org", org, "--scope", scope],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()


@contextmanager
def running(store_config: Mapping[str, object], **settings: str) -> Iterator[Server]:
    """A started :class:`Server` on a test's store (``store_config``) and ``settings``,
    stopped after the block."""
    srv = Server({**{k: str(v) for k, v in store_config.items()}, **settings})
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
