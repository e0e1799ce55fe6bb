"""The layers hold: no import cycle, the core imports no stage, no import goes backwards, no cycle-dodging local import.

The import graph is read from the source by ``tools/importgraph.py`` (``python tools/importgraph.py --local``
prints the same facts). Layer order: subgen.core < sdtm < adam < validation < export < report < the CLI.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_importgraph() -> ModuleType:
    spec = importlib.util.spec_from_file_location("importgraph", ROOT / "tools" / "importgraph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["importgraph"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


ig = _load_importgraph()
GRAPH = ig.build_graph(ROOT)

#: Function-local imports that may stay, by (module, imported top-level package), each with its reason. Anything
#: else inside a function must move to the top of its module: with the layers in order no cycle needs dodging.
ALLOWED_LOCAL_IMPORTS: dict[tuple[str, str], str] = {
    ("subgen.core.conformance.gx_runner", "great_expectations"):
        "Great Expectations takes ~2.5 s to import; only a run that validates pays for it",
    ("subgen.core.spec.workbook", "openpyxl"):
        "openpyxl takes ~0.2 s to import; only when a workbook is read or written (subgen --help stays fast)",
    ("validation.report", "openpyxl"):
        "openpyxl takes ~0.2 s to import; only when the Excel report is written",
    ("report.plots", "matplotlib"):
        "matplotlib takes ~0.4 s to import; only subgen report draws (the CLI imports report/ for its table)",
    ("subgen_cli.commands", "bench"):
        "bench/ is not part of the installed product: subgen bench runs from the project folder only",
}


def _top(module: str) -> str:
    return module.split(".")[0]


def _local_statements() -> dict[str, list[tuple[int, str]]]:
    """Module -> (line, statement) of every import inside one of its functions, product or not."""
    out: dict[str, list[tuple[int, str]]] = {}
    for module, line, _function, statement in ig.local_import_statements(ROOT):
        out.setdefault(module, []).append((line, statement))
    return out


LOCAL = _local_statements()


def _imported_tops(statement: str) -> set[str]:
    """The top-level packages an import statement (as ``ast.unparse`` writes it) imports."""
    node = ast.parse(statement).body[0]
    if isinstance(node, ast.ImportFrom):
        return {_top(node.module or "")}
    assert isinstance(node, ast.Import)
    return {_top(alias.name) for alias in node.names}


def test_the_scan_sees_every_product_package() -> None:
    packages = {ig.package_of(m) for m in GRAPH.modules}
    assert packages == set(ig.LAYERS)
    assert {"subgen_cli.cli", "subgen_cli.commands", "subgen_cli.__main__", "sdtm.stage", "adam.stage",
            "validation.run", "export.package", "report.review"} <= set(GRAPH.modules)


def test_no_module_cycle() -> None:
    assert ig.module_cycles(GRAPH) == []


def test_no_package_cycle() -> None:
    assert ig.package_cycles(GRAPH) == []


def test_the_core_imports_no_stage() -> None:
    core = [i for i in GRAPH.imports if ig.package_of(i.source) == "subgen.core"]
    assert [f"{i.source}:{i.line} -> {i.target}" for i in core if ig.package_of(i.target) != "subgen.core"] == []


def test_no_backward_edge() -> None:
    assert [f"{i.source}:{i.line} -> {i.target}" for i in ig.backward_edges(GRAPH)] == []


def test_no_stage_imports_the_command_line() -> None:
    top = [i for i in GRAPH.imports if ig.package_of(i.target) == "subgen-top"]
    assert [f"{i.source}:{i.line}" for i in top if ig.package_of(i.source) != "subgen-top"] == []


@pytest.mark.parametrize("module", sorted(GRAPH.modules))
def test_function_local_imports_are_only_the_allowed_heavy_ones(module: str) -> None:
    unexplained = [f"{module}:{line}: {statement}" for line, statement in LOCAL.get(module, [])
                   if not all((module, t) in ALLOWED_LOCAL_IMPORTS for t in _imported_tops(statement))]
    assert unexplained == [], "move these imports to the top of the module (or allow-list a heavy one, with why)"


def test_local_import_count_is_at_most_the_allow_list() -> None:
    allowed = [(m, line) for m, rows in LOCAL.items() for line, statement in rows
               if all((m, t) in ALLOWED_LOCAL_IMPORTS for t in _imported_tops(statement))]
    used = {(m, t) for m, rows in LOCAL.items() for _, s in rows for t in _imported_tops(s)}
    assert set(ALLOWED_LOCAL_IMPORTS) <= used, "an allow-list entry is no longer needed: delete it"
    # GX 4 statements, openpyxl 3 + 2, matplotlib 3, bench 1.
    assert len(allowed) <= 13


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    code = ("import sys, subgen_cli.cli; heavy = ('great_expectations', 'matplotlib', 'openpyxl'); "
            "print(sorted(m for m in heavy if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


def test_the_scan_resolves_relative_and_local_imports(tmp_path: Path) -> None:
    for top in ig.PRODUCT_ROOTS:
        (tmp_path / top).mkdir()
        (tmp_path / top / "__init__.py").write_text("")
    (tmp_path / "subgen" / "core").mkdir()
    (tmp_path / "subgen" / "core" / "__init__.py").write_text("")
    (tmp_path / "subgen" / "core" / "base.py").write_text("def f():\n    from sdtm import engine\n")
    (tmp_path / "sdtm" / "engine.py").write_text("from . import rules\nfrom .rules import x\n")
    (tmp_path / "sdtm" / "rules.py").write_text("import sdtm.engine\n")
    (tmp_path / "sdtm" / "sub").mkdir()
    (tmp_path / "sdtm" / "sub" / "__init__.py").write_text("from .deep import y\n")
    (tmp_path / "sdtm" / "sub" / "deep.py").write_text("from ..rules import y\nfrom .. import engine\n")
    (tmp_path / "sdtm" / "typed.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                                "    import report\n")
    graph = ig.build_graph(tmp_path)
    edges = {(i.source, i.target, i.local) for i in graph.imports}
    assert ("subgen.core.base", "sdtm.engine", True) in edges
    assert ("sdtm.engine", "sdtm.rules", False) in edges
    assert ("sdtm.rules", "sdtm.engine", False) in edges
    assert {("sdtm.sub.deep", "sdtm.rules", False), ("sdtm.sub.deep", "sdtm.engine", False),
            ("sdtm.sub", "sdtm.sub.deep", False)} <= edges
    assert not any(i.source == "sdtm.typed" for i in graph.imports)  # TYPE_CHECKING imports never run
    assert ig.module_cycles(graph) == [["sdtm.engine", "sdtm.rules"]]
    assert [(i.source, i.target) for i in ig.backward_edges(graph)] == [("subgen.core.base", "sdtm.engine")]
    assert ig.package_cycles(graph) == []


def test_tarjan_finds_every_circle_and_nothing_else() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"e"}, "e": {"d"}, "f": {"a"}, "g": set()}
    assert ig.strongly_connected(edges) == [["a", "b", "c"], ["d", "e"]]
