"""Import graph of the product packages: module cycles, package cycles, backward edges, function-local imports.

Reads the source with :mod:`ast` only (nothing is imported, no third-party package is needed)::

    python tools/importgraph.py            # a readable report; exit 1 when there is a cycle or a backward edge
    python tools/importgraph.py --local    # also list every function-local import with its line

The product is every module under ``subgen/``, ``sdtm/``, ``adam/``, ``validation/``, ``export/``, ``report/`` and
``subgen_cli/``.
An import of a product module is an edge from the importing module to the imported one, whether it is written
absolutely (``import sdtm.engine``, ``from sdtm import engine``) or relatively (``from .engine import x``), at
module level or inside a function. ``from package import name`` is an edge to ``package.name`` when that is a
module, else to ``package`` (its ``__init__``).

Packages (the unit of layering), in layer order; an edge from a package to one earlier in the order is fine,
an edge to a later one is *backward*::

    subgen.core < sdtm < adam < validation < export < report < subgen-top

``subgen-top`` is the ``subgen_cli`` package (``cli.py``, ``commands.py``, ``newstudy.py``, ``__main__.py``): the
command line, which may import every stage and which no stage imports. It is a package of its own so that no
top-level package is both below and above the stages (``subgen`` holds only the core; ``subgen/__init__.py``, the
version, counts as core).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Top-level folders that hold product code.
PRODUCT_ROOTS = ("subgen", "sdtm", "adam", "validation", "export", "report", "subgen_cli")

#: Packages in layer order: a module may import its own package and any package before it, never one after it.
LAYERS = ("subgen.core", "sdtm", "adam", "validation", "export", "report", "subgen-top")


@dataclass(frozen=True)
class Import:
    """One import statement's edge: ``source`` imports ``target`` at ``line`` (``local``: inside a function)."""

    source: str
    target: str
    line: int
    local: bool
    function: str = ""


@dataclass
class Graph:
    """Every product module (name -> file) and every import edge between product modules."""

    modules: dict[str, Path]
    imports: list[Import] = field(default_factory=list)

    def edges(self) -> dict[str, set[str]]:
        """Module -> the modules it imports (self-imports dropped)."""
        out: dict[str, set[str]] = {m: set() for m in self.modules}
        for imp in self.imports:
            if imp.source != imp.target:
                out[imp.source].add(imp.target)
        return out


def module_name(path: Path, root: Path = ROOT) -> str:
    """Dotted module name of a product file (``sdtm/__init__.py`` -> ``sdtm``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every product module, name -> file, in name order."""
    found: dict[str, Path] = {}
    for top in PRODUCT_ROOTS:
        for path in sorted((root / top).rglob("*.py")):
            if "__pycache__" not in path.parts:
                found[module_name(path, root)] = path
    return dict(sorted(found.items()))


def package_of(module: str) -> str:
    """The layering package a product module belongs to (see :data:`LAYERS`).

    ``subgen`` itself (``subgen/__init__.py``: the version) is in the core layer: Python runs it before any
    ``subgen.core`` module, so it may import nothing above the core.
    """
    if module == "subgen_cli" or module.startswith("subgen_cli."):
        return "subgen-top"
    if module == "subgen" or module.startswith("subgen."):
        return "subgen.core"
    return module.split(".")[0]


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The product module ``name`` refers to: itself, else its nearest enclosing product package."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _base(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a ``from ... import`` names (relative levels resolved against ``module``)."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
    return ".".join([*parts, *([node.module] if node.module else [])])


def _walk(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Every node with the name of the innermost enclosing function ("" at module or class level)."""
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, func = stack.pop()
        yield node, func
        inner = node.name if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else func
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Lines of imports under ``if TYPE_CHECKING:`` (never executed: not edges at run time)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                for sub in ast.walk(child):
                    if isinstance(sub, ast.Import | ast.ImportFrom):
                        lines.add(sub.lineno)
    return lines


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """The product imports of one module, in line order."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = _type_checking_lines(tree)
    is_package = path.name == "__init__.py"
    found: list[Import] = []
    for node, func in _walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom) or node.lineno in skip:
            continue
        targets: list[str | None]
        if isinstance(node, ast.Import):
            targets = [_resolve(alias.name, modules) for alias in node.names]
        else:
            base = _base(node, module, is_package)
            targets = [_resolve(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base, modules)
                       for alias in node.names]
        for target in dict.fromkeys(t for t in targets if t is not None):
            found.append(Import(module, target, node.lineno, bool(func), func))
    return sorted(found, key=lambda i: (i.line, i.target))


