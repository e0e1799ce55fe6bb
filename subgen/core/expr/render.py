"""Rendering a parsed where clause for Define-XML and for Great Expectations.

A WhereClauseDef is a conjunction of RangeChecks, each ``VAR op literal(s)`` (``=``/EQ, ``!=``/NE,
``<``/LT, ``<=``/LE, ``>``/GT, ``>=``/GE, ``in``/IN, ``not in``/NOTIN); ``or`` becomes several
WhereClauseDefs (alternatives, see :func:`where_clauses`). ``is blank``, column-with-column
comparisons and ``form.COL`` references have no Define-XML form and raise ExprError saying why.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass

from subgen.core.expr.errors import ExprError
from subgen.core.expr.nodes import (
    And,
    Call,
    ColumnRef,
    Comparator,
    Compare,
    Expression,
    InList,
    IsBlank,
    Node,
    Not,
    Or,
)

_DEFINE = {"=": "EQ", "!=": "NE", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}
_PANDAS = {"EQ": "==", "NE": "!=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}
_EXAMPLE = "LBTESTCD EQ NFLP AND LBSPEC IN (SERUM, PLASMA)"


@dataclass(frozen=True)
class RangeCheck:
    """One Define-XML RangeCheck: the variable (for its ItemOID), the Comparator and the CheckValues."""

    variable: str
    comparator: str  # EQ, NE, LT, LE, GT, GE, IN, NOTIN
    values: tuple[str, ...]


def _unexpressible(expr: Expression, why: str) -> ExprError:
    """The error for a clause that parses but has no Define-XML form (the headline says so, and why)."""
    err = ExprError(expr.text, None, why, _EXAMPLE, "where clause")
    err.headline = (f'define.xml cannot express the where clause "{expr.text}": {why}; a Define-XML RangeCheck '
                    "compares one variable with values (EQ, NE, LT, LE, GT, GE, IN, NOTIN), RangeChecks are "
                    "joined with and, alternatives with or")
    err.args = (f"{err.headline}; {err.fix}",)
    return err


def _variable(expr: Expression, ref: ColumnRef) -> str:
    if ref.form is not None:
        raise _unexpressible(expr, f"{ref.key} reads another form")
    return ref.column


def _check(expr: Expression, node: Node) -> RangeCheck:
    if isinstance(node, Compare):
        if isinstance(node.right, ColumnRef):
            raise _unexpressible(expr, f"{node.left.key} is compared with the column {node.right.key} (a RangeCheck "
                                 "compares a variable with values)")
        return RangeCheck(_variable(expr, node.left), _DEFINE[node.op], (node.right.text,))
    if isinstance(node, InList):
        return RangeCheck(_variable(expr, node.operand), "NOTIN" if node.negated else "IN",
                          tuple(item.text for item in node.items))
    if isinstance(node, IsBlank):
        raise _unexpressible(expr, f"{node.operand.key} is {'not ' if node.negated else ''}blank (a RangeCheck "
                             "compares a variable with values)")
    raise _unexpressible(expr, f"it uses {type(node).__name__.lower()}")  # pragma: no cover - see where_clauses


_NEGATED: dict[str, Comparator] = {"=": "!=", "!=": "="}


def _negate(expr: Expression, node: Node) -> Node:
    """``not node`` without the not: De Morgan over and/or, = <-> !=, in <-> not in (exact in where semantics)."""
    if isinstance(node, Not):
        return node.item
    if isinstance(node, And):
        return Or(tuple(_negate(expr, item) for item in node.items))
    if isinstance(node, Or):
        return And(tuple(_negate(expr, item) for item in node.items))
    if isinstance(node, InList):
        return InList(node.operand, node.items, not node.negated)
    if isinstance(node, IsBlank):
        return IsBlank(node.operand, not node.negated)
    if isinstance(node, Call):
        raise _unexpressible(expr, f"it uses {node.name}() (a function)")
    if node.op in _NEGATED and not isinstance(node.right, ColumnRef):
        return Compare(node.left, _NEGATED[node.op], node.right)
    raise _unexpressible(expr, f"it negates {node.left.key} {node.op} ... (Define-XML has no NOT, and the opposite "
                         "comparison would differ on a missing value)")


def _alternatives(expr: Expression, node: Node) -> list[list[RangeCheck]]:
    """``node`` in disjunctive normal form: a list of alternatives, each a list of RangeChecks (all must hold)."""
    if isinstance(node, Not):
        return _alternatives(expr, _negate(expr, node.item))
    if isinstance(node, Or):
        return [alt for item in node.items for alt in _alternatives(expr, item)]
    if isinstance(node, And):
        out: list[list[RangeCheck]] = [[]]
        for item in node.items:
            out = [left + right for left in out for right in _alternatives(expr, item)]
            if len(out) > MAX_ALTERNATIVES:
                break
        return out
    return [[_check(expr, node)]]


#: Most WhereClauseDefs one where clause may become (``(a or b) and (c or d) ...`` multiplies out).
MAX_ALTERNATIVES = 64


def where_clauses(expr: Expression) -> tuple[tuple[RangeCheck, ...], ...]:
    """The WhereClauseDefs of ``expr``: its disjunctive normal form, one tuple of RangeChecks per alternative.

    Define-XML 2.1 reads several WhereClauseRefs on one ItemRef as alternatives and the RangeChecks
    of one WhereClauseDef as all required, so ``A and (B or C)`` is two WhereClauseDefs, ``A and B``
    and ``A and C``. ``not`` is moved inward (De Morgan; EQ <-> NE, IN <-> NOTIN). ExprError when
    Define-XML cannot express it: a column compared with a column, ``is blank``, ``form.COL``, a
    negated ordering comparison, or more than :data:`MAX_ALTERNATIVES` alternatives.
    """
    alternatives = _alternatives(expr, expr.root)
    if len(alternatives) > MAX_ALTERNATIVES:
        raise _unexpressible(expr, f"it multiplies out to more than {MAX_ALTERNATIVES} alternatives")
    return tuple(tuple(alt) for alt in alternatives)


def range_checks(expr: Expression) -> tuple[RangeCheck, ...]:
    """The RangeChecks of the one WhereClauseDef for ``expr`` (ExprError when it needs several, or none fits)."""
    clauses = where_clauses(expr)
    if len(clauses) > 1:
        raise _unexpressible(expr, "it uses or (see where_clauses for one WhereClauseDef per alternative)")
    return clauses[0]


def _literal(expr: Expression, value: str, numeric: bool) -> str:
    if not numeric:
        return json.dumps(value)  # a double-quoted string literal pandas' query parser accepts
    try:
        return repr(float(value))
    except ValueError:
        raise ExprError(expr.text, None, f"a numeric variable is compared with {value!r}, which is not a number",
                        "VISITNUM GE 2", "where clause") from None


def row_condition(expr: Expression, numeric: Collection[str]) -> str:
    """The where clause as a pandas ``query`` expression for GX's ``row_condition``.

    ``numeric`` names the variables the spec declares numeric: their values are written as numbers,
    all others as double-quoted strings.
    """
    alternatives = [_conjunction(expr, checks, numeric) for checks in where_clauses(expr)]
    if len(alternatives) == 1:
        return alternatives[0]
    return " or ".join(f"({alt})" for alt in alternatives)


def _conjunction(expr: Expression, checks: tuple[RangeCheck, ...], numeric: Collection[str]) -> str:
    parts = []
    for check in checks:
        num = check.variable in numeric
        if check.comparator in ("IN", "NOTIN"):
            items = ", ".join(_literal(expr, v, num) for v in check.values)
            parts.append(f"{check.variable} {'in' if check.comparator == 'IN' else 'not in'} [{items}]")
        else:
            parts.append(f"{check.variable} {_PANDAS[check.comparator]} {_literal(expr, check.values[0], num)}")
    return " and ".join(parts)
