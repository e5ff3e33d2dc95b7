"""Identify over ten million templates the way a faceid worker does, one index per host.

    python bench/ann.py [--templates 10000000] [--queries 1000] [--workers 1,2,4]
                        [--nprobe 16,32,64,128] [--out bench/ANN.md]

Item 9 of ``make bench`` runs it (``--quick``: 50,000 templates). It measures the
service's own code: a SQLite store holding the templates, the host index built from that
store by ``faceid.lock.approx.build_host_index`` (what ``faceid index build`` and a
worker's background build run) into a folder in shared memory, and in each worker
process ``IndexCache.get(org).best(query)``, the call an identify request makes: the
change-counter read, the index's candidates (``nprobe`` cells probed, FAISS), the best
64 read from the store by template id and re-ranked exactly on their float32 vectors.

The gallery: no store here holds 1e7 real faces, so it is drawn from the distribution of
real ones. The dlib embeddings of the shared LFW half (hog + dlib, cached by
``bench/lfw_levels.py``) give the mean and covariance of people's centres (a person's
mean photo) and of a photo around its person's centre; each synthetic person is a
centre drawn from the first with five templates around it from the second, unit length
after (so 1e7 templates are 2e6 people), and each query is another draw of an enrolled
person: a new photo of them at a door. The store is filled with plain SQL in the store's
own schema (``add_templates``, one transaction a subject, would take about 20 minutes
for 1e7), unencrypted.

Recall@1: the subject found is the subject of exact search's best template (one float32
matrix product over every template). Memory on the host: the index's files (in shared
memory, so counted once however many workers map them) plus the sum of the workers'
anonymous memory growth (``/proc/<pid>/smaps_rollup``) from before opening the index to
after the queries. One thread per worker, as gunicorn.conf.py sets.
"""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import tables  # noqa: E402
from bench.context import Results  # noqa: E402
from bench.lfw_levels import embed_set  # noqa: E402
from bench.report import Row  # noqa: E402
from bench.stats import ms  # noqa: E402
from faceid.lock.ann import NPROBE, Shelf  # noqa: E402
from faceid.lock.approx import RERANK, ApproxGallery, build_host_index  # noqa: E402
from faceid.lock.cache import IndexCache  # noqa: E402
from faceid.store import SqliteStore  # noqa: E402

log = logging.getLogger("bench.ann")

PER_PERSON = 5
CHUNK = 500_000
MODEL = "synthetic-128"
EXACT_CHUNK = 100_000  # templates per product in exact search: 100k x 1000 queries, 400 MB


