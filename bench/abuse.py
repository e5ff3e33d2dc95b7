"""The owner's unlock while key holders and strangers abuse the service (issue 22's attacks).

One gunicorn (the project's config, 2 gevent workers) on loopback with the default
settings. The owner's door unlocks with a photo every half second, on a key of its own,
while 4 attacker threads run one abuse at a time for ``--seconds``: faceless 40-megapixel
PNG unlocks from another door key, the same PNGs on the open extract endpoint, a storage
flood from an enrolment key (16 KB of metadata per subject), and enrolments of 10
photos of 35 megapixels. Reports the owner's unlock latency (p50, p95, max) under each,
against none, and what the attackers were answered.

Run as ``.venv/bin/python bench/abuse.py [--out bench/ABUSE.md] [--seconds 20] [--json FILE]``
(``tests/security/test_abuse.py`` runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import EXAMPLES  # noqa: E402
from tests.server import Server  # noqa: E402

Attack = Callable[[], int]
HEADER = (
    "The owner's photo unlock while attackers abuse the service: `.venv/bin/python "
    "bench/abuse.py --seconds 20 --out bench/ABUSE.md`, one gunicorn (2 gevent workers) "
    "with the default settings on the 2-core machine; latencies of the owner's unlocks "
    "that opened (all did).\n\n"
)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def big_png() -> bytes:
    """Just under 40 megapixels (FACEID_MAX_IMAGE_PIXELS) without a face that compress to
    a small upload."""
    ramp = np.linspace(0, 255, 7290, dtype=np.uint8)
    return bytes(cv2.imencode(".png", np.dstack([np.tile(ramp, (5480, 1))] * 3))[1])


def big_jpegs() -> list[bytes]:
    """Four photos of the owner scaled to 35 megapixels, their shape kept."""
    out = []
    for name in ("obama.jpg", "obama-720p.jpg", "obama-1080p.jpg", "obama2.jpg"):
        photo = cv2.imread(str(EXAMPLES / name))
        scale = (35e6 / (photo.shape[0] * photo.shape[1])) ** 0.5
        image = cv2.resize(photo, None, fx=scale, fy=scale)
        out.append(bytes(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 60])[1]))
    return out


class Site:
    """The server, its keys and the owner's door."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.admin = server.key("acme", "admin")
        owner = self.post(self.admin, "/v1/subjects", json={"name": "owner"}).json()["id"]
        photo = [("images", ("o.jpg", (EXAMPLES / "obama.jpg").read_bytes()))]
        assert self.post(self.admin, f"/v1/subjects/{owner}/enrollments", files=photo).ok
        body = {"name": "door", "liveness": "off"}
        self.lock = self.post(self.admin, "/v1/locks", json=body).json()["id"]
        requests.put(
            f"{server.base}/v1/locks/{self.lock}/grants/{owner}", headers=self.auth(self.admin)
        )
        self.owner_key = server.key("acme", "unlock")
        self.attacker_door = server.key("acme", "unlock")
        self.flooder = server.key("acme", "enroll")
        self.enroller = server.key("acme", "enroll")  # its own write rate

    @staticmethod
    def auth(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def post(self, key: str | None, path: str, **kwargs: object) -> requests.Response:
        headers = self.auth(key) if key else {}
        return requests.post(self.server.base + path, headers=headers, timeout=300, **kwargs)  # type: ignore[arg-type]

    def owner_unlock(self) -> tuple[float, str]:
        """Seconds the owner's unlock took, and what it answered."""
        sent = [("frames", ("o.jpg", (EXAMPLES / "obama2.jpg").read_bytes()))]
        began = time.perf_counter()
        r = self.post(self.owner_key, f"/v1/locks/{self.lock}/unlock", files=sent)
        took = time.perf_counter() - began
        body = r.json()
        return took, body.get("verdict") or body.get("error", {}).get("code", str(r.status_code))


def attacks(site: Site) -> dict[str, Attack]:
    png, jpegs = big_png(), big_jpegs()
    photos = [("images", (f"p{i}.jpg", jpegs[i % 4])) for i in range(10)]

    def faceless_unlock() -> int:
        sent = [("frames", ("x.png", png))]
        return site.post(
            site.attacker_door, f"/v1/locks/{site.lock}/unlock", files=sent
        ).status_code

    def open_extract() -> int:
        return site.post(
            None, "/extract_embeddings_from_image", files=[("image", ("x.png", png))]
        ).status_code

    def storage_flood() -> int:
        body = {"name": "flood", "metadata": {"notes": "x" * 16_000}}
        return site.post(site.flooder, "/v1/subjects", json=body).status_code

    def big_enrolments() -> int:
        r = site.post(site.enroller, "/v1/subjects", json={"name": "big"})
        if not r.ok:
            return r.status_code
        path = f"/v1/subjects/{r.json()['id']}/enrollments"
        return site.post(site.enroller, path, files=photos).status_code

    return {
        "faceless 40 MP PNG unlocks, another door key": faceless_unlock,
        "40 MP PNGs on the open extract endpoint, no key": open_extract,
        "storage flood, enrolment key, 16 KB metadata": storage_flood,
        "enrolments of 10 photos of 35 MP, enrolment key": big_enrolments,
    }


def under(
    site: Site, attack: Attack | None, seconds: float
) -> tuple[list[float], Counter[str], Counter[int]]:
    """The owner's unlock latencies (those that opened) and answers while 4 threads run
    ``attack`` (None: no attack), and the attackers' answers."""
    stop = threading.Event()
    answers: Counter[int] = Counter()

    def attacker() -> None:
        while not stop.is_set() and attack is not None:
            try:
                answers[attack()] += 1
            except requests.RequestException:
                answers[0] += 1

    threads = [threading.Thread(target=attacker, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    latencies, owner = [], Counter[str]()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        took, answer = site.owner_unlock()
        owner[answer] += 1
        if answer == "unlock":
            latencies.append(took)
        time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(120)
    return latencies, owner, answers


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--out", type=Path, help="write the table here (markdown)")
    options.add_argument("--seconds", type=float, default=20.0)
    options.add_argument("--json", type=Path, help="also write each run's figures here")
    args = options.parse_args()
    figures: dict[str, dict[str, object]] = {}
    lines = [
        "| abuse (4 attacker threads) | owner's unlocks answered | p50 ms | p95 ms | max ms "
        "| attackers answered |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as data:
        server = Server({"FACEID_DATA_DIR": data})
        server.start()
        try:
            site = Site(server)
            runs = {"none": None, **attacks(site)}
            for name, attack in runs.items():
                took, owner, answers = under(site, attack, args.seconds)
                codes = ", ".join(f"{code}: {n}" for code, n in sorted(answers.items())) or "-"
                opened = ", ".join(f"{a} {n}" for a, n in sorted(owner.items()))
                ms = [1000 * t for t in took] or [float("nan")]
                lines.append(
                    f"| {name} | {opened} | {percentile(ms, 50):.0f} | {percentile(ms, 95):.0f} "
                    f"| {max(ms):.0f} | {codes} |"
                )
                print(lines[-1], flush=True)
                figures[name] = {
                    "owner": dict(owner),
                    "p50_ms": percentile(ms, 50),
                    "p95_ms": percentile(ms, 95),
                    "attackers": {str(code): n for code, n in answers.items()},
                }
        finally:
            server.stop()
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(HEADER + text)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    print(text)


if __name__ == "__main__":
    main()
