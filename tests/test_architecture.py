"""The package's shape: no import cycles, layers that only import downwards, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

from .conftest import ROOT

#: Lower layers never import higher ones. Every top-level module and package of faceid is
#: in one (``test_every_module_is_in_the_graph_and_a_layer``). The model code (``faces``)
#: sits under the settings: it takes what it needs as arguments (``Settings`` appears there
#: only as a type), while the settings know the registry's named pipelines.
LAYERS = [
    "faceid.cli",
    "faceid.web",
    "faceid.services",
    "faceid.batch",
    "faceid.research",
    "faceid.lock",
    "faceid.liveness",
    "faceid.store",
    "faceid.settings",
    "faceid.faces",
    "faceid.clients",
    "faceid.metrics",
    "faceid.logs",
    "faceid.version",
    "faceid.errors",
]
MAX_MODULE_LINES = 300
#: Lines of a function's body, its docstring left out.
MAX_FUNCTION_LINES = 45


def build() -> grimp.ImportGraph:
    """Every import that runs (those only a type checker reads left out)."""
    return grimp.build_graph("faceid", cache_dir=None, exclude_type_checking_imports=True)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return build()


def test_every_module_is_in_the_graph_and_a_layer(graph: grimp.ImportGraph):
    """A folder without ``__init__.py`` drops its modules from the graph, and so from
    every rule here; a new top-level module must be given a layer."""
    on_disk = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / "faceid").rglob("*.py")
    }
    assert on_disk - set(graph.modules) == set()
    tops = {".".join(m.split(".")[:2]) for m in graph.modules if m != "faceid"}
    assert tops == set(LAYERS)


def cycles(graph: grimp.ImportGraph) -> list[str]:
    """Every chain of imports by which a module reaches itself again."""
    found = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            chain = graph.find_shortest_chain(importer=imported, imported=module)
            if chain:
                found.append(" -> ".join((module, *chain)))
    return found


def upward(graph: grimp.ImportGraph) -> list[str]:
    """Every import from a layer to one above it."""
    illegal = graph.find_illegal_dependencies_for_layers(layers=LAYERS, containers=set())
    return sorted(f"{d.importer} -> {d.imported}" for d in illegal)


#: Inside ``faces``: the pipeline builds the detectors and embedders (a detector's module
#: is named by its registry card and imported by name, which the graph does not see), so
#: nothing under them may import the pipeline or the registry's users above them.
FACES_LAYERS = [
    "faceid.faces.pipeline",
    ("faceid.faces.detectors", "faceid.faces.embedders"),
]


def inside_faces(graph: grimp.ImportGraph) -> list[str]:
    """Every import from a detector or an embedder up to the pipeline."""
    layers = [  # the embedders may use the detectors' face type
        grimp.Layer(*([layer] if isinstance(layer, str) else layer), independent=False)
        for layer in FACES_LAYERS
    ]
    illegal = graph.find_illegal_dependencies_for_layers(layers=layers, containers=set())
    return sorted(f"{d.importer} -> {d.imported}" for d in illegal)


def test_detectors_and_embedders_do_not_import_the_pipeline(graph: grimp.ImportGraph):
    assert inside_faces(graph) == []


def test_no_import_cycles(graph: grimp.ImportGraph):
    """Every import, also inside functions: no module reaches itself again."""
    assert cycles(graph) == []


def test_layers_only_import_downwards(graph: grimp.ImportGraph):
    assert upward(graph) == []


def test_the_rules_catch_a_planted_violation():
    """The checks above fail on the breaches they exist for: the detectors' base importing
    the pipeline that imports it (a cycle, as the ONNX helper once made), a detector
    importing the pipeline that builds it (by name), and the store importing the lock (as
    its CLI once did)."""
    planted = build()
    planted.add_import(importer="faceid.faces.detectors.base", imported="faceid.faces.pipeline")
    assert any("faceid.faces.detectors.base" in chain for chain in cycles(planted))
    planted = build()
    planted.add_import(importer="faceid.faces.detectors.yunet", imported="faceid.faces.pipeline")
    assert inside_faces(planted) == ["faceid.faces.detectors -> faceid.faces.pipeline"]
    planted = build()
    planted.add_import(importer="faceid.store.cli", imported="faceid.lock.keys")
    assert upward(planted) == ["faceid.store -> faceid.lock"]


def test_store_and_faces_do_not_know_the_web():
    graph = grimp.build_graph("faceid", cache_dir=None)
    for low in ("faceid.store", "faceid.faces", "faceid.lock"):
        for module in graph.find_children(low) | {low}:
            assert not graph.chain_exists(module, "faceid.web", as_packages=True), module


def test_modules_are_small():
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for path in (ROOT / "faceid").rglob("*.py")
    }
    assert {p: n for p, n in sizes.items() if n > MAX_MODULE_LINES} == {}
    assert Path(ROOT / "faceid" / "__init__.py").is_file()


def test_functions_are_small():
    long = []
    for path in (ROOT / "faceid").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body
                if ast.get_docstring(node) is not None:
                    body = body[1:]
                lines = (body[-1].end_lineno or 0) - body[0].lineno + 1 if body else 0
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.name} ({lines} lines)")
    assert long == []
