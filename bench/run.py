"""Run every benchmark item and write bench/RESULTS.md (``make bench``).

    python -m bench.run [--quick] [--out bench/RESULTS.md]

Progress goes to stderr through ``logging``; the one results table goes to stdout
and, with the machine description, method and targets, to ``--out``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from faceid.research.evaluate import read_pairs

from . import (
    ann,
    embed,
    frame,
    identify,
    peers,
    rush,
    serving,
    serving_report,
    targets,
    verify,
)
from .context import ROOT, Results, Settings, models_view
from .machine import describe, other_opencv
from .report import document, table

log = logging.getLogger("bench")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--pairs", type=int, default=40, help="master.csv pairs for item 2")
    parser.add_argument("--quick", action="store_true", help="few repetitions (a smoke test)")
    return parser.parse_args(argv)


def make_settings(args: argparse.Namespace, shared: Path, tmp: Path) -> Settings:
    if args.quick:
        return Settings(
            shared,
            tmp,
            runs=3,
            peer_runs=2,
            warmup=1,
            pairs=min(args.pairs, 4),
            video_runs=2,
            peer_video_runs=1,
            requests=60,
            extract_requests=8,
        )
    return Settings(shared, tmp, pairs=args.pairs)


def method(s: Settings) -> list[str]:
    pairs = read_pairs(s.deepface_dir / "master.csv")
    same = sum(p.same for p in pairs)
    return [
        f"- In-process timings: {s.warmup} untimed warm-up runs, then {s.runs} timed runs for "
        f"faceid and {s.peer_runs} for each peer (1 warm-up); p50/p95 are over the timed runs.",
        "- Every peer is measured in the same run, on the same files or bytes; the last column "
        "is peer cost / faceid cost (time, time per request, or memory).",
        "- Item 1: JPEG file to embedding of the largest face (decode + detect + align + embed). "
        "faceid detects on a copy at most 640 px on its longer side (its default); the peers "
        "detect at full size (their defaults). FR = face_recognition.face_encodings, DF-dlib / "
        "DF-opencv = DeepFace.represent(model_name='Dlib') with that detector_backend.",
        f"- Item 2: a balanced subset of {s.pairs} master.csv pairs (the list has {same} same / "
        f"{len(pairs) - same} different), because DeepFace.verify takes seconds per pair; "
        "faceid makes 3 passes (the median pass is reported), DeepFace one, each after a "
        "warm-up.",
        f"- Items 3-5 and 7: gunicorn as `make run` starts it (gunicorn.conf.py: 2 gevent "
        f"workers) on 127.0.0.1, loaded by a Python client (threads, http.client keep-alive; "
        f"a closed connection is reopened and counted). {s.requests} requests per level for "
        f"compare, {s.extract_requests} for extract, capped at {s.time_cap_s:.0f} s a level; "
        "each server is warmed first. The client shares the 2 cores with the server.",
        f"- Video: {s.video_runs} timed requests after one warm-up; peer {s.peer_video_runs} "
        "timed runs after one warm-up.",
        "- RSS is VmRSS from /proc/<pid>/status of each gunicorn worker after the load.",
        "- Unlock: obama enrolled from two photos and granted one lock over HTTP first; the "
        "door posts the 640x480 frame with an unlock-scope key; every timed request unlocked.",
        "- Item 6: templates written to each store in one transaction, the worker index loaded "
        "from it, then the request path timed (change-counter read + search); one BLAS thread, "
        "as gunicorn.conf.py sets for workers. RSS per template is the process's VmRSS growth "
        "while the index loads.",
        "- Item 7: the 640x480 frame, one request or call per party per round, all parties "
        f"in one loop ({s.runs} rounds after 4 warm-up calls each): faceid's servers over HTTP "
        "(all faces), the peers in-process on the same JPEG bytes, decode included.",
        '- Item 8: as `python -m bench.rush` (README, "Many doors at once"): doors set up '
        "over HTTP, each its own lock, key and LFW person; each client thread is one door and "
        "posts for "
        + ("3 s" if s.runs <= 3 else "20 s")
        + " at each concurrency; the peer is DeepFace's API /verify with the same workers.",
        "- Item 9: as `python bench/ann.py` (bench/ANN.md): "
        + ("50,000" if s.runs <= 3 else "10,000,000")
        + " templates drawn from the LFW half's dlib embeddings in a SQLite store, the host "
        "index built from it by the service's code, each worker process calling "
        "IndexCache.get(org).best(query) as an identify request does (counter read, index "
        "candidates, re-rank of the best 64 read from the store); recall@1 against exact "
        "search; the index's memory on the host is its files (in shared memory, once per "
        "host) plus the workers' anonymous memory growth.",
    ]


def collect(settings: Settings, deepface_env: dict[str, str]) -> Results:
    results = Results()
    log.info("item 1: embed one image")
    embed.run(settings, results)
    log.info("item 2: 1:1 verify")
    verify.run(settings, results)
    log.info("items 3-5: video, HTTP load, memory")
    serving_report.add(serving.run(settings, results, deepface_env), results)
    log.info("item 7: one frame over HTTP against the peers, interleaved")
    frame.run(settings, results)
    log.info("item 6: identify over synthetic galleries, SQLite and PostgreSQL")
    sizes = [1000, 10000] if settings.runs <= 3 else [1000, 10_000, 100_000, 1_000_000]
    identify.add(identify.run(sizes, ["sqlite", "postgres"], runs=settings.runs), results)
    log.info("item 8: many doors unlocking at once, against DeepFace's API")
    rush.add(settings, results)
    log.info("item 9: identify over ten million templates through the host index")
    ann.add(settings, results)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s"
    )
    shared = Path(os.environ.get("FACEID_SHARED") or ROOT.parent / "shared").resolve()
    if not (shared / "faces").is_dir():
        log.error("shared faces not found at %s (set FACEID_SHARED)", shared)
        return 2
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="faceid-bench-") as tmp_name:
        tmp = Path(tmp_name)
        deepface_env = peers.prepare_deepface_home(tmp / "deepface-home")
        os.environ.update(deepface_env)
        os.environ.update(
            {"FACEID_MODELS_DIR": str(models_view(shared)), "FACEID_ALLOW_DOWNLOAD": "0"}
        )
        settings = make_settings(args, shared, tmp)
        results = collect(settings, deepface_env)
        results.notes += [f"a second OpenCV wheel is installed: {w}" for w in other_opencv()]
        judged = targets.judge(results)
    rows = results.ordered()
    text = document(
        rows,
        describe(ROOT),
        method(settings),
        judged,
        results.notes,
        time.perf_counter() - started,
    )
    args.out.write_text(text)
    log.info("wrote %s", args.out)
    sys.stdout.write(table(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
