"""Identify over ten million templates with FAISS's compact index, one copy per host.

    python bench/ann.py [--templates 10000000] [--queries 1000] [--workers 1,2,4]
                        [--nprobe 16,32,64,128] [--out bench/ANN.md]

This measures the engine an index of issue 25's size would run on, on this machine; the
service does not use it yet (its workers keep exact float32 matrices: see README's
"Store").

The gallery: no store here holds 1e7 real faces, so it is drawn from the distribution of
real ones. The dlib embeddings of the shared LFW half (hog + dlib, cached by
``bench/lfw_levels.py``) give the mean and covariance of people's centres (a person's
mean photo) and of a photo around its person's centre; each synthetic person is a
centre drawn from the first with five templates around it from the second, unit length
after (so 1e7 templates are 2e6 people), and each query is another draw of an enrolled
person: a new photo of them at a door.

The index: an inverted file of ``--lists`` lists with 8-bit scalar quantisation (128
bytes a template), written to a file that each worker process maps
(``faiss.IO_FLAG_MMAP_IFC``), so the host's page cache holds one copy whatever the
worker count. A search probes ``nprobe`` lists and re-ranks the best 64 quantised
candidates exactly on their float32 vectors, read by row from a file here (``pread``:
64 reads of 512 bytes a query, from the kernel's page cache once read) as a service
would fetch them from its store by template id; they are not part of the index.
Recall@1: the subject of the index's best template is exact search's (one float32
matrix product over every template). Memory: each worker's RSS and PSS
(``/proc/<pid>/smaps_rollup``: a shared page counts 1/n in each of the n processes
mapping it) after its queries; the index's memory on the host is the sum over the
workers of their PSS growth from before mapping the index to after the queries. One
thread per worker, as gunicorn.conf.py sets.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import tables  # noqa: E402
from bench.lfw_levels import embed_set  # noqa: E402

log = logging.getLogger("bench.ann")

PER_PERSON = 5
RERANK = 64
CHUNK = 500_000
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


def build(vectors: np.ndarray, lists: int, path: Path) -> float:
    """An IVF-SQ8 index (inner product) of ``vectors`` written to ``path``; seconds taken."""
    import faiss

    started = time.perf_counter()
    quantizer = faiss.IndexFlatIP(vectors.shape[1])
    index = faiss.IndexIVFScalarQuantizer(
        quantizer,
        vectors.shape[1],
        lists,
        faiss.ScalarQuantizer.QT_8bit,
        faiss.METRIC_INNER_PRODUCT,
    )
    sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), lists * 64), False)
    index.train(np.ascontiguousarray(vectors[np.sort(sample)]))
    for start in range(0, len(vectors), CHUNK):
        index.add(np.ascontiguousarray(vectors[start : start + CHUNK]))
        log.info("indexed %d of %d", min(start + CHUNK, len(vectors)), len(vectors))
    faiss.write_index(index, str(path))
    return time.perf_counter() - started


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
    """This process's Rss and Pss, KiB."""
    found = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            found[name] = int(rest.split()[0])
    return found


def fetch(store: int, offset: int, rows: np.ndarray, dim: int) -> np.ndarray:
    """The float32 vectors of ``rows``, read from the file by row (as a store gives
    templates by id): the pages go to the kernel's cache, not into the worker."""
    size = dim * 4
    parts = [os.pread(store, size, offset + int(row) * size) for row in rows]
    return np.frombuffer(b"".join(parts), np.float32).reshape(len(rows), dim)


