"""Real gunicorn servers on 127.0.0.1 for the HTTP items, and their workers' memory.

faceid is started the way tests/test_server.py does (``gunicorn -c gunicorn.conf.py
wsgi:app`` with ``FACEID_PORT``); DeepFace's own Flask API (``deepface[api]``) is
started under gunicorn with the same worker count as the HTTP peer.
"""

from __future__ import annotations

import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from .context import ROOT

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
WORKERS = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def status(port: int, path: str) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


class Server:
    """A gunicorn process group, started on enter and stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(
        self,
        name: str,
        args: list[str],
        env: dict[str, str],
        cwd: Path,
        log_dir: Path,
        bind_flag: bool = True,
        workers: int = WORKERS,
    ) -> None:
        """``bind_flag=False``: the config file binds (faceid reads FACEID_HOST/FACEID_PORT);
        ``workers``: how many worker processes :meth:`wait_ready` waits for."""
        self.name = name
        self.worker_count = workers
        self.port = free_port()
        bind = ["-b", f"{HOST}:{self.port}"] if bind_flag else []
        self.args = [sys.executable, "-m", "gunicorn", *args, *bind]
        self.env = {**os.environ, **env, "FACEID_PORT": str(self.port)}
        self.cwd = cwd
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        log.info("starting %s on port %d (log %s)", self.name, self.port, self.log_path)
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                self.args,
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def wait_ready(self, path: str, timeout_s: float = 300) -> None:
        """Poll ``path`` until it answers 200 and every worker is up."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")
            try:
                if status(self.port, path) == 200 and len(self.workers()) == self.worker_count:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} was not ready after {timeout_s:.0f} s")

    def workers(self) -> list[int]:
        """The gunicorn master's child processes (its workers)."""
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def worker_rss_kib(self) -> list[int]:
        return [rss_kib(pid) for pid in self.workers()]


def rss_kib(pid: int) -> int:
    """VmRSS of a process, in KiB, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def faceid_server(log_dir: Path, workers: int = WORKERS, **settings: str) -> Server:
    """faceid's gunicorn, configured like ``make run`` plus the given FACEID_* settings.

    The load comes from one client address, so the open endpoints' rate limit is set far
    above what a run sends: its counter is still paid on every request, never refused."""
    env = {
        "FACEID_HOST": HOST,
        "FACEID_WORKERS": str(workers),
        "FACEID_OPEN_RATE_LIMIT": "10000000/minute",
        "FACEID_COMPARE_RATE_LIMIT": "10000000/minute",
        **settings,
    }
    args = ["-c", "gunicorn.conf.py", "wsgi:app"]
    name = "faceid-" + settings.get("FACEID_DETECTOR", "hog")
    return Server(name, args, env, ROOT, log_dir, bind_flag=False, workers=workers)


def deepface_server(log_dir: Path, deepface_env: dict[str, str], workers: int = WORKERS) -> Server:
    """DeepFace's API, models (Dlib recogniser, OpenCV and dlib detectors) loaded at start."""
    env = {
        **deepface_env,
        "DEEPFACE_FACE_RECOGNITION_MODELS": "Dlib",
        "DEEPFACE_FACE_DETECTION_MODELS": "opencv,dlib",
    }
    args = ["-w", str(workers), "--timeout", "120", "deepface.api.src.app:create_app()"]
    return Server("deepface-api", args, env, log_dir, log_dir, workers=workers)
