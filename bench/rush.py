"""Rush hour: many doors unlocking at once against one faceid host, against DeepFace's
API at the same concurrency, for 1, 2 and 4 workers.

    python -m bench.rush [--doors 64] [--workers 1,2,4] [--concurrency 4,16,64]
                         [--seconds 20] [--out bench/RUSH.md]

(run from the project root in the benchmark environment, ``bench/.venv``, which has
DeepFace's API; ``--no-peer`` leaves it out.)

Each door is a lock of its own, with its own door key and its own granted person: a
person of the shared LFW half with three photos or more, enrolled over HTTP from the
first two; the door posts the third, made a 640x480 JPEG frame. Doors whose frame does
not open at set-up (the model refuses that owner) are skipped until ``--doors`` open.
One store serves every worker count. Each client thread is one door (thread i posts
door i modulo the doors) and keeps posting for ``--seconds``; unlocks per second count
the 200 answers, every one of which was an ``unlock`` at set-up; other answers are
counted by status (503: a worker's heavy slots stayed full past
``FACEID_HEAVY_WAIT_S``, 10 s by default; 0: no answer within 120 s).

DeepFace's API has no locks or grants: its nearest call to a door's check is
``POST /verify`` with the enrolled photo and the door's frame (Dlib model, OpenCV
detector), which embeds both on every call. Its ``/register`` and ``/search`` (faces
kept in a database given by ``DEEPFACE_CONNECTION_DETAILS``) would embed only the frame
but search everyone registered, not one door's people; they are not measured here.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import requests

from .context import ROOT, Results, Settings
from .load import LoadResult, Request, run_load
from .lock import api_key, door_request
from .machine import describe
from .peers import prepare_deepface_home
from .report import Row
from .server import HOST, Server, deepface_server, faceid_server
from .stats import ms

log = logging.getLogger("bench.rush")

FRAME = (640, 480)
PEER = "DeepFace API /verify (Dlib, opencv)"
ANSWER_TIMEOUT_S = 120.0  # the gunicorn timeout of both servers


@dataclass(frozen=True)
class Door:
    person: str
    enrolled: bytes  # the first photo, JPEG, as enrolled
    frame: bytes  # what the door posts
    request: Request  # the door's unlock: its frame and its key


def door_frame(photo: Path) -> bytes:
    """The photo (LFW: 250x250) scaled to the frame's height and widened with its own
    edges to 640x480, JPEG quality 90."""
    image = cv2.imread(str(photo))
    side = FRAME[1]
    square = cv2.resize(image, (side, side), interpolation=cv2.INTER_CUBIC)
    pad = (FRAME[0] - side) // 2
    frame = cv2.copyMakeBorder(square, 0, 0, pad, pad, cv2.BORDER_REPLICATE)
    return bytes(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])[1])


def candidates(shared: Path) -> Iterator[tuple[str, list[Path]]]:
    """People of the shared LFW half with three photos or more, their photos in order."""
    lfw = shared / "faces" / "lfw"
    found: dict[str, list[Path]] = {}
    with (lfw / "identities.csv").open() as fh:
        for row in csv.DictReader(fh):
            found.setdefault(row["identity"], []).append(lfw / row["path"])
    for person, paths in sorted(found.items()):
        if len(paths) >= 3:
            yield person, sorted(paths)


def set_up(server: Server, shared: Path, wanted: int, skipped: list[int]) -> list[Door]:
    """Enrol, lock, grant and key ``wanted`` doors over HTTP; each one's frame opens it
    (``skipped[0]`` counts the people left out)."""
    base = f"http://{HOST}:{server.port}/v1"
    admin = {"Authorization": f"Bearer {api_key(server, 'admin')}"}
    doors: list[Door] = []
    for person, paths in candidates(shared):
        sid = _post(f"{base}/subjects", admin, json={"name": person})["id"]
        files = [("images", (p.name, p.read_bytes())) for p in paths[:2]]
        enrolled = requests.post(
            f"{base}/subjects/{sid}/enrollments", files=files, headers=admin, timeout=120
        )
        if enrolled.status_code != 201:
            log.info("%s: enrolment refused (%s), skipped", person, enrolled.text[:100])
            skipped[0] += 1
            continue
        lock = _post(f"{base}/locks", admin, json={"name": person, "liveness": "off"})["id"]
        requests.put(f"{base}/locks/{lock}/grants/{sid}", headers=admin, timeout=60)
        key = _post(f"{base}/keys", admin, json={"scope": "unlock", "locks": [lock]})["key"]
        frame = door_frame(paths[2])
        request, check = door_request(server, lock, key, frame)
        if check.status_code != 200 or check.json().get("verdict") != "unlock":
            log.info("%s: the door frame does not open (%s), skipped", person, check.text[:80])
            skipped[0] += 1
            continue
        doors.append(Door(person, paths[0].read_bytes(), frame, request))
        if len(doors) == wanted:
            return doors
    raise RuntimeError(f"only {len(doors)} doors open with their owner's frame")


def _post(url: str, headers: dict[str, str], **kwargs: object) -> dict[str, str]:
    answer = requests.post(url, headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]
    answer.raise_for_status()
    return dict(answer.json())


def verify_request(door: Door) -> Request:
    """DeepFace's /verify of the door's frame against the enrolled photo (base64 JSON)."""
    payload = {
        "img1": "data:image/jpeg;base64," + base64.b64encode(door.enrolled).decode(),
        "img2": "data:image/jpeg;base64," + base64.b64encode(door.frame).decode(),
        "model_name": "Dlib",
        "detector_backend": "opencv",
    }
    return Request("POST", "/verify", json.dumps(payload).encode(), "application/json")


def verified(server: Server, request: Request) -> bool:
    """Whether DeepFace's answer to one /verify says the same person."""
    answer = requests.post(
        f"http://{HOST}:{server.port}{request.path}",
        data=request.body,
        headers={"Content-Type": request.content_type},
        timeout=ANSWER_TIMEOUT_S,
    )
    return answer.status_code == 200 and bool(answer.json().get("verified"))


