"""Challenge-response liveness for doors: issue a challenge, check the clip that answers it.

A door asks for a challenge (:func:`issue`): random actions (:mod:`faceid.liveness.
challenge`), stored, bound to the door's key and lock, short-lived, and counted as an
attempt in the key's and the lock's budgets from the moment it is issued. The door then
posts a clip with the challenge's id (:func:`unlock`): the challenge is used up whatever
the outcome; the clip must show one live face doing the actions in order
(:func:`faceid.liveness.clip.analyse`); only then is the face matched at the lock's level,
and every witness frame must show the person matched. Enrolment may require the same
(:func:`enroll`, ``FACEID_ENROLL_LIVENESS=challenge``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from ..errors import EnrollmentRejected, NoFace, NotFound
from ..faces.decoder import VideoLimits
from ..faces.media import decode_video, video_limits
from ..faces.native import off_loop
from ..liveness import challenge as challenges
from ..liveness.clip import Analysis, Tracked, analyse
from ..liveness.landmarks import shared_landmarks
from ..settings import Settings
from ..store import Challenge, Lock
from . import attempts
from .context import Context
from .enrollment import enroll_samples
from .samples import Sample, assessed
from .verdicts import RETRY, Evidence, visit

TURNED_YAW = 20.0  # degrees of yaw past which a witness is held to the same-person floor


def issue(
    ctx: Context,
    target: str,
    actions: list[str] | None = None,
    cues: list[float] | None = None,
    issued_at: float | None = None,
    untimed: bool = False,
) -> dict[str, Any]:
    """A new challenge for ``target`` (``lock:<id>`` or ``subject:<id>``), reserved in the
    caller's budgets and ``target``'s: random actions (``FACEID_CHALLENGE_ACTIONS`` fixes
    them) on a random schedule, only the first revealed (:func:`reveal`). A key has one
    open challenge per target: asking again abandons the last one, which counts as a
    failed attempt, so drawing challenges until one suits a recording is a lockout.
    ``actions``, ``cues`` and ``issued_at`` (evaluation only) fix what it asks, when, and
    when it was issued; ``untimed`` (evaluation only) gives it no schedule, as
    ``FACEID_CHALLENGE_SCHEDULE=off`` does for a whole service."""
    kind, _, target_id = target.partition(":")
    spent = attempts.budgets(ctx, **{f"{kind}_id": target_id})
    abandoned = ctx.store.abandon_challenges(ctx.org_id, target, ctx.caller.key_id)
    for attempt in abandoned:  # asking again instead of answering is a failed attempt
        ctx.store.settle(attempt, "fail", spent)
    if abandoned:
        ctx.audit("challenge.abandoned", target=target, count=len(abandoned))
    reserved = ctx.store.reserve(spent)
    if not isinstance(reserved, str):
        raise attempts.refuse(ctx, reserved)
    fixed = ctx.settings.challenge_actions
    if actions is None:
        actions = challenges.parse(fixed) if fixed else challenges.draw()
    if cues is None and not untimed and ctx.settings.challenge_schedule == "on":
        cues = challenges.schedule(len(actions))
    found = ctx.store.create_challenge(
        ctx.org_id,
        target,
        ctx.caller.key_id,
        actions,
        ctx.settings.challenge_ttl_s,
        reserved,
        cues,
        issued_at,
    )
    ctx.audit("challenge.issue", challenge_id=found.id, target=target, actions=actions, cues=cues)
    return reveal(ctx, found)


def _timed(ctx: Context, found: Challenge) -> bool:
    """Whether ``found``'s cues are revealed and checked on their schedule."""
    return found.cues is not None and ctx.settings.challenge_schedule == "on"


def reveal(ctx: Context, found: Challenge, used: bool = False) -> dict[str, Any]:
    """What a door may know of a challenge now: the cues that are due (all of them, at a
    steady :data:`~faceid.liveness.challenge.PACE_S`, when it has no schedule), each with
    its time on the clip's timeline (seconds after the first cue), and how long until the
    next one."""
    pace = challenges.PACE_S
    times = found.cues if found.cues is not None else [i * pace for i in range(len(found.actions))]
    elapsed = time.time() - found.created_at
    due = len(times) if not _timed(ctx, found) else sum(t <= elapsed for t in times)
    upcoming = times[due] - elapsed if due < len(times) else None
    return {
        "challenge_id": found.id,
        "cues": [
            {"action": a, "instruction": challenges.INSTRUCTIONS[a], "at_s": t}
            for a, t in zip(found.actions[:due], times[:due], strict=True)
        ],
        "count": len(found.actions),
        "next_cue_in_s": None if upcoming is None else round(max(upcoming, 0.0), 3),
        "expires_at": found.expires_at,
        "expires_in_s": round(max(found.expires_at - time.time(), 0.0), 3),
        "used": used,
    }


