"""The end-of-run table a stage command prints: records per dataset, findings by severity, where the outputs are."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pandas as pd

from subgen.core.problems import SEVERITIES, Problem
from subgen.core.study import StudyConfig


class StageResult(Protocol):
    """What a stage runner returns, as far as the summary reads it (``SdtmResult``, ``AdamResult``)."""

    study: StudyConfig
    out_dir: Path
    datasets: dict[str, pd.DataFrame]
    problems: list[Problem]


def print_summary(result: StageResult, layer: str, verbose: bool) -> None:
    """Print the summary of one stage run; ``verbose`` also lists every problem."""
    warn = sum(p.severity == "Warning" for p in result.problems)
    print(f"{result.study.name}: {len(result.datasets)} {layer} datasets, "
          f"{sum(len(f) for f in result.datasets.values())} records -> {result.out_dir}"
          + (f" ({warn} warning(s): see reports/problems.csv)" if warn else ""))
    names = sorted(result.datasets)
    width = max([7, *map(len, names)])
    print(f"  {'dataset':<{width}}  records")
    for name in names:
        print(f"  {name:<{width}}  {len(result.datasets[name]):>7}")
    counts = {s: sum(p.severity == s for p in result.problems) for s in SEVERITIES}
    print("  findings: " + ", ".join(f"{n} {s}" for s, n in counts.items())
          + f"; reports in {result.out_dir / 'reports'}")
    if verbose:
        for problem in result.problems:
            print(f"  - {problem}")


__all__ = ["StageResult", "print_summary"]
