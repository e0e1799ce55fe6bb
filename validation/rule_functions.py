"""Named functions for the rules of the rule table that are not a condition on a record.

A rule row names one with ``function = "..."`` (and passes ``args = {...}``). Each function takes
``(package, name, frame, prefix, args)`` - the package, the dataset's name, its frame, its domain
prefix and the row's arguments - and returns one of:

* a boolean Series over the frame's records (True: the record is faulty);
* a :class:`DatasetHit` (the dataset as a whole is faulty: which variables, what values), or None
  (the dataset is right);
* or raises :class:`~validation.rulebase.NotApplicable` with the reason.

Each function is small and vectorised; the metadata functions read the shipped SDTMIG 3.4 tables
(:mod:`subgen.core.standards`) and the package's own metadata (labels, from the XPT or define.xml).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from subgen.core.expr import ColumnRef, evaluate
from subgen.core.expr.functions import text
from subgen.core.standards import SDTMIG, ig_variables
from validation.rulebase import NotApplicable, Package


@dataclass(frozen=True)
class DatasetHit:
    """A finding on a whole dataset: the variables concerned and a short account of the values."""

    variables: str | None
    values: str | None


RuleFunction = Callable[[Package, str, pd.DataFrame, str, Mapping[str, Any]], "pd.Series | DatasetHit | None"]
_REGISTRY: dict[str, RuleFunction] = {}


def rule_function(fn: RuleFunction) -> RuleFunction:
    """Decorator: register ``fn`` under its name."""
    _REGISTRY[fn.__name__] = fn
    return fn


def _ig(name: str, prefix: str) -> tuple[Any, ...]:
    if name.upper().startswith("SUPP"):
        prefix = "SUPPQUAL"
    table = ig_variables().get((SDTMIG, prefix)) or ig_variables().get((SDTMIG, name.upper()))
    if not table:
        raise NotApplicable(f"{name} is not an SDTMIG 3.4 domain (no standard variable list)")
    return table


@rule_function
def variable_order(package: Package, name: str, frame: pd.DataFrame, prefix: str,
                   args: Mapping[str, Any]) -> DatasetHit | None:
    """The dataset's standard variables are not in the SDTMIG order (variables the IG does not list are ignored)."""
    table = _ig(name, prefix)
    rank = {v.name: v.order for v in table}
    present = [c for c in frame.columns if c in rank]
    order = [rank[c] for c in present]
    late = [present[i] for i in range(1, len(present)) if order[i] < max(order[:i])]
    if not late:
        return None
    expected = sorted(present, key=lambda c: rank[c])
    return DatasetHit(", ".join(late), "order in the dataset: " + " ".join(present) + "; SDTMIG order: "
                      + " ".join(expected))


@rule_function
def expected_variables(package: Package, name: str, frame: pd.DataFrame, prefix: str,
                       args: Mapping[str, Any]) -> DatasetHit | None:
    """An Expected (Exp) variable of the SDTMIG domain is not in the dataset."""
    table = _ig(name, prefix)
    missing = [v.name for v in table if v.core == "Exp" and v.name not in frame.columns]
    return DatasetHit(", ".join(missing), None) if missing else None


@rule_function
def required_variables(package: Package, name: str, frame: pd.DataFrame, prefix: str,
                       args: Mapping[str, Any]) -> DatasetHit | None:
    """A Required (Req) variable of the SDTMIG domain is not in the dataset."""
    table = _ig(name, prefix)
    missing = [v.name for v in table if v.core == "Req" and v.name not in frame.columns]
    return DatasetHit(", ".join(missing), None) if missing else None


def _labels(package: Package, name: str) -> dict[str, str]:
    meta = package.metadata.get(name)
    if meta is None:
        raise NotApplicable(f"no variable metadata (labels) for {name}")
    return {v.name: v.label for v in meta.variables}


