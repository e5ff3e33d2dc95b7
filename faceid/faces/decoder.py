"""Video decoding, run in a child process: a crafted file can neither hang nor kill a worker.

This module imports nothing of faceid's (only the standard library, NumPy and OpenCV),
so the child starts in about 0.1 s. The parent (:func:`faceid.faces.media.decode_video`)
hands it the video as an anonymous in-memory file (no path on disk, nothing to leak if a
worker is killed), under a CPU and address-space limit and a wall-clock deadline.

Protocol on stdout, one record per frame: a JSON line ``{"index", "time_s", "shape"}``
then ``h * w * 3`` bytes of BGR pixels; an error is one JSON line ``{"error", "message"}``.

OpenCV applies a video's rotation tag (``CAP_PROP_ORIENTATION_AUTO``), set explicitly.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np


class DecodeError(Exception):
    """A video the decoder refuses: ``code`` is one of faceid's stable error codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class VideoLimits:
    """What one uploaded video may cost: frames sampled, pixels per frame, seconds of
    video, and the decoder child's wall-clock deadline (also its CPU limit) and address
    space, and the longest side a frame is handed back at (0: as decoded; challenge clips
    are read densely, so their frames are shrunk in the child). The parent hands them to
    the child as command-line arguments."""

    max_frames: int = 16
    max_pixels: int = 8_294_400
    max_seconds: float = 60.0
    deadline_s: float = 30.0
    memory_mb: int = 2048
    max_side: int = 0

    def to_argv(self) -> list[str]:
        values = (self.max_frames, self.max_pixels, self.max_seconds, self.deadline_s)
        return [str(v) for v in (*values, self.memory_mb, self.max_side)]

    @classmethod
    def from_argv(cls, argv: list[str]) -> VideoLimits:
        frames, pixels, seconds, deadline, memory, side = argv
        return cls(
            int(frames), int(pixels), float(seconds), float(deadline), int(memory), int(side)
        )


class Decoder:
    """Up to ``max_frames`` frames spread over a clip, each checked against the limits."""

    def __init__(self, path: str, limits: VideoLimits) -> None:
        self.limits = limits
        self._cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
        if not self._cap.isOpened():
            raise DecodeError("invalid_video", "The file is not a video faceid can decode.")
        self._cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        fps = float(self._cap.get(cv2.CAP_PROP_FPS))
        self.fps = fps if np.isfinite(fps) and 0 < fps <= 1000 else 25.0
        self.frame_count = max(int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self._check_size(width, height)
        if self.frame_count and self.frame_count / self.fps > limits.max_seconds:
            raise DecodeError(
                "video_too_long",
                f"The video lasts {self.frame_count / self.fps:.1f} s; "
                f"the limit is {limits.max_seconds:g} s (FACEID_VIDEO_MAX_SECONDS).",
            )

    def _check_size(self, width: int, height: int) -> None:
        if width * height > self.limits.max_pixels:
            raise DecodeError(
                "image_too_large",
                f"Video frames are {width}x{height}; the limit is {self.limits.max_pixels} "
                "pixels (FACEID_VIDEO_MAX_PIXELS).",
            )

    def frames(self, seek_gap: int = 24) -> Iterator[tuple[int, float, np.ndarray]]:
        """(index, seconds, BGR image), evenly spread; long gaps seeked, short ones grabbed."""
        wanted = self._wanted()
        position = 0
        for index in wanted:
            gap = index - position
            if self.frame_count and (gap > seek_gap or gap < 0):
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            else:
                for _ in range(gap):
                    self._cap.grab()
            ok, image = self._cap.read()
            position = index + 1
            if not ok or image is None:
                if not self.frame_count:
                    return
                continue
            self._check_size(image.shape[1], image.shape[0])  # decoded, not just declared
            time_s = index / self.fps
            if time_s > self.limits.max_seconds:
                return
            yield index, round(time_s, 3), self._shrink(image)

    def _shrink(self, image: np.ndarray) -> np.ndarray:
        side = self.limits.max_side
        height, width = image.shape[:2]
        if not side or max(height, width) <= side:
            return image
        scale = side / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA)

    def _wanted(self) -> list[int]:
        n = self.limits.max_frames
        if self.frame_count <= 0:
            return list(range(n))
        count = min(n, self.frame_count)
        return [int(i) for i in np.unique(np.linspace(0, self.frame_count - 1, count).round())]

    def close(self) -> None:
        self._cap.release()


def _write(record: dict[str, object], payload: bytes = b"") -> None:
    sys.stdout.buffer.write(json.dumps(record).encode() + b"\n" + payload)


def confine(limits: VideoLimits) -> None:
    """Limit this process's CPU time and address space before it touches the video."""
    import resource

    cpu_s = max(1, int(limits.deadline_s))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    memory = limits.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cv2.setNumThreads(1)


def main(argv: list[str]) -> int:
    """Child entry: ``decoder.py PATH`` then :meth:`VideoLimits.to_argv`."""
    path, *rest = argv
    limits = VideoLimits.from_argv(rest)
    confine(limits)
    try:
        decoder = Decoder(path, limits)
        try:
            for index, time_s, image in decoder.frames():
                image = np.ascontiguousarray(image, dtype=np.uint8)
                meta = {"index": index, "time_s": time_s, "shape": list(image.shape)}
                _write(meta, image.tobytes())
        finally:
            decoder.close()
    except DecodeError as exc:
        _write({"error": exc.code, "message": exc.message})
        return 3
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
