"""What a door sees: a photo enrolment against door-camera frames of the person walking
up, single-frame and multi-frame, at each level: the figures behind README's door table.

    python bench/door.py [--pipelines default,recommended] [--people N] [--out bench/DOOR.md]

No footage here shows one person both enrolling and at a door, so the door's frames are
made from LFW's photos of the shared half (``faces/lfw``), another day's photo of the
person than the one enrolled: each person's first photo is enrolled as it is (the
selfie), and each of their next two photos becomes one visit of five 640x480 frames as a
camera above a door sees someone approach it (:func:`door_frames`): the face 70 to 115
px wide, seen from above (a keystone of 5-15%), in porch light or against the light
(gain 0.55-1.05, gamma 0.8-1.4, one per visit), blurred by walking (a streak of 0-7 px
at any angle) with sensor noise (sigma 2-6), sent as JPEG (quality 55-80). Every frame
is detected and embedded by the pipeline as the service does, and each visit is decided
by the service's own rule (:func:`bench.multiframe.rates`). Impostor visits: every visit
against 20 other people's enrolments (drawn with a fixed seed).

The levels' thresholds were fitted on different-person pairs only; no genuine pair of
these people entered any fit.
"""

from __future__ import annotations

import csv
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import tables  # noqa: E402
from bench.multiframe import PIPELINES, Visit, cell, rates  # noqa: E402
from faceid.faces.pipeline import Pipeline  # noqa: E402
from faceid.research.lfw import pick  # noqa: E402

log = logging.getLogger("bench.door")

LFW = tables.SHARED / "faces" / "lfw"
FRAME = (640, 480)  # width, height: what a door client sends
APPROACH = (70, 80, 90, 100, 115)  # the face's width over one visit's five frames, px
VISITS_PER_PERSON = 2
IMPOSTORS = 20  # other people's enrolments each visit is tried against


def door_frames(photo: np.ndarray, box: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Five BGR frames of a door camera as the person in ``photo`` (face ``box``, x1 y1
    x2 y2) walks up to it: one light and one camera tilt per visit, blur, noise, JPEG
    and the face's place per frame."""
    gain, gamma = rng.uniform(0.55, 1.05), rng.uniform(0.8, 1.4)
    tilt = rng.uniform(0.05, 0.15)
    quality = int(rng.integers(55, 81))
    backdrop = _backdrop(photo)
    frames = []
    for width in APPROACH:
        scale = width / float(box[2] - box[0])
        small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        h, w = small.shape[:2]
        squeeze = tilt * w / 2  # the top edge narrower: a camera above eye level
        warp = cv2.getPerspectiveTransform(
            np.float32([[0, 0], [w, 0], [w, h], [0, h]]),
            np.float32([[squeeze, 0], [w - squeeze, 0], [w, h], [0, h]]),
        )
        small = cv2.warpPerspective(small, warp, (w, h), borderMode=cv2.BORDER_REPLICATE)
        frame = backdrop.copy()
        cx = (box[0] + box[2]) / 2 * scale + rng.uniform(-60, 60)
        cy = (box[1] + box[3]) / 2 * scale + rng.uniform(-40, 40)
        _paste(frame, small, int(FRAME[0] / 2 - cx), int(FRAME[1] * 0.45 - cy))
        frame = _blur(frame, int(rng.integers(0, 8)), rng.uniform(0, 180))
        light = 255.0 * (gain * frame / 255.0) ** gamma + rng.normal(
            0, rng.uniform(2, 6), frame.shape
        )
        ok, jpeg = cv2.imencode(
            ".jpg", light.clip(0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality]
        )
        frames.append(cv2.imdecode(jpeg, cv2.IMREAD_COLOR))
    return frames


def _backdrop(photo: np.ndarray) -> np.ndarray:
    """A faceless porch: the photo's top strip (its background) stretched over the frame
    and blurred."""
    strip = photo[: max(2, photo.shape[0] // 8)]
    return cv2.GaussianBlur(cv2.resize(strip, FRAME), (0, 0), 9)


def _paste(frame: np.ndarray, part: np.ndarray, x: int, y: int) -> None:
    """``part`` onto ``frame`` with its top left corner at (x, y), clipped to the frame."""
    fh, fw = frame.shape[:2]
    ph, pw = part.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + pw, fw), min(y + ph, fh)
    if x1 > x0 and y1 > y0:
        frame[y0:y1, x0:x1] = part[y0 - y : y1 - y, x0 - x : x1 - x]


def _blur(frame: np.ndarray, length: int, angle: float) -> np.ndarray:
    """A straight motion streak of ``length`` px at ``angle`` degrees."""
    if length < 2:
        return frame
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    turn = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), angle, 1.0)
    kernel = cv2.warpAffine(kernel, turn, (length, length))
    return cv2.filter2D(frame, -1, kernel / max(kernel.sum(), 1e-6))


