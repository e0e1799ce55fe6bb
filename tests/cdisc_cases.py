"""CDISC's own test cases for the CORE rules, read as packages our rule table runs on.

``../shared/reference/cdisc-open-rules/rules/CORE-xxxxxx/{negative,positive}/01/data/*.csv`` are the
datasets (``_variables.csv`` gives type Char/Num, label and length: Char columns become text with
``""`` for a missing value, as an XPT file reads; Num columns floats), ``results/results.csv`` what
a correct engine reports (Dataset, Record, Variable, Value; Record blank for a finding on the
dataset).

How a case is judged (:func:`judge`):

* negative case: for every dataset in results.csv, the records we report there are exactly the
  records listed (a dataset listed with a blank Record: we report at least one finding in that
  dataset); and we report nothing in a dataset results.csv does not list;
* positive case: we report nothing;
* an ``execution error`` outcome is wrong on either case; ``not applicable`` is right only on a
  positive case (nothing reported).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from subgen.core.spec.model import Dataset, Variable
from validation.rulebase import Package, run_rule
from validation.rulebook import TableRule, cross_rules

ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "cdisc-open-rules" / "rules"


def available() -> bool:
    """Whether the CDISC reference folder is there (tests skip without it)."""
    return ROOT.is_dir()


def core_ids() -> list[str]:
    """Every CORE id of the reference folder."""
    return sorted(p.name for p in ROOT.iterdir() if p.is_dir())


def _variables(folder: Path) -> dict[str, list[dict[str, str]]]:
    path = folder / "_variables.csv"
    out: dict[str, list[dict[str, str]]] = {}
    if path.is_file():
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                out.setdefault(row["dataset"].upper(), []).append(row)
    return out


@functools.lru_cache(maxsize=1024)
def load_package(folder: Path) -> Package:
    """The CSV package in ``folder`` as frames with the dtypes ``_variables.csv`` gives, and labels as metadata."""
    meta = _variables(folder)
    datasets, metadata = {}, {}
    for path in sorted(folder.glob("*.csv")):
        if path.name.startswith("_"):
            continue
        name = path.stem.upper()
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except pd.errors.EmptyDataError:  # a dataset file with no columns at all
            frame = pd.DataFrame()
        types = {r["variable"]: r for r in meta.get(name, [])}
        for col in frame.columns:
            if types.get(col, {}).get("type", "Char").lower().startswith("num"):
                frame[col] = pd.to_numeric(frame[col].str.strip(), errors="coerce").astype("float64")
            else:
                frame[col] = frame[col].astype(object)
        datasets[name] = frame
        variables = tuple(Variable(name, col, types.get(col, {}).get("label", ""),
                                   "float" if pd.api.types.is_numeric_dtype(frame[col]) else "text",
                                   int(float(types[col]["length"])) if types.get(col, {}).get("length") else None,
                                   i + 1) for i, col in enumerate(frame.columns))
        metadata[name] = Dataset(name, name, "", "", (), variables)
    return Package(datasets, metadata)


def expected(folder: Path) -> list[tuple[str, int | None]] | None:
    """(dataset, record or None) of results/results.csv, or None when the case has no results.csv."""
    path = folder / "results" / "results.csv"
    if not path.is_file():
        return None
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        record = (r.get("Record") or "").strip()
        out.append(((r.get("Dataset") or "").strip().upper().removesuffix(".XPT"),
                    int(float(record)) if record else None))
    return out


@dataclass(frozen=True)
class Verdict:
    """How our rule did on one case."""

    right: bool
    reason: str


def reported(rule: TableRule, package: Package) -> tuple[dict[str, set[int | None]], list[str]]:
    """(dataset -> records we report, execution errors) of ``rule`` on ``package``."""
    (cross,) = cross_rules((rule,))
    runs = run_rule(cross, package, max_listed=10**9)
    out: dict[str, set[int | None]] = {}
    errors = [r.reason for r in runs if r.outcome == "execution error"]
    for run in runs:
        for ds, rec in zip(run.findings["dataset"], run.findings["record"]):
            out.setdefault(str(ds).upper(), set()).add(None if pd.isna(rec) else int(rec))
    return out, errors


_VERDICTS: dict[tuple[str, str, str, bool], Verdict] = {}


def judge(rule: TableRule, case: Path, negative: bool) -> Verdict:
    """Judge ``rule`` on the case folder (``.../negative/01`` or ``.../positive/01``); cached per rule and case."""
    key = (rule.id, rule.check or rule.function, str(case), negative)
    if key not in _VERDICTS:
        _VERDICTS[key] = _judge(rule, case, negative)
    return _VERDICTS[key]


def _judge(rule: TableRule, case: Path, negative: bool) -> Verdict:
    package = load_package(case / "data")
    got, errors = reported(rule, package)
    if errors:
        return Verdict(False, f"execution error: {errors[0]}")
    if not negative:
        if got:
            return Verdict(False, "positive case: reported " + _show(got))
        return Verdict(True, "")
    want = expected(case)
    if want is None:
        return Verdict(False, "negative case has no results.csv")
    wanted: dict[str, set[int | None]] = {}
    for ds, rec in want:
        wanted.setdefault(ds, set()).add(rec)
    problems = []
    for ds, recs in wanted.items():
        mine = got.get(ds, set())
        listed = {r for r in recs if r is not None}
        if not listed:
            if not mine:
                problems.append(f"{ds}: expected a finding, got none")
        elif {r for r in mine if r is not None} != listed:
            problems.append(f"{ds}: expected records {sorted(listed)}, got {sorted(r for r in mine if r is not None)}")
    for ds in sorted(set(got) - set(wanted)):
        problems.append(f"{ds}: reported {_show({ds: got[ds]})} where nothing is expected")
    return Verdict(not problems, "; ".join(problems))


def _show(got: dict[str, set[int | None]]) -> str:
    return "; ".join(f"{ds} {sorted(r for r in recs if r is not None)[:10] or '(dataset)'}"
                     for ds, recs in sorted(got.items()))