def measure(
    server: Server, doors: list[Request], levels: list[int], seconds: float
) -> dict[int, LoadResult]:
    """Warm every worker, then each concurrency for ``seconds``."""
    warm = run_load(server.port, doors, server.worker_count * 2, server.worker_count * 6, 300)
    if warm.errors:
        raise RuntimeError(f"{server.name}: warm-up failed: {dict(warm.statuses)}")
    out = {}
    for level in levels:
        log.info("%s, %d workers: %d doors at once", server.name, server.worker_count, level)
        out[level] = run_load(server.port, doors, level, 10**9, seconds, ANSWER_TIMEOUT_S)
    return out


def others(result: LoadResult) -> str:
    """The answers that were not 200, by status ('none' when every answer was)."""
    found = sorted((s, n) for s, n in result.statuses.items() if s != 200)
    return ", ".join(f"{n} x {s or 'no answer'}" for s, n in found) or "none"


def row(name: str, workers: int, level: int, result: LoadResult, rss_mib: float) -> str:
    return (
        f"| {name} | {workers} | {level} | {result.rate:.1f} | {ms(result.pct(50))} | "
        f"{ms(result.pct(95))} | {ms(result.pct(99))} | {len(result.latencies)} | "
        f"{others(result)} | {rss_mib:.0f} |"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--doors", type=int, default=64)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", default="4,16,64")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--no-peer", action="store_true", help="faceid only")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    return parser.parse_args(argv)


