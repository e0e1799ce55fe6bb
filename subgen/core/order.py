"""One build order for both stages: datasets sorted so that every dataset's inputs are built first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from graphlib import CycleError, TopologicalSorter

from subgen.core.problems import Problem, ProblemError


def build_order(graph: Mapping[str, Iterable[str]], where: str, column: str, fix: str) -> list[str]:
    """The datasets of ``graph`` (name -> names it reads) with every dependency before its reader.

    Deterministic: ties are broken by name. A cycle raises ProblemError (rule SPEC-CYCLE) located
    at ``where`` (e.g. ``spec.xlsx [Mappings]``) and ``column``, with the cycle as the value and
    ``fix`` as what to do.
    """
    try:
        return list(TopologicalSorter({k: sorted(v) for k, v in sorted(graph.items())}).static_order())
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise ProblemError([Problem(where, None, column, cycle, f"circular derivation between datasets: {cycle}",
                                    fix, rule="SPEC-CYCLE")]) from exc
