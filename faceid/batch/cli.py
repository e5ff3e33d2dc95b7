"""``faceid embed | similarity | cluster | search``: the batch tools on the command line.

Every command prints a JSON summary on stdout; progress and problems go to stderr.
"""

from __future__ import annotations

import csv
import functools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from ..errors import FaceIdError
from ..settings import Settings

NPZ = click.Path(exists=True, dir_okay=False, path_type=Path)
OUT = click.Path(dir_okay=False, path_type=Path)


def configured(detector: str | None, embedder: str | None, arcface_model: str | None) -> Any:
    """The settings' pipeline (``FACEID_PIPELINE``, ``FACEID_DETECTOR``, ...), with the
    options given on the command line over it."""
    from ..faces.pipeline import PipelineConfig

    given = {"detector": detector, "embedder": embedder, "arcface_model": arcface_model}
    return PipelineConfig.from_settings(
        Settings.load(), **{k: v for k, v in given.items() if v is not None}
    )


def _friendly(command: Any) -> Any:
    """A refused input or a missing extra ends the command with its message (exit 1)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except FaceIdError as exc:
            raise click.ClickException(exc.message) from exc

    return run


def pipeline_options(command: Any) -> Any:
    for name in ("--arcface-model", "--embedder", "--detector"):
        command = click.option(name, help="Default: the settings' (FACEID_*).")(command)
    return command


@click.command("embed")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=OUT, help="The .npz to write (a .csv index beside).")
@click.option("--largest", is_flag=True, help="Only the largest face of each image.")
@click.option("--workers", type=click.IntRange(0, 64), default=0, help="Processes (0: one a core).")
@pipeline_options
@_friendly
def embed_cmd(
    paths: tuple[Path, ...],
    out: Path,
    largest: bool,
    workers: int,
    detector: str | None,
    embedder: str | None,
    arcface_model: str | None,
) -> None:
    """Embed every face of every image under PATHS into one file."""
    from .embed import embed_folder

    config = configured(detector, embedder, arcface_model)

    def progress(results: Iterator[Any], count: int) -> Iterator[Any]:
        with click.progressbar(length=count, label="embedding images", file=sys.stderr) as bar:
            for item in results:
                bar.update(1)
                yield item

    faces = embed_folder(paths, config, largest=largest, workers=workers or None, progress=progress)
    out, index = faces.save(out)
    for path, reason in sorted(faces.failed.items()):
        click.echo(f"skipped {path}: {reason}", err=True)
    summary = {
        "model": faces.model_id,
        "images": len(set(faces.paths)) + len(faces.failed),  # each gave faces or failed
        "faces": len(faces),
        "out": str(out),
        "index": str(index),
        "failed": faces.failed,
    }
    click.echo(json.dumps(summary))


@click.command("similarity")
@click.argument("faces_file", type=NPZ)
@click.option("--out", required=True, type=OUT, help="The .npy matrix to write.")
@click.option("--plot", "plot_to", type=OUT, help="Also draw it as a heatmap (PNG).")
@_friendly
def similarity_cmd(faces_file: Path, out: Path, plot_to: Path | None) -> None:
    """All-against-all cosine similarity of the faces in FACES_FILE."""
    import numpy as np

    from . import FaceSet, similarity_matrix

    faces = FaceSet.load(faces_file)
    matrix = similarity_matrix(faces)
    np.save(out, matrix)
    if plot_to is not None:
        from ..faces.pipeline import require_extra
        from .figures import heatmap

        require_extra("matplotlib", "eval")
        heatmap(matrix, faces.paths, plot_to, f"{faces.model_id}: {len(faces)} faces")
    click.echo(json.dumps({"faces": len(faces), "out": str(out), "plot": plot_to and str(plot_to)}))


@click.command("cluster")
@click.argument("faces_file", type=NPZ)
@click.option("--out", required=True, type=OUT, help="CSV: row, path, face, cluster.")
@click.option("--sheet", type=click.Path(file_okay=False, path_type=Path), help="PNG per cluster.")
@click.option("--level", type=click.Choice(["standard", "high"]), default="standard")
@click.option("--threshold", type=click.FloatRange(-1, 1), help="Cut instead of the level.")
@_friendly
def cluster_cmd(
    faces_file: Path, out: Path, sheet: Path | None, level: str, threshold: float | None
) -> None:
    """Group the faces of FACES_FILE into people, cut at the model's level."""
    from ..faces.pipeline import require_extra
    from . import FaceSet, cluster
    from .analysis import cut

    require_extra("scipy", "eval")
    faces = FaceSet.load(faces_file)
    labels = cluster(faces, level, threshold)
    with out.open("w", newline="", encoding="utf-8", errors="surrogateescape") as fh:
        writer = csv.writer(fh)
        writer.writerow(["row", "path", "face", "cluster"])
        for i, label in enumerate(labels.tolist()):
            writer.writerow([i, faces.paths[i], int(faces.face_index[i]), label])
    sheets = []
    if sheet is not None:
        from .figures import contact_sheets

        sheets = [str(p) for p in contact_sheets(faces, labels, sheet)]
    sizes = sorted((int((labels == k).sum()) for k in set(labels.tolist())), reverse=True)
    summary = {
        "faces": len(faces),
        "clusters": len(sizes),
        "sizes": sizes,
        "cut": cut(faces, level, threshold),
    }
    click.echo(json.dumps({**summary, "out": str(out), "sheets": sheets}))


@click.command("search")
@click.argument("faces_file", type=NPZ)
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--top-k", type=click.IntRange(1, 1000), default=5, show_default=True)
@click.option("--level", type=click.Choice(["standard", "high"]), default="standard")
@click.option("--threshold", type=click.FloatRange(-1, 1), help="Match cut instead of the level.")
@pipeline_options
@_friendly
def search_cmd(
    faces_file: Path,
    image: Path,
    top_k: int,
    level: str,
    threshold: float | None,
    detector: str | None,
    embedder: str | None,
    arcface_model: str | None,
) -> None:
    """The faces of FACES_FILE closest to the largest face in IMAGE."""
    from ..errors import NoFace
    from ..faces.media import decode_image
    from ..faces.pipeline import Pipeline
    from . import FaceSet, search

    faces = FaceSet.load(faces_file)
    config = configured(detector, embedder, arcface_model)
    if config.card.id != faces.model_id:
        raise click.UsageError(
            f"{faces_file} holds {faces.model_id} vectors; this pipeline makes {config.card.id}"
        )
    pipe = Pipeline.load(config)
    picture = decode_image(image.read_bytes(), 100_000_000)
    found = pipe.detect(picture, largest_only=True)
    if not found:
        raise NoFace(f"No face was found in {image}.")
    vector = pipe.embed([(picture, found[0])])[0]
    hits = search(faces, vector, top_k, level, threshold)
    click.echo(json.dumps({"image": str(image), "hits": hits}))


COMMANDS = [embed_cmd, similarity_cmd, cluster_cmd, search_cmd]
