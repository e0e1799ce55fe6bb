"""Evaluating an expression on a pandas DataFrame: a boolean Series aligned to the frame's index.

Two semantics share the tree.

**Condition semantics** (:func:`evaluate`, for the spec's Filter and Condition cells; the same as
the former ``sdtm.conditions`` and ``adam.conditions``):

* A column compared with a **quoted value**: values are trimmed, a null is ``""``; ``=`` and
  ``in`` ignore case, ``!=`` and ``not in`` are their negation. ``<``, ``<=``, ``>``, ``>=``
  compare the trimmed texts as written (case matters; ISO 8601 dates order correctly) and a blank
  on either side never meets them.
* A column compared with a **number** (``CHG <= -4``, ``AVISITN in (0, 1)``): the column is read
  with ``pd.to_numeric(errors="coerce")``; a missing or non-numeric value never meets the test,
  not even ``!=`` or ``not in``.
* ``is blank``: empty after trimming (on a numeric column: missing).
* **Column with column** (``AEENDTC < AESTDTC``, ``ARMCD != ACTARMCD``): when both columns have a
  numeric dtype, numbers (a missing value never meets); otherwise trimmed texts, ``=``/``!=``
  ignoring case, the ordering comparisons on the texts as written, where a blank on either side
  never meets.
* ``and``, ``or``, ``not`` as usual (``not`` of a test a missing value failed is True).

**Where-clause semantics** (:func:`evaluate_where`, for Define-XML value-level metadata, the same
as the former ``export.define_vlm.where_mask``): values as written. A variable the spec declares
numeric is compared as a number (``EQ``/``IN`` exact, ``NE``/``NOTIN`` their negation, so a
missing value meets ``NE``); any other variable as its text (``str`` of the value), exactly and
with case; ``LT``..``GE`` compare numbers (a text column read as numbers, a missing value never
meets).

Single-column tests run once per distinct value (see :mod:`subgen.core.expr.distinct`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Mapping
from typing import Any

import numpy as np
import pandas as pd

from subgen.core.expr.distinct import on_distinct, on_distinct_pairs
from subgen.core.expr.errors import ExprError, missing_column
from subgen.core.expr.functions import FUNCTIONS, function
from subgen.core.expr.nodes import (
    And,
    Call,
    ColumnRef,
    Compare,
    Expression,
    InList,
    IsBlank,
    Node,
    Not,
    Num,
    Or,
    refs_of,
)
from subgen.core.expr.parse import parse, parse_where
from subgen.core.expr.render import RangeCheck, where_clauses

#: Reads the Series of one reference (raise KeyError when there is none).
Resolver = Callable[[ColumnRef], pd.Series]

_OPS: Mapping[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


# --------------------------------------------------------------------------- value readers


def as_text(values: pd.Series) -> pd.Series:
    """The values as trimmed text, a null as ``""`` (``str`` of a number: ``1.0`` for a float)."""
    return values.astype(object).fillna("").astype(str).str.strip()


def as_number(values: pd.Series) -> pd.Series:
    """The values as nullable floats (``Float64``); what does not read as a number is missing."""
    return pd.to_numeric(values, errors="coerce").astype("Float64")


def _met(hit: pd.Series) -> np.ndarray:
    """A nullable comparison result as booleans (missing: not met)."""
    return np.asarray(hit.fillna(False), dtype=bool)


def is_numeric(values: pd.Series) -> bool:
    """Whether the column has a numeric dtype (numbers compare as numbers with another such column)."""
    return bool(pd.api.types.is_numeric_dtype(values.dtype))


# --------------------------------------------------------------------------- single tests


def _text_compare(op: str, literal: str, exact: bool = False) -> Callable[[pd.Series], np.ndarray]:
    wanted = literal.strip()

    def test(values: pd.Series) -> np.ndarray:
        text = as_text(values)
        if op in ("=", "!="):
            equal = np.asarray(text == wanted if exact else text.str.upper() == wanted.upper(), dtype=bool)
            return equal if op == "=" else ~equal
        if wanted == "":
            return np.zeros(len(text), dtype=bool)
        return np.asarray(text.ne("") & _OPS[op](text, wanted), dtype=bool)
    return test


def _number_compare(op: str, number: float) -> Callable[[pd.Series], np.ndarray]:
    def test(values: pd.Series) -> np.ndarray:
        return _met(_OPS[op](as_number(values), number))
    return test


def _text_member(items: tuple[str, ...], exact: bool = False) -> Callable[[pd.Series], np.ndarray]:
    if exact:
        kept = {v.strip() for v in items}
        return lambda values: np.asarray(as_text(values).isin(kept), dtype=bool)
    wanted = {v.strip().upper() for v in items}
    return lambda values: np.asarray(as_text(values).str.upper().isin(wanted), dtype=bool)


def _number_member(items: tuple[float, ...], negated: bool) -> Callable[[pd.Series], np.ndarray]:
    def test(values: pd.Series) -> np.ndarray:
        numbers = as_number(values)
        found = np.asarray(numbers.isin(items), dtype=bool)
        present = np.asarray(numbers.notna(), dtype=bool)
        return present & ~found if negated else found
    return test


def _column_compare(op: str, left: pd.Series, right: pd.Series, exact: bool = False) -> pd.Series:
    if is_numeric(left) and is_numeric(right):
        hit = _met(_OPS[op](as_number(left), as_number(right)))
        return pd.Series(hit, index=left.index)

    def test(a: pd.Series, b: pd.Series) -> np.ndarray:
        ta, tb = as_text(a), as_text(b)
        if op in ("=", "!="):
            if exact:
                equal = np.asarray(ta.to_numpy() == tb.to_numpy(), dtype=bool)
            else:
                equal = np.asarray(ta.str.upper().to_numpy() == tb.str.upper().to_numpy(), dtype=bool)
            return equal if op == "=" else ~equal
        filled = ta.ne("").to_numpy() & tb.ne("").to_numpy()
        return filled & np.asarray(_OPS[op](ta.to_numpy(dtype=object), tb.to_numpy(dtype=object)), dtype=bool)

    return on_distinct_pairs(test, left.reset_index(drop=True), right.reset_index(drop=True)).set_axis(left.index)


def _compare(node: Compare, read: Resolver, exact: bool = False) -> pd.Series:
    values = read(node.left)
    right = node.right
    if isinstance(right, ColumnRef):
        return _column_compare(node.op, values, read(right), exact)
    if isinstance(right, Num):
        test = _number_compare(node.op, right.value)
        if is_numeric(values):
            return pd.Series(test(values), index=values.index)
        return on_distinct(test, values)
    return on_distinct(_text_compare(node.op, right.value, exact), values)


def _member(node: InList, read: Resolver, exact: bool = False) -> pd.Series:
    values = read(node.operand)
    if node.items and all(isinstance(i, Num) for i in node.items):
        test = _number_member(tuple(i.value for i in node.items if isinstance(i, Num)), node.negated)
        return pd.Series(test(values), index=values.index) if is_numeric(values) else on_distinct(test, values)
    hit = on_distinct(_text_member(tuple(i.text for i in node.items), exact), values)
    return ~hit if node.negated else hit


def _blank(node: IsBlank, read: Resolver) -> pd.Series:
    values = read(node.operand)
    if is_numeric(values):
        blank = values.isna()
    else:
        blank = on_distinct(lambda v: np.asarray(as_text(v).eq(""), dtype=bool), values)
    return ~blank if node.negated else blank


def _call(node: Call, read: Resolver) -> pd.Series | np.bool_:
    """A function call: column arguments read through ``read`` (or, for ``reads="names"``, whether they exist)."""
    fn = function(node.name)
    if fn is None:
        raise ExprError(node.name, node.pos, f"there is no function {node.name}()",
                        ", ".join(f"{n}()" for n in sorted(FUNCTIONS)), "function")
    args: list[Any] = []
    for arg in node.args:
        if isinstance(arg, ColumnRef):
            if fn.reads == "names":
                try:  # a resolver may stand in for an absent column with a Series marked attrs["absent"]
                    args.append(not read(arg).attrs.get("absent", False))
                except KeyError:
                    args.append(False)
            else:
                args.append(read(arg))
        else:
            args.append(arg.value)
    result = fn.fn(*args)
    if isinstance(result, pd.Series):
        return result.astype(bool)
    return np.bool_(bool(result))


def mask(node: Node, read: Resolver, exact: bool = False) -> pd.Series | np.bool_:
    """The boolean Series of ``node`` (condition semantics) with columns read through ``read``.

    ``exact``: text ``=``, ``!=`` and ``in`` compare with case (the validation rules' semantics, as
    CDISC's engine compares); by default they ignore case (the spec cells' semantics).

    A function call that gives one value for the whole frame (``exists(X)``) returns a numpy bool,
    which combines with Series as usual; :func:`evaluate` spreads it over the rows.
    """
    if isinstance(node, Call):
        return _call(node, read)
    if isinstance(node, Compare):
        return _compare(node, read, exact)
    if isinstance(node, InList):
        return _member(node, read, exact)
    if isinstance(node, IsBlank):
        return _blank(node, read)
    if isinstance(node, Not):
        return ~mask(node.item, read, exact)
    parts = [mask(item, read, exact) for item in node.items]
    out = parts[0]
    for part in parts[1:]:
        # pandas-stubs has no overload for Series & numpy bool (or the reverse); pandas broadcasts it.
        out = (out & part) if isinstance(node, And) else (out | part)  # type: ignore[operator]
    return out


# --------------------------------------------------------------------------- checking columns


def _suggestion(expr: Expression, ref: ColumnRef) -> str | None:
    """``COL = 'word'`` when ``ref`` is a bare word on the right of a comparison (a value left unquoted)."""
    stack: list[Node] = [expr.root]
    while stack:
        node = stack.pop()
        if isinstance(node, Compare) and node.right is ref and ref.form is None and not ref.quoted:
            return f"{node.left.key} {node.op} '{ref.column}'"
        if isinstance(node, (And, Or)):
            stack.extend(node.items)
        elif isinstance(node, Not):
            stack.append(node.item)
    return None


def check_columns(expr: Expression, available: Collection[str]) -> None:
    """Raise :class:`MissingColumnError` for the first column ``expr`` reads that is not in ``available``.

    A bare word compared with a column that does not exist was most likely meant as a value: the
    message then says to quote it (``AETERM = Nausea`` -> ``AETERM = 'Nausea'``).
    """
    named = {id(ref) for ref in _name_args(expr.root)}
    for node_ref in refs_of(expr.root):
        if node_ref.key not in available and id(node_ref) not in named:
            raise missing_column(expr.text, node_ref.key, node_ref.pos, _suggestion(expr, node_ref))


def _name_args(node: Node) -> list[ColumnRef]:
    """Column arguments of calls that read only whether the column exists (never missing)."""
    if isinstance(node, Call):
        fn = function(node.name)
        return [a for a in node.args if isinstance(a, ColumnRef)] if fn is not None and fn.reads == "names" else []
    if isinstance(node, (And, Or)):
        return [ref for item in node.items for ref in _name_args(item)]
    if isinstance(node, Not):
        return _name_args(node.item)
    return []


def _frame_reader(frame: pd.DataFrame) -> Resolver:
    return lambda ref: frame[ref.key]


def _as_expression(expr: Expression | str) -> Expression:
    return parse(expr) if isinstance(expr, str) else expr


def evaluate(expr: Expression | str | None, frame: pd.DataFrame, resolve: Resolver | None = None, *,
             exact: bool = False) -> pd.Series:
    """Boolean mask of the rows of ``frame`` meeting ``expr`` (condition semantics; all True when none).

    ``expr`` is parsed with :func:`~subgen.core.expr.parse.parse` when given as text. A reference
    reads ``frame[ref.key]`` (``form.COL`` the column named so, which the caller adds), or what
    ``resolve`` returns. A column that is missing raises :class:`MissingColumnError` naming it.
    """
    if expr is None or (isinstance(expr, str) and not expr.strip()):
        return pd.Series(True, index=frame.index)
    parsed = _as_expression(expr)
    if resolve is None:
        check_columns(parsed, frame.columns)
        read = _frame_reader(frame)
    else:
        read = _checked(parsed, resolve)
    result = mask(parsed.root, read, exact)
    if np.ndim(result) == 0:  # a function that answers for the whole frame (exists(X))
        return pd.Series(bool(result), index=frame.index)
    return pd.Series(np.asarray(result, dtype=bool), index=frame.index)


def _checked(expr: Expression, resolve: Resolver) -> Resolver:
    def read(ref: ColumnRef) -> pd.Series:
        try:
            return resolve(ref)
        except KeyError:
            raise missing_column(expr.text, ref.key, ref.pos, _suggestion(expr, ref)) from None
    return read


# --------------------------------------------------------------------------- where-clause semantics


def _floats(values: pd.Series) -> np.ndarray:
    try:
        return values.to_numpy(dtype="float64")
    except (TypeError, ValueError):  # text that is not a number, or a missing value numpy cannot hold
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _number_of(expr: Expression, variable: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ExprError(expr.text, None, f"numeric {variable} is compared with {text!r}, which is not a number",
                        f"{variable} EQ 1", "where clause") from None


def _where_numeric(expr: Expression, values: pd.Series, variable: str, op: str, texts: tuple[str, ...],
                   negated: bool) -> np.ndarray:
    numbers = _floats(values)
    wanted = np.array([_number_of(expr, variable, t) for t in texts], dtype="float64")
    if op == "in":
        hit = np.isin(numbers, wanted)
        return ~hit if negated else hit
    with np.errstate(invalid="ignore"):
        return np.asarray(_OPS[op](numbers, wanted[0]), dtype=bool)


def _where_text(values: pd.Series, op: str, texts: tuple[str, ...], negated: bool) -> pd.Series:
    if op == "in":
        wanted = np.array(texts, dtype=object)
        hit = on_distinct(lambda v: np.isin(v.astype(str).to_numpy(dtype=object), wanted), values)
        return ~hit if negated else hit
    bound = texts[0]
    try:
        number = float(bound)
    except ValueError:  # not a number: the texts in order (the former code could not compare these)
        return on_distinct(lambda v: np.asarray(_OPS[op](v.astype(str).to_numpy(dtype=object), bound),
                                                dtype=bool), values)
    return on_distinct(lambda v: _met(_OPS[op](as_number(v.astype(str)), number)), values)


def evaluate_where(expr: Expression | str, frame: pd.DataFrame, numeric: Collection[str]) -> pd.Series:
    """Boolean mask of the rows of ``frame`` a Define-XML where clause selects (values as written).

    ``numeric`` names the variables the spec declares numeric. Only what Define-XML can express is
    accepted (see :func:`~subgen.core.expr.render.where_clauses`; ExprError otherwise); a clause with
    ``or`` selects the rows any of its alternatives selects.
    """
    parsed = parse_where(expr) if isinstance(expr, str) else expr
    check_columns(parsed, frame.columns)
    out = np.zeros(len(frame), dtype=bool)
    for checks in where_clauses(parsed):
        out |= _where_conjunction(parsed, frame, numeric, checks)
    return pd.Series(out, index=frame.index)


def _where_conjunction(parsed: Expression, frame: pd.DataFrame, numeric: Collection[str],
                       checks: tuple[RangeCheck, ...]) -> np.ndarray:
    out = np.ones(len(frame), dtype=bool)
    for check in checks:
        op, negated = {"EQ": ("in", False), "IN": ("in", False), "NE": ("in", True), "NOTIN": ("in", True),
                       "LT": ("<", False), "LE": ("<=", False), "GT": (">", False),
                       "GE": (">=", False)}[check.comparator]
        values = frame[check.variable]
        if check.variable in numeric:
            out &= _where_numeric(parsed, values, check.variable, op, check.values, negated)
        else:
            out &= np.asarray(_where_text(values, op, check.values, negated), dtype=bool)
    return out


__all__ = ["Resolver", "as_number", "as_text", "check_columns", "evaluate", "evaluate_where", "is_numeric", "mask"]
