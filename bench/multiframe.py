"""Single-frame against multi-frame decisions at each level: the figures behind README's
multi-frame table.

    python bench/multiframe.py [--pipelines default,recommended] [--out bench/MULTIFRAME.md]

Two kinds of visits, both scored with the service's own rule
(:func:`faceid.faces.fusion.decide`: the best frame against the level's threshold
tightened for the number of frames, :meth:`ModelCard.visit_threshold`, and every frame
above the same-person floor, :func:`faceid.faces.fusion.one_person`):

- photos: identities.csv. One photo of a person is the enrolled template; a visit
  is the person's other photos (4.3 on average), each one a frame. Impostor visits
  are every other person's photos against that template.
- videos: the clips in ``faces/liveness`` (one person each; the Hamilton clip shows
  two people taking turns, so it cannot stand for one), 40 frames spread over each
  (the service's decoder). 5 frames from the first third enrol;
  visits are 5 consecutive sampled frames from the rest (sliding). Impostor visits
  are every clip's visits against every other clip's templates.

Single-frame figures count each frame of the same visits as an attempt of its own.
"""

from __future__ import annotations

import itertools
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import tables  # noqa: E402
from faceid.faces.decoder import VideoLimits  # noqa: E402
from faceid.faces.fusion import decide, one_person  # noqa: E402
from faceid.faces.media import decode_video  # noqa: E402
from faceid.faces.models import ModelCard  # noqa: E402
from faceid.faces.pipeline import Pipeline  # noqa: E402
from faceid.research.evaluate import embed_files  # noqa: E402
from faceid.research.verification import read_identities  # noqa: E402

log = logging.getLogger("bench.multiframe")

PIPELINES = {
    "default": {"detector": "hog", "embedder": "dlib"},
    "recommended": {"detector": "yunet", "embedder": "arcface"},
}
VISIT = 5  # frames per video visit: what a door client posts (UNLOCK_VIDEO_FRAMES)

# A visit: the enrolled subject, and each frame's best similarity to that subject's templates.
Visit = tuple[bool, list[float]]


def photo_visits(pipe: Pipeline) -> Iterator[Visit]:
    ids = tables.SHARED / "faces" / "identities.csv"
    identity_of = read_identities(ids)
    vectors = embed_files(pipe, ids.parent, identity_of).vectors
    people: dict[str, list[str]] = {}
    for photo, who in sorted(identity_of.items()):
        people.setdefault(who, []).append(photo)

    def sim(a: str, b: str) -> float:
        va, vb = vectors.get(a), vectors.get(b)
        return float(va @ vb) if va is not None and vb is not None else -1.0

    for who, photos in people.items():
        for template in photos:
            for other, probes in people.items():
                probes = [p for p in probes if p != template]
                if probes:
                    yield other == who, [sim(template, p) for p in probes]


def clip_vectors(pipe: Pipeline, path: Path) -> list[np.ndarray | None]:
    limits = VideoLimits(max_frames=40, max_seconds=120)
    out: list[np.ndarray | None] = []
    for frame in decode_video(path.read_bytes(), limits):
        faces = pipe.detect(frame.image, largest_only=True)
        out.append(pipe.embed([(frame.image, faces[0])])[0] if faces else None)
    return out


def video_visits(pipe: Pipeline) -> Iterator[Visit]:
    clips = sorted((tables.SHARED / "faces" / "liveness").glob("*.mp4"))
    enrolled, visits = {}, {}
    for clip in clips:
        frames = clip_vectors(pipe, clip)
        third = len(frames) // 3
        picks = np.linspace(0, third - 1, VISIT).round().astype(int)
        enrolled[clip.name] = [frames[i] for i in picks if frames[i] is not None]
        rest = frames[third:]
        visits[clip.name] = [rest[i : i + VISIT] for i in range(len(rest) - VISIT + 1)]
        log.info(
            "%s: %d frames, %d without a face",
            clip.name,
            len(frames),
            sum(f is None for f in frames),
        )
    for owner, visitor in itertools.product(enrolled, visits):
        templates = np.array(enrolled[owner])
        for visit in visits[visitor]:
            sims = [float((templates @ v).max()) if v is not None else -1.0 for v in visit]
            yield owner == visitor, sims


def rates(visits: list[Visit], card: ModelCard, level: str) -> dict[str, tuple[int, int]]:
    """(errors, attempts) for single frames and whole visits, genuine and impostor."""
    threshold = card.levels[level]
    counts = {k: [0, 0] for k in ("frame_fr", "visit_fr", "frame_fa", "visit_fa")}
    for genuine, sims in visits:
        cut = card.visit_threshold(level, len(sims))
        opened = decide([("x", s) for s in sims], threshold, cut)[0] is not None
        opened = opened and one_person(sims, card.same_person_floor())
        kind = "fr" if genuine else "fa"
        for s in sims:
            counts[f"frame_{kind}"][0] += (s >= threshold) != genuine
            counts[f"frame_{kind}"][1] += 1
        counts[f"visit_{kind}"][0] += opened != genuine
        counts[f"visit_{kind}"][1] += 1
    return {k: (v[0], v[1]) for k, v in counts.items()}


def cell(errors: int, attempts: int) -> str:
    """``errors/attempts (rate)``: a rate under 1e-3 in scientific notation, so that a few
    false accepts in 100,000 do not read as 0.0%."""
    rate = errors / max(attempts, 1)
    return (
        f"{errors}/{attempts} ({rate:.1e})"
        if 0 < rate < 1e-3
        else f"{errors}/{attempts} ({rate:.1%})"
    )


def main() -> None:
    options = tables.parser(__doc__, detectors=False)
    options.add_argument("--pipelines", default=",".join(PIPELINES))
    args = tables.start(options)
    lines = [
        "| pipeline | visits | level | single-frame false rejects | multi-frame false rejects "
        "| single-frame false accepts | multi-frame false accepts |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in args.pipelines.split(","):
        cfg = tables.config(**PIPELINES[name])
        pipe = Pipeline.load(cfg)
        label = f"{name} ({cfg.detector} + {pipe.model_id})"
        for kind, visits in (("photos", photo_visits), ("videos", video_visits)):
            found = list(visits(pipe))
            for level, threshold in pipe.card.levels.items():
                r = rates(found, pipe.card, level)
                lines.append(
                    f"| {label} | {kind} | {level} {threshold} | {cell(*r['frame_fr'])} | "
                    f"{cell(*r['visit_fr'])} | {cell(*r['frame_fa'])} | {cell(*r['visit_fa'])} |"
                )
                log.info(lines[-1])
    tables.emit(lines, args.out)


if __name__ == "__main__":
    main()