def worker(job: dict, barrier, answers) -> None:  # type: ignore[no-untyped-def]
    """One worker: map the index and the vectors, answer every query at each nprobe
    (latency per query), then report its memory while every worker still maps them."""
    import faiss

    faiss.omp_set_num_threads(1)
    before = memory_kib()
    index = faiss.read_index(str(job["index"]), faiss.IO_FLAG_MMAP_IFC)
    store = os.open(job["vectors"], os.O_RDONLY)
    out: dict[int, tuple[list[float], list[int]]] = {}
    for nprobe in job["nprobes"]:
        index.nprobe = nprobe
        seconds, subjects = [], []
        for q in job["queries"]:
            started = time.perf_counter()
            _, found = index.search(q[None], RERANK)
            rows = np.sort(found[0][found[0] >= 0])
            best = int(rows[np.argmax(fetch(store, job["offset"], rows, len(q)) @ q)])
            seconds.append(time.perf_counter() - started)
            subjects.append(best // PER_PERSON)
        out[nprobe] = (seconds, subjects)
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


def sweep(job: dict, workers: list[int], nprobes: list[int], truth: np.ndarray) -> list[str]:  # type: ignore[type-arg]
    """Rows of the table: every nprobe with the first worker count, then the smallest
    nprobe reaching 99.9% recall (or the largest) with the others."""
    rows, chosen = [], None
    for count in workers:
        tried = nprobes if chosen is None else [chosen]
        found = run_workers({**job, "nprobes": tried}, count)
        grown = sum(mem["Pss"] for _, mem, _ in found) / 1024
        pss = sum(mem["Pss"] for _, _, mem in found) / 1024
        rss = ", ".join(f"{mem['Rss'] / 1024:.0f}" for _, _, mem in found)
        for nprobe in tried:
            seconds = [s for out, _, _ in found for s in out[nprobe][0]]
            recall = float(np.mean(np.array(found[0][0][nprobe][1]) == truth))
            if chosen is None and recall >= 0.999:
                chosen = nprobe
            rows.append(
                f"| {len(job['queries'])} | {count} | {nprobe} | {recall:.2%} | "
                f"{np.percentile(seconds, 50) * 1000:.1f} ms | "
                f"{np.percentile(seconds, 95) * 1000:.1f} ms | {grown:.0f} MiB | {pss:.0f} MiB | "
                f"{rss} MiB |"
            )
            log.info(rows[-1])
        chosen = chosen or tried[-1]
    return rows


def main() -> None:
    options = tables.parser(__doc__, detectors=False)
    options.add_argument("--templates", type=int, default=10_000_000)
    options.add_argument("--queries", type=int, default=1000)
    options.add_argument("--lists", type=int, default=4096)
    options.add_argument("--nprobe", default="16,32,64,128")
    options.add_argument("--workers", default="1,2,4")
    options.add_argument("--cache", type=Path, default=Path(__file__).parent / ".cache")
    args = tables.start(options)
    model = fitted(args.cache)
    with tempfile.TemporaryDirectory(prefix="faceid-ann-") as tmp_name:
        tmp = Path(tmp_name)
        centres = draw_gallery(model, args.templates, tmp / "vectors.npy", seed=7)
        queries = draw_queries(model, centres, args.queries, seed=7)
        vectors = np.load(tmp / "vectors.npy", mmap_mode="r")
        started = time.perf_counter()
        truth = exact(vectors, queries) // PER_PERSON
        exact_s = (time.perf_counter() - started) / len(queries)
        built = build(vectors, args.lists, tmp / "index.faiss")
        size = (tmp / "index.faiss").stat().st_size
        job = {
            "index": tmp / "index.faiss",
            "vectors": tmp / "vectors.npy",
            "offset": vectors.offset,
            "queries": queries,
        }
        del vectors
        workers = [int(w) for w in args.workers.split(",")]
        rows = sweep(job, workers, [int(p) for p in args.nprobe.split(",")], truth)
    lines = [
        "| queries | workers querying at once | nprobe | recall@1 | p50 | p95 "
        "| the index's memory on the host (sum of the workers' PSS growth) "
        "| whole workers (sum of PSS) | each worker's RSS |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Templates: {args.templates:,} ({args.templates // PER_PERSON:,} people). Index: "
        f"IVF{args.lists},SQ8 (inner product), {size / 2**20:.0f} MiB on disk, built in "
        f"{built:.0f} s on 2 cores; re-rank of the best {RERANK} on float32. Exact search "
        f"(the recall's reference): {exact_s * 1000:.0f} ms a query, 2 cores, batched.",
    ]
    tables.emit(lines, args.out)


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    main()