def build_graph(root: Path = ROOT) -> Graph:
    """Scan every product module of the tree at ``root``."""
    modules = product_modules(root)
    graph = Graph(modules)
    for name, path in modules.items():
        graph.imports.extend(imports_of(name, path, modules))
    return graph


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one node (each sorted; the list sorted)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        # Iterative depth-first search: (node, iterator over its successors).
        work: list[tuple[str, Iterator[str]]] = []

        def enter(node: str) -> None:
            nonlocal counter
            index[node] = low[node] = counter
            counter += 1
            stack.append(node)
            on_stack.add(node)
            work.append((node, iter(sorted(edges.get(node, ())))))

        enter(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    enter(succ)
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def module_cycles(graph: Graph) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a circle."""
    return strongly_connected(graph.edges())


def package_edges(graph: Graph) -> dict[str, set[str]]:
    """Package -> the other packages its modules import."""
    out: dict[str, set[str]] = {p: set() for p in LAYERS}
    for imp in graph.imports:
        src, dst = package_of(imp.source), package_of(imp.target)
        if src != dst:
            out[src].add(dst)
    return out


def package_cycles(graph: Graph) -> list[list[str]]:
    """Groups of packages that import each other."""
    return strongly_connected(package_edges(graph))


def backward_edges(graph: Graph) -> list[Import]:
    """Imports from a package to one later in the layer order (the core importing a stage, a stage the CLI)."""
    rank = {p: i for i, p in enumerate(LAYERS)}
    return [imp for imp in graph.imports if rank[package_of(imp.target)] > rank[package_of(imp.source)]]


def local_imports(graph: Graph) -> list[Import]:
    """Imports of product modules written inside a function."""
    return [imp for imp in graph.imports if imp.local]


def local_import_statements(root: Path = ROOT) -> list[tuple[str, int, str, str]]:
    """Every import statement inside a function of a product module, product or not: (module, line, function,
    the statement) -- the heavy third-party imports kept local for a fast start show up here too."""
    found: list[tuple[str, int, str, str]] = []
    for name, path in product_modules(root).items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skip = _type_checking_lines(tree)
        for node, func in _walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and func and node.lineno not in skip:
                found.append((name, node.lineno, func, ast.unparse(node)))
    return sorted(found)


def _lines(title: str, rows: Iterable[str]) -> list[str]:
    rows = list(rows)
    return [f"{title}: {len(rows)}", *(f"  {r}" for r in rows)]


def report(graph: Graph, root: Path = ROOT, show_local: bool = False) -> tuple[str, bool]:
    """The text report and whether the graph is clean (no cycle, no backward edge)."""
    cycles, pcycles, back = module_cycles(graph), package_cycles(graph), backward_edges(graph)
    local = local_import_statements(root)
    out = [f"{len(graph.modules)} product modules, {len(graph.imports)} product imports"]
    out += _lines("module cycles", (" <-> ".join(c) for c in cycles))
    out += _lines("package cycles", (" <-> ".join(c) for c in pcycles))
    out += _lines("backward edges", (f"{i.source}:{i.line} -> {i.target}" for i in back))
    if show_local:
        out += _lines("function-local imports", (f"{m}:{line} in {f}(): {s}" for m, line, f, s in local))
    else:
        out.append(f"function-local imports: {len(local)} (--local lists them)")
    return "\n".join(out), not (cycles or pcycles or back)


def main(argv: list[str] | None = None) -> int:
    """Print the report; exit 1 when there is a cycle or a backward edge."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local", action="store_true", help="list every function-local import with its line")
    parser.add_argument("--root", type=Path, default=ROOT, help="project folder (default: this checkout)")
    args = parser.parse_args(argv)
    text, clean = report(build_graph(args.root), args.root, args.local)
    print(text)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
