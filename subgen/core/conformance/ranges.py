"""Numeric ranges declared in the spec's ValueLevel sheet, and the where clauses they apply under.

How the spec declares a range
-----------------------------
A ValueLevel row names a dataset, a variable and a where clause; its **Range** column holds
``MIN to MAX`` or ``MIN to MAX by STEP``::

    Dataset  Variable  Where Clause          Data Type  Range
    RS       RSSTRESN  RSTESTCD EQ EDSS0101  float      0 to 10 by 0.5
    FT       FTSTRESN  FTTESTCD EQ SDMT0101  integer    0 to 110 by 1

Every non-null value of the variable on records matching the where clause must lie within
``[MIN, MAX]`` (rule ``RANGE-VALUE``) and, when a step is given, be ``MIN + k * STEP`` for a whole
number ``k`` (rule ``RANGE-STEP``). Both become Great Expectations expectations with a pandas
``row_condition`` built from the where clause, so the saved suite JSON shows exactly what was
checked.

Where clauses are the spec's one expression language (:mod:`subgen.core.expr`), parsed when the
spec is loaded: the Define-XML surface of the Pinnacle 21 layout (``VAR EQ value``, ``NE``, ``LT``,
``LE``, ``GT``, ``GE``, ``VAR IN (a, b)``, ``VAR NOTIN (a, b)``, joined with ``AND``; values quoted
with ``"`` or ``'`` or bare) or the condition surface (``VAR = 'value' and (X = 1 or X = 2)``).
The ``row_condition`` is :func:`subgen.core.expr.row_condition` of the parsed clause.

The Range column is read from the workbook's ValueLevel sheet by row (the loaded
:class:`~subgen.core.spec.model.ValueLevel` keeps its workbook row), so it needs no other change to
the spec model; a bad range is a :class:`ProblemError` naming sheet, row, column and value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from subgen.core.expr import Expression, columns, where_clauses
from subgen.core.problems import Problem, ProblemError
from subgen.core.spec.model import Dataset, Spec, ValueLevel
from subgen.core.spec.workbook import read_workbook

#: Most allowed values a stepped range may enumerate (the step check is an in-set check).
MAX_STEPS = 20000
_RANGE = re.compile(r"^\s*(\S+)\s+to\s+(\S+)(?:\s+by\s+(\S+))?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class RangeRule:
    """A numeric range for ``dataset.variable`` on records matching ``where``."""

    dataset: str
    variable: str
    where: str  # the where clause as written, for messages
    expression: Expression  # the where clause parsed
    minimum: float
    maximum: float
    step: float | None
    text: str  # the Range cell as written
    row: int = 0  # ValueLevel sheet row

    @property
    def allowed_values(self) -> list[float]:
        """Every value ``MIN + k * STEP`` up to MAX (rounded to 9 decimals), for the step check."""
        if self.step is None:
            return []
        count = int(round((self.maximum - self.minimum) / self.step))
        return [round(self.minimum + k * self.step, 9) for k in range(count + 1)]

    @property
    def variables(self) -> tuple[str, ...]:
        """Columns the check reads: the variable and every variable of the where clause."""
        return tuple(dict.fromkeys([self.variable, *(ref.key for ref in columns(self.expression))]))


def _number(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{what} {text!r} is not a finite number")
    return value


def parse_range(text: str) -> tuple[float, float, float | None]:
    """``MIN to MAX [by STEP]`` as (min, max, step); ValueError naming what is wrong."""
    m = _RANGE.match(text)
    if not m:
        raise ValueError(f"cannot read range {text!r}; write MIN to MAX or MIN to MAX by STEP (e.g. 0 to 10 by 0.5)")
    lo, hi = _number(m.group(1), "minimum"), _number(m.group(2), "maximum")
    if lo > hi:
        raise ValueError(f"range {text!r}: the minimum is larger than the maximum")
    step = None
    if m.group(3) is not None:
        step = _number(m.group(3), "step")
        if step <= 0:
            raise ValueError(f"range {text!r}: the step must be positive")
        count = (hi - lo) / step
        if count != count.to_integral_value():
            raise ValueError(f"range {text!r}: MAX - MIN is not a whole number of steps")
        if count > MAX_STEPS:
            raise ValueError(f"range {text!r}: more than {MAX_STEPS} steps; give a coarser step or no step")
    return float(lo), float(hi), None if step is None else float(step)


def numeric_variables(dataset: Dataset) -> frozenset[str]:
    """The variables of ``dataset`` the spec declares numeric (their where-clause values are numbers)."""
    return frozenset(v.name for v in dataset.variables if v.is_numeric)


def check_range_rule(rule: RangeRule, dataset: Dataset) -> list[str]:
    """What is wrong with ``rule`` against its dataset's variables (empty when it is usable)."""
    names = {v.name: v for v in dataset.variables}
    errors = []
    target = names.get(rule.variable)
    if target is None:
        errors.append(f"{rule.variable} is not a variable of {dataset.name}")
    elif not target.is_numeric:
        errors.append(f"{rule.variable} is a character variable; a Range needs a numeric (integer/float) variable")
    checks = tuple(dict.fromkeys(c for alternative in where_clauses(rule.expression) for c in alternative))
    for c in checks:
        var = names.get(c.variable)
        if var is None:
            errors.append(f"the where clause names {c.variable}, which is not a variable of {dataset.name}")
        elif var.is_numeric:
            for v in c.values:
                try:
                    if not math.isfinite(float(v)):
                        raise ValueError
                except ValueError:
                    errors.append(f"the where clause compares numeric {c.variable} with {v!r}, which is not a number")
    return list(dict.fromkeys(errors))


