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

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

# the evaluation's clips are encoded as the reference door client sends its recordings
from ..clients.door import encode as encode
from .genuine import PEOPLE, Person, as_played, cut, genuine_cuts, mirrored
from .prints import photo_motions

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


#: (time, action) of the motions the paced clip replays in PERSON_CLIP: each time is the frame
#: the service reads the event on (a turn's first frame past its yaw, a blink's closed frame).
#: (The blink at 11.25 s is left out: the eyes stay half closed through the turn after it,
#: so no still frame with open eyes follows it to hold while the person awaits a cue.)
PACED = ((9.167, "turn_left"), (11.75, "turn_right"), (12.917, "blink"))
PACED_LEAD_S = 0.6  # each motion lands this long after its cue: the person's reaction
PACED_ONSET_S = 0.4  # and is played at its own speed for this long before it lands
PACED_SETTLE_S = 0.1  # and this long after (a blink reopens; a turn starts back)


def paced(frames: list[np.ndarray], fps: float, cues: list[float]) -> list[np.ndarray]:
    """PERSON_CLIP's frames played so that each motion of :data:`PACED` lands
    :data:`PACED_LEAD_S` after its cue, as a person answering those cues would move: each
    motion is played at its own speed from :data:`PACED_ONSET_S` before it lands to
    :data:`PACED_SETTLE_S` after (a head turning, an eye closing, are the person's own),
    the stillness between two motions faster or slower; from :data:`PACED_LEAD_S` before
    the first motion to 1.8 s after the last. The clip's timeline starts at the first cue;
    cues at least :data:`PACED_ONSET_S` + :data:`PACED_SETTLE_S` apart."""
    anchors_u, anchors_t = [0.0], [PACED[0][0] - PACED_LEAD_S]
    for cue, (event, _) in zip(cues, PACED, strict=True):
        lands = cue + PACED_LEAD_S
        anchors_u += [lands - PACED_ONSET_S, lands + PACED_SETTLE_S]
        anchors_t += [event - PACED_ONSET_S, event + PACED_SETTLE_S]
    out = []
    for k in range(int((cues[-1] + PACED_LEAD_S + 1.8) * fps)):
        u = k / fps
        if u >= anchors_u[-1]:
            t = anchors_t[-1] + (u - anchors_u[-1])
        else:
            t = float(np.interp(u, anchors_u, anchors_t))
        out.append(frames[min(round(t * fps), len(frames) - 1)])
    return out


def fitted_cues(actions: Sequence[str], seen: Sequence[tuple[float, str]]) -> list[float] | None:
    """The cues a person whose clip shows ``seen`` (time, event) answered ``actions`` on:
    each :data:`PACED_LEAD_S` before the first event, in order, that answers its action
    (None when one has none). The genuine cuts were not recorded against cues; judged on
    these, they are judged as a door's clip is, timed, for everything but the person's
    timing: what the head does once the last action's window has closed refuses nothing.

    >>> fitted_cues(["turn_left", "blink"], [(0.5, "turn_right"), (0.9, "turn_left"),
    ...                                       (1.4, "blink"), (2.0, "turn_right")])
    [0.3, 0.8]
    >>> fitted_cues(["blink", "turn_left"], [(0.9, "turn_left")]) is None
    True
    """
    cues, after = [], -math.inf
    for action in actions:
        found = next((t for t, kind in seen if t > after and kind.endswith(action)), None)
        if found is None:
            return None
        cues.append(round(found - PACED_LEAD_S, 3))
        after = found
    return cues


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
