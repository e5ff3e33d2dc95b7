"""Liveness in presentation-attack terms (ISO/IEC 30107-3): APCER per attack kind, BPCER.

Every attempt of :mod:`faceid.liveness.evalset` (genuine challenge answers cut from the
real clips of five people, as recorded and mirrored; photo, replay, gaze, switch and repeat attacks
made from real material) goes through the service as a door sends it: a challenge is issued for the
lock, the clip is posted to ``/v1/locks/{id}/unlock`` with its id. Every person of the clips is
enrolled and granted: every attack presents somebody the door would open for.

APCER: the share of attacks of one kind that opened the door. BPCER: the share of
genuine answers refused, overall and per person, of those the service decided; BPNRR: the
share it asked to try again (``retry_*``, refunded) instead (every genuine person is
enrolled and granted; their mirror image embeds as the same person). Genuine answers are
judged timed on the cues their own motions answer (:func:`fitted`: these clips were not
recorded against cues, so the person's timing is not measured and no timing refusal
is counted: a lower bound); attacks untimed, for their motion alone, under the untimed
rule's stricter extra-turn check. The speed table times, interleaved in one
run, a 3 s 640x480 clip checked against a challenge and the same clip sent as a plain video unlock
(5 sampled frames, on a lock with liveness off).

Run as ``python bench/liveness.py [--out bench/LIVENESS.md] [--json FILE] [--rounds N]``.
"""

from __future__ import annotations

import io
import json
import logging
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from flask import Flask
from tqdm import tqdm

from faceid.faces.media import decode_video
from faceid.liveness.clip import analyse
from faceid.liveness.evalset import (
    ENROLLED,
    PERSON,
    PERSON_CLIP,
    Attempt,
    attempts,
    encode,
    fitted_cues,
    person_frames,
    read_clip,
)
from faceid.liveness.genuine import PEOPLE, Person, cut
from faceid.liveness.landmarks import shared_landmarks
from faceid.liveness.prints import letterbox
from faceid.lock import liveness
from faceid.lock.context import Context
from faceid.lock.keys import authenticate, issue_key
from faceid.services import Services

log = logging.getLogger(__name__)

#: Budgets out of the way: the evaluation fails hundreds of attempts on purpose.
SETTINGS = {"FACEID_LOCKOUT_ATTEMPTS": 100000, "FACEID_KEY_ATTEMPTS": 100000}


def door(app: Flask, folder: Path) -> tuple[str, str]:
    """An organisation with both clips' people enrolled and granted on a challenge lock:
    (lock id, door key)."""
    svc: Services = app.extensions["faceid"]
    org = svc.store.ensure_org("liveness-evaluation")
    admin = {"Authorization": f"Bearer {issue_key(svc.store, org.id, 'admin')[1]}"}
    client = app.test_client()
    lock = client.post(
        "/v1/locks", json={"name": "door", "liveness": "challenge"}, headers=admin
    ).json["id"]
    for clip, span, _ in ENROLLED:
        person = client.post("/v1/subjects", json={"name": clip}, headers=admin).json["id"]
        frames, fps = read_clip(folder / clip, *span)
        enrol = client.post(
            f"/v1/subjects/{person}/enrollments",
            data={"video": (_file(encode(frames, fps)), "enrol.mp4")},
            headers=admin,
        )
        assert enrol.status_code == 201, enrol.json
        client.put(f"/v1/locks/{lock}/grants/{person}", headers=admin)
    for someone in PEOPLE:  # as played; the mirrored face embeds as the same (0.99 for dlib)
        name = someone.name
        person = client.post("/v1/subjects", json={"name": name}, headers=admin).json["id"]
        frames, fps = person_frames(folder, someone, False)
        enrol = client.post(
            f"/v1/subjects/{person}/enrollments",
            data={"video": (_file(encode(cut(frames, fps, *someone.enrol), fps)), "e.mp4")},
            headers=admin,
        )
        assert enrol.status_code == 201, (name, enrol.json)
        client.put(f"/v1/locks/{lock}/grants/{person}", headers=admin)
    return lock, issue_key(svc.store, org.id, "unlock", [lock])[1]


def _file(data: bytes) -> Any:
    return io.BytesIO(data)


SPEED_CLIP = (8.5, 11.5, ["turn_left", "blink"])  # 3 s of the person's clip, and its answer


