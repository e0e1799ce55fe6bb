"""Problems as data: every check collects :class:`Problem` rows instead of printing them.

A problem names where it is (file or dataset, row, column), the offending value, what is
wrong and what to do. ``ProblemError`` carries a list of them when a run must stop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pandas as pd

SEVERITIES = ("Reject", "Error", "Warning", "Notice")


@dataclass(frozen=True, order=True)
class Problem:
    """One finding about input, spec or output, located precisely."""

    where: str  # file path (raw CSV, spec workbook) or dataset name
    row: int | None  # 1-based data row in a CSV/sheet (header = row 1 in sheets), record number in a dataset
    column: str | None
    value: str | None
    message: str  # what is wrong, in a data manager's words
    fix: str = ""  # what to do about it
    severity: str = "Error"
    rule: str = ""  # stable rule id, e.g. "XPT-LABEL-LEN"

    def __str__(self) -> str:
        loc = self.where
        if self.row is not None:
            loc += f", row {self.row}"
        if self.column:
            loc += f", column {self.column}"
        val = "" if self.value is None else f" (value {self.value!r})"
        fix = f" -> {self.fix}" if self.fix else ""
        rule = f"[{self.rule}] " if self.rule else ""
        return f"{self.severity}: {rule}{loc}{val}: {self.message}{fix}"


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """Problems as a sorted DataFrame (the ``problems()`` table), stable across runs."""
    rows = [asdict(p) for p in problems]
    cols = list(Problem.__dataclass_fields__)
    frame = pd.DataFrame(rows, columns=cols)
    if frame.empty:
        return frame
    order = {s: i for i, s in enumerate(SEVERITIES)}
    frame["_sev"] = frame["severity"].map(order)
    frame = frame.sort_values(["_sev", "where", "row", "column", "rule", "message"], na_position="first",
                              kind="stable").drop(columns="_sev")
    return frame.reset_index(drop=True)


class ProblemError(Exception):
    """Raised when problems block the run; ``problems`` holds every one, not just the first."""

    def __init__(self, problems: Iterable[Problem], headline: str = "") -> None:
        self.problems = sorted(problems, key=lambda p: (SEVERITIES.index(p.severity)
                                                       if p.severity in SEVERITIES else 9, p.where,
                                                       p.row or 0, p.column or "", p.message))
        self.headline = headline or f"{len(self.problems)} problem(s) stop the run"
        super().__init__(self.render())

    def render(self, limit: int = 50) -> str:
        """Readable multi-line text, the first ``limit`` problems and a count of the rest."""
        lines = [self.headline + ":"]
        lines += [f"  - {p}" for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more (see the problems report)")
        return "\n".join(lines)
