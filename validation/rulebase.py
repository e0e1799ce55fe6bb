"""The engine for rules across datasets: a package of frames, rule records, and one runner.

A rule is a small pure function over a :class:`Package` that returns a :class:`Checked` (its
findings as a DataFrame plus the datasets it looked at) or raises :class:`NotApplicable` with the
reason. :func:`run_rule` turns that into :class:`~subgen.core.conformance.outcomes.CheckRun` rows, one per
dataset, with the outcome ``passed``, ``issues found``, ``not applicable`` or ``execution error``:
an exception inside a rule is caught, its text kept, and reported as an Error finding - never
skipped, never passed.

Findings frames have the columns of :func:`finding_frame`: dataset, record (1-based record number
in the dataset as read, or null for a dataset-level finding), USUBJID, variables, values and
message. Rules are vectorised: masks and merges over whole frames, no loops over records.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from subgen.core.conformance.outcomes import (
    EXECUTION_ERROR,
    FINDING_COLUMNS,
    ISSUES,
    MAX_LISTED,
    NOT_APPLICABLE,
    PASSED,
    CheckRun,
    empty_findings,
)
from subgen.core.problems import SEVERITIES
from subgen.core.spec.model import Codelist, Dataset, ValueLevel

#: Columns a rule function returns (the runner adds rule, check, severity and fix).
RULE_FINDING_COLUMNS = ("dataset", "record", "USUBJID", "variables", "values", "message")


@dataclass
class Package:
    """The datasets being validated, with the metadata each is checked against.

    ``datasets`` maps the dataset name (upper case, e.g. ``AE``, ``SUPPAE``, ``ADSL``) to its frame
    as read from the XPT file (records in file order, index 0..n-1). ``metadata`` maps the same
    names to the :class:`~subgen.core.spec.model.Dataset` (variables, labels, types, core, keys) taken
    from the spec, a define.xml or the fallback SDTMIG/ADaMIG tables; ``metadata_source`` says
    which, per dataset.
    """

    datasets: dict[str, pd.DataFrame]
    metadata: dict[str, Dataset] = field(default_factory=dict)
    metadata_source: dict[str, str] = field(default_factory=dict)
    codelists: dict[str, Codelist] = field(default_factory=dict)
    value_level: tuple[ValueLevel, ...] = ()
    ranges: tuple[Any, ...] = ()  # subgen.core.conformance.ranges.RangeRule

    def get(self, name: str) -> pd.DataFrame | None:
        """The frame of dataset ``name``, or None when the package has no such dataset."""
        return self.datasets.get(name)

    @property
    def sdtm_names(self) -> list[str]:
        """SDTM dataset names (every dataset whose name does not start with AD), sorted."""
        return sorted(n for n in self.datasets if not is_adam(n))

    @property
    def adam_names(self) -> list[str]:
        """ADaM dataset names (AD...), sorted."""
        return sorted(n for n in self.datasets if is_adam(n))


def is_adam(name: str) -> bool:
    """True for an ADaM dataset name (ADSL, ADLB, ...)."""
    return name.upper().startswith("AD")


def is_supp(name: str) -> bool:
    """True for a supplemental-qualifier dataset (SUPPAE, SUPPQUAL, ...)."""
    return name.upper().startswith("SUPP")


class NotApplicable(Exception):
    """Raised by a rule that cannot apply to this package; the message is the reason."""


@dataclass(frozen=True)
class Checked:
    """What a rule found: ``findings`` (:data:`RULE_FINDING_COLUMNS`) and the datasets it checked.

    ``not_applicable`` maps datasets the rule could have checked but could not to the reason.
    """

    findings: pd.DataFrame
    datasets: tuple[str, ...]
    not_applicable: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CrossRule:
    """A rule across datasets: stable id, severity, what it means, what to do, where it comes from."""

    id: str
    severity: str
    title: str
    fix: str
    citation: str
    func: Callable[[Package], Checked]

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.id}: severity {self.severity!r} not in {SEVERITIES}")


def finding_frame(dataset: str | pd.Series, record: Any, usubjid: Any, variables: Any, values: Any,
                  message: Any, index: pd.Index | None = None) -> pd.DataFrame:
    """Findings as a frame; scalars are broadcast over ``index`` (or the Series given)."""
    parts = {"dataset": dataset, "record": record, "USUBJID": usubjid, "variables": variables,
             "values": values, "message": message}
    if index is None:
        index = next((p.index for p in parts.values() if isinstance(p, pd.Series)), pd.RangeIndex(1))
    frame = pd.DataFrame({k: (v.reindex(index) if isinstance(v, pd.Series) else v) for k, v in parts.items()},
                         index=index)
    frame["record"] = pd.to_numeric(frame["record"], errors="coerce").astype("Int64")
    for col in ("dataset", "USUBJID", "variables", "values", "message"):
        frame[col] = frame[col].astype("string")
    return frame.reset_index(drop=True)


def no_findings() -> pd.DataFrame:
    """An empty rule findings frame."""
    return empty_findings()[list(RULE_FINDING_COLUMNS)]


def records(frame: pd.DataFrame, mask: pd.Series) -> pd.Series:
    """1-based record numbers of the rows of ``frame`` where ``mask`` holds (frame index 0..n-1)."""
    return pd.Series(np.flatnonzero(mask.to_numpy(dtype=bool)) + 1, index=frame.index[mask.to_numpy(dtype=bool)])


def text(series: pd.Series) -> pd.Series:
    """Values as display text: null -> "", integral floats without ".0", others as str."""
    if pd.api.types.is_numeric_dtype(series.dtype):
        as_float = pd.to_numeric(series, errors="coerce").astype("Float64")
        integral = as_float.notna() & (as_float % 1 == 0)
        out = as_float.astype("string")
        out = out.where(~integral, as_float.round().astype("Int64").astype("string"))
        return out.fillna("")
    return series.astype("string").fillna("")


def blank(series: pd.Series) -> pd.Series:
    """True where a value is null or (for text) blank."""
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.isna()
    return series.astype("string").str.strip().fillna("").eq("")


def pairs(frame: pd.DataFrame, columns: Iterable[str]) -> pd.Series:
    """``VAR=value, VAR2=value`` text per record, for the Values column of findings."""
    columns = list(columns)
    out = pd.Series("", index=frame.index, dtype="string")
    for i, col in enumerate(columns):
        piece = (col + "=") + text(frame[col])
        out = piece if i == 0 else out + ", " + piece
    return out


def concat_findings(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack findings frames (empty when there are none)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return no_findings()
    return pd.concat(parts, ignore_index=True)


def run_rule(rule: CrossRule, package: Package, max_listed: int = MAX_LISTED) -> list[CheckRun]:
    """Run ``rule`` on ``package``: one CheckRun per dataset it checked (or one for the package).

    The rule's findings get its id, severity and fix; per dataset the first ``max_listed`` (in
    record order) are listed and the rest counted in one summary finding. A
    :class:`NotApplicable` gives one ``not applicable`` CheckRun with the reason; any other
    exception one ``execution error`` CheckRun whose single finding (severity Error, check
    ``RULE:execution-error``) carries the exception text.
    """
    try:
        result = rule.func(package)
        if not isinstance(result, Checked):
            raise TypeError(f"rule function returned {type(result).__name__}, not Checked")
        findings = _stamp(rule, result.findings)
    except NotApplicable as exc:
        return [CheckRun(rule.id, rule.id, "*", NOT_APPLICABLE, str(exc) or "not applicable")]
    except Exception as exc:  # an internal error is reported, never skipped or passed
        reason = f"{type(exc).__name__}: {exc}"
        finding = finding_frame("*", None, None, None, None,
                                f"rule {rule.id} could not be evaluated: {reason}")
        finding = _stamp(rule, finding)
        finding["severity"] = "Error"
        finding["check"] = f"{rule.id}:execution-error"
        finding["fix"] = ("This check did NOT run: report the error (run with --debug); a check that failed to "
                          "run is never counted as passed")
        return [CheckRun(rule.id, rule.id, "*", EXECUTION_ERROR, reason, finding)]
    runs = []
    checked = list(dict.fromkeys([*result.datasets, *findings["dataset"].dropna().tolist()]))
    for name in sorted(checked):
        mine = cap(findings[findings["dataset"] == name], max_listed)
        runs.append(CheckRun(rule.id, rule.id, name, ISSUES if len(mine) else PASSED, "", mine))
    for name, reason in sorted(result.not_applicable.items()):
        if name not in checked:
            runs.append(CheckRun(rule.id, rule.id, name, NOT_APPLICABLE, reason))
    if not runs:
        runs.append(CheckRun(rule.id, rule.id, "*", NOT_APPLICABLE,
                             "no dataset in the package has the variables this rule checks"))
    return runs


def cap(findings: pd.DataFrame, max_listed: int) -> pd.DataFrame:
    """The first ``max_listed`` findings in record order, plus one summary row counting the rest."""
    ordered = findings.sort_values("record", kind="stable", na_position="first").reset_index(drop=True)
    if len(ordered) <= max_listed:
        return ordered
    listed, rest = ordered.iloc[:max_listed], ordered.iloc[max_listed:]
    summary = rest.iloc[[0]].copy()
    total = int(ordered["count"].fillna(1).sum())
    summary["record"] = pd.NA
    summary["USUBJID"] = pd.NA
    summary["values"] = pd.NA
    summary["count"] = int(rest["count"].fillna(1).sum())
    summary["message"] = (f"{total} findings of this rule in this dataset; the first {max_listed} are listed, "
                          f"{int(summary['count'].iloc[0])} more are not")
    return pd.concat([listed, summary], ignore_index=True)


def _stamp(rule: CrossRule, findings: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in RULE_FINDING_COLUMNS if c not in findings.columns]
    if missing:
        raise ValueError(f"rule {rule.id} returned findings without {', '.join(missing)}")
    out = findings[list(RULE_FINDING_COLUMNS)].copy()
    out["rule"] = rule.id
    out["check"] = rule.id
    out["severity"] = rule.severity
    out["fix"] = rule.fix
    out["count"] = 1
    out = out[list(FINDING_COLUMNS)]
    for col in FINDING_COLUMNS:
        if col not in ("record", "count"):
            out[col] = out[col].astype("string")
    out["record"] = pd.to_numeric(out["record"], errors="coerce").astype("Int64")
    out["count"] = out["count"].astype("Int64")
    return out.reset_index(drop=True)


def close(a: pd.Series, b: pd.Series) -> pd.Series:
    """Element-wise equality of two numeric Series with a tolerance of 1e-9 (relative above 1)."""
    a = pd.to_numeric(a, errors="coerce").astype("float64")
    b = pd.to_numeric(b, errors="coerce").astype("float64")
    tol = 1e-9 * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
    return pd.Series(np.abs(a - b) <= tol, index=a.index)


def num_text(value: float) -> str:
    """A number as short text (no trailing .0)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


__all__ = ["Checked", "CrossRule", "NotApplicable", "Package", "RULE_FINDING_COLUMNS", "blank", "cap", "close",
           "concat_findings", "finding_frame", "is_adam", "is_supp", "no_findings", "num_text", "pairs", "records",
           "run_rule", "text"]
