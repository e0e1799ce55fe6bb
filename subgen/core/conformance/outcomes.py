"""Outcomes of a check and the plain records every validation step hands on.

Every check that validation runs - a Great Expectations expectation generated from the spec or a
rule across datasets - ends with exactly one :data:`OUTCOMES` value:

* ``passed``: the check ran over the data it applies to and found nothing;
* ``issues found``: the check ran and reported findings;
* ``not applicable``: the check could not apply (a dataset or variable it needs is absent, e.g.
  SE for the EPOCH rule); the reason is always given;
* ``execution error``: the check raised; the exception text is kept and the check is never
  counted as passed or skipped.

:class:`CheckRun` is one check's result; findings are a DataFrame with :data:`FINDING_COLUMNS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

PASSED = "passed"
ISSUES = "issues found"
NOT_APPLICABLE = "not applicable"
EXECUTION_ERROR = "execution error"
#: Every outcome, from best to worst (a group of checks takes its worst member's outcome).
OUTCOMES = (NOT_APPLICABLE, PASSED, ISSUES, EXECUTION_ERROR)

#: Columns of a findings table, in report order.
#: ``count`` is 1 for a finding about one record; a summary row ("... and N more records") counts
#: the records it stands for, so counts stay exact when long lists are cut.
FINDING_COLUMNS = ("dataset", "record", "USUBJID", "variables", "values", "rule", "check", "severity",
                   "message", "fix", "count")
#: Records listed one by one per check and dataset; the rest are counted in one summary row.
MAX_LISTED = 200


@dataclass(frozen=True)
class CheckRun:
    """The outcome of one check on one dataset (``dataset`` is ``*`` for package-level checks).

    ``findings`` holds this check's findings (:data:`FINDING_COLUMNS`); ``reason`` says why a check
    is not applicable or what the exception was.
    """

    rule: str
    check: str
    dataset: str
    outcome: str
    reason: str = ""
    findings: pd.DataFrame = field(default_factory=lambda: empty_findings())

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"check {self.check}: outcome {self.outcome!r} not in {OUTCOMES}")
        if self.outcome in (NOT_APPLICABLE, EXECUTION_ERROR) and not self.reason:
            raise ValueError(f"check {self.check}: outcome {self.outcome!r} needs a reason")


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in FINDING_COLUMNS})
    frame["record"] = frame["record"].astype("Int64")
    frame["count"] = frame["count"].astype("Int64")
    return frame


_EMPTY = _empty()


def empty_findings() -> pd.DataFrame:
    """An empty findings table with the right columns and dtypes (a copy of one built once: thousands of checks
    find nothing)."""
    return _EMPTY.copy()


def worst(outcomes: list[str] | tuple[str, ...]) -> str:
    """The worst of ``outcomes`` (execution error > issues found > passed > not applicable)."""
    if not outcomes:
        return NOT_APPLICABLE
    return max(outcomes, key=OUTCOMES.index)


__all__ = ["CheckRun", "EXECUTION_ERROR", "FINDING_COLUMNS", "ISSUES", "NOT_APPLICABLE", "OUTCOMES", "PASSED",
           "MAX_LISTED", "empty_findings", "worst"]
