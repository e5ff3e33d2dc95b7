"""Weight files on disk: find, verify (SHA-256), download. The facts are in :mod:`.models`.

The default pipeline (dlib HOG + dlib ResNet) needs none of these: its weights
ship inside pip packages. Files are looked up in the models folder
(``FACEID_MODELS_DIR``, default ``~/.cache/faceid/models``); a missing file is
downloaded on first use when ``FACEID_ALLOW_DOWNLOAD`` is on (the default),
verified, and cached. On an air-gapped site, place the file there by hand; the
error says exactly how.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelDownloadError, ModelUnavailable
from .models import WEIGHTS, WeightFile

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def missing_message(weight: WeightFile, target: Path, reason: str = "") -> str:
    digest = f" (SHA-256 {weight.sha256})" if weight.sha256 else ""
    why = f" {reason}" if reason else ""
    if not weight.urls:  # a model registered without an upstream: placed by hand only
        return (
            f"Model '{weight.id}' needs {weight.filename}, which is not in {target.parent}."
            f"{why} Place it at {target}{digest} (or point FACEID_MODELS_DIR at the folder "
            "holding it)."
        )
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


@dataclass(frozen=True)
class ModelFiles:
    """The models folder and whether missing files may be downloaded (from Settings).

    >>> ModelFiles(Path("~/.cache/faceid/models")).resolve("yunet")  # doctest: +SKIP
    PosixPath('/home/me/.cache/faceid/models/face_detection_yunet_2023mar.onnx')
    """

    folder: Path
    allow_download: bool = True

    def path_of(self, weight_id: str) -> Path:
        return self.folder.expanduser() / WEIGHTS[weight_id].filename

    def resolve(self, weight_id: str, *, allow_download: bool | None = None) -> Path:
        """Path of a verified weight file, downloading it first when allowed."""
        weight = WEIGHTS[weight_id]
        target = self.path_of(weight_id)
        allow = self.allow_download if allow_download is None else allow_download
        with _lock:
            if not target.is_file():
                if not allow:
                    raise ModelUnavailable(missing_message(weight, target), model=weight.id)
                try:
                    download(weight, target)
                except ModelDownloadError as exc:
                    raise ModelUnavailable(exc.message, model=weight.id) from exc
            verify(weight, target)
        return target

    def status(self, weight: WeightFile) -> dict[str, object]:
        """What ``faceid models list`` and ``check`` report for one file."""
        path = self.path_of(weight.id)
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
            "url": weight.urls[0] if weight.urls else "",
            "description": weight.description,
        }
