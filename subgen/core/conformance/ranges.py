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

The Range column is parsed once, when the spec is loaded (:func:`subgen.core.spec.cells.parse_range`,
into :attr:`~subgen.core.spec.model.ValueLevel.range`), from any workbook the loader reads (.xlsx or
.xlsm); a bad range is a load Problem naming sheet, row, column and value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from subgen.core.expr import Expression, columns
from subgen.core.spec.cells import MAX_STEPS
from subgen.core.spec.model import Dataset, Spec, ValueLevel


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


def numeric_variables(dataset: Dataset) -> frozenset[str]:
    """The variables of ``dataset`` the spec declares numeric (their where-clause values are numbers)."""
    return frozenset(v.name for v in dataset.variables if v.is_numeric)


def range_rule(vl: ValueLevel) -> RangeRule:
    """The :class:`RangeRule` of a ValueLevel row whose Range cell is filled (``vl.range`` is set)."""
    if vl.range is None:
        raise ValueError(f"ValueLevel row {vl.row} ({vl.dataset}.{vl.variable}) declares no Range")
    r = vl.range
    return RangeRule(vl.dataset, vl.variable, vl.where.text, vl.where, r.minimum, r.maximum, r.step, r.text, vl.row)


def declared_ranges(spec: Spec) -> tuple[RangeRule, ...]:
    """The ranges the spec's ValueLevel sheet declares in its Range column, in sheet order."""
    return tuple(range_rule(vl) for vl in sorted(spec.value_level, key=lambda v: v.row) if vl.range is not None)


def ranges_for(dataset: str, rules: Iterable[RangeRule]) -> tuple[RangeRule, ...]:
    """The rules of one dataset, in sheet order."""
    return tuple(r for r in rules if r.dataset == dataset)


__all__ = ["MAX_STEPS", "RangeRule", "declared_ranges", "numeric_variables", "range_rule", "ranges_for"]