def show(ctx: Context, target: str, challenge_id: str) -> dict[str, Any]:
    """:func:`reveal` of a challenge issued to the caller for ``target``."""
    known = ctx.store.get_challenge(ctx.org_id, challenge_id, target, ctx.caller.key_id)
    if known is None:
        raise NotFound("No such challenge was issued to this key for this lock or subject.")
    return reveal(ctx, *known)


#: Seconds a clip may exceed the time from its challenge's issue to its answer: frame
#: times are rounded, and clocks of two hosts differ a little.
CLIP_SLACK_S = 0.5


def _clip_reason(ctx: Context, found: Challenge, clip_s: float) -> str | None:
    """``clip_too_long`` when the clip lasts longer than the challenge has existed: it was
    recorded, at least in part, before the challenge was issued."""
    if _timed(ctx, found) and clip_s > time.time() - found.created_at + CLIP_SLACK_S:
        return "clip_too_long"
    return None


def clip_limits(cfg: Settings) -> VideoLimits:
    """How a challenge clip is read: every frame up to ``FACEID_CHALLENGE_MAX_FRAMES`` and
    ``FACEID_CHALLENGE_MAX_SECONDS``, at most 640 pixels on a side."""
    return replace(
        video_limits(cfg, cfg.challenge_max_frames),
        max_seconds=cfg.challenge_max_seconds,
        max_side=640,
        seconds_setting="FACEID_CHALLENGE_MAX_SECONDS",
    )


def check_clip(ctx: Context, video: bytes, found: Challenge) -> tuple[Analysis, int, float]:
    """The clip's liveness analysis against challenge ``found`` (its cues, when timed),
    how many frames were read, and how many seconds they span."""
    frames = decode_video(video, clip_limits(ctx.settings))
    if not frames:
        raise NoFace("The clip has no frames.")
    clip_s = round(frames[-1].time_s - frames[0].time_s, 3)
    too_long = _clip_reason(ctx, found, clip_s)
    if too_long is not None:
        return Analysis(too_long), len(frames), clip_s
    cues = found.cues if _timed(ctx, found) else None
    # seconds of tracking, landmarks and optical flow: off the worker's loop, as a whole
    analysis = off_loop(analyse, ctx.pipeline, shared_landmarks(), frames, found.actions, cues)
    return analysis, len(frames), clip_s


def embed(ctx: Context, tracked: list[Tracked], source: str) -> list[Sample]:
    """The tracked faces embedded, with their quality scores."""
    vectors = ctx.pipeline.embed([(t.image, t.face) for t in tracked])
    return [
        assessed(v, t.image, t.face, f"{source}:frame{t.index}")
        for v, t in zip(vectors, tracked, strict=True)
    ]


def one_face(
    ctx: Context,
    best: list[Sample],
    witnesses: list[Sample],
    level: str,
    turned: list[bool] | None = None,
) -> bool:
    """Every witness frame shows the person of the best frames: it matches one of them at
    ``level`` (frames of one clip are much closer than that: 0.9685 and more for dlib on
    frontal frames of the genuine cuts, against impostor pairs up to 0.9357, below the
    standard level's 0.941), checked before anyone in the gallery is looked at. A
    look-alike's head turning behind a held-up photo is somebody else. A witness
    ``turned`` by more than :data:`TURNED_YAW` degrees is held to the model's same-person
    floor instead (its fitted cut at a false-accept rate of 1e-2): a real face turned by
    30-40 degrees embeds lower against its own frontal frames (0.937-0.947 measured on the
    matted clips), and is also followed box to box through the clip."""
    level_cut = ctx.threshold(level)
    floor = ctx.floor()
    turned = turned or [False] * len(witnesses)
    for witness, aside in zip(witnesses, turned, strict=True):
        cut = floor if aside and floor is not None else level_cut
        if max(float(witness.vector @ b.vector) for b in best) < cut:
            return False
    return True


