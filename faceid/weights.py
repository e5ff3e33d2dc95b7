"""Registry of downloadable model weights: where they live, where they come from, their SHA-256.

The default pipeline (dlib HOG + dlib ResNet) needs none of these: its weights
ship inside pip packages. Everything here is looked up in ``FACEID_MODELS_DIR``
(default ``~/.cache/faceid/models``); a missing file is downloaded on first use
when ``FACEID_ALLOW_DOWNLOAD`` is on (the default), verified, and cached. On an
air-gapped site, place the file there by hand; the error says exactly how.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ModelDownloadError, ModelUnavailable

log = logging.getLogger(__name__)

DEFAULT_MODELS_DIR = Path.home() / ".cache" / "faceid" / "models"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class WeightFile:
    """One weight file: its name on disk, upstream addresses and digest."""

    id: str
    filename: str
    urls: tuple[str, ...]
    sha256: str | None
    description: str
    licence: str = ""
    extra: dict[str, str] = field(default_factory=dict)


WEIGHTS: dict[str, WeightFile] = {
    w.id: w
    for w in (
        WeightFile(
            id="yunet",
            filename="face_detection_yunet_2023mar.onnx",
            urls=(
                "https://github.com/opencv/opencv_zoo/raw/main/models/"
                "face_detection_yunet/face_detection_yunet_2023mar.onnx",
            ),
            sha256="8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
            description="OpenCV YuNet face detector (box + 5 landmarks)",
            licence="MIT",
        ),
        WeightFile(
            id="retinaface-mnet025",
            filename="retinaface_mnet025.onnx",
            urls=("https://github.com/kgzhwang/Pytorch_Retinaface/raw/master/FaceDetector.onnx",),
            sha256="e0e19bad8494b3f7a7edb39a90194ff055923e13a3453569a454386f857fe538",
            description="RetinaFace MobileNet-0.25, 640x640 ONNX export",
            licence="MIT",
        ),
        WeightFile(
            id="mobilefacenet-arcface",
            filename="mobilefacenet_arcface.onnx",
            urls=(
                "https://github.com/foamliu/MobileFaceNet/raw/master/weights/MobileFaceNet.onnx",
            ),
            sha256="b7120c095d60094f28a4a54ba6a8bf51b297a6273fb40ef6350dfec1f63d9507",
            description="MobileFaceNet trained with ArcFace loss, 128-d",
            licence="Apache-2.0",
        ),
        WeightFile(
            id="arcface-deepface",
            filename="arcface_weights.onnx",
            urls=(
                "https://github.com/serengil/deepface_models/releases/download/v1.0/"
                "arcface_weights.onnx",
                "https://huggingface.co/serengil/deepface/resolve/main/arcface_weights.onnx",
            ),
            sha256=None,
            description="DeepFace ArcFace (ResNet, 512-d) as ONNX",
            licence="MIT",
        ),
        WeightFile(
            id="retinaface-resnet50",
            filename="retinaface.onnx",
            urls=(
                "https://github.com/serengil/deepface_models/releases/download/v1.0/retinaface.onnx",
                "https://huggingface.co/serengil/deepface/resolve/main/retinaface.onnx",
            ),
            sha256="45d02defc4737b382691a52fc2bb49b984420dcbd26ee6ab9a8343c667d228f7",
            description="retina-face package's RetinaFace ResNet-50 (ONNX backend)",
            licence="MIT",
        ),
    )
}


def models_dir() -> Path:
    """The folder weights are read from and cached in (``FACEID_MODELS_DIR``)."""
    return Path(os.environ.get("FACEID_MODELS_DIR") or DEFAULT_MODELS_DIR).expanduser()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _allow_download() -> bool:
    return os.environ.get("FACEID_ALLOW_DOWNLOAD", "1").lower() not in ("0", "false", "no")


def missing_message(weight: WeightFile, target: Path, reason: str = "") -> str:
    digest = f" (SHA-256 {weight.sha256})" if weight.sha256 else ""
    why = f" {reason}" if reason else ""
    return (
        f"Model '{weight.id}' needs {weight.filename}, which is not in {target.parent}.{why} "
        f"On a machine with internet run `faceid models pull {weight.id}`; on an air-gapped "
        f"site download {weight.urls[0]}{digest} and place it at {target} "
        f"(or point FACEID_MODELS_DIR at the folder holding it)."
    )


_verified: dict[Path, float] = {}
_lock = threading.Lock()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def expected_digest(weight: WeightFile, path: Path) -> str | None:
    """The pinned digest, or for a file upstream publishes none for, the one recorded
    beside it when it was first downloaded (trust on first use)."""
    if weight.sha256:
        return weight.sha256
    side = _sidecar(path)
    return side.read_text().split()[0] if side.is_file() else None


def verify(weight: WeightFile, path: Path) -> None:
    """Check a file's SHA-256 against the registry; raises ModelUnavailable on mismatch."""
    mtime = path.stat().st_mtime
    expected = expected_digest(weight, path)
    if _verified.get(path) == mtime or expected is None:
        return
    actual = sha256_of(path)
    if actual != expected:
        raise ModelUnavailable(
            f"{path} has SHA-256 {actual}, expected {expected} for '{weight.id}'. "
            f"Delete it and run `faceid models pull {weight.id}`.",
            model=weight.id,
        )
    _verified[path] = mtime


def download(weight: WeightFile, target: Path, timeout: float = 60.0) -> Path:
    """Fetch a weight file into ``target``, verifying its SHA-256 before it is moved in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    for url in weight.urls:
        log.info("downloading %s from %s", weight.filename, url)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                shutil.copyfileobj(resp, out, _CHUNK)
            actual = sha256_of(tmp)
            if weight.sha256 and actual != weight.sha256:
                raise ValueError(f"SHA-256 {actual} != expected {weight.sha256}")
            if not weight.sha256:
                log.warning("%s has no published SHA-256; recording %s", weight.id, actual)
                _sidecar(target).write_text(f"{actual}  {weight.filename}\n")
            tmp.replace(target)
            return target
        except Exception as exc:  # noqa: BLE001 - every failure becomes one error below
            errors.append(f"{url}: {exc}")
            tmp.unlink(missing_ok=True)
    raise ModelDownloadError(
        missing_message(weight, target, "Download failed: " + "; ".join(errors)),
        model=weight.id,
    )


def resolve(weight_id: str, *, allow_download: bool | None = None) -> Path:
    """Path of a verified weight file, downloading it first when allowed.

    >>> resolve("yunet")  # doctest: +SKIP
    PosixPath('/home/me/.cache/faceid/models/face_detection_yunet_2023mar.onnx')
    """
    weight = WEIGHTS[weight_id]
    target = models_dir() / weight.filename
    with _lock:
        if not target.is_file():
            if allow_download is None:
                allow_download = _allow_download()
            if not allow_download:
                raise ModelUnavailable(missing_message(weight, target), model=weight.id)
            try:
                download(weight, target)
            except ModelDownloadError as exc:
                raise ModelUnavailable(exc.message, model=weight.id) from exc
        verify(weight, target)
    return target


def status(weight: WeightFile) -> dict[str, object]:
    """What ``faceid models list`` and ``check`` report for one file."""
    path = models_dir() / weight.filename
    present = path.is_file()
    actual = sha256_of(path) if present else None
    expected = expected_digest(weight, path)
    ok = present and (expected is None or actual == expected)
    return {
        "id": weight.id,
        "file": str(path),
        "present": present,
        "sha256": actual,
        "expected_sha256": expected,
        "ok": ok,
        "url": weight.urls[0],
        "description": weight.description,
    }