def people(limit: int | None) -> dict[str, list[Path]]:
    """Each person of the shared LFW half with two photos or more, their photos in order."""
    found: dict[str, list[Path]] = {}
    with (LFW / "identities.csv").open() as fh:
        for row in csv.DictReader(fh):
            found.setdefault(row["identity"], []).append(LFW / row["path"])
    kept = {who: sorted(paths) for who, paths in sorted(found.items()) if len(paths) >= 2}
    return dict(list(kept.items())[:limit]) if limit else kept


def _face(pipe: Pipeline, image: np.ndarray, policy: str) -> tuple[np.ndarray, np.ndarray] | None:
    faces = pipe.detect(image)
    face = pick(faces, image.shape, policy)  # type: ignore[arg-type]
    return (pipe.embed([(image, face)])[0], face.box) if face is not None else None


def door_visits(
    pipe: Pipeline, who: dict[str, list[Path]], stats: dict[str, int], plain: list[float]
) -> Iterator[Visit]:
    """Genuine and impostor visits, each frame's similarity to the enrolled template
    (-1 for a frame where no face was found); ``plain`` gets each visit's source photo's
    similarity to the person's enrolment, the photo as it is."""
    rng = np.random.default_rng(2026)
    enrolled: dict[str, np.ndarray] = {}
    visits: list[tuple[str, list[np.ndarray | None]]] = []
    for person, paths in who.items():
        selfie = _face(pipe, cv2.imread(str(paths[0])), "centre")
        if selfie is None:
            stats["no_face_at_enrolment"] += 1
            continue
        enrolled[person] = selfie[0]
        for path in paths[1 : 1 + VISITS_PER_PERSON]:
            photo = cv2.imread(str(path))
            found = _face(pipe, photo, "centre")
            if found is None:
                stats["no_face_in_source"] += 1
                continue
            plain.append(float(enrolled[person] @ found[0]))
            vectors = []
            for frame in door_frames(photo, found[1], rng):
                faces = pipe.detect(frame, largest_only=True)
                vectors.append(pipe.embed([(frame, faces[0])])[0] if faces else None)
                stats["frames"] += 1
                stats["frames_without_face"] += not faces
            visits.append((person, vectors))
        if len(enrolled) % 100 == 0:
            log.info("%d people enrolled, %d visits", len(enrolled), len(visits))
    names = list(enrolled)
    for person, vectors in visits:
        others = rng.choice([n for n in names if n != person], IMPOSTORS, replace=False)
        for owner in [person, *others]:
            sims = [float(enrolled[owner] @ v) if v is not None else -1.0 for v in vectors]
            yield owner == person, sims


def main() -> None:
    options = tables.parser(__doc__, detectors=False)
    options.add_argument("--pipelines", default=",".join(PIPELINES))
    options.add_argument("--people", type=int, default=None, help="only the first N people")
    args = tables.start(options)
    who = people(args.people)
    lines = [
        "| pipeline | level | the photos as they are: false rejects | door frames without a face "
        "| single-frame false rejects | visit false rejects (5 frames) "
        "| single-frame false accepts | visit false accepts |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in args.pipelines.split(","):
        pipe = Pipeline.load(tables.config(**PIPELINES[name]))
        stats = dict.fromkeys(
            ("frames", "frames_without_face", "no_face_at_enrolment", "no_face_in_source"), 0
        )
        plain: list[float] = []
        found = list(door_visits(pipe, who, stats, plain))
        log.info("%s: %s", name, stats)
        for level, threshold in pipe.card.levels.items():
            r = rates(found, pipe.card, level)
            missed = sum(s < threshold for s in plain)
            label = f"{name} ({PIPELINES[name]['detector']} + {pipe.model_id})"
            lines.append(
                f"| {label} | {level} {threshold} | "
                f"{cell(missed, len(plain))} | "
                f"{cell(stats['frames_without_face'], stats['frames'])} | {cell(*r['frame_fr'])} | "
                f"{cell(*r['visit_fr'])} | {cell(*r['frame_fa'])} | {cell(*r['visit_fa'])} |"
            )
            log.info(lines[-1])
    lines.append("")
    lines.append(f"People: {len(who)} of the shared LFW half with two photos or more.")
    tables.emit(lines, args.out)


if __name__ == "__main__":
    main()
