"""The researchers' notebook runs top to bottom and reproduces the documented accuracy.

Its code cells are executed in order in one namespace (no Jupyter needed), from the
project root, as a researcher's kernel would.
"""

from __future__ import annotations

import json
import os

from .conftest import ROOT, needs_faces, needs_models

NOTEBOOK = ROOT / "notebooks" / "reproduce_evaluation.ipynb"


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
