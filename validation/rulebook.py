"""The SDTM conformance rules as data: one table (``validation/data/sdtm_rules.toml``), one runner.

Each ``[[rule]]`` of the table is one rule a reviewer can read without reading code:

* ``id`` (ours, stable, used by waivers), ``core`` (the CDISC CORE id it answers to), ``cg`` / ``fb``
  (the SDTM Conformance Rules and FDA business rule ids), ``severity``;
* scope: ``classes`` and ``domains`` (``ALL`` for every one; ``exclude_domains``, ``exclude_classes``);
* ``check``: a condition in the project's expression language (:mod:`subgen.core.expr`) that is
  TRUE on a faulty record. ``--`` stands for the domain prefix and is expanded per dataset
  (``--STDTC`` is ``AESTDTC`` in AE). ``lookup = ["DM"]`` merges DM onto each record by USUBJID so
  the check can read ``DM.RFSTDTC``; ``{ dataset = "TA", by = ["ARMCD"] }`` merges by other keys;
* or ``function``: the name of a small named function (:mod:`validation.rule_functions`) for a rule
  that is not a row condition (variable order, metadata, values across datasets);
* ``level``: ``record`` (one finding per faulty record) or ``dataset`` (one finding per dataset where
  any record is faulty, e.g. a variable that must not be there);
* ``message`` and ``fix`` (our words), ``report`` (the variables a finding shows; default the
  variables the check reads), and ``differs``: when our judgement differs from the CDISC reference
  engine's expected result on its own test case, why.

Outcomes per dataset: **issues found** (with the records), **passed**, **not applicable** with the
reason (no dataset of the rule's domains and classes; none of the variables the check reads is in
the dataset; a lookup dataset is absent), or **execution error** with the message. A variable the
dataset lacks reads as null (as the CDISC engine reads it): ``--DOSU is blank`` holds on a dataset
without --DOSU; ``exists(--DOSU)`` tells the two apart.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from subgen.core.expr import ColumnRef, Expression, columns, evaluate, parse
from subgen.core.expr.nodes import Call, Node, children
from subgen.core.problems import SEVERITIES
from subgen.core.standards import SDTMIG, ig_datasets
from validation.rule_functions import RULE_FUNCTIONS, DatasetHit
from validation.rulebase import Checked, CrossRule, NotApplicable, Package, finding_frame, no_findings, pairs, records

#: The CDISC class names the scopes use, by the SDTMIG class name of the standards table.
_CLASS = {"Events": "EVENTS", "Findings": "FINDINGS", "Findings About": "FINDINGS ABOUT",
          "Interventions": "INTERVENTIONS", "Special-Purpose": "SPECIAL PURPOSE", "Trial Design": "TRIAL DESIGN",
          "Relationship": "RELATIONSHIP", "Study Reference": "STUDY REFERENCE"}
_PREFIX = re.compile(r"(?<![A-Za-z0-9_.`])--(?=[A-Za-z])")
_QUOTED = re.compile(r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"")
_FIELDS = {"id", "core", "cg", "fb", "severity", "classes", "domains", "exclude_domains", "exclude_classes",
           "check", "function", "level", "lookup", "message", "fix", "report", "differs", "args"}


@dataclass(frozen=True)
class Lookup:
    """Another dataset merged onto each record: ``dataset`` by the ``by`` columns (first match)."""

    dataset: str
    by: tuple[str, ...] = ("USUBJID",)


@dataclass(frozen=True)
class TableRule:
    """One row of the rule table (see the module docstring for the fields)."""

    id: str
    core: str
    severity: str
    message: str
    fix: str
    cg: tuple[str, ...] = ()
    fb: tuple[str, ...] = ()
    classes: tuple[str, ...] = ("ALL",)
    domains: tuple[str, ...] = ("ALL",)
    exclude_domains: tuple[str, ...] = ()
    exclude_classes: tuple[str, ...] = ()
    check: str = ""
    function: str = ""
    args: Mapping[str, Any] = field(default_factory=dict)
    level: str = "record"
    lookup: tuple[Lookup, ...] = ()
    report: tuple[str, ...] = ()
    differs: str = ""

    @property
    def citation(self) -> str:
        """The ids a reviewer matches with CORE's or P21's report."""
        ids = [self.core, *self.cg, *self.fb]
        return "; ".join(i for i in ids if i)


# --------------------------------------------------------------------------- reading the table


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def _lookup(value: Any) -> Lookup:
    if isinstance(value, str):
        return Lookup(value.upper())
    return Lookup(str(value["dataset"]).upper(), tuple(value.get("by", ["USUBJID"])))


def rule_from_row(row: Mapping[str, Any]) -> TableRule:
    """One table row -> :class:`TableRule`, checked: known fields, severity, exactly one of check/function."""
    unknown = set(row) - _FIELDS
    rid = str(row.get("id", "?"))
    if unknown:
        raise ValueError(f"rule {rid}: unknown field(s) {', '.join(sorted(unknown))}")
    for required in ("id", "severity", "message", "fix"):
        if not row.get(required):
            raise ValueError(f"rule {rid}: {required} is required")
    if bool(row.get("check")) == bool(row.get("function")):
        raise ValueError(f"rule {rid}: give either check or function")
    if row.get("severity") not in SEVERITIES:
        raise ValueError(f"rule {rid}: severity {row.get('severity')!r} not in {SEVERITIES}")
    if row.get("function") and row["function"] not in RULE_FUNCTIONS:
        raise ValueError(f"rule {rid}: there is no rule function {row['function']}")
    level = row.get("level", "record")
    if level not in ("record", "dataset"):
        raise ValueError(f"rule {rid}: level is record or dataset, not {level!r}")
    rule = TableRule(
        id=rid, core=str(row.get("core", "")), severity=row["severity"], message=row["message"], fix=row["fix"],
        cg=_tuple(row.get("cg")), fb=_tuple(row.get("fb")),
        classes=tuple(c.upper() for c in _tuple(row.get("classes")) or ("ALL",)),
        domains=tuple(d.upper() for d in _tuple(row.get("domains")) or ("ALL",)),
        exclude_domains=tuple(d.upper() for d in _tuple(row.get("exclude_domains"))),
        exclude_classes=tuple(c.upper() for c in _tuple(row.get("exclude_classes"))),
        check=str(row.get("check", "")), function=str(row.get("function", "")), args=dict(row.get("args", {})),
        level=level, lookup=tuple(_lookup(v) for v in row.get("lookup", [])), report=_tuple(row.get("report")),
        differs=str(row.get("differs", "")))
    if rule.check:
        parse(expand(rule.check, "XX"))  # a check that cannot be read fails when the table is loaded
    return rule


def table_path() -> Path:
    """The shipped rule table."""
    return Path(str(resources.files("validation").joinpath("data", "sdtm_rules.toml")))


@functools.lru_cache(maxsize=4)
def load_rules(path: Path | str | None = None) -> tuple[TableRule, ...]:
    """Every rule of the table at ``path`` (default: the shipped one), in table order; ValueError on a bad row."""
    with open(path or table_path(), "rb") as fh:
        rows = tomllib.load(fh).get("rule", [])
    rules = tuple(rule_from_row(r) for r in rows)
    seen: set[str] = set()
    for r in rules:
        if r.id in seen:
            raise ValueError(f"rule {r.id} is in the table twice")
        seen.add(r.id)
    return rules


# --------------------------------------------------------------------------- scope


def expand(check: str, prefix: str) -> str:
    """``--STDTC`` -> ``AESTDTC`` (for ``prefix`` AE) outside quoted values."""
    out, last = [], 0
    for m in _QUOTED.finditer(check):
        out.append(_PREFIX.sub(prefix, check[last:m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_PREFIX.sub(prefix, check[last:]))
    return "".join(out)


def domain_of(name: str, frame: pd.DataFrame) -> str:
    """The domain a dataset belongs to: its DOMAIN value when it has one (split datasets), else its name."""
    if "DOMAIN" in frame.columns and len(frame):
        first = frame["DOMAIN"].iloc[0]
        if isinstance(first, str) and first.strip():
            return first.strip().upper()
        values = frame["DOMAIN"].dropna().astype(str).str.strip()
        values = values[values.ne("")]
        if len(values):
            return str(values.iloc[0]).upper()
    return name.upper()


def class_of(name: str, frame: pd.DataFrame) -> str:
    """The CDISC class of a dataset (EVENTS, FINDINGS, ...): the SDTMIG table, else guessed from its variables."""
    upper = name.upper()
    if upper.startswith("SUPP") or upper in ("RELREC", "RELSPEC", "RELSUB"):
        return "RELATIONSHIP"
    info = ig_datasets().get((SDTMIG, domain_of(name, frame))) or ig_datasets().get((SDTMIG, upper))
    if info:
        return _CLASS.get(info["class"], info["class"].upper())
    prefix = domain_of(name, frame)
    cols = set(frame.columns)
    if f"{prefix}TESTCD" in cols:
        return "FINDINGS ABOUT" if f"{prefix}OBJ" in cols else "FINDINGS"
    if f"{prefix}TRT" in cols:
        return "INTERVENTIONS"
    if f"{prefix}TERM" in cols:
        return "EVENTS"
    return ""


def in_scope(rule: TableRule, name: str, frame: pd.DataFrame) -> bool:
    """Whether ``rule`` applies to dataset ``name`` (by its domain and class)."""
    domain, cls = domain_of(name, frame), class_of(name, frame)
    names = {domain, name.upper()}
    if "SUPP--" in rule.domains and name.upper().startswith("SUPP"):
        names.add("SUPP--")
    if names & set(rule.exclude_domains) or cls in rule.exclude_classes:
        return False
    if "ALL" not in rule.domains and not names & set(rule.domains):
        return False
    classes = set(rule.classes)
    if "FINDINGS" in classes:
        classes.add("FINDINGS ABOUT")
    return "ALL" in classes or cls in classes


# --------------------------------------------------------------------------- evaluation


class _Absent(KeyError):
    """A variable the check reads is not in the dataset."""


def _guarded(node: Node) -> set[str]:
    """Columns the check tests with exists(): they may be absent (read as all-null)."""
    if isinstance(node, Call) and node.name == "exists":
        return {a.key for a in node.args if isinstance(a, ColumnRef)}
    return {k for child in children(node) for k in _guarded(child)}


def _with_lookups(rule: TableRule, package: Package, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame
    for lk in rule.lookup:
        other = package.get(lk.dataset)
        if other is None:
            raise NotApplicable(f"the package has no {lk.dataset} dataset (the rule reads it)")
        missing = [c for c in lk.by if c not in frame.columns or c not in other.columns]
        if missing:
            raise NotApplicable(f"{', '.join(missing)} absent: cannot match records with {lk.dataset}")
        if other.duplicated(list(lk.by)).any():
            raise ValueError(f"lookup {lk.dataset} by {', '.join(lk.by)}: more than one {lk.dataset} record for "
                             "some key; a lookup reads one record per key")
        right = other.rename(columns={c: f"{lk.dataset}.{c}" for c in other.columns
                                                                   if c not in lk.by})
        merged = out[list(lk.by)].merge(right, on=list(lk.by), how="left", validate="many_to_one")
        merged.index = out.index
        out = pd.concat([out, merged.drop(columns=list(lk.by))], axis=1)
    return out


def _absent(index: pd.Index) -> pd.Series:
    absent = pd.Series(pd.NA, index=index, dtype="string")
    absent.attrs["absent"] = True  # exists() reads this as "not there"
    return absent


def _resolver(frame: pd.DataFrame) -> Callable[[ColumnRef], pd.Series]:
    def read(ref: ColumnRef) -> pd.Series:
        if ref.key in frame.columns:
            return frame[ref.key]
        return _absent(frame.index)
    return read


def check_mask(rule: TableRule, expr: Expression, package: Package, frame: pd.DataFrame) -> pd.Series:
    """The records of ``frame`` the (expanded, parsed) check finds faulty.

    A variable the check reads that the dataset lacks reads as null (an absent variable holds no
    value), as the CDISC engine reads it; when the dataset has none of the variables the check reads
    (outside ``exists()``) the rule is not applicable to it.
    """
    data = _with_lookups(rule, package, frame)
    guarded = _guarded(expr.root)
    read_cols = [c.key for c in columns(expr) if c.key not in guarded and c.form is None]
    if read_cols and not any(c in data.columns for c in read_cols):
        raise NotApplicable(f"{', '.join(read_cols)} absent")
    return evaluate(expr, data, _resolver(data), exact=True)


def _report_columns(rule: TableRule, expr: Expression | None, frame: pd.DataFrame, prefix: str) -> list[str]:
    wanted = [expand(v, prefix) for v in rule.report] if rule.report else [
        c.key for c in (columns(expr) if expr is not None else ())]
    return [c for c in dict.fromkeys(wanted) if c in frame.columns]


def _record_findings(rule: TableRule, name: str, frame: pd.DataFrame, hit: pd.Series, cols: list[str],
                     prefix: str) -> pd.DataFrame | None:
    hit = hit.reindex(frame.index).fillna(False).astype(bool)
    if not hit.any():
        return None
    rows = frame[hit]
    usubjid = rows["USUBJID"].astype("string") if "USUBJID" in rows else None
    values = pairs(rows, cols) if cols else None
    return finding_frame(name, records(frame, hit), usubjid, ", ".join(cols) or None, values,
                         expand(rule.message, prefix), index=rows.index)


def _dataset_finding(rule: TableRule, name: str, variables: str | None, values: str | None,
                     prefix: str) -> pd.DataFrame:
    return finding_frame(name, None, None, variables, values, expand(rule.message, prefix))


def run_table_rule(rule: TableRule, package: Package) -> Checked:
    """Run one table rule on every dataset in its scope."""
    found, checked, na = [], [], {}
    scoped = [n for n in sorted(package.datasets) if not n.upper().startswith("AD")
              and in_scope(rule, n, package.datasets[n])]
    if not scoped:
        raise NotApplicable(f"no dataset in scope (domains {', '.join(rule.domains)}; classes "
                            f"{', '.join(rule.classes)})")
    for name in scoped:
        frame = package.datasets[name]
        prefix = domain_of(name, frame)
        try:
            if rule.function:
                result = RULE_FUNCTIONS[rule.function](package, name, frame, prefix, rule.args)
                expr = None
            else:
                expr = parse(expand(rule.check, prefix))
                result = check_mask(rule, expr, package, frame)
        except NotApplicable as exc:
            na[name] = str(exc)
            continue
        checked.append(name)
        if isinstance(result, DatasetHit):
            found.append(_dataset_finding(rule, name, result.variables, result.values, prefix))
        elif result is None:
            continue
        elif rule.level == "dataset":
            if bool(np.asarray(result).any()):
                cols = _report_columns(rule, expr, frame, prefix)
                found.append(_dataset_finding(rule, name, ", ".join(cols) or None, None, prefix))
        else:
            hits = _record_findings(rule, name, frame, result, _report_columns(rule, expr, frame, prefix), prefix)
            if hits is not None:
                found.append(hits)
    findings = pd.concat(found, ignore_index=True) if found else no_findings()
    if not checked:
        reasons = sorted(set(na.values()))
        raise NotApplicable("; ".join(f"{', '.join(sorted(n for n in na if na[n] == r))}: {r}" for r in reasons))
    return Checked(findings, tuple(checked), na)


def cross_rules(rules: tuple[TableRule, ...] | None = None) -> tuple[CrossRule, ...]:
    """The table's rules as :class:`~validation.rulebase.CrossRule` (so the one runner reports them)."""
    out = []
    for rule in rules if rules is not None else load_rules():
        out.append(CrossRule(rule.id, rule.severity, rule.message, rule.fix, rule.citation,
                             functools.partial(run_table_rule, rule)))
    return tuple(out)


__all__ = ["Lookup", "TableRule", "check_mask", "class_of", "cross_rules", "domain_of", "expand", "in_scope",
           "load_rules", "rule_from_row", "run_table_rule", "table_path"]