def range_rule(vl: ValueLevel, text: str) -> RangeRule:
    """A :class:`RangeRule` from a ValueLevel row and its Range text (ValueError when unreadable)."""
    lo, hi, step = parse_range(text)
    return RangeRule(vl.dataset, vl.variable, vl.where.text, vl.where, lo, hi, step, text.strip(), vl.row)


def ranges_from_cells(spec: Spec, cells: dict[int, str], where: str) -> tuple[RangeRule, ...]:
    """Range rules for the ValueLevel rows whose Range cell (by workbook row) is filled.

    ``where`` names the workbook for messages. Raises ProblemError listing every unusable cell.
    """
    by_row = {vl.row: vl for vl in spec.value_level}
    datasets = {d.name: d for d in spec.datasets}
    problems, rules = [], []
    for row, text in sorted(cells.items()):
        if not text.strip():
            continue
        vl = by_row.get(row)

        def bad(message: str, fix: str, column: str = "Range", value: str = text) -> None:
            problems.append(Problem(f"{where} [ValueLevel]", row, column, value, message, fix, "Error",
                                    "SPEC-RANGE"))

        if vl is None:
            bad("a Range is given on a row without a usable value-level definition",
                "fill Dataset, Variable, Where Clause and Data Type on this row")
            continue
        try:
            rule = range_rule(vl, text)
        except ValueError as exc:
            bad(str(exc), "see the Range column's format in the README (Validation reports)")
            continue
        for message in check_range_rule(rule, datasets[vl.dataset]):
            bad(message, "correct the Variable or the Where Clause")
        rules.append(rule)
    if problems:
        raise ProblemError(problems, f"{where}: {len(problems)} problem(s) in the ValueLevel ranges")
    return tuple(rules)


def declared_ranges(spec: Spec) -> tuple[RangeRule, ...]:
    """The ranges a spec workbook declares in its ValueLevel sheet's Range column (none if no column)."""
    path = Path(spec.path)
    if path.suffix.lower() != ".xlsx" or not path.is_file():
        return ()

    table = read_workbook(path).get("ValueLevel")
    if table is None or "Range" not in table.header:
        return ()
    cells = {row: rec.get("Range", "") for row, rec in table.records()}
    return ranges_from_cells(spec, cells, str(path))


def ranges_for(dataset: str, rules: Iterable[RangeRule]) -> tuple[RangeRule, ...]:
    """The rules of one dataset, in sheet order."""
    return tuple(r for r in rules if r.dataset == dataset)


__all__ = ["MAX_STEPS", "RangeRule", "check_range_rule", "declared_ranges", "numeric_variables", "parse_range",
           "range_rule", "ranges_for", "ranges_from_cells"]
