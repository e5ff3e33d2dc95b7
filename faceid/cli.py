"""The ``faceid`` command: manage model weights, evaluate pipelines, and the store's own.

faceid models list              which weights are present, SHA-256, upstream address
faceid models pull ID [ID ...]  download and verify (needs internet); an ID may name a
                                pipeline (``recommended``): the weights it needs
faceid models check             verify every present file; exit 1 on a bad one
faceid eval --pairs CSV ...     accuracy and ms per face on labelled pairs
faceid eval --lfw-pairs TXT     LFW's 10-fold protocol (mean +- std accuracy)
faceid init-db | keys ...       the store's and the lock's commands (:mod:`faceid.store.cli`,
                                :mod:`faceid.lock.cli`)
faceid embed | similarity | cluster | search
                                batch tools for researchers (:mod:`faceid.batch`)
faceid door --url --key --lock  the reference door client (:mod:`faceid.clients`)

Every command reads the same :class:`~faceid.settings.Settings` as the server.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

import click

from .batch.cli import COMMANDS as BATCH_COMMANDS
from .batch.cli import configured, pipeline_options
from .clients.cli import door
from .errors import FaceIdError
from .faces.models import WEIGHTS
from .faces.presets import PRESETS
from .faces.weights import ModelFiles
from .lock.cli import COMMANDS as LOCK_COMMANDS
from .settings import Settings
from .store.cli import COMMANDS as STORE_COMMANDS

OFFLINE_DEFAULT = "(pip package; no download)"


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
def main(verbose: bool) -> None:
    """faceid: face verification service tools."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s %(message)s",
    )


for _command in (*STORE_COMMANDS, *LOCK_COMMANDS, *BATCH_COMMANDS, door):
    main.add_command(_command)


def _files() -> ModelFiles:
    settings = Settings.load()
    return ModelFiles(settings.models_path, settings.allow_download)


