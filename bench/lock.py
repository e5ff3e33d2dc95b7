"""A face-ID lock set up over HTTP on a running faceid server, for the unlock load.

An admin key comes from ``faceid keys create`` (same store settings as the server);
obama is enrolled from two photos and granted one lock; the door request posts the
benchmark's 640x480 frame to ``/v1/locks/{id}/unlock`` with an unlock-scope key.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import requests

from .context import ROOT, Settings
from .load import Request, multipart
from .server import HOST, Server


def api_key(server: Server, scope: str) -> str:
    """A new key of the benchmark's organisation (``faceid keys create``)."""
    out = subprocess.run(
        [sys.executable, "-m", "faceid.cli", "keys", "create", "--org", "bench", "--scope", scope],
        cwd=ROOT,
        env=server.env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def unlock_request(server: Server, settings: Settings, frame: bytes) -> Request:
    """Enrol, create and grant a lock; check one unlock opens; return the door's request."""
    base = f"http://{HOST}:{server.port}/v1"
    admin = {"Authorization": f"Bearer {api_key(server, 'admin')}"}
    subject = requests.post(f"{base}/subjects", json={"name": "obama"}, headers=admin, timeout=60)
    subject.raise_for_status()
    sid = subject.json()["id"]
    photos: list[Path] = [
        settings.examples / "obama.jpg",
        settings.shared / "faces" / "face_recognition" / "tests" / "test_images" / "obama3.jpg",
    ]
    files = [("images", (p.name, p.read_bytes())) for p in photos]
    requests.post(
        f"{base}/subjects/{sid}/enrollments", files=files, headers=admin, timeout=120
    ).raise_for_status()
    opted_out = {"name": "door", "liveness": "off"}  # frame unlock; see bench/liveness.py
    lock = requests.post(f"{base}/locks", json=opted_out, headers=admin, timeout=60)
    lock.raise_for_status()
    lock_id = lock.json()["id"]
    requests.put(f"{base}/locks/{lock_id}/grants/{sid}", headers=admin, timeout=60)
    req, check = door_request(server, lock_id, api_key(server, "unlock"), frame)
    verdict = json.loads(check.text).get("verdict")
    if verdict != "unlock":
        raise RuntimeError(f"the benchmark frame does not unlock: {check.text}")
    return req


def door_request(
    server: Server, lock_id: str, key: str, frame: bytes
) -> tuple[Request, requests.Response]:
    """A door's unlock of ``lock_id`` posting ``frame`` with ``key``, for the load, and
    the server's answer to it sent once now."""
    body, content_type = multipart("frames", "frame.jpg", frame)
    auth = (("Authorization", f"Bearer {key}"),)
    request = Request("POST", f"/v1/locks/{lock_id}/unlock", body, content_type, auth)
    answer = requests.post(
        f"http://{HOST}:{server.port}{request.path}",
        data=body,
        headers={"Content-Type": content_type, **dict(auth)},
        timeout=60,
    )
    return request, answer
