"""Pictures of a face set: the similarity heatmap and one contact sheet per cluster."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from ..errors import FaceIdError
from ..faces.media import decode_image
from .faceset import FaceSet

TILE = 96
COLUMNS = 8


def heatmap(matrix: np.ndarray, names: Sequence[str], path: Path, title: str) -> None:
    """The similarity matrix as a PNG (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    side = min(4 + 0.12 * len(names), 30)
    fig, ax = plt.subplots(figsize=(side + 1.5, side))
    shown = ax.imshow(matrix, cmap="viridis", vmin=-0.2, vmax=1.0)
    if len(names) <= 80:
        ticks = np.arange(len(names))
        ax.set_xticks(ticks, [Path(n).name for n in names], rotation=90, fontsize=6)
        ax.set_yticks(ticks, [Path(n).name for n in names], fontsize=6)
    fig.colorbar(shown, ax=ax, label="cosine similarity")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _tile(faces: FaceSet, row: int) -> np.ndarray:
    """The face's box, a little wider, resized to a square tile (grey when unreadable)."""
    try:
        image = decode_image(Path(faces.paths[row]).read_bytes(), 100_000_000)
    except (FaceIdError, OSError):
        return np.full((TILE, TILE, 3), 128, np.uint8)
    x1, y1, x2, y2 = faces.boxes[row]
    if not np.isfinite([x1, y1, x2, y2]).all():
        return cv2.resize(image, (TILE, TILE))
    pad = 0.15 * max(x2 - x1, y2 - y1)
    h, w = image.shape[:2]
    top, bottom = int(max(y1 - pad, 0)), int(min(y2 + pad, h))
    left, right = int(max(x1 - pad, 0)), int(min(x2 + pad, w))
    if bottom <= top or right <= left:  # the image changed since it was embedded
        return np.full((TILE, TILE, 3), 128, np.uint8)
    return cv2.resize(image[top:bottom, left:right], (TILE, TILE))


def contact_sheets(faces: FaceSet, labels: np.ndarray, folder: Path) -> list[Path]:
    """One PNG per cluster (``cluster_000.png`` ...), its faces in rows of 8."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for label in sorted(set(labels.tolist())):
        rows = np.flatnonzero(labels == label)
        tiles = [_tile(faces, int(r)) for r in rows]
        tiles += [np.full((TILE, TILE, 3), 255, np.uint8)] * (-len(tiles) % COLUMNS)
        lines = [np.hstack(tiles[i : i + COLUMNS]) for i in range(0, len(tiles), COLUMNS)]
        sheet = np.vstack(lines) if len(rows) > COLUMNS else lines[0][:, : TILE * len(rows)]
        path = folder / f"cluster_{label:03d}.png"
        if not cv2.imwrite(str(path), sheet):
            raise OSError(f"could not write {path}")
        written.append(path)
    return written
