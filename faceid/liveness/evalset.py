"""The liveness evaluation set, made from real clips: genuine answers and attacks.

Genuine attempts are cuts of every real clip whose person turns their head (five people:
:data:`GENUINE` here and :data:`.genuine.PEOPLE`, annotated), as recorded and mirrored,
each asked the challenge its motions answer. Attacks are made from the same real material
(ISO/IEC 30107-3 presentation attacks, by kind):

- ``photo``: a still of each enrolled person moved as a sheet of paper is moved: tilted
  left/right or up/down (one perspective warp of a plane per frame), shaken, zoomed,
  tilted while shaken, and bent round a cylinder while it is turned (no longer one plane);
- ``replay``: the genuine cuts (and the whole clip) played against a challenge whose
  order they do not follow;
- ``gaze``: ``gaze_only_head_still.mp4`` (the eyes move, the head does not) against turns;
- ``switch``: a clip that cuts from the enrolled person to somebody else mid-challenge;
- ``repeat``: one frame of the enrolled person, repeated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

# the evaluation's clips are encoded as the reference door client sends its recordings
from ..clients.door import encode as encode
from .genuine import PEOPLE, Person, as_played, cut, genuine_cuts, mirrored

PERSON_CLIP = "turns_and_blinks.mp4"  # the enrolled person's clip
PERSON = "man, blue screen, 24 fps"  # who is in it
OTHER_CLIP = "blinks_frontal.mp4"  # somebody else, enrolled and granted too
GAZE_CLIP = "gaze_only_head_still.mp4"
#: (clip, seconds that enrol its person, the frame photo attacks print)
ENROLLED = [(PERSON_CLIP, (16.0, 20.0), 18.5), (OTHER_CLIP, (8.0, 12.0), 18.0)]

#: (start, end, challenges answered) in PERSON_CLIP, seconds.
GENUINE = [
    (3.3, 8.0, [["turn_right", "turn_left"], ["turn_right", "blink", "turn_left"]]),
    (
        8.5,
        13.5,
        [
            ["turn_left", "turn_right"],
            ["turn_left", "blink", "turn_right"],
            ["turn_left", "turn_right", "blink"],
            ["turn_left", "blink", "turn_right", "blink"],
        ],
    ),
    (11.5, 13.5, [["turn_right", "blink"]]),
    (11.0, 13.0, [["blink", "turn_right"]]),
    (8.5, 11.45, [["turn_left", "blink"]]),
]


#: Challenges a clip whose turns are in the key's order does not answer.
WRONG_ORDER = {
    ("turn_right", "turn_left"): [["turn_left", "turn_right"], ["turn_right", "blink"]],
    ("turn_left", "turn_right"): [["turn_right", "turn_left"], ["turn_left", "blink"]],
    ("turn_right",): [["turn_left", "blink"], ["turn_right", "turn_left"]],
    ("turn_left",): [["turn_right", "blink"], ["turn_left", "turn_right"]],
}
ATTACK_CHALLENGES = [
    ["turn_left", "turn_right"],
    ["turn_right", "blink", "turn_left"],
    ["blink", "turn_left"],
    ["turn_right", "blink"],
]


@dataclass(frozen=True)
class Attempt:
    """One clip against one challenge; ``kind`` is ``genuine`` or the attack's kind;
    ``person``: whose genuine attempt it is."""

    kind: str
    name: str
    actions: list[str]
    video: bytes
    person: str = ""


def read_clip(path: Path, start: float = 0.0, end: float = 1e9) -> tuple[list[np.ndarray], float]:
    """The frames of ``path`` between ``start`` and ``end`` seconds (rotation applied)."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    fps = float(cap.get(cv2.CAP_PROP_FPS)) or 25.0
    frames, index = [], 0
    while True:
        ok, image = cap.read()
        if not ok:
            break
        if start <= index / fps <= end:
            frames.append(image)
        index += 1
    cap.release()
    return frames, fps


def letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` scaled to fit ``size`` (width, height), its aspect kept, on black."""
    width, height = size
    scale = min(width / image.shape[1], height / image.shape[0])
    inner = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    x, y = (width - inner[0]) // 2, (height - inner[1]) // 2
    canvas[y : y + inner[1], x : x + inner[0]] = cv2.resize(image, inner)
    return canvas


def sheet(
    image: np.ndarray,
    degrees: float,
    axis: str = "vertical",
    scale: float = 1.0,
    shift: tuple[float, float] = (0.0, 0.0),
    roll: float = 0.0,
) -> np.ndarray:
    """A printed photo turned by ``degrees`` about its vertical (or horizontal) centre line,
    rolled, scaled and shifted, as a camera at one image-width's distance sees it: one
    perspective warp of a plane."""
    height, width = image.shape[:2]
    focal = float(width)
    angles = [0.0, np.radians(degrees), 0.0] if axis == "vertical" else [np.radians(degrees), 0, 0]
    rotation = cv2.Rodrigues(np.array(angles, dtype=np.float64))[0]
    spin = cv2.Rodrigues(np.array([0.0, 0.0, np.radians(roll)]))[0]
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    flat = np.c_[(corners - (width / 2, height / 2)) * scale, np.zeros(4)]
    plane = flat @ (rotation @ spin).T + (0, 0, focal)
    seen = focal * plane[:, :2] / plane[:, 2:] + (width / 2 + shift[0], height / 2 + shift[1])
    warp = cv2.getPerspectiveTransform(corners.astype(np.float32), seen.astype(np.float32))
    return cv2.warpPerspective(image, warp, (width, height), borderValue=(128, 128, 128))


def bent(image: np.ndarray, degrees: float, curve: float = 1.2, strips: int = 24) -> np.ndarray:
    """A print bent round a vertical cylinder (radius: the image's width over ``curve``),
    bulging towards the camera and turned by ``degrees``: strips of the image, each one
    small plane on the cylinder, drawn far ones first."""
    height, width = image.shape[:2]
    focal, radius = float(width), width / curve
    turn = cv2.Rodrigues(np.array([0.0, np.radians(degrees), 0.0]))[0]
    out = np.full_like(image, 128)

    def on_cylinder(x: float, y: float) -> np.ndarray:
        angle = (x - width / 2) / radius
        return np.array([radius * np.sin(angle), y - height / 2, -radius * (1 - np.cos(angle))])

    pieces = []
    edges = np.linspace(0, width, strips + 1)
    for x0, x1 in zip(edges[:-1], edges[1:], strict=True):
        flat = np.array([[x0, 0], [x1, 0], [x1, height], [x0, height]], dtype=np.float32)
        space = np.array([on_cylinder(x, y) for x, y in flat]) @ turn.T + (0, 0, focal)
        seen = focal * space[:, :2] / space[:, 2:] + (width / 2, height / 2)
        pieces.append((-space[:, 2].mean(), flat, seen.astype(np.float32)))
    for _, flat, seen in sorted(pieces, key=lambda piece: piece[0]):
        warp = cv2.getPerspectiveTransform(flat, seen)
        strip = np.zeros(image.shape[:2], dtype=np.uint8)
        strip[:, int(flat[0][0]) : int(np.ceil(flat[1][0]))] = 255
        mask = cv2.warpPerspective(strip, warp, (width, height)) > 0
        out[mask] = cv2.warpPerspective(image, warp, (width, height))[mask]
    return out


def photo_motions(still: np.ndarray, fps: float = 15.0) -> dict[str, list[np.ndarray]]:
    """A still moved as a sheet of paper is, 4 s each: tilted left then right, up then
    down, shaken, zoomed in and out, bent and turned, tilted while shaken."""
    t = np.linspace(0, 1, int(4 * fps))
    swing = 40 * np.sin(2 * np.pi * t)  # 0 -> +40 -> 0 -> -40 -> 0 degrees
    rng = np.random.default_rng(7)
    return {
        "photo_tilt_left_right": [sheet(still, a) for a in swing],
        "photo_tilt_up_down": [sheet(still, a, axis="horizontal") for a in swing],
        "photo_shaken": [
            sheet(
                still,
                float(rng.normal(0, 12)),
                roll=float(rng.normal(0, 6)),
                shift=(float(rng.normal(0, 8)), float(rng.normal(0, 8))),
            )
            for _ in t
        ],
        "photo_zoomed": [
            sheet(still, 10 * np.sin(4 * np.pi * x), scale=1 + 0.4 * np.sin(np.pi * x)) for x in t
        ],
        "photo_bent": [bent(still, a) for a in swing],
        "photo_tilted_and_shaken": [
            sheet(
                still,
                float(a + rng.normal(0, 6)),
                roll=float(rng.normal(0, 4)),
                shift=(float(rng.normal(0, 6)), float(rng.normal(0, 6))),
            )
            for a in swing
        ],
    }


def attempts(folder: Path) -> Iterator[Attempt]:
    """Every genuine attempt and every attack, from the clips in ``folder``."""
    person = folder / PERSON_CLIP
    for start, end, answers in GENUINE:
        frames, fps = read_clip(person, start, end)
        video = encode(frames, fps)
        name = f"{PERSON_CLIP} {start:g}-{end:g} s"
        for actions in answers:
            yield Attempt("genuine", name, actions, video, PERSON)
        turns = tuple(a for a in answers[0] if a != "blink")
        for actions in WRONG_ORDER[turns]:
            yield Attempt("replay", name, actions, video)
    yield from genuine(folder)
    whole, fps = read_clip(person, 0.0, 9.9)
    for actions in (["turn_left", "turn_right"], ["blink", "turn_left"]):
        yield Attempt("replay", f"{PERSON_CLIP} 0-9.9 s", actions, encode(whole, fps))
    for clip, _, at in ENROLLED:
        still = read_clip(folder / clip, at, at + 0.01)[0][0]
        for name, frames in photo_motions(still).items():
            video = encode(frames, 15.0)
            for actions in ATTACK_CHALLENGES:
                yield Attempt("photo", f"{name} ({clip} at {at:g} s)", actions, video)
    gaze, fps = read_clip(folder / GAZE_CLIP, 3.0, 12.0)
    for actions in ATTACK_CHALLENGES:
        yield Attempt("gaze", GAZE_CLIP, actions, encode(gaze, fps))
    yield from _switches(folder)
    still = read_clip(person, ENROLLED[0][2], ENROLLED[0][2] + 0.01)[0][0]
    repeated = encode([still] * 45, 15.0)
    for actions in ATTACK_CHALLENGES:
        yield Attempt("repeat", "one frame, 3 s", actions, repeated)


#: (second, action) of the motions in PERSON_CLIP that :func:`paced` plays to a schedule:
#: the first frame past the turn's yaw, the blink's closed frame (as the service reads them).
PACED = ((9.13, "turn_left"), (11.22, "blink"), (11.72, "turn_right"))
PACED_LEAD_S = 0.6  # each motion lands this long after its cue: the person's reaction
PACED_ONSET_S = 0.4  # and is played at its own speed for this long before it lands


def paced(frames: list[np.ndarray], fps: float, cues: list[float]) -> list[np.ndarray]:
    """PERSON_CLIP's frames played so that each motion of :data:`PACED` lands
    :data:`PACED_LEAD_S` after its cue, as a person answering those cues would move: each
    motion is played at its own speed from :data:`PACED_ONSET_S` before it lands (a head
    turning is the person's own), the stillness between two motions faster or slower;
    from :data:`PACED_LEAD_S` before the first motion to 1.8 s after the last. The clip's
    timeline starts at the first cue."""
    anchors_u, anchors_t = [0.0], [PACED[0][0] - PACED_LEAD_S]
    for cue, (event, _) in zip(cues, PACED, strict=True):
        anchors_u += [cue + PACED_LEAD_S - PACED_ONSET_S, cue + PACED_LEAD_S]
        anchors_t += [event - PACED_ONSET_S, event]
    out = []
    for k in range(int((cues[-1] + PACED_LEAD_S + 1.8) * fps)):
        u = k / fps
        if u >= anchors_u[-1]:
            t = anchors_t[-1] + (u - anchors_u[-1])
        else:
            t = float(np.interp(u, anchors_u, anchors_t))
        out.append(frames[min(round(t * fps), len(frames) - 1)])
    return out


def person_frames(folder: Path, person: Person, mirror: bool) -> tuple[list[np.ndarray], float]:
    """A person of :data:`.genuine.PEOPLE`'s clip as played (reversed, mirrored)."""
    frames, fps = read_clip(folder / person.clip)
    return as_played(frames, person, mirror), fps


def genuine(folder: Path) -> Iterator[Attempt]:
    """The genuine attempts of :data:`.genuine.PEOPLE`, as recorded and mirrored."""
    for person in PEOPLE:
        for mirror in (False, True):
            frames, fps = person_frames(folder, person, mirror)
            for start, end, actions in genuine_cuts(person, len(frames) / fps):
                video = encode(cut(frames, fps, start, end), fps)
                name = f"{person.clip}{' mirrored' if mirror else ''} {start:g}-{end:g} s"
                asked = mirrored(actions) if mirror else actions
                yield Attempt("genuine", name, asked, video, person.name)


def _switches(folder: Path) -> Iterator[Attempt]:
    """The person's turn, then somebody else's blinks; and somebody else's blink, then the
    person's turn."""
    mine, fps = read_clip(folder / PERSON_CLIP, 8.5, 10.5)
    other, _ = read_clip(folder / OTHER_CLIP, 5.5, 7.0)
    size = (mine[0].shape[1], mine[0].shape[0])
    theirs = [cv2.resize(f, size) for f in other]
    yield Attempt(
        "switch", "person turns, other blinks", ["turn_left", "blink"], encode(mine + theirs, fps)
    )
    after, _ = read_clip(folder / PERSON_CLIP, 11.5, 13.0)
    yield Attempt(
        "switch", "other blinks, person turns", ["blink", "turn_right"], encode(theirs + after, fps)
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m faceid.liveness.evalset cut SRC START END OUT``: seconds START..END of a
    clip as an MP4 (for demos: a recording standing in for a door's camera)."""
    import argparse

    options = argparse.ArgumentParser(description=main.__doc__)
    options.add_argument("command", choices=["cut"])
    options.add_argument("source", type=Path)
    options.add_argument("start", type=float)
    options.add_argument("end", type=float)
    options.add_argument("out", type=Path)
    args = options.parse_args(argv)
    frames, fps = read_clip(args.source, args.start, args.end)
    if not frames:
        options.error(f"no frames between {args.start} and {args.end} s in {args.source}")
    args.out.write_bytes(encode(frames, fps))


if __name__ == "__main__":
    main()
