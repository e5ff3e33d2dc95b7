"""Video frames are detected on both cores inside gunicorn's gevent workers too.

A gevent worker monkey-patches ``threading``: a standard ``ThreadPoolExecutor`` then runs
its "threads" as greenlets of one OS thread, and HOG's two scanners take turns instead of
running together. These tests run the sampling in a process gevent has patched, as
gunicorn's worker is, and check which OS threads did the detecting.
"""

from __future__ import annotations

import json
import subprocess
import sys

from faceid.faces.media import VideoLimits
from faceid.faces.sampling import video_faces

from .conftest import EXAMPLES, MODELS_DIR, ROOT, load_pipeline, needs_faces, pipeline_config

CLIP = EXAMPLES / "short_hamilton_clip.mp4"

SCRIPT = """
from gevent import monkey

monkey.patch_all()

import json, sys, threading
from pathlib import Path

from faceid.faces.media import VideoLimits
from faceid.faces.pipeline import Pipeline, PipelineConfig
from faceid.faces.sampling import video_faces

pipe = Pipeline.load(PipelineConfig(models_dir=Path(sys.argv[2]), allow_download=False))
threads = set()
detect = pipe.detector.detect


def recording(*args, **kwargs):
    threads.add(threading.get_native_id())
    return detect(*args, **kwargs)


pipe.detector.detect = recording
kept, sampled = video_faces(pipe, Path(sys.argv[1]).read_bytes(), VideoLimits(), {})
print(json.dumps({
    "threads": len(threads),
    "hub": threading.get_native_id() in threads,
    "sampled": sampled,
    "boxes": [[k.index, *k.face.xywh()] for k in kept],
}))
"""


def _boxes(kept) -> list[list[int]]:
    return [[k.index, *k.face.xywh()] for k in kept]


@needs_faces
def test_gevent_worker_detects_frames_on_two_os_threads():
    """Under gevent's monkey-patching, the sampled frames are detected on two OS threads
    other than the event loop's, and give the same faces as without gevent."""
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(CLIP), str(MODELS_DIR)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    patched = json.loads(run.stdout.strip().splitlines()[-1])
    kept, sampled = video_faces(
        load_pipeline(pipeline_config()), CLIP.read_bytes(), VideoLimits(), {}
    )
    assert patched["threads"] == 2 and not patched["hub"]
    assert patched["sampled"] == sampled == 16
    assert patched["boxes"] == _boxes(kept) and len(kept) >= 5


def test_native_primitives_are_the_standard_ones_without_gevent():
    import queue
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from faceid.faces import native

    assert not native.gevent_patched()
    assert isinstance(native.simple_queue(), queue.SimpleQueue)
    assert type(native.lock()) is type(threading.Lock())
    with native.pool(2) as pool:
        assert type(pool) is ThreadPoolExecutor
