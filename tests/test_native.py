"""Video frames are detected on both cores inside gunicorn's gevent workers too.

A gevent worker monkey-patches ``threading``: a standard ``ThreadPoolExecutor`` then runs
its "threads" as greenlets of one OS thread, and HOG's scanners take turns instead of
running together. These tests run the sampling in a process gevent has patched, as
gunicorn's worker is, and check which OS threads did the detecting, that several video
requests and image requests in one worker share the scanners without blocking each other
forever, and that a failing frame is raised to its request and nowhere else.
"""

from __future__ import annotations

import json
import subprocess
import sys

from faceid.faces.media import VideoLimits
from faceid.faces.sampling import video_faces

from .conftest import (
    EXAMPLES,
    MODELS_DIR,
    ROOT,
    load_pipeline,
    needs_faces,
    needs_models,
    pipeline_config,
)

CLIP = EXAMPLES / "short_hamilton_clip.mp4"
PHOTO = EXAMPLES / "two_people.jpg"

SCRIPT = """
from gevent import monkey

monkey.patch_all()

import json, sys, threading
from pathlib import Path

import cv2
import gevent
import numpy as np

from faceid.faces.media import VideoLimits
from faceid.faces.pipeline import Pipeline, PipelineConfig
from faceid.faces.sampling import detect_frames, video_faces

clip, photo, models = sys.argv[1:4]
pipe = Pipeline.load(PipelineConfig(models_dir=Path(models), allow_download=False))
threads = set()
detect = pipe.detector.detect


def recording(*args, **kwargs):
    threads.add(threading.get_native_id())
    return detect(*args, **kwargs)


pipe.detector.detect = recording
data = Path(clip).read_bytes()
image = cv2.imread(photo)


def video():
    kept, sampled = video_faces(pipe, data, VideoLimits(), {})
    return sampled, [[k.index, *k.face.xywh()] for k in kept]


def photos():  # image requests: detected on the event loop's own thread
    return [len(detect(image)) for _ in range(6)]


videos = [gevent.spawn(video) for _ in range(3)]
images = gevent.spawn(photos)
gevent.joinall([*videos, images], raise_error=True)
try:
    detect_frames(pipe, [image, image.astype(np.float64), image])
    failure = None
except Exception as exc:
    failure = type(exc).__name__
print(json.dumps({
    "threads": len(threads),
    "hub": threading.get_native_id() in threads,
    "videos": [g.value for g in videos],
    "images": images.value,
    "failure": failure,
}))
"""


def in_patched_process(script: str, *args: object) -> tuple[dict, str]:
    """What a script run in a fresh process that gevent patches printed last (JSON), and
    its stderr."""
    run = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1]), run.stderr


@needs_faces
def test_gevent_worker_detects_frames_on_two_os_threads():
    """Under gevent's monkey-patching, three video requests at once share two OS threads
    other than the event loop's and give the same faces as without gevent; image requests
    detected on the event loop meanwhile are answered; a frame that fails raises in its
    request, and gevent prints no traceback of its own."""
    patched, stderr = in_patched_process(SCRIPT, CLIP, PHOTO, MODELS_DIR)
    pipe = load_pipeline(pipeline_config())
    kept, sampled = video_faces(pipe, CLIP.read_bytes(), VideoLimits(), {})
    boxes = [[k.index, *k.face.xywh()] for k in kept]
    assert patched["threads"] == 2 and not patched["hub"]
    assert sampled == 16 and len(kept) >= 5
    assert patched["videos"] == [[sampled, boxes]] * 3
    assert patched["images"] == [2] * 6
    assert patched["failure"] == "error"  # cv2.error, from the frame of the wrong type
    assert "failed with" not in stderr and "Traceback" not in stderr


def test_native_primitives_are_the_standard_ones_without_gevent():
    import queue
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from faceid.faces import native

    assert not native.gevent_patched()
    assert isinstance(native.simple_queue(), queue.SimpleQueue)
    assert type(native.lock()) is type(threading.Lock())
    assert type(native.shared_pool()) is ThreadPoolExecutor
    assert native.shared_pool() is native.shared_pool()


OFF_LOOP = """
from gevent import monkey

monkey.patch_all()

import json, sys
from pathlib import Path

import cv2
import gevent

from faceid.errors import InvalidImage
from faceid.faces.media import decode_image
from faceid.faces.native import off_loop
from faceid.faces.pipeline import Pipeline, PipelineConfig
from faceid.liveness.landmarks import shared_landmarks

photo, models = sys.argv[1:3]
pipe = Pipeline.load(
    PipelineConfig(detector="yunet", models_dir=Path(models), allow_download=False)
)
image = cv2.imread(photo)
marks = shared_landmarks()


def request():  # what a heavy request does: detect, then landmarks, both off the loop
    found = []
    for _ in range(40):
        faces = pipe.detect(image, largest_only=True)
        found.append(off_loop(marks, image, faces[0].box).shape[0])
    return found


def refused():
    try:
        decode_image(b"not an image", 10**8)
    except InvalidImage as exc:
        return type(exc).__name__


jobs = [gevent.spawn(request) for _ in range(3)] + [gevent.spawn(refused)]
gevent.joinall(jobs, timeout=120, raise_error=True)
print(json.dumps({"done": [job.ready() for job in jobs], "values": [job.value for job in jobs]}))
"""


@needs_faces
@needs_models
def test_work_off_the_loop_shares_locks_across_os_threads_and_raises_in_its_request():
    """Under gevent, requests hand detection and landmarks to native threads at once: the
    detector's and the predictor's locks are native (a gevent lock waited on from a
    second OS thread never wakes it: requests hung), and an error raised there is raised
    in its own request, with no traceback printed by gevent's hub."""
    result, stderr = in_patched_process(OFF_LOOP, PHOTO, MODELS_DIR)
    assert result["done"] == [True] * 4
    assert result["values"] == [[68] * 40] * 3 + ["InvalidImage"]
    assert "Traceback" not in stderr
