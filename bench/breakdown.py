"""Where faceid's time goes, measured in-process stage by stage: the "why" of the targets."""

from __future__ import annotations

from dataclasses import dataclass

from faceid.faces.extract import Limits, extract_image
from faceid.faces.media import VideoLimits, decode_image, decode_video
from faceid.faces.pipeline import Pipeline
from faceid.faces.sampling import detect_frames

from .stats import measure, ms

MAX_PIXELS = 40_000_000


@dataclass(frozen=True)
class Stages:
    """Median seconds per stage."""

    parts: dict[str, float]

    def text(self) -> str:
        return ", ".join(f"{name} {ms(s)}" for name, s in self.parts.items())

    def largest(self) -> str:
        """The slowest stage (ignoring the 'whole ...' total)."""
        stages = {k: v for k, v in self.parts.items() if not k.startswith("whole")}
        name = max(stages, key=lambda k: stages[k])
        return f"{name} ({ms(stages[name])})"


def image_stages(pipe: Pipeline, data: bytes, runs: int) -> Stages:
    """decode, detect, align+embed, and the whole service call (adds quality + JSON)."""
    image = decode_image(data, MAX_PIXELS)
    faces = pipe.detect(image)
    if not faces:
        raise RuntimeError("no face in the frame")
    limits = Limits()
    return Stages(
        {
            "decode": measure(lambda: decode_image(data, MAX_PIXELS), runs).p50,
            "detect": measure(lambda: pipe.detect(image), runs).p50,
            "align+embed": measure(lambda: pipe.embed([(image, faces[0])]), runs).p50,
            "whole service.extract_image": measure(
                lambda: extract_image(pipe, data, 10, limits), runs
            ).p50,
        }
    )


def video_stages(pipe: Pipeline, data: bytes, runs: int, max_frames: int = 16) -> Stages:
    """Seek + decode of the sampled frames, detection on each, one batched embed."""
    limits = VideoLimits(max_frames=max_frames, max_pixels=MAX_PIXELS)
    frames = [f.image for f in decode_video(data, limits)]
    detected = detect_frames(pipe, frames)
    found = [(img, faces[0]) for img, faces in zip(frames, detected, strict=True) if faces]

    def decode() -> None:
        decode_video(data, limits)

    return Stages(
        {
            f"decode {len(frames)} frames in the confined child": measure(decode, runs).p50,
            f"detect x{len(frames)} (faces of 80 px and more, two frames at once, as "
            "enrolment does)": measure(lambda: detect_frames(pipe, frames), runs).p50,
            f"align+embed x{len(found)}": measure(lambda: pipe.embed(found), runs).p50,
        }
    )
