"""A tiny condition language for the spec's Filter and Condition cells.

The spec is data: conditions are parsed, never evaluated as Python. Grammar (case-insensitive
keywords, clauses joined by ``and``)::

    COLUMN = 'value'          COLUMN != 'value'
    COLUMN in ('a', 'b')      COLUMN not in ('a', 'b')
    COLUMN is blank           COLUMN is not blank

Values compare after trimming blanks; ``=`` and ``in`` ignore case. In a Mappings Condition or a
Sources Filter, ``form.COL`` reads another form's column for the same subject (e.g.
``enrol.SEX = 'Female'``); the engine resolves it before evaluating.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from sdtm.distinct import on_distinct

_CLAUSE = re.compile(
    r"""^\s*(?P<col>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*(?:
        (?P<op>!=|=)\s*'(?P<val>[^']*)'
      | (?P<neg>not\s+)?in\s*\((?P<list>[^)]*)\)
      | is\s+(?P<isneg>not\s+)?blank
    )\s*$""", re.IGNORECASE | re.VERBOSE)
_ITEM = re.compile(r"\s*'([^']*)'\s*(?:,|$)")


class ConditionError(ValueError):
    """A condition that does not follow the grammar; the message says how to write it."""


@dataclass(frozen=True)
class Clause:
    """One parsed clause."""

    column: str
    op: str  # "=", "!=", "in", "not in", "blank", "not blank"
    values: tuple[str, ...]


def parse_condition(text: str) -> tuple[Clause, ...]:
    """Parse ``text`` into clauses; raise ConditionError saying what is wrong."""
    clauses = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        m = _CLAUSE.match(part)
        if not m:
            raise ConditionError(
                f"cannot read condition {part!r}; write e.g. COL = 'Y', COL in ('A', 'B') or COL is not blank")
        if m["op"]:
            clauses.append(Clause(m["col"], m["op"], (m["val"].strip(),)))
        elif m["list"] is not None:
            items = tuple(v.strip() for v in _ITEM.findall(m["list"]))
            if not items:
                raise ConditionError(f"empty list in condition {part!r}")
            clauses.append(Clause(m["col"], "not in" if m["neg"] else "in", items))
        else:
            clauses.append(Clause(m["col"], "not blank" if m["isneg"] else "blank", ()))
    return tuple(clauses)


def condition_columns(text: str) -> tuple[str, ...]:
    """Columns a condition reads."""
    return tuple(c.column for c in parse_condition(text))


def evaluate(frame: pd.DataFrame, text: str | None) -> pd.Series:
    """Boolean mask of rows of ``frame`` meeting the condition (all True when there is none)."""
    mask = pd.Series(True, index=frame.index)
    if not text:
        return mask
    for clause in parse_condition(text):
        mask &= clause_mask(frame[clause.column], clause)
    return mask


@on_distinct
def clause_mask(values: pd.Series, clause: Clause) -> pd.Series:
    """Which values meet one clause (computed once per distinct value)."""
    col = values.fillna("").astype(str).str.strip()
    upper = col.str.upper()
    wanted = {v.upper() for v in clause.values}
    if clause.op in ("=", "in"):
        return upper.isin(wanted)
    if clause.op in ("!=", "not in"):
        return ~upper.isin(wanted)
    if clause.op == "blank":
        return col.eq("")
    return col.ne("")
