"""What the figures were measured on: CPU, cores, memory, Python and library versions."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

LIBRARIES = (
    "dlib-bin",
    "onnxruntime",
    "opencv-contrib-python-headless",
    "numpy",
    "Flask",
    "gunicorn",
    "tensorflow",
    "mtcnn",
    "deepface",
    "face_recognition",
    "face_recognition_models",
)


OTHER_OPENCV = ("opencv-python", "opencv-python-headless", "opencv-contrib-python")


def other_opencv() -> list[str]:
    """OpenCV wheels besides the pinned contrib-headless one (they would fight over cv2)."""
    found = []
    for name in OTHER_OPENCV:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    return found


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def versions() -> dict[str, str]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_revision(root: Path) -> str:
    """HEAD's short hash, with '+ uncommitted changes' when the tree is dirty."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "faceid"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head} + uncommitted changes in faceid/" if dirty else head


def describe(root: Path) -> list[str]:
    """Markdown bullet lines describing this machine and the software measured."""
    libs = ", ".join(f"{k} {v}" for k, v in versions().items())
    return [
        f"- CPU: {cpu_model()}; {usable_cores()} usable cores ({os.cpu_count()} online); "
        f"{memory_gib():.0f} GiB RAM",
        f"- OS: {platform.platform()}; Python {platform.python_version()}",
        f"- faceid at {git_revision(root)}",
        f"- Libraries: {libs}",
    ]