def fitted(cache: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean of centres, a factor of the centres' covariance and one of a photo's spread
    around its centre, from the shared LFW half's dlib embeddings."""
    photos = embed_set("hog", "dlib", True, cache)
    people = np.unique(photos.people)
    centres = np.stack([photos.vectors[photos.people == p].mean(axis=0) for p in people])
    spread = np.concatenate(
        [
            photos.vectors[photos.people == p] - centres[i]
            for i, p in enumerate(people)
            if (photos.people == p).sum() >= 2
        ]
    )
    return centres.mean(axis=0), _factor(np.cov(centres.T)), _factor(np.cov(spread.T))


def _factor(cov: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(cov)
    return (vectors * np.sqrt(np.clip(values, 0, None))).astype(np.float32)


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def draw_gallery(
    model: tuple[np.ndarray, np.ndarray, np.ndarray], n: int, path: Path, seed: int
) -> np.ndarray:
    """``n`` templates (``n / 5`` people) into a float32 file at ``path``; returns the
    people's centres (to draw the queries from)."""
    mean, between, within = model
    rng = np.random.default_rng(seed)
    people = n // PER_PERSON
    centres = mean + rng.standard_normal((people, len(mean)), np.float32) @ between.T
    out = np.lib.format.open_memmap(path, "w+", np.float32, (people * PER_PERSON, len(mean)))
    for start in range(0, people, CHUNK // PER_PERSON):
        part = centres[start : start + CHUNK // PER_PERSON]
        noise = rng.standard_normal((len(part) * PER_PERSON, len(mean)), np.float32) @ within.T
        rows = slice(start * PER_PERSON, (start + len(part)) * PER_PERSON)
        out[rows] = unit(np.repeat(part, PER_PERSON, axis=0) + noise)
    out.flush()
    return centres.astype(np.float32)


def draw_queries(
    model: tuple[np.ndarray, np.ndarray, np.ndarray], centres: np.ndarray, n: int, seed: int
) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    who = rng.choice(len(centres), n, replace=False)
    noise = rng.standard_normal((n, centres.shape[1]), np.float32) @ model[2].T
    return unit(centres[who] + noise)


def exact(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """The best template of each query over every template (float32 products, in chunks)."""
    best = np.full(len(queries), -np.inf, np.float32)
    arg = np.zeros(len(queries), np.int64)
    for start in range(0, len(vectors), EXACT_CHUNK):
        sims = np.asarray(vectors[start : start + EXACT_CHUNK]) @ queries.T
        top = sims.argmax(axis=0)
        value = sims[top, np.arange(len(queries))]
        better = value > best
        best[better], arg[better] = value[better], top[better] + start
    return arg


def memory_kib() -> dict[str, int]:
    """This process's Rss, Pss and Anonymous, KiB."""
    found = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss", "Anonymous"):
            found[name] = int(rest.split()[0])
    return found


def fill_store(vectors: np.ndarray, path: Path) -> str:
    """A SQLite store at ``path`` holding ``vectors`` as one organisation's templates
    (template ``face_<row>``, subject ``sub_<person>``, in id order); returns its id."""
    store = SqliteStore(path)
    store.migrate()
    org = store.ensure_org("bench-ann")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    now = time.time()
    for start in range(0, len(vectors), CHUNK):
        part = np.asarray(vectors[start : start + CHUNK])
        rows = range(start, start + len(part))
        conn.executemany(
            "INSERT INTO subjects (id, org_id, name, metadata, created_at) VALUES (?,?,?,?,?)",
            [(f"sub_{r // PER_PERSON:016x}", org.id, "", "{}", now) for r in rows[::PER_PERSON]],
        )
        conn.executemany(
            "INSERT INTO templates (id, org_id, subject_id, model_id, dim, vector, encrypted, "
            "quality, source, created_at, version) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    f"face_{r:016x}",
                    org.id,
                    f"sub_{r // PER_PERSON:016x}",
                    MODEL,
                    part.shape[1],
                    part[r - start].tobytes(),
                    0,
                    1.0,
                    "synthetic",
                    now,
                    0,
                )
                for r in rows
            ],
        )
        conn.commit()
        log.info("stored %d of %d", start + len(part), len(vectors))
    conn.execute("UPDATE orgs SET version = 1 WHERE id = ?", (org.id,))
    conn.commit()
    conn.close()
    return org.id


def worker(job: dict, barrier, answers) -> None:  # type: ignore[no-untyped-def]
    """One worker: open the store and the host's index as a worker does, answer every
    query at each nprobe (latency per call), then report its memory while every worker
    still maps the index."""
    import faiss

    faiss.omp_set_num_threads(1)
    before = memory_kib()
    cache = IndexCache(SqliteStore(job["db"]), Shelf(job["root"]), approx_from=1)
    gallery = cache.get(job["org"])
    assert isinstance(gallery, ApproxGallery), "the host index is not in force"
    out: dict[int, tuple[list[float], list[int]]] = {}
    for nprobe in job["nprobes"]:
        gallery.host.index.nprobe = nprobe
        seconds, people = [], []
        for q in job["queries"]:
            started = time.perf_counter()
            hit = cache.get(job["org"]).best(q)
            seconds.append(time.perf_counter() - started)
            people.append(int(hit.subject_id[4:], 16) if hit else -1)
        out[nprobe] = (seconds, people)
    barrier.wait()
    after = memory_kib()
    answers.put((out, {k: after[k] - before[k] for k in after}, after))
    barrier.wait()


def run_workers(job: dict, count: int) -> list[tuple[dict, dict[str, int], dict[str, int]]]:  # type: ignore[type-arg]
    ctx = multiprocessing.get_context("spawn")
    barrier, answers = ctx.Barrier(count), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(job, barrier, answers)) for _ in range(count)]
    for proc in procs:
        proc.start()
    found = [answers.get() for _ in procs]
    for proc in procs:
        proc.join()
    return found


@dataclass(frozen=True)
class Measured:
    """One worker count at one nprobe."""

    workers: int
    nprobe: int
    recall: float
    p50: float
    p95: float
    host_mib: float  # the index's files + the workers' anonymous growth
    anon_mib: float
    rss_mib: list[float]


@dataclass(frozen=True)
class Report:
    templates: int
    queries: int
    lists: int
    files_mib: float
    built_s: float
    fill_s: float
    exact_s: float
    rows: list[Measured]


def sweep(
    job: dict, workers: list[int], nprobes: list[int], truth: np.ndarray, files_mib: float
) -> list[Measured]:  # type: ignore[type-arg]
    """Every nprobe with the first worker count, then the service's own with the others."""
    rows = []
    for count in workers:
        tried = nprobes if not rows else [NPROBE]
        found = run_workers({**job, "nprobes": tried}, count)
        anon = sum(mem["Anonymous"] for _, mem, _ in found) / 1024
        for nprobe in tried:
            seconds = [s for out, _, _ in found for s in out[nprobe][0]]
            rows.append(
                Measured(
                    count,
                    nprobe,
                    float(np.mean(np.array(found[0][0][nprobe][1]) == truth)),
                    float(np.percentile(seconds, 50)),
                    float(np.percentile(seconds, 95)),
                    files_mib + anon,
                    anon,
                    [mem["Rss"] / 1024 for _, _, mem in found],
                )
            )
            log.info("%s", rows[-1])
    return rows


def measure(
    templates: int, queries: int, workers: list[int], nprobes: list[int], cache: Path
) -> Report:
    """Draw, store, index and query ``templates``; the figures of every worker count."""
    model = fitted(cache)
    shm = Path("/dev/shm")
    with (
        tempfile.TemporaryDirectory(prefix="faceid-ann-") as tmp_name,
        tempfile.TemporaryDirectory(
            prefix="faceid-ann-", dir=shm if shm.is_dir() else None
        ) as root_name,
    ):
        tmp, root = Path(tmp_name), Path(root_name)
        centres = draw_gallery(model, templates, tmp / "vectors.npy", seed=7)
        asked = draw_queries(model, centres, queries, seed=7)
        vectors = np.load(tmp / "vectors.npy", mmap_mode="r")
        started = time.perf_counter()
        truth = exact(vectors, asked) // PER_PERSON
        exact_s = (time.perf_counter() - started) / queries
        started = time.perf_counter()
        org = fill_store(vectors, tmp / "store.sqlite")
        fill_s = time.perf_counter() - started
        del vectors
        (tmp / "vectors.npy").unlink()
        manifest = build_host_index(SqliteStore(tmp / "store.sqlite"), Shelf(root), org)
        assert manifest is not None
        files = sum(f.stat().st_size for f in (root / org).glob("v*")) / 2**20
        job = {"db": tmp / "store.sqlite", "root": root, "org": org, "queries": asked}
        rows = sweep(job, workers, nprobes, truth, files)
    return Report(
        templates, queries, manifest.lists, files, manifest.seconds, fill_s, exact_s, rows
    )


def lines(report: Report) -> list[str]:
    """The table of ``bench/ANN.md``."""
    out = [
        "| queries | workers querying at once | nprobe | recall@1 | p50 | p95 "
        "| the index's memory on the host (files + workers' anonymous growth) "
        "| each worker's RSS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report.rows:
        rss = ", ".join(f"{m:.0f}" for m in r.rss_mib)
        out.append(
            f"| {report.queries} | {r.workers} | {r.nprobe} | {r.recall:.2%} | {ms(r.p50)} | "
            f"{ms(r.p95)} | {r.host_mib:.0f} MiB ({report.files_mib:.0f} + {r.anon_mib:.0f}) "
            f"| {rss} MiB |"
        )
    return [*out, "", _about(report)]


def _about(report: Report) -> str:
    return (
        f"Templates: {report.templates:,} ({report.templates // PER_PERSON:,} people) in a "
        f"SQLite store (filled in {report.fill_s:.0f} s). Host index: IVF{report.lists},SQ8 "
        f"(inner product), {report.files_mib:.0f} MiB of files with the template ids, built "
        f"from the store in {report.built_s:.0f} s on 2 cores; the service probes {NPROBE} "
        f"cells and re-ranks the best {RERANK} from the store. Exact search (the recall's "
        f"reference): {ms(report.exact_s)} a query, 2 cores, batched."
    )


def _times(ratio: float) -> str:
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


def add(settings: Any, results: Results) -> None:
    """Item 9 of ``make bench``: 1e7 templates (``--quick``: 50,000) through the service's
    index; the target's figures when the gallery is 1e7 or more."""
    quick = settings.runs <= 3
    report = measure(
        50_000 if quick else 10_000_000,
        200 if quick else 1000,
        [1, 2] if quick else [1, 2, 4],
        [NPROBE] if quick else [16, 32, 64, 128],
        Path(__file__).parent / ".cache",
    )
    for r in report.rows:
        results.add(
            Row(
                "9",
                f"identify (1:N) over {report.templates:,} templates through the host index, "
                f"{r.workers} worker{'s' if r.workers > 1 else ''} querying, nprobe {r.nprobe}",
                "synthetic 128-d templates drawn from the LFW half's dlib embeddings, 5 a "
                "person, in a SQLite store",
                f"p50 {ms(r.p50)}, p95 {ms(r.p95)}; recall@1 {r.recall:.2%}; the index's "
                f"memory on the host {r.host_mib:.0f} MiB",
                f"exact search over the same float32 vectors (NumPy, batched, 2 cores): "
                f"{ms(report.exact_s)} a query; a worker holding them whole: "
                f"{report.templates * 512 / 2**20:.0f} MiB",
                _times(report.exact_s / r.p50),
            )
        )
    served = [r for r in report.rows if r.nprobe == NPROBE]
    if report.templates >= 10_000_000 and served:
        results.facts["ann_1e7_p50"] = max(r.p50 for r in served)
        results.facts["ann_1e7_recall"] = min(r.recall for r in served)
        results.facts["ann_1e7_host_mib"] = max(r.host_mib for r in served)
    results.texts["ann_about"] = _about(report)


def main() -> None:
    options = tables.parser(__doc__, detectors=False)
    options.add_argument("--templates", type=int, default=10_000_000)
    options.add_argument("--queries", type=int, default=1000)
    options.add_argument("--nprobe", default="16,32,64,128")
    options.add_argument("--workers", default="1,2,4")
    options.add_argument("--cache", type=Path, default=Path(__file__).parent / ".cache")
    args = tables.start(options)
    report = measure(
        args.templates,
        args.queries,
        [int(w) for w in args.workers.split(",")],
        [int(p) for p in args.nprobe.split(",")],
        args.cache,
    )
    tables.emit(lines(report), args.out)


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    main()
