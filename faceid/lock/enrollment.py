"""Enrolment: turn a selfie video or photos into a subject's templates, or refuse and say why."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import EnrollmentRejected, FaceMismatch, IdentityAnchored, NoFace, NotFound
from ..faces import quality
from ..store import Subject
from .context import Context
from .samples import Sample, faces_from_images, faces_from_video


def agreeing_groups(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Connected groups of frames, joined wherever two frames match at ``threshold``.

    One person's frames stay connected through pose changes; two people's split.
    Largest group first.
    """
    n = len(vectors)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sims = vectors @ vectors.T
    for i in range(n):
        for j in range(i + 1, n):
            if sims[i, j] >= threshold:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=len, reverse=True)


def choose_templates(
    ctx: Context, subject_id: str, samples: list[Sample], min_frames: int, dropped: dict[str, int]
) -> tuple[list[Sample], list[str]]:
    """The best agreeing faces to keep, and every reason to refuse the enrolment."""
    threshold = ctx.threshold()
    good = [s for s in samples if s.quality >= ctx.settings.enroll_min_quality]
    dropped["low_quality"] = len(samples) - len(good)
    reasons: list[str] = []
    groups = agreeing_groups(np.array([s.vector for s in good]), threshold) if good else []
    if len(groups) > 1 and len(groups[1]) >= max(2, len(good) // 4):
        reasons.append(
            f"the frames show different people: {len(groups[0])} frames agree with each other "
            f"and {len(groups[1])} others agree among themselves but not with them"
        )
    main = [good[i] for i in groups[0]] if groups else []
    if len(main) < min_frames:
        reasons.append(
            f"{len(main)} good, consistent face(s); at least {min_frames} needed "
            f"(dropped: {dropped})"
        )
    chosen = sorted(main, key=lambda s: s.quality, reverse=True)[: ctx.settings.enroll_templates]
    index = ctx.index.get(ctx.org_id)
    for sample in chosen:
        hit = index.best(sample.vector, exclude=subject_id)
        if hit and hit.similarity >= threshold:
            reasons.append(
                f"the face already belongs to subject {hit.subject_id} "
                f"(similarity {hit.similarity:.3f})"
            )
            break
    return chosen, reasons


def guard_identity(ctx: Context, subject: Subject, samples: Sequence[Sample], force: bool) -> None:
    """No template poisoning: faces added to a subject who has templates must match them
    at the lock threshold. An admin key may override (``force``); the override is audited.
    A subject without templates who holds grants (an admin removed their faces, or granted
    them before enrolment) takes faces from an admin key only (audited): otherwise an
    enrolment key could give a door's grant to any face."""
    if not samples:
        return
    if subject.templates == 0:
        if ctx.store.holds_grants(subject.id):
            if ctx.caller.scope != "admin":
                ctx.audit("identity.refused", subject_id=subject.id, reason="anchored")
                raise IdentityAnchored(
                    "This subject may open doors and has no faces: only an admin key may "
                    "enrol them (or revoke the grants, enrol, and grant again)."
                )
            ctx.audit("identity.anchored", subject_id=subject.id)
        return
    index = ctx.index.get(ctx.org_id)
    threshold = ctx.threshold()
    hits = [index.best(sample.vector, only=[subject.id]) for sample in samples]
    sims = [hit.similarity if hit else -1.0 for hit in hits]
    if min(sims) >= threshold:
        return
    if force:
        ctx.caller.require("admin")
        ctx.audit("identity.override", subject_id=subject.id, similarity=round(min(sims), 4))
        return
    ctx.audit("identity.refused", subject_id=subject.id, similarity=round(min(sims), 4))
    raise FaceMismatch(
        "The new face does not match this subject's existing templates; an admin key may "
        "override with force=true (audited)."
    )


def enroll(
    ctx: Context,
    subject_id: str,
    *,
    video: bytes | None,
    images: Sequence[bytes],
    force: bool = False,
) -> dict[str, Any]:
    """Add templates to a subject from a selfie video or 1..N images; a quality report back."""
    ctx.subject(subject_id)
    ctx.check_model()
    started = time.perf_counter()
    dropped: dict[str, int] = {}
    if video is not None:
        samples, sampled = faces_from_video(ctx, video, ctx.settings.video_max_frames, dropped)
        min_frames = ctx.settings.enroll_min_frames
    else:
        samples, sampled = faces_from_images(ctx, images, True, dropped), len(images)
        min_frames = 1
    source = "video" if video is not None else "images"
    return enroll_samples(
        ctx, subject_id, samples, (sampled, dropped, min_frames), force, source, started
    )


def enroll_samples(
    ctx: Context,
    subject_id: str,
    samples: list[Sample],
    found: tuple[int, dict[str, int], int],
    force: bool,
    source: str,
    started: float,
) -> dict[str, Any]:
    """Choose templates among ``samples`` (``found``: frames sampled, dropped by reason,
    frames needed), check them against the gallery and store them; the report back."""
    subject = ctx.subject(subject_id)
    sampled, dropped, min_frames = found
    chosen, reasons = choose_templates(ctx, subject.id, samples, min_frames, dropped)
    report: dict[str, Any] = {
        "subject_id": subject.id,
        "frames_sampled": sampled,
        "faces_found": len(samples),
        "dropped": dropped,
        "templates": [],
        "threshold": ctx.threshold(),
        "advice": quality.advice(
            dropped,
            [s.weakness for s in samples if s.quality < ctx.settings.enroll_min_quality],
        ),
    }
    if reasons:
        ctx.audit("enrollment.rejected", subject_id=subject.id, reasons=reasons)
        raise EnrollmentRejected(
            "Enrolment rejected: " + "; ".join(reasons) + ".", reasons=reasons, report=report
        )
    guard_identity(ctx, subject, chosen, force)
    report.update(_store_templates(ctx, subject.id, chosen))
    report["seconds"] = round(time.perf_counter() - started, 3)
    ctx.audit("enrollment", subject_id=subject.id, templates=len(chosen), source=source)
    return report


def _store_templates(ctx: Context, subject_id: str, chosen: list[Sample]) -> dict[str, Any]:
    """Pin the gallery's model, store the chosen faces; their ids and consistency back."""
    ctx.check_model(pin=True)
    template = np.mean([s.vector for s in chosen], axis=0)
    template /= np.linalg.norm(template)
    keep = ctx.settings.keep_images
    ids = ctx.store.add_templates(
        ctx.org_id,
        subject_id,
        ctx.pipeline.model_id,
        [(s.vector, s.quality, s.source, s.image if keep else None) for s in chosen],
    )
    return {
        "templates": [
            {"id": i, "quality": round(s.quality, 4), "source": s.source}
            for i, s in zip(ids, chosen, strict=True)
        ],
        "consistency": round(float(min(s.vector @ template for s in chosen)), 4),
    }


def replace_face(
    ctx: Context, subject_id: str, template_id: str, image: bytes, force: bool = False
) -> dict[str, Any]:
    """Replace one template with the face in ``image``; it must match the subject's."""
    subject = ctx.subject(subject_id)
    ctx.check_model()
    dropped: dict[str, int] = {}
    samples = faces_from_images(ctx, [image], True, dropped)
    if not samples:
        raise NoFace(f"The image does not hold exactly one face ({dropped}).")
    sample = samples[0]
    guard_identity(ctx, subject, samples, force)
    ok = ctx.store.replace_template(
        ctx.org_id,
        subject_id,
        template_id,
        sample.vector,
        sample.quality,
        "image:replace",
        image if ctx.settings.keep_images else None,
    )
    if not ok:
        raise NotFound(f"No face '{template_id}' for subject '{subject_id}'.")
    ctx.audit("face.replace", subject_id=subject_id, template_id=template_id)
    return {"id": template_id, "quality": round(sample.quality, 4)}