@dataclass
class Run:
    """What one rush measured: the table's rows and what the set-up found."""

    shared: Path
    tmp: Path
    workers: list[int]
    levels: list[int]
    seconds: float
    rows: list[str] = field(default_factory=list)
    #: (server, workers, doors at once) -> the load's result and the workers' RSS, MiB
    found: dict[tuple[str, int, int], tuple[LoadResult, float]] = field(default_factory=dict)
    doors: list[Door] = field(default_factory=list)
    skipped: list[int] = field(default_factory=lambda: [0])
    peer_verified: int = -1

    def faceid(self, wanted: int) -> None:
        """faceid (default pipeline) with each worker count, on one store."""
        # the set-up writes about 5 x 80 times with one admin key in a minute, above the
        # default write rate per key (300/minute): the rush measures unlocks, not that
        data = {"FACEID_DATA_DIR": str(self.tmp / "data"), "FACEID_KEY_WRITE_RATE": "off"}
        for count in self.workers:
            with faceid_server(self.tmp, workers=count, **data) as server:
                server.wait_ready("/ready")
                self.doors = self.doors or set_up(server, self.shared, wanted, self.skipped)
                found = measure(server, [d.request for d in self.doors], self.levels, self.seconds)
                rss = sum(server.worker_rss_kib()) / 1024
            self.keep("faceid (default)", count, found, rss)

    def peer(self) -> None:
        """DeepFace's API with each worker count, on the same doors."""
        env = prepare_deepface_home(self.tmp / "deepface-home")
        verify = [verify_request(d) for d in self.doors]
        for count in self.workers:
            with deepface_server(self.tmp, env, workers=count) as server:
                server.wait_ready("/")
                self.peer_verified = sum(verified(server, r) for r in verify)
                found = measure(server, verify, self.levels, self.seconds)
                rss = sum(server.worker_rss_kib()) / 1024
            self.keep(PEER, count, found, rss)

    def keep(self, name: str, workers: int, found: dict[int, LoadResult], rss: float) -> None:
        for level, result in found.items():
            self.found[name, workers, level] = (result, rss)
            self.rows.append(row(name, workers, level, result, rss))

    def table(self) -> list[str]:
        found = f"Doors: {len(self.doors)}, each its own lock, key and person; people "
        found += f"skipped because faceid refused their door frame at set-up: {self.skipped[0]}."
        if self.peer_verified >= 0:
            found += f" DeepFace verified {self.peer_verified} of the doors' frames."
        return [
            "| server | workers | doors at once | unlocks/s | p50 | p95 | p99 | answered 200 "
            "| other answers | workers' RSS, MiB |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *self.rows,
            "",
            found,
            "",
            *describe(ROOT),
        ]


def add(settings: Settings, results: Results) -> None:
    """Item 8 of ``make bench``: the rush, small with ``--quick`` (4 doors, 2 workers, 4 at
    once, 3 s), else as ``python -m bench.rush`` runs it."""
    quick = settings.runs <= 3
    workers, levels = ([2], [4]) if quick else ([1, 2, 4], [4, 16, 64])
    run = Run(settings.shared, settings.tmp / "rush", workers, levels, 3.0 if quick else 20.0)
    run.tmp.mkdir(exist_ok=True)
    run.faceid(4 if quick else 64)
    run.peer()
    what = f"{len(run.doors)} doors, each its own lock, key and LFW person; 640x480 JPEG frames"
    for count in workers:
        for level in levels:
            ours, ours_rss = run.found["faceid (default)", count, level]
            peer, peer_rss = run.found[PEER, count, level]
            results.add(
                Row(
                    "8",
                    f"many doors unlocking at once: {level} doors, {count} workers, "
                    "default hog + dlib",
                    what,
                    f"{_load(ours)}; workers' RSS {ours_rss:.0f} MiB",
                    f"DeepFace API /verify (Dlib, opencv) of the enrolled photo and the "
                    f"frame: {_load(peer)}; workers' RSS {peer_rss:.0f} MiB",
                    f"{ours.rate / max(peer.rate, 1e-9):.1f}x (throughput)",
                )
            )


def _load(result: LoadResult) -> str:
    return (
        f"{result.rate:.1f}/s, p50 {ms(result.pct(50))}, p95 {ms(result.pct(95))}, "
        f"p99 {ms(result.pct(99))}; other answers: {others(result)}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    shared = Path(os.environ.get("FACEID_SHARED") or ROOT.parent / "shared")
    workers = [int(w) for w in args.workers.split(",")]
    levels = [int(c) for c in args.concurrency.split(",")]
    with tempfile.TemporaryDirectory(prefix="faceid-rush-") as tmp_name:
        run = Run(shared, Path(tmp_name), workers, levels, args.seconds)
        run.faceid(args.doors)
        if not args.no_peer:
            run.peer()
    text = "\n".join(run.table()) + "\n"
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
