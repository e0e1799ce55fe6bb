"""Conditions for the ADaM spec: the SDTM condition language plus numeric comparisons.

Every clause of :mod:`sdtm.conditions` works (``PARAMCD = 'SDMT'``, ``PARAMCD in ('A', 'B')``,
``AVAL is not blank``); ADaM adds comparisons of a numeric variable with a number::

    CHG <= -4        ADY > 1        BASE >= 6.0        AVISITN = 0

A missing value never meets a numeric comparison. Clauses are joined with ``and``. The spec is
data: conditions are parsed, never evaluated as Python.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

import pandas as pd

from sdtm import conditions as sdtm_conditions

ConditionError = sdtm_conditions.ConditionError

_NUMERIC = re.compile(r"^\s*(?P<col>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op><=|>=|<|>|=|!=)\s*"
                      r"(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "=": operator.eq,
        "!=": operator.ne}


@dataclass(frozen=True)
class NumericClause:
    """``column op number``."""

    column: str
    op: str
    number: float


def parse_condition(text: str) -> tuple[object, ...]:
    """Parse ``text`` into clauses (numeric or SDTM text clauses); ConditionError says what is wrong."""
    out: list[object] = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        m = _NUMERIC.match(part)
        if m:
            out.append(NumericClause(m["col"], m["op"], float(m["num"])))
            continue
        try:
            out.extend(sdtm_conditions.parse_condition(part))
        except ConditionError:
            raise ConditionError(f"cannot read condition {part!r}; write e.g. PARAMCD = 'SDMT', "
                                 "PARAMCD in ('A', 'B'), AVAL is not blank or CHG <= -4") from None
    return tuple(out)


def condition_columns(text: str) -> tuple[str, ...]:
    """Columns a condition reads."""
    return tuple(c.column for c in parse_condition(text))


def evaluate(frame: pd.DataFrame, text: str | None) -> pd.Series:
    """Boolean mask of the rows of ``frame`` meeting the condition (all True when there is none).

    Raises KeyError naming the column when the frame lacks a column the condition reads.
    """
    mask = pd.Series(True, index=frame.index)
    if not text:
        return mask
    for clause in parse_condition(text):
        if clause.column not in frame.columns:
            raise KeyError(f"the condition {text!r} reads {clause.column}, which the dataset does not have (yet)")
        if isinstance(clause, NumericClause):
            values = pd.to_numeric(frame[clause.column], errors="coerce").astype("Float64")
            hit = _OPS[clause.op](values, clause.number)
            mask &= hit.fillna(False).astype(bool)
        elif clause.op in ("blank", "not blank") and pd.api.types.is_numeric_dtype(frame[clause.column]):
            missing = frame[clause.column].isna()
            mask &= missing if clause.op == "blank" else ~missing
        else:
            text_clause = f"{clause.column} {_render(clause)}"
            mask &= sdtm_conditions.evaluate(frame, text_clause)
    return mask


def _render(clause: sdtm_conditions.Clause) -> str:
    """An SDTM clause back as text (so sdtm.conditions evaluates it exactly as it would in SDTM)."""
    quoted = ", ".join(f"'{v}'" for v in clause.values)
    return {"=": f"= '{clause.values[0]}'" if clause.values else "= ''",
            "!=": f"!= '{clause.values[0]}'" if clause.values else "!= ''",
            "in": f"in ({quoted})", "not in": f"not in ({quoted})",
            "blank": "is blank", "not blank": "is not blank"}[clause.op]