@main.group()
def models() -> None:
    """Model weights in FACEID_MODELS_DIR."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def models_list(as_json: bool) -> None:
    """Every known weight file: present or not, digest, upstream address."""
    files = _files()
    rows = [files.status(w) for w in WEIGHTS.values()]
    if as_json:
        click.echo(json.dumps({"models_dir": str(files.folder), "models": rows}, indent=2))
        return
    click.echo(f"models folder: {files.folder}  (FACEID_MODELS_DIR)")
    click.echo(f"dlib HOG + ResNet, 5/68-point predictors: {OFFLINE_DEFAULT}")
    for row in rows:
        state = "ok" if row["ok"] else ("BAD DIGEST" if row["present"] else "missing")
        click.echo(f"{row['id']:<24} {state:<10} {row['sha256'] or row['expected_sha256'] or '-'}")
        click.echo(f"{'':<24} {row['url']}")


@models.command("pull")
@click.argument("ids", nargs=-1)
def models_pull(ids: tuple[str, ...]) -> None:
    """Download and verify weights (all when no ID is given); a pipeline name
    (FACEID_PIPELINE, e.g. ``recommended``) pulls the weights that pipeline needs."""
    unknown = [i for i in ids if i not in WEIGHTS and i not in PRESETS]
    if unknown:
        known = ", ".join([*WEIGHTS, *PRESETS])
        raise click.UsageError(f"unknown model(s) {', '.join(unknown)}; known: {known}")
    wanted = [w for i in ids for w in (PRESETS[i].weights if i in PRESETS else (i,))]
    for name in ids:
        if name in PRESETS and not PRESETS[name].weights:
            click.echo(f"{name}: nothing to download {OFFLINE_DEFAULT}")
    failed = False
    files = _files()
    for weight_id in dict.fromkeys(wanted if ids else WEIGHTS):
        try:
            path = files.resolve(weight_id, allow_download=True)
            click.echo(f"{weight_id}: ok {path}")
        except FaceIdError as exc:
            failed = True
            click.echo(f"{weight_id}: FAILED {exc.message}", err=True)
    sys.exit(1 if failed else 0)


@models.command("check")
def models_check() -> None:
    """Verify the digest of every present weight file; exit 1 if one is wrong."""
    bad = False
    files = _files()
    for weight in WEIGHTS.values():
        row = files.status(weight)
        if not row["present"]:
            click.echo(f"{weight.id}: missing ({row['file']})")
        elif row["ok"]:
            click.echo(f"{weight.id}: ok")
        else:
            bad = True
            click.echo(f"{weight.id}: BAD digest {row['sha256']} != {row['expected_sha256']}")
    sys.exit(1 if bad else 0)


def _progress(names: Iterable[str]) -> Iterator[str]:
    """A progress bar on stderr over the photos being embedded."""
    with click.progressbar(list(names), label="embedding photos", file=sys.stderr) as bar:
        yield from bar


@main.command("eval")
@click.option(
    "--pairs",
    "pair_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV of labelled pairs (repeatable).",
)
@click.option(
    "--identities",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV of path,identity: every pair of its photos is scored (all-vs-all).",
)
@click.option(
    "--images",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of the pair lists' images (default: the first CSV's folder).",
)
@click.option(
    "--plot",
    "plot_to",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write ROC, DET and score histograms (PNG) of the identities study.",
)
@click.option(
    "--bootstrap",
    "rounds",
    default=500,
    show_default=True,
    help="Bootstrap rounds for the 95% intervals (0: none).",
)
@click.option(
    "--lfw-pairs",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="LFW pairs.txt (or lines of it): LFW's 10-fold protocol, mean +- std accuracy.",
)
@click.option(
    "--face",
    "face_policy",
    type=click.Choice(["centre", "largest"]),
    default="centre",
    show_default=True,
    help="Which face of an LFW photo is its person's.",
)
@pipeline_options
@click.option(
    "--threshold", type=float, help="Also report this threshold (default: the model's levels)."
)
def evaluate_cmd(
    pair_files: tuple[Path, ...],
    identities: Path | None,
    images: Path | None,
    plot_to: Path | None,
    rounds: int,
    lfw_pairs: Path | None,
    face_policy: Literal["centre", "largest"],
    detector: str | None,
    embedder: str | None,
    arcface_model: str | None,
    threshold: float | None,
) -> None:
    """Accuracy on pair lists, a verification study on an identities file and LFW's
    protocol, as JSON."""
    from .faces.pipeline import Pipeline, require_extra
    from .research.evaluate import identity_report, pair_report, read_pairs

    if not pair_files and identities is None and lfw_pairs is None:
        raise click.UsageError("give --pairs CSV, --identities CSV and/or --lfw-pairs TXT")
    if plot_to is not None:
        require_extra("matplotlib", "eval")
    if identities is not None:
        require_extra("scipy", "eval")
    cfg = configured(detector, embedder, arcface_model)
    pipe = Pipeline.load(cfg)
    points = dict(pipe.card.levels)
    if threshold is not None or not points:
        points["custom"] = threshold if threshold is not None else 0.5
    report: dict[str, object] = {"detector": cfg.detector, "model": pipe.model_id, "levels": points}
    if pair_files:
        lists = {p.name: read_pairs(p) for p in pair_files}
        first = points.get("custom", points.get("standard", 0.5))
        report.update(pair_report(pipe, lists, images or pair_files[0].parent, first))
    if identities is not None:
        report["identities"] = identity_report(
            pipe,
            identities,
            points,
            plot_to=plot_to,
            rounds=rounds,
            progress=_progress,
        )
    if lfw_pairs is not None:
        from .research.lfw import lfw_report

        folder = images or lfw_pairs.parent
        photos = folder / "img" if (folder / "img").is_dir() else folder
        report["lfw"] = lfw_report(pipe, lfw_pairs, photos, face_policy, _progress)
    click.echo(json.dumps(report))


if __name__ == "__main__":
    main()
