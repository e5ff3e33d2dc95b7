"""The researchers' notebooks run top to bottom.

``reproduce_evaluation`` is executed cell by cell in one namespace (no Jupyter needed);
``verification_study`` by a real Jupyter kernel (nbclient), since its figures are
inline output; its last cell checks the operating points itself.
"""

from __future__ import annotations

import json
import os

import pytest

from .conftest import ROOT, needs_faces, needs_models

NOTEBOOK = ROOT / "notebooks" / "reproduce_evaluation.ipynb"
STUDY = ROOT / "notebooks" / "verification_study.ipynb"


@needs_faces
@needs_models
def test_notebook_runs_and_reproduces_accuracy(monkeypatch):
    monkeypatch.chdir(ROOT)
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    namespace: dict = {}
    for cell in cells:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), str(NOTEBOOK), "exec"), namespace)  # noqa: S102
    assert namespace["result"]["pairs"] == 300
    assert namespace["result"]["accuracy_at_default"] >= 0.99
    assert namespace["verdicts"] == {"obama2.jpg": "unlock", "biden.jpg": "locked"}
    assert os.environ["FACEID_MODELS_DIR"]


@needs_faces
@needs_models
@pytest.mark.slow
def test_verification_study_runs_with_its_figures():
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(STUDY, as_version=4)
    NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute()  # raises on the first failing cell
    images = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if {"image/png", "image/jpeg"} & set(output.get("data", {}))
    ]
    # detections, crops, two score figures, four strips of hardest pairs, contact sheets
    assert len(images) == 9
