"""The reference door client: ask for a challenge, guide the person, record, post, open.

One attempt (:func:`attempt`) is::

    POST /v1/locks/{lock}/challenges       -> the actions, in order
    record: 1.2 s facing the camera, 1.8 s per action (its instruction printed as it
            starts), 0.6 s facing the camera again
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

#: The recording's timeline, in seconds: the same as the web page's.
LEAD_S = 1.2
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

    def _call(self, path: str, **kwargs: Any) -> dict[str, Any]:
        import httpx

        try:
            response = self._http.post(f"/v1/locks/{self.lock}{path}", **kwargs)
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

    def challenge(self) -> tuple[str, list[str], float]:
        """(challenge id, actions in order, seconds left to answer)."""
        body = self._call("/challenges")
        try:
            actions = [str(a) for a in body["actions"]]
            return str(body["challenge_id"]), actions, float(body["expires_in_s"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DoorError("bad_response", f"a challenge without {exc}") from exc

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


def timeline(actions: list[str]) -> list[tuple[float, str]]:
    """(second, cue) for a challenge's actions; the last entry's time is the clip's length."""
    cues = [(0.0, "Look at the camera")]
    for i, action in enumerate(actions):
        cues.append((LEAD_S + i * ACTION_S, f"{i + 1}/{len(actions)}: {CUES.get(action, action)}"))
    end = LEAD_S + len(actions) * ACTION_S
    return [*cues, (end, "Look at the camera"), (end + TAIL_S, "Done")]


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

    def record(self, cues: list[tuple[float, str]], show: Callable[[str], None]) -> bytes:
        """Frames for the timeline's length, each cue shown as its time comes; an MP4 back."""
        length = cues[-1][0]
        frames: list[np.ndarray] = []
        started = time.monotonic()
        pending = list(cues[:-1])
        while True:
            now = time.monotonic() - started if self.live else len(frames) / self.fps
            while pending and pending[0][0] <= now:
                show(pending.pop(0)[1])
            if now >= length:
                break
            ok, frame = self._cap.read()
            if not ok:
                break
            frames.append(frame)
        if not frames:
            raise DoorError("camera", "the camera gave no frames")
        elapsed = time.monotonic() - started
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
    """One unlock attempt: challenge, instructions while recording, the verdict."""
    challenge_id, actions, expires_in_s = service.challenge()
    show(f"Challenge: {', '.join(actions)} (expires in {expires_in_s:.0f} s)")
    for left in range(countdown, 0, -1):
        show(f"Look at the camera: recording in {left}")
        if camera.live:
            time.sleep(1)
    video = camera.record(timeline(actions), show)
    show("Checking...")
    return service.unlock(video, challenge_id)
