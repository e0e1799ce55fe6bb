"""Parsers for the spec's small cell languages that are not conditions, run once at spec load.

Conditions and where clauses are the expression language (:mod:`subgen.core.expr`); the other
cells that hold more than a name are parsed here into the typed fields of
:mod:`subgen.core.spec.model`, and the loader turns a ``ValueError`` into a located Problem
(sheet, row, column, value, what to write). Nothing downstream re-splits the text.

Raw Column (Mappings sheet)
---------------------------
``COL`` (a column of the source's form), ``form.COL`` (another form's column, looked up by
subject), ``form.COL@KEY`` (the other form's row whose KEY equals this row's KEY) and parts joined
with ``+`` (``DATE+TIME``, ``form.DATE+TIME``: later parts share the first part's form) become a
:class:`RawRef` on :attr:`~subgen.core.spec.model.Mapping.raw`.

Arguments (Derivations sheet)
-----------------------------
``name=value; name=value`` (a value may contain ``=``; a name may be given once) becomes an
:class:`Arguments` on :attr:`~subgen.core.spec.model.DerivationStep.args`; the condition arguments
(``filter=``, ``rule=``, ``population=``) are parsed with it.

Range (ValueLevel sheet)
------------------------
``MIN to MAX`` or ``MIN to MAX by STEP`` (``to``/``by`` in any case), e.g. ``0 to 10 by 0.5``:
every non-null value of the row's variable on records matching its where clause lies in
``[MIN, MAX]`` and, with a step, is ``MIN + k * STEP`` for a whole number ``k``
(:mod:`subgen.core.conformance.ranges` turns it into expectations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from subgen.core.expr import Expression, parse


@dataclass(frozen=True)
class ValueRange:
    """A ValueLevel Range cell parsed at load: ``MIN to MAX`` or ``MIN to MAX by STEP``."""

    minimum: float
    maximum: float
    step: float | None
    text: str  # the cell as written (stripped), for messages and the suite JSON


@dataclass(frozen=True)
class RawPart:
    """One column of a Raw Column cell: ``COL``, ``form.COL`` or ``form.COL@KEY``."""

    form: str | None  # None: the source's form (for a later part: the first part's form)
    column: str
    key: str | None = None  # form.COL@KEY: the other form's row whose KEY equals this row's KEY

    @property
    def shown(self) -> str:
        """``COL`` or ``COL@KEY``, as messages name it."""
        return f"{self.column}@{self.key}" if self.key is not None else self.column


@dataclass(frozen=True)
class RawRef:
    """A Raw Column cell parsed at load: one or more parts joined with ``+`` (``form.DATE+TIME``)."""

    text: str  # the cell as written
    parts: tuple[RawPart, ...]
    label: str  # the column raw-row problems name: the cell after its last '.' (``DATE+TIME``)

    @property
    def first(self) -> RawPart:
        """The first (often the only) part."""
        return self.parts[0]

    @property
    def reads_other_form(self) -> bool:
        """True when the cell names a form (``form.COL``): the algorithm reads that form, not the source's."""
        return self.parts[0].form is not None

    def resolved(self, default_form: str) -> tuple[RawPart, ...]:
        """The parts with their form filled: the first part's form or ``default_form``; later parts share it."""
        form = self.parts[0].form or default_form
        return tuple(p if p.form is not None else replace(p, form=form) for p in self.parts)


#: Arguments whose value is a condition (the expression language), parsed with the cell.
CONDITION_ARGUMENTS = frozenset({"filter", "rule", "population"})


@dataclass(frozen=True)
class Arguments:
    """A Derivations Arguments cell parsed at load: ``name=value; name=value``.

    ``values`` keeps every value as written (trimmed); the values of :data:`CONDITION_ARGUMENTS`
    are also parsed into ``conditions``.
    """

    text: str
    values: tuple[tuple[str, str], ...] = ()
    conditions: tuple[tuple[str, Expression], ...] = ()

    def as_dict(self) -> dict[str, str]:
        """The arguments as ``{name: value text}``, in cell order."""
        return dict(self.values)

    def condition(self, name: str) -> Expression | None:
        """The parsed condition given as ``name`` (None when not given)."""
        return dict(self.conditions).get(name)


#: Most allowed values a stepped range may enumerate (the step check is an in-set check).
MAX_STEPS = 20000
_RANGE = re.compile(r"^\s*(\S+)\s+to\s+(\S+)(?:\s+by\s+(\S+))?\s*$", re.IGNORECASE)
RANGE_FIX = "see the Range column's format in the README (Validation reports)"


def _number(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{what} {text!r} is not a finite number")
    return value


def _raw_part(text: str) -> RawPart:
    form: str | None = None
    if "." in text:
        form, text = (t.strip() for t in text.split(".", 1))
    column, at, key = text.partition("@")
    return RawPart(form, column.strip(), key.strip() if at else None)


def parse_raw_ref(text: str) -> RawRef:
    """A Raw Column cell (``COL``, ``form.COL``, ``form.COL@KEY``, ``DATE+TIME``) as a :class:`RawRef`."""
    return RawRef(text, tuple(_raw_part(p.strip()) for p in text.split("+")), text.split(".")[-1])


def parse_arguments(text: str | None) -> Arguments:
    """``name=value; name=value`` as :class:`Arguments` (values trimmed; a value may itself contain ``=``).

    Raises ValueError naming the part that has no ``=`` or a name given twice, and
    :class:`~subgen.core.expr.ExprError` (a ValueError) for an unreadable condition argument.
    """
    values = argument_values(text)
    conditions = tuple((k, parse(v)) for k, v in values if k in CONDITION_ARGUMENTS and v)
    return Arguments(text or "", values, conditions)


def argument_values(text: str | None) -> tuple[tuple[str, str], ...]:
    """The ``(name, value)`` pairs of an Arguments cell; ValueError for a part without ``=`` or a repeated name."""
    values: dict[str, str] = {}
    for part in (p.strip() for p in (text or "").split(";")):
        if not part:
            continue
        if "=" not in part:
            raise ValueError(f"argument {part!r} has no '='; write name=value, separated by ';'")
        name, value = (x.strip() for x in part.split("=", 1))
        if name in values:
            raise ValueError(f"argument {name!r} is given twice")
        values[name] = value
    return tuple(values.items())


def parse_range(text: str) -> ValueRange:
    """``MIN to MAX [by STEP]`` as a :class:`ValueRange`; ValueError naming what is wrong."""
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
    return ValueRange(float(lo), float(hi), None if step is None else float(step), text.strip())


__all__ = ["CONDITION_ARGUMENTS", "MAX_STEPS", "RANGE_FIX", "Arguments", "RawPart", "RawRef", "ValueRange",
           "argument_values", "parse_arguments", "parse_range", "parse_raw_ref"]
