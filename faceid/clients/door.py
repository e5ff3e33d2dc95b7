"""The reference door client: ask for a challenge, guide the person, record, post, open.

One attempt (:func:`attempt`) is::

    countdown: the person gets ready, facing the camera
    POST /v1/locks/{lock}/challenges       -> the first cue; recording starts with it
    GET  /v1/locks/{lock}/challenges/{id}  -> each next cue, when it is due
    record: each cue printed at its time, until 1.8 s after the last, then 0.6 s facing
            the camera again
    POST /v1/locks/{lock}/unlock           video + challenge_id -> the verdict

The camera is an OpenCV source: a device number (``0``) or a video file, which stands in
for a camera in tests and demos (read from its start, frame by frame, not in real time).
Only HTTP (httpx), OpenCV and NumPy are used: nothing of the server.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

#: Seconds recorded after the last cue (to do it), then facing the camera: the same as
#: the web page's.
ACTION_S = 1.8
TAIL_S = 0.6

CUES = {
    "turn_left": "Turn your head to YOUR LEFT, then back to the camera",
    "turn_right": "Turn your head to YOUR RIGHT, then back to the camera",
    "blink": "Blink once, looking at the camera",
}


class DoorError(Exception):
    """The attempt could not be made: the service refused the call or could not be reached.
    ``code`` is the service's stable error code, or ``unreachable`` / ``camera``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code


@dataclass(frozen=True)
class Verdict:
    opened: bool
    reason: str
    subject: str | None

    def describe(self) -> str:
        """One line for the door's console, with no control characters from the service."""
        text = (
            f"OPEN: {self.subject or 'granted person'}" if self.opened else f"LOCKED: {self.reason}"
        )
        return "".join(ch for ch in text if ch.isprintable())


