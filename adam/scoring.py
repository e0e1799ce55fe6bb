"""Questionnaire scores as derived BDS parameters (e.g. DQoL subscales and total, Jacobson 1988).

A score is computed per subject and administration (the item records sharing USUBJID and ADT)
from item parameters already in the dataset. The items, the method and the missing-item rule
are arguments, i.e. spec data:

* ``method=sum``: the sum of the item values; when some items are missing but at least
  ``min_fraction`` of them are answered, the missing items take the mean of the answered ones
  (so the score is the answered mean x the number of items: a prorated sum). Fewer answered
  items give no score.
* ``method=mean``: the mean of the answered items under the same rule.

The DQoL (46 items, 1-5, lower is better) is scored as the sum of its items per subscale:
satisfaction (15 items, 15-75), impact (20 items, 20-100), diabetes-related worry (4 items,
4-20), social/vocational worry (7 items, 7-35); the total is the sum of the four subscales.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from adam.engine import TRACE_COL
from adam.registry import derivation
from subgen.core.spec.model import AnalysisParameter

_RANGE = re.compile(r"^([A-Z][A-Z0-9]*?)(\d+)\s*\.\.\s*([A-Z][A-Z0-9]*?)(\d+)$")


def expand_items(items: tuple[str, ...]) -> tuple[str, ...]:
    """``('DQOL01..DQOL03', 'X1')`` -> ``('DQOL01', 'DQOL02', 'DQOL03', 'X1')`` (zero padding kept)."""
    out: list[str] = []
    for part in items:
        m = _RANGE.match(part.strip())
        if not m:
            out.append(part.strip())
            continue
        prefix, lo, prefix2, hi = m.groups()
        if prefix != prefix2 or int(lo) > int(hi):
            raise ValueError(f"cannot read item range {part!r}: write e.g. DQOL01..DQOL15")
        out.extend(f"{prefix}{i:0{len(lo)}d}" for i in range(int(lo), int(hi) + 1))
    return tuple(out)


@derivation("records")
def derive_param_score(dataset: pd.DataFrame, paramcd: str, items: tuple[str, ...],
                       params: tuple[AnalysisParameter, ...], dataset_name: str, method: str = "sum",
                       min_fraction: float = 0.5, digits: int | None = None,
                       by_vars: tuple[str, ...] = ("USUBJID", "ADT")) -> pd.DataFrame:
    """A score parameter from item parameters of the same dataset (sum or mean, with the missing-item rule).

    One record per subject and administration that has at least one item record. AVAL is the
    score, or missing when fewer than ``min_fraction`` of the items are answered; timing (ADT,
    VISIT, VISITNUM) is the items'; the record traces to every item record it used.
    """
    if method not in ("sum", "mean"):
        raise ValueError(f"method must be sum or mean, not {method!r}")
    if not 0 < min_fraction <= 1:
        raise ValueError(f"min_fraction must be in (0, 1], not {min_fraction}")
    p = next((x for x in params if x.paramcd == paramcd), None)
    if p is None:
        raise KeyError(f"{dataset_name}: parameter {paramcd} is not in the Parameters sheet")
    names = expand_items(items)
    rows = dataset[dataset["PARAMCD"].isin(names)]
    if rows.empty:
        return dataset
    keys = list(by_vars)
    value = pd.to_numeric(rows["AVAL"], errors="coerce").astype("float64")
    grouped = rows.assign(__v=value).groupby(keys, sort=True, dropna=False)
    answered = grouped["__v"].count()
    mean = grouped["__v"].mean()
    enough = answered >= min_fraction * len(names)
    score = (mean * len(names) if method == "sum" else mean).where(enough)
    if digits is not None:
        score = score.round(digits)
    first = grouped.first()
    out = pd.DataFrame(index=score.index)
    for col in dataset.columns:
        if col in keys or col == TRACE_COL:
            continue
        out[col] = first[col] if col in first.columns else pd.NA
    out = out.reset_index()
    out["PARAMCD"] = paramcd
    out["PARAM"] = p.param
    if "PARAMN" in out.columns:
        out["PARAMN"] = np.nan if p.paramn is None else float(p.paramn)
    if "PARCAT1" in out.columns:
        out["PARCAT1"] = p.parcat1
    out["AVAL"] = score.to_numpy()
    for col in ("AVALC", "SRCVAR", "SRCSEQ", "DTYPE"):
        if col in out.columns:
            out[col] = pd.NA
    if "SRCDOM" in out.columns:
        out["SRCDOM"] = pd.NA
    if TRACE_COL in rows.columns:
        traces = rows.groupby(keys, sort=True, dropna=False)[TRACE_COL].agg(lambda s: [t for x in s for t in x])
        out[TRACE_COL] = traces.to_numpy()
    out = out[[c for c in dataset.columns if c in out.columns]]
    for col in out.columns:
        if col != TRACE_COL:
            out[col] = out[col].astype(dataset[col].dtype)
    return pd.concat([dataset, out], ignore_index=True)