def speed(app: Flask, folder: Path, lock: str, key: str, rounds: int) -> dict[str, float]:
    """Median milliseconds of a challenge check and of a plain video unlock of one 3 s
    640x480 clip, measured in turns."""
    svc: Services = app.extensions["faceid"]
    org = svc.store.ensure_org("liveness-evaluation")
    plain = svc.store.create_lock(org.id, "plain door", liveness="off")
    for subject in svc.store.granted(lock):
        svc.store.grant(plain.id, subject)
    plain_key = issue_key(svc.store, org.id, "unlock", [plain.id])[1]
    start, end, actions = SPEED_CLIP
    frames, fps = read_clip(folder / PERSON_CLIP, start, end)
    video = encode([letterbox(f, (640, 480)) for f in frames], fps)
    timings: dict[str, list[float]] = {"challenge": [], "plain": []}
    client = app.test_client()
    for _ in tqdm(range(rounds), desc="speed rounds", unit="round"):
        began = time.perf_counter()
        opened = attempt(app, lock, key, Attempt("genuine", "speed", actions, video))
        timings["challenge"].append(time.perf_counter() - began)
        assert opened.get("verdict") == "unlock", opened
        began = time.perf_counter()
        answer = client.post(
            f"/v1/locks/{plain.id}/unlock",
            data={"video": (_file(video), "clip.mp4")},
            headers={"Authorization": f"Bearer {plain_key}"},
        )
        timings["plain"].append(time.perf_counter() - began)
        assert answer.json["verdict"] == "unlock", answer.json
    return {name: 1000 * statistics.median(values) for name, values in timings.items()}


#: A timed attempt's challenge is dated this long before its answer (its clip fits in it).
ISSUED_S = 20.0


def fitted(app: Flask, tried: Attempt) -> list[float] | None:
    """The cues a genuine attempt's motions answer (:func:`~faceid.liveness.evalset.fitted_cues`),
    its clip read as the service reads a challenge clip."""
    svc: Services = app.extensions["faceid"]
    frames = decode_video(tried.video, liveness.clip_limits(svc.settings))
    seen = analyse(svc.pipeline, shared_landmarks(), frames, tried.actions).events
    return fitted_cues(tried.actions, seen)


def attempt(
    app: Flask, lock: str, key: str, tried: Attempt, cues: list[float] | None = None
) -> dict[str, Any]:
    """The service's answer to one attempt: a challenge with its actions, then the clip.
    With ``cues`` (a genuine answer's, :func:`fitted`) the challenge is timed, as a door's
    is; without, untimed, the clip judged for its motion alone (an attack: recordings
    against the schedule are the replay library's part, :mod:`replay`)."""
    svc: Services = app.extensions["faceid"]
    with app.app_context():
        ctx = Context(
            svc.store, svc.index, svc.pipeline, svc.settings, authenticate(svc.store, key), svc.card
        )
        timing: dict[str, Any] = {"untimed": True}
        if cues is not None:
            timing = {"cues": cues, "issued_at": time.time() - ISSUED_S}
        challenge = liveness.issue(ctx, f"lock:{lock}", tried.actions, **timing)
    answer = app.test_client().post(
        f"/v1/locks/{lock}/unlock",
        data={"video": (_file(tried.video), "clip.mp4"), "challenge_id": challenge["challenge_id"]},
        headers={"Authorization": f"Bearer {key}"},
    )
    body = answer.json or {}
    return {"status": answer.status_code, **body}


def evaluate(app: Flask, folder: Path, lock: str, key: str) -> dict[str, Any]:
    """Per kind: attempts, accepted, and the refusal reasons; plus each attempt's row."""
    rows = []
    people: dict[str, Counter[str]] = defaultdict(Counter)
    actions: dict[str, Counter[str]] = defaultdict(Counter)
    for tried in tqdm(list(attempts(folder)), desc="liveness attempts", unit="clip"):
        cues = fitted(app, tried) if tried.kind == "genuine" else None
        answer = attempt(app, lock, key, tried, cues)
        opened = answer.get("verdict") == "unlock"
        reason = answer.get("reason") or answer.get("error", {}).get("code")
        rows.append((tried.kind, tried.name, ",".join(tried.actions), opened, reason))
        if tried.kind == "genuine":
            people[tried.person]["attempts"] += 1
            people[tried.person]["accepted"] += int(opened)
            people[tried.person]["retry"] += int(str(reason).startswith("retry_"))
            actions[tried.person]["actions"] += len(tried.actions)
        log.info("%s %s %s -> %s", tried.kind, tried.name, tried.actions, reason)
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    for kind, _, _, opened, reason in rows:
        kinds[kind]["attempts"] += 1
        kinds[kind]["accepted"] += int(opened)
        kinds[kind][f"reason:{reason}"] += 1
    for person, counts in people.items():
        counts["actions"] = actions[person]["actions"]
    return {"kinds": kinds, "people": people, "rows": rows}


def bpcer(attempts: int, accepted: int, retries: int) -> float:
    """ISO/IEC 30107-3's BPCER: the share of genuine attempts the service answered that
    it refused. A refunded ``retry_*`` is no answer (the evidence was too thin to
    decide, and the person is asked again): it counts in the non-response rate (BPNRR,
    ``retries / attempts``) instead."""
    answered = attempts - retries
    return (answered - accepted) / answered if answered else 0.0


