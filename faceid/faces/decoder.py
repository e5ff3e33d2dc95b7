"""Video decoding, run in a child process: a crafted file can neither hang nor kill a worker.

This module imports nothing of faceid's (only the standard library, NumPy and OpenCV),
so the child starts in about 0.1 s. The parent (:func:`faceid.faces.media.decode_video`)
hands it the video as an anonymous in-memory file (no path on disk, nothing to leak if a
worker is killed), under a CPU and address-space limit and a wall-clock deadline.

Protocol on stdout, one record per frame: a JSON line ``{"index", "time_s", "shape"}``
then ``h * w * 3`` bytes of BGR pixels; an error is one JSON line ``{"error", "message"}``.

Videos as phones and browsers make them:

- **Rotation.** Phones record in the sensor's orientation and tag the track with the
  rotation a player applies (a display matrix). OpenCV's own automatic rotation is turned
  off and the tag is applied here (:func:`upright`), so a tagged clip decodes upright
  whichever OpenCV version is installed.
- **No length.** A browser's MediaRecorder writes WebM without a duration, so the
  container declares no frame count. The clip is then decoded through once to count its
  frames (stopping at ``max_seconds``), and sampled on a second pass without seeking.
- **Timestamps.** ``time_s`` is each frame's own presentation time, not its index over an
  average frame rate: variable-frame-rate phone video puts frames unevenly in time. A
  stream without timestamps (raw H.264) is timed by index over frame rate, and no frame
  is put less than 1/240 s after the one before it.
"""

from __future__ import annotations

import json
import sys
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
    #: the setting that ``max_seconds`` comes from, named when a video is too long
    seconds_setting: str = "FACEID_VIDEO_MAX_SECONDS"

    def to_argv(self) -> list[str]:
        values = (self.max_frames, self.max_pixels, self.max_seconds, self.deadline_s)
        return [str(v) for v in (*values, self.memory_mb, self.max_side, self.seconds_setting)]

    @classmethod
    def from_argv(cls, argv: list[str]) -> VideoLimits:
        frames, pixels, seconds, deadline, memory, side, setting = argv
        return cls(
            int(frames),
            int(pixels),
            float(seconds),
            float(deadline),
            int(memory),
            int(side),
            setting,
        )


#: Clockwise quarter turns that make a frame upright, by the track's rotation tag in
#: degrees as OpenCV reports it (``CAP_PROP_ORIENTATION_META``: 90 = turn clockwise).
ROTATIONS = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}

#: More frames than this declared by a container is garbage (MediaRecorder WebM reports
#: a huge negative count): the clip is counted by decoding instead.
MAX_DECLARED_FRAMES = 10_000_000
#: Frames per second of video at most (slow-motion phone video is 240): a clip with more
#: frames than ``max_seconds`` of this is too long, whatever its timestamps claim.
MAX_FPS = 240


def upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """``image`` as a player shows it, given its track's rotation tag in degrees."""
    code = ROTATIONS.get(rotation % 360)
    return image if code is None else cv2.rotate(image, code)


def _too_long(seconds: float, limits: VideoLimits) -> DecodeError:
    return DecodeError(
        "video_too_long",
        f"The video lasts {seconds:.1f} s or more; "
        f"the limit is {limits.max_seconds:g} s ({limits.seconds_setting}).",
    )


class Decoder:
    """Up to ``max_frames`` frames spread over a clip, each checked against the limits."""

    def __init__(self, path: str, limits: VideoLimits) -> None:
        self.path = path
        self.limits = limits
        self._cap = self._open()
        self.rotation = int(self._cap.get(cv2.CAP_PROP_ORIENTATION_META)) % 360
        fps = float(self._cap.get(cv2.CAP_PROP_FPS))
        plausible = bool(np.isfinite(fps) and 0 < fps <= MAX_FPS)
        self.fps = fps if plausible else 25.0
        declared = self._cap.get(cv2.CAP_PROP_FRAME_COUNT)
        # A count made from a duration and an implausible rate (WebM reports 1000 fps) is
        # no count: such clips are counted by decoding, like those that declare none.
        known = plausible and np.isfinite(declared) and 0 < declared < MAX_DECLARED_FRAMES
        #: Whether frames may be reached by seeking (the container knows its length).
        self.seekable = bool(known)
        self.frame_count = int(declared) if known else 0
        width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self._check_size(width, height)
        self._clock = (-1, 0.0)  # (index, time) of the last frame timed
        if self.frame_count and self.frame_count / self.fps > limits.max_seconds:
            raise _too_long(self.frame_count / self.fps, limits)
        if not self.frame_count:
            self.frame_count = self._count()

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(self.path, cv2.CAP_FFMPEG)
        if not cap.isOpened():
            raise DecodeError("invalid_video", "The file is not a video faceid can decode.")
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)  # rotation is applied by upright()
        return cap

    def _rewind(self) -> None:
        self._cap.release()
        self._cap = self._open()
        self._clock = (-1, 0.0)

    def _time_s(self, index: int) -> float:
        """The presentation time of the frame just read: its own timestamp, or its index
        over the frame rate when the stream has none (raw H.264 reports 0 throughout).
        The timestamps are the uploader's, so each frame is put at least 1/MAX_FPS s per
        frame after the last one: time can neither go back nor be squeezed."""
        ms = float(self._cap.get(cv2.CAP_PROP_POS_MSEC))
        stamped = np.isfinite(ms) and ms >= 0 and (ms > 0 or index == 0)
        time_s = ms / 1000 if stamped else index / self.fps
        last_index, last_time = self._clock
        if last_index >= 0:
            time_s = max(time_s, last_time + (index - last_index) / MAX_FPS)
        self._clock = (index, time_s)
        return time_s

    def _count(self) -> int:
        """Frames in a clip whose container does not say: decode through it once."""
        count = 0
        while self._cap.grab():
            time_s = self._time_s(count)
            if time_s > self.limits.max_seconds:
                raise _too_long(time_s, self.limits)
            count += 1
        self._rewind()
        return count

    def _check_size(self, width: int, height: int) -> None:
        if width * height > self.limits.max_pixels:
            raise DecodeError(
                "image_too_large",
                f"Video frames are {width}x{height}; the limit is {self.limits.max_pixels} "
                "pixels (FACEID_VIDEO_MAX_PIXELS).",
            )

    def frames(self) -> list[tuple[int, float, np.ndarray]]:
        """(index, seconds, BGR image), evenly spread over the clip. When a container's
        count was wrong (a frame it promised does not decode), the clip is counted by
        decoding and sampled again, rather than sampled thinly."""
        frames, complete = self._sample()
        if self.seekable and not complete:
            self.seekable = False
            self._rewind()
            self.frame_count = self._count()
            frames, _ = self._sample()
        return frames

    def _sample(self, seek_gap: int = 24) -> tuple[list[tuple[int, float, np.ndarray]], bool]:
        """The wanted frames (long gaps seeked, short ones grabbed); False if one failed."""
        frames: list[tuple[int, float, np.ndarray]] = []
        position = 0
        for index in self._wanted():
            gap = index - position
            if self.seekable and (gap > seek_gap or gap < 0):
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            else:
                for _ in range(gap):
                    self._cap.grab()
            ok, image = self._cap.read()
            position = index + 1
            if not ok or image is None:
                return frames, False
            self._check_size(image.shape[1], image.shape[0])  # decoded, not just declared
            time_s = self._time_s(index)
            if time_s > self.limits.max_seconds:
                return frames, True
            frames.append((index, round(time_s, 3), self._shrink(upright(image, self.rotation))))
        return frames, True

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