def _turned(analysis: Analysis, tracked: list[Tracked]) -> list[bool]:
    """Whether each frame's face is turned by more than :data:`TURNED_YAW` degrees (the yaw
    the analysis read on it)."""
    return [abs(analysis.yaw[t.index]) > TURNED_YAW for t in tracked]


def _live(ctx: Context, analysis: Analysis, level: str) -> tuple[list[Sample], str | None]:
    """The best frames embedded, or why the clip's witnesses show somebody else."""
    samples = embed(ctx, [*analysis.best, *analysis.witnesses], "challenge")
    best, witnesses = samples[: len(analysis.best)], samples[len(analysis.best) :]
    if not one_face(ctx, best, witnesses, level, _turned(analysis, analysis.witnesses)):
        return best, "face_changed"
    return best, None


def unlock(ctx: Context, lock: Lock, video: bytes, challenge_id: str) -> dict[str, Any]:
    """A door's verdict on a clip answering challenge ``challenge_id``: the attempt its
    issue reserved is the one settled (a used challenge's answer takes a new one)."""
    found, status = ctx.store.take_challenge(
        ctx.org_id, challenge_id, f"lock:{lock.id}", ctx.caller.key_id
    )
    reserved = found.attempt if found is not None and status != "used" else None

    def look() -> Evidence:
        detail: dict[str, Any] = {"challenge_id": challenge_id}
        if found is None or status != "ok":
            return Evidence(refused=f"challenge_{status}", detail=detail)
        analysis, frames_read, clip_s = check_clip(ctx, video, found)
        detail.update(
            actions=found.actions,
            cues=found.cues if _timed(ctx, found) else None,
            events=analysis.events,
            frames_read=frames_read,
            clip_s=clip_s,
        )
        if analysis.reason is not None:
            return Evidence(refused=analysis.reason, detail=detail)
        best, changed = _live(ctx, analysis, lock.level)
        return Evidence(best, refused=changed, detail=detail)

    return visit(ctx, lock, look, reserved=reserved, answered=True)


def enroll(
    ctx: Context, subject_id: str, video: bytes, challenge_id: str, force: bool
) -> dict[str, Any]:
    """Enrol from a clip only once it answers challenge ``challenge_id`` (issued for this
    subject to this key): a gallery built from live faces. The templates are chosen among
    the very frames the check followed (the best ones and the witnesses). A refused clip
    counts against the key's and the subject's budgets and answers
    ``422 enrollment_rejected``."""
    started = time.perf_counter()
    ctx.subject(subject_id)
    ctx.check_model()
    spent = attempts.budgets(ctx, subject_id=subject_id)
    found, status = ctx.store.take_challenge(
        ctx.org_id, challenge_id, f"subject:{subject_id}", ctx.caller.key_id
    )
    reason: str | None = f"challenge_{status}"
    reserved = found.attempt if found is not None and status != "used" else None
    with attempts.attempt(ctx, spent, reserved, refund_errors=False) as tried:
        if found is not None and status == "ok":
            analysis, frames_read, _ = check_clip(ctx, video, found)
            reason = analysis.reason
            if reason is None:
                frames = _distinct(analysis)
                samples = embed(ctx, frames, "challenge")
                best_at = {t.index for t in analysis.best}
                best = [s for s, t in zip(samples, frames, strict=True) if t.index in best_at]
                turned = _turned(analysis, frames)
                if not one_face(ctx, best, samples, ctx.settings.level, turned):
                    reason = "face_changed"
        if reason is not None:
            tried.outcome = "refund" if reason in RETRY else "fail"
            ctx.audit("enrollment.rejected", subject_id=subject_id, reasons=[reason])
            raise EnrollmentRejected(
                "The clip does not answer the liveness challenge; ask for a new one.",
                reasons=[reason],
            )
        counts: tuple[int, dict[str, int], int] = (frames_read, {}, ctx.settings.enroll_min_frames)
        report = enroll_samples(ctx, subject_id, samples, counts, force, "challenge", started)
        tried.outcome = "ok"
    return report


def _distinct(analysis: Analysis) -> list[Tracked]:
    """The best frames and the witnesses, each frame once."""
    seen: dict[int, Tracked] = {t.index: t for t in [*analysis.best, *analysis.witnesses]}
    return [seen[i] for i in sorted(seen)]
