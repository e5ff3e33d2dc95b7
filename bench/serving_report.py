"""Table rows and target facts for items 3 to 5 (video, HTTP load, worker memory)."""

from __future__ import annotations

from faceid.faces.models import CARDS

from .context import Results
from .load import LoadResult
from .report import Row
from .serving import COMPARE_LEVELS, EXTRACT_LEVELS, UNLOCK_LEVELS, Measured, Outcome
from .stats import mib, p50_p95, speedup
from .video import VideoRun

FRAME = "640x480 JPEG (centre of obama-480p.jpg)"
DEFAULT = "default hog + dlib"
ONNX = "yunet + arcface:mobilefacenet-arcface"


def _per_request(result: LoadResult) -> float:
    return 1.0 / result.rate if result.rate else float("nan")


def video_rows(out: Outcome, results: Results) -> None:
    for clip in out.clips:
        peer = out.video_peer[clip.name]
        peer_text = (
            f"face_recognition in-process on the same {peer.sampled} frames "
            f"(OpenCV decode): {p50_p95(peer.timings)}; {peer.used} with a face"
        )
        runs = [(DEFAULT, out.default.videos[clip.name])]
        if clip.name in out.onnx.videos:
            runs.append((ONNX, out.onnx.videos[clip.name]))
        for label, run in runs:
            _check_consistency(results, clip.name, label, run)
            results.add(
                Row(
                    "3",
                    f"video enrolment over HTTP (POST /extract_embeddings_from_video), {label}",
                    clip.label,
                    f"{p50_p95(run.timings)}; {run.frames()}, "
                    f"consistency {run.body['consistency']}",
                    peer_text,
                    speedup(peer.timings.p50, run.timings.p50),
                )
            )
    results.facts["video5_p50"] = out.default.videos["hamilton-5s"].timings.p50
    results.facts["video5_onnx_p50"] = out.onnx.videos["hamilton-5s"].timings.p50
    results.facts["video5_peer_p50"] = out.video_peer["hamilton-5s"].timings.p50


def _check_consistency(results: Results, clip: str, label: str, run: VideoRun) -> None:
    """Say so when a clip's frames disagree more than the model's own match threshold."""
    threshold = getattr(CARDS.get(str(run.body["model"])), "threshold", None)
    consistency = float(run.body["consistency"])
    if threshold is not None and consistency < threshold:
        results.notes.append(
            f"item 3: {clip} with {label}: consistency {consistency} is below the model's "
            f"match threshold {threshold}, so at least one kept frame does not match the "
            "template (another face, or a poor frame); the timing stands, the template is "
            "doubtful."
        )


def compare_rows(out: Outcome, results: Results) -> None:
    for level in COMPARE_LEVELS:
        ours, peer = out.default.compare[level], out.peer.compare[level]
        results.add(
            Row(
                "4",
                f"POST /compare_embeddings, concurrency {level}",
                "two 128-d dlib vectors, JSON",
                f"{ours.summary()}; {ours.connections} TCP connections opened",
                f"DeepFace API POST /verify (same vectors, Dlib): {peer.summary()}",
                speedup(_per_request(peer), _per_request(ours)) + " (throughput)",
            )
        )


def extract_rows(out: Outcome, results: Results) -> None:
    runs = [(DEFAULT, out.default, EXTRACT_LEVELS), (ONNX, out.onnx, (1,))]
    for label, measured, levels in runs:
        for level in levels:
            ours = measured.extract["faceid"][level]
            peers = {b: r[level] for b, r in out.peer.extract.items()}
            results.add(
                Row(
                    "4",
                    f"POST /extract_embeddings_from_image, concurrency {level}, {label}",
                    FRAME,
                    ours.summary(),
                    "DeepFace API POST /represent (Dlib): "
                    + "; ".join(f"detector {b}: {r.summary()}" for b, r in peers.items()),
                    ", ".join(
                        f"{speedup(_per_request(r), _per_request(ours))} vs {b}"
                        for b, r in peers.items()
                    )
                    + " (throughput)",
                )
            )
    results.facts["extract_p50_c1"] = out.default.extract["faceid"][1].pct(50)
    results.facts["extract_onnx_p50_c1"] = out.onnx.extract["faceid"][1].pct(50)


def unlock_rows(out: Outcome, results: Results) -> None:
    """Unlock has no DeepFace counterpart; its nearest call, /represent, is the peer."""
    runs = [(DEFAULT, out.default, UNLOCK_LEVELS), (ONNX, out.onnx, (1,))]
    for label, measured, levels in runs:
        for level in levels:
            ours = measured.unlock[level]
            peers = {b: r[level] for b, r in out.peer.extract.items() if level in r}
            results.add(
                Row(
                    "4",
                    f"POST /v1/locks/{{id}}/unlock (1 frame, 1 granted subject), "
                    f"concurrency {level}, {label}",
                    FRAME,
                    ours.summary(),
                    "DeepFace has no unlock; its POST /represent (Dlib), which only embeds: "
                    + "; ".join(f"detector {b}: {r.summary()}" for b, r in peers.items())
                    if peers
                    else "not measured at this concurrency",
                    ", ".join(
                        f"{speedup(_per_request(r), _per_request(ours))} vs {b}"
                        for b, r in peers.items()
                    )
                    + " (throughput)"
                    if peers
                    else "—",
                )
            )
    results.facts["unlock_p50_c1"] = out.default.unlock[1].pct(50)
    results.facts["unlock_onnx_p50_c1"] = out.onnx.unlock[1].pct(50)


def _rss(measured: Measured) -> str:
    each = ", ".join(mib(k) for k in measured.rss_kib)
    tf = "yes" if measured.tensorflow else "no"
    return f"max {mib(max(measured.rss_kib))} (workers: {each}); TensorFlow mapped: {tf}"


def memory_rows(out: Outcome, results: Results) -> None:
    peer = max(out.peer.rss_kib)
    peer_text = "DeepFace API worker (Dlib; opencv + dlib detectors), after the same load: " + _rss(
        out.peer
    )
    for label, measured in ((DEFAULT, out.default), (ONNX, out.onnx)):
        results.add(
            Row(
                "5",
                f"RSS (VmRSS) of one warmed gunicorn worker, {label}",
                "after the HTTP load above",
                _rss(measured),
                peer_text,
                speedup(peer, max(measured.rss_kib)),
            )
        )
    results.facts["rss_default_kib"] = max(out.default.rss_kib)
    results.facts["rss_onnx_kib"] = max(out.onnx.rss_kib)
    results.facts["tf_default"] = float(out.default.tensorflow)


def add(out: Outcome, results: Results) -> None:
    video_rows(out, results)
    compare_rows(out, results)
    extract_rows(out, results)
    unlock_rows(out, results)
    memory_rows(out, results)