class Service:
    """The two calls a door makes, with its door key (``unlock`` scope, bound to the lock)."""

    def __init__(self, url: str, key: str, lock: str, timeout_s: float = 60.0) -> None:
        import httpx

        self.lock = quote(lock, safe="")
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout_s,
        )

    def _call(self, path: str, method: str = "POST", **kwargs: Any) -> dict[str, Any]:
        import httpx

        try:
            response = self._http.request(method, f"/v1/locks/{self.lock}{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise DoorError("unreachable", f"cannot reach the service: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not response.is_success:  # redirects are not followed: the key stays here
            error = body.get("error") if isinstance(body, dict) else None
            error = error if isinstance(error, dict) else {}
            raise DoorError(
                str(error.get("code", f"http_{response.status_code}")),
                str(error.get("message", response.reason_phrase)),
            )
        if not isinstance(body, dict):
            raise DoorError("bad_response", "the service answered something else than JSON")
        return body

    def challenge(self) -> dict[str, Any]:
        """A new challenge: its id, the cues due so far, and when the next one is."""
        return _checked(self._call("/challenges"))

    def show(self, challenge_id: str) -> dict[str, Any]:
        """The challenge's cues due now."""
        return _checked(self._call(f"/challenges/{quote(challenge_id, safe='')}", "GET"))

    def unlock(self, video: bytes, challenge_id: str) -> Verdict:
        body = self._call(
            "/unlock",
            files={"video": ("door.mp4", video, "video/mp4")},
            data={"challenge_id": challenge_id},
        )
        subject = body.get("subject")
        name = subject.get("name") if isinstance(subject, dict) else None
        verdict = body.get("verdict")
        if verdict not in ("unlock", "locked"):
            raise DoorError("bad_response", "an answer without a verdict")
        return Verdict(verdict == "unlock", str(body.get("reason")), str(name) if name else None)

    def close(self) -> None:
        self._http.close()


def _checked(body: dict[str, Any]) -> dict[str, Any]:
    """A challenge's body, its fields of the expected types."""
    try:
        str(body["challenge_id"])
        int(body["count"])
        [(float(c["at_s"]), str(c["action"])) for c in body["cues"]]
        None if body["next_cue_in_s"] is None else float(body["next_cue_in_s"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DoorError("bad_response", f"a challenge without {exc}") from exc
    return body


class Cues:
    """A challenge's cues as the service reveals them, each shown at its time on the
    recording's timeline, which starts when the first cue is shown."""

    def __init__(self, service: Service, body: dict[str, Any]) -> None:
        self.service = service
        self.id = str(body["challenge_id"])
        self.count = int(body["count"])
        self.started = time.monotonic()
        self.known: list[tuple[float, str]] = []
        self.next_at: float | None = None
        self.shown = 0
        self._take(body, 0.0)

    def _take(self, body: dict[str, Any], asked_at: float) -> None:
        known = [(float(c["at_s"]), str(c["action"])) for c in body["cues"]]
        self.known = known if len(known) >= len(self.known) else self.known
        upcoming = body["next_cue_in_s"]
        self.next_at = None if upcoming is None else asked_at + max(float(upcoming), 0.05)

    def due(self, now: float) -> list[str]:
        """The cues whose time has come by ``now`` (seconds on the recording's timeline),
        as lines to show. The next cue is asked for when it is due, waiting for it in real
        time (so that a video file standing in for a camera gets it too)."""
        while self.next_at is not None and len(self.known) < self.count and now >= self.next_at:
            wait = self.next_at - (time.monotonic() - self.started)
            if wait > 0:
                time.sleep(wait)
            self._take(self.service.show(self.id), time.monotonic() - self.started)
        lines = []
        while self.shown < len(self.known) and self.known[self.shown][0] <= now:
            action = self.known[self.shown][1]
            self.shown += 1
            lines.append(f"{self.shown}/{self.count}: {CUES.get(action, action)}")
        return lines

    @property
    def length(self) -> float | None:
        """The recording's length, once every cue is known."""
        if len(self.known) < self.count or not self.known:
            return None
        return self.known[-1][0] + ACTION_S + TAIL_S


class Camera:
    """An OpenCV source: ``"0"`` (a device) or a video file standing in for one."""

    def __init__(self, source: str) -> None:
        import cv2

        self.live = source.isdigit()
        self._cap = cv2.VideoCapture(int(source) if self.live else source)
        if not self._cap.isOpened():
            raise DoorError("camera", f"cannot open the camera {source!r}")
        fps = float(self._cap.get(cv2.CAP_PROP_FPS))
        self.fps = fps if np.isfinite(fps) and 1 <= fps <= 120 else 25.0

    def record(self, cues: Cues, show: Callable[[str], None]) -> bytes:
        """Frames from the first cue until :data:`ACTION_S` and :data:`TAIL_S` after the
        last, each cue shown as its time comes; an MP4 back."""
        frames: list[np.ndarray] = []
        facing = False
        while True:
            now = time.monotonic() - cues.started if self.live else len(frames) / self.fps
            for line in cues.due(now):
                show(line)
            length = cues.length
            if length is not None and now >= length - TAIL_S and not facing:
                show("Look at the camera")
                facing = True
            if length is not None and now >= length:
                break
            ok, frame = self._cap.read()
            if not ok:
                break
            frames.append(frame)
        if not frames:
            raise DoorError("camera", "the camera gave no frames")
        elapsed = time.monotonic() - cues.started
        fps = len(frames) / max(elapsed, 0.1) if self.live else self.fps
        return encode(frames, fps)

    def close(self) -> None:
        self._cap.release()


def encode(frames: list[np.ndarray], fps: float) -> bytes:
    """BGR frames as an MP4 (MPEG-4 part 2, which every OpenCV build writes), at the size
    of the first."""
    import cv2

    height, width = frames[0].shape[:2]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
        for frame in frames:
            writer.write(cv2.resize(frame, (width, height)))
        writer.release()
        return path.read_bytes()


def attempt(
    service: Service, camera: Camera, show: Callable[[str], None], countdown: int
) -> Verdict:
    """One unlock attempt: ready, challenge, each cue at its time while recording, verdict."""
    for left in range(countdown, 0, -1):
        show(f"Look at the camera: recording in {left}")
        if camera.live:
            time.sleep(1)
    body = service.challenge()
    cues = Cues(service, body)
    show(f"Challenge: {cues.count} actions, each shown when it is due (do it at once)")
    video = camera.record(cues, show)
    show("Checking...")
    return service.unlock(video, cues.id)
