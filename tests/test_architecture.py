"""The house rules of docs/architecture.md, checked over the source with ``ast``.

* Imports go down the layers, the way the physics flows: catalogs and pure physics → facility
  components → schema → workload → sim → telemetry and control → api and report → cli. Packages of
  one layer do not import each other; the module graph has no cycle.
* No import inside a function except the CLI's (they keep ``aidc --help`` fast).
* No file over 400 lines, no function over 60.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "aidc"

LAYERS: list[tuple[str, ...]] = [
    ("aidc", "aidc.units", "aidc.plotting"),
    ("aidc.model", "aidc.hardware"),
    ("aidc.facility",),
    ("aidc.scenario",),
    ("aidc.workload",),
    ("aidc.sim",),
    ("aidc.telemetry", "aidc.control"),
    ("aidc.api", "aidc.report", "aidc.ontology"),
    ("aidc.sweep",),
    ("aidc.cli",),
]
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _package(module: str) -> str:
    """The layer package a module belongs to: aidc.<first part>, or aidc itself."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else "aidc"


def _rank(module: str) -> int:
    package = _package(module)
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


def _imports(path: Path) -> list[tuple[str, ast.AST]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, node) for a in node.names if a.name.startswith("aidc")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("aidc"):
            out.append((node.module, node))
    return out


def _aidc_target(name: str) -> str:
    """The module an import names (``aidc.x.y`` may name a module or a name inside ``aidc.x``)."""
    while name not in MODULES:
        name = name.rsplit(".", 1)[0]
    return name


def test_every_module_belongs_to_a_layer():
    for module in MODULES:
        _rank(module)  # StopIteration if a new package is not placed in LAYERS


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module):
    rank, package = _rank(module), _package(module)
    for name, node in _imports(MODULES[module]):
        target = _aidc_target(name)
        if _package(target) == package:
            continue
        assert _rank(target) < rank, (
            f"{module} (layer {rank}) imports {target} (layer {_rank(target)}) at line {node.lineno}"
        )


def test_the_module_graph_has_no_cycle():
    graph = {m: {_aidc_target(n) for n, _ in _imports(p)} - {m} for m, p in MODULES.items()}
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in graph[m]:
            if state.get(n) == 1:
                cycle = [*path[path.index(n) :], n]
                raise AssertionError("import cycle: " + " → ".join(cycle))
            if n not in state:
                visit(n, [*path, n])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_imports_inside_functions_but_the_clis(module):
    if module == "aidc.cli" or module.startswith("aidc.cli."):
        return
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for fn in _functions(tree):
        for node in ast.walk(fn):
            assert not isinstance(node, ast.Import | ast.ImportFrom), (
                f"{module}.{fn.name} imports inside the function (line {node.lineno})"
            )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_files_and_functions_stay_small(module):
    text = MODULES[module].read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_FILE_LINES, f"{module}: {len(text.splitlines())} lines"
    for fn in _functions(ast.parse(text)):
        lines = fn.end_lineno - fn.lineno + 1
        assert lines <= MAX_FUNCTION_LINES, f"{module}.{fn.name}: {lines} lines (line {fn.lineno})"