def table(result: dict[str, Any], timing: dict[str, float] | None = None) -> list[str]:
    kinds = result["kinds"]
    lines = []
    if timing:
        ratio = timing["challenge"] / timing["plain"]
        lines += [
            "| 3 s 640x480 clip, median of interleaved rounds | ms |",
            "|---|---|",
            f"| unlock answering a challenge (liveness + identity) | {timing['challenge']:.0f} |",
            f"| plain video unlock of the same clip (5 frames) | {timing['plain']:.0f} |",
            f"| cost of liveness | {ratio:.1f}x |",
            "",
        ]
    lines += [
        "| kind | attempts | accepted | rate | refusals |",
        "|---|---|---|---|---|",
    ]
    for kind, counts in sorted(kinds.items(), key=lambda kv: kv[0] != "genuine"):
        n, accepted = counts["attempts"], counts["accepted"]
        retries = sum(v for k, v in counts.items() if k.startswith("reason:retry_"))
        rate = bpcer(n, accepted, retries) if kind == "genuine" else accepted / n
        name = "BPCER" if kind == "genuine" else "APCER"
        reasons = ", ".join(
            f"{k.split(':', 1)[1]} {v}"
            for k, v in sorted(counts.items())
            if k.startswith("reason:")
        )
        lines.append(f"| {kind} | {n} | {accepted} | {name} {rate:.1%} | {reasons} |")
    lines += [
        "",
        "| genuine person (recorded and mirrored) | attempts | actions asked | refused "
        "| of which retry_* (refunded) | BPCER | BPNRR |",
        "|---|---|---|---|---|---|---|",
    ]
    people = result.get("people", {})
    for person, counts in sorted(people.items()):
        n, accepted, retry = counts["attempts"], counts["accepted"], counts["retry"]
        lines.append(
            f"| {person} | {n} | {counts['actions']} | {n - accepted} | {retry} "
            f"| {bpcer(n, accepted, retry):.1%} | {retry / n:.1%} |"
        )
    replays = result.get("replay_library") or {}
    if replays:
        lines += [
            "",
            "| replay library: the owner's recordings (spans of 4-10 s, as recorded and "
            "mirrored) | k = 5 | k = 20 | k = 5, untimed | k = 20, untimed |",
            "|---|---|---|---|---|",
        ]
        for person, rates in replays.items():
            cells = [rates[f"{t} k={k}"] for t in ("timed", "untimed") for k in (5, 20)]
            lines.append(f"| {person} | " + " | ".join(f"{r:.2%}" for r in cells) + " |")
    lines += ["", "| kind | clip | challenge | opened | reason |", "|---|---|---|---|---|"]
    lines += [
        f"| {k} | {n} | {a} | {'yes' if o else 'no'} | {r} |" for k, n, a, o, r in result["rows"]
    ]
    return lines


def library(app: Flask, folder: Path, draws: int) -> dict[str, dict[str, float]]:
    """The replay-library attack (:mod:`replay`) on each person's whole clip, as recorded
    and mirrored: the share of ``draws`` timed challenges a library of k = 5 and k = 20
    recordings answers, and of untimed ones (the order of the motions alone)."""
    import random

    import replay

    svc: Services = app.extensions["faceid"]
    rng = random.Random(2026)
    clips: list[tuple[str, Person]] = [(PERSON, Person(PERSON, PERSON_CLIP, (), (0, 0)))]
    clips += [(p.name, p) for p in PEOPLE]
    found: dict[str, dict[str, float]] = {}
    for name, someone in tqdm(clips, desc="whole clips read for the replay library", unit="person"):
        recordings = []
        for mirror in (False, True):
            frames, fps = person_frames(folder, someone, mirror)
            events, length = replay.clip_events(svc.pipeline, frames, fps)
            label = f"{someone.clip}{' mirrored' if mirror else ''}"
            recordings += replay.pool(label, events, length, rng)
        found[name] = {
            f"{'timed' if timed else 'untimed'} k={k}": replay.success(
                recordings, k, draws, rng, timed, name
            )
            for k in (5, 20)
            for timed in (True, False)
        }
    return found


def main() -> None:
    import tempfile

    from tables import SHARED, emit, parser, start

    from faceid.settings import Settings
    from faceid.web.factory import create_app

    options = parser(__doc__, detectors=False)
    options.add_argument("--json", type=Path, help="also write the counts as JSON here")
    options.add_argument("--rounds", type=int, default=5, help="speed rounds (0: none)")
    options.add_argument(
        "--draws", type=int, default=10000, help="challenges the replay library is tried on"
    )
    args = start(options)
    folder = SHARED / "faces" / "liveness"
    with tempfile.TemporaryDirectory() as data:
        overrides = {**SETTINGS, "FACEID_DATA_DIR": data, "FACEID_OPEN_RATE_LIMIT": "off"}
        app = create_app(settings=Settings.load(overrides))
        lock, key = door(app, folder)
        result = evaluate(app, folder, lock, key)
        timing = speed(app, folder, lock, key, args.rounds) if args.rounds else None
        result["replay_library"] = library(app, folder, args.draws) if args.draws else {}
    if args.json:
        args.json.write_text(json.dumps({**result, "speed_ms": timing}, indent=1))
    emit(table(result, timing), args.out)


if __name__ == "__main__":
    main()