@rule_function
def label_longer_than(package: Package, name: str, frame: pd.DataFrame, prefix: str,
                      args: Mapping[str, Any]) -> DatasetHit | None:
    """A variable label has more than ``args.size`` characters."""
    size = int(args.get("size", 40))
    long = [v for v, label in _labels(package, name).items() if v in frame.columns and len(label or "") > size]
    return DatasetHit(", ".join(long), None) if long else None


@rule_function
def not_in_dataset(package: Package, name: str, frame: pd.DataFrame, prefix: str,
                   args: Mapping[str, Any]) -> pd.Series:
    """``args.column`` holds a value that ``args.dataset``'s ``args.target`` does not (blank values never).

    ``args.where``: a condition (expression language, case kept) the record must also meet.
    ``args.found = true`` turns the test round: the value IS in the other dataset. With ``args.by``
    (columns present in both), the value must occur for the same ``by`` values.
    """
    column = str(args["column"]).replace("--", prefix)
    other_name, target = str(args["dataset"]), str(args.get("target", args["column"])).replace("--", prefix)
    by = [str(b) for b in args.get("by", [])]
    if column not in frame.columns:
        raise NotApplicable(f"{column} absent")
    other = package.get(other_name)
    if other is None:
        raise NotApplicable(f"the package has no {other_name} dataset (the rule reads it)")
    if target not in other.columns or any(b not in frame.columns or b not in other.columns for b in by):
        raise NotApplicable(f"{other_name}.{target} absent")
    left = pd.DataFrame({b: text(frame[b]).to_numpy() for b in by} | {"v": text(frame[column]).to_numpy()})
    right = pd.DataFrame({b: text(other[b]).to_numpy() for b in by} | {"v": text(other[target]).to_numpy()})
    right = right.drop_duplicates()
    right["_hit"] = True
    merged = left.merge(right, on=[*by, "v"], how="left")
    found = merged["_hit"].notna().to_numpy()
    out = pd.Series((found if args.get("found") else ~found) & left["v"].ne("").to_numpy(), index=frame.index)
    if args.get("where"):
        out &= evaluate(expand(str(args["where"]), prefix), frame, _absent_as_null(frame), exact=True)
    return out


def expand(check: str, prefix: str) -> str:
    """``--X`` -> ``<prefix>X`` (the rule table's domain prefix)."""
    return re.sub(r"(?<![A-Za-z0-9_.`'])--(?=[A-Za-z])", prefix, check)


def _absent_as_null(frame: pd.DataFrame) -> Callable[[ColumnRef], pd.Series]:
    def read(ref: ColumnRef) -> pd.Series:
        return frame[ref.key] if ref.key in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="string")
    return read


@rule_function
def variable_name_longer_than(package: Package, name: str, frame: pd.DataFrame, prefix: str,
                              args: Mapping[str, Any]) -> DatasetHit | None:
    """A variable name has more than ``args.size`` characters."""
    size = int(args.get("size", 8))
    long = [c for c in frame.columns if len(str(c)) > size]
    return DatasetHit(", ".join(long), None) if long else None


@rule_function
def text_value_matches(package: Package, name: str, frame: pd.DataFrame, prefix: str,
                       args: Mapping[str, Any]) -> pd.Series:
    """A text variable's value matches ``args.pattern`` from its start (values as stored, not trimmed)."""
    compiled = re.compile(str(args["pattern"]))
    hit = pd.Series(False, index=frame.index)
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_numeric_dtype(values.dtype):
            continue
        codes, uniques = pd.factorize(values.astype(object).where(values.notna(), ""), use_na_sentinel=False)
        found = np.array([isinstance(v, str) and compiled.match(v) is not None for v in uniques], dtype=bool)
        hit |= found[codes] if len(found) else False
    return hit


#: Every rule function, by name.
RULE_FUNCTIONS: Mapping[str, RuleFunction] = _REGISTRY

__all__ = ["RULE_FUNCTIONS", "DatasetHit", "RuleFunction", "rule_function"]
