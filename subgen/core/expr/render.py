"""Rendering a parsed where clause for Define-XML and for Great Expectations.

Only a conjunction of ``VAR op literal`` tests (``=``/EQ, ``!=``/NE, ``<``/LT, ``<=``/LE,
``>``/GT, ``>=``/GE, ``in``/IN, ``not in``/NOTIN) has a Define-XML form; ``or``, ``not``,
``is blank``, column-with-column comparisons and ``form.COL`` references raise ExprError saying so.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass

from subgen.core.expr.errors import ExprError
from subgen.core.expr.nodes import And, ColumnRef, Compare, Expression, InList, Node

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
    return ExprError(expr.text, None, f"{why}; a Define-XML where clause holds only VARIABLE comparator value(s) "
                     "joined with AND", _EXAMPLE, "where clause")


def _variable(expr: Expression, ref: ColumnRef) -> str:
    if ref.form is not None:
        raise _unexpressible(expr, f"{ref.key} reads another form")
    return ref.column


def _check(expr: Expression, node: Node) -> RangeCheck:
    if isinstance(node, Compare):
        if isinstance(node.right, ColumnRef):
            raise _unexpressible(expr, f"{node.left.key} is compared with the column {node.right.key}")
        return RangeCheck(_variable(expr, node.left), _DEFINE[node.op], (node.right.text,))
    if isinstance(node, InList):
        return RangeCheck(_variable(expr, node.operand), "NOTIN" if node.negated else "IN",
                          tuple(item.text for item in node.items))
    kind = {"IsBlank": "is blank", "Or": "or", "Not": "not"}.get(type(node).__name__, type(node).__name__)
    raise _unexpressible(expr, f"it uses {kind}")


def range_checks(expr: Expression) -> tuple[RangeCheck, ...]:
    """The RangeChecks of a WhereClauseDef for ``expr`` (ExprError when Define-XML cannot express it)."""
    nodes = expr.root.items if isinstance(expr.root, And) else (expr.root,)
    return tuple(_check(expr, node) for node in nodes)


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
    parts = []
    for check in range_checks(expr):
        num = check.variable in numeric
        if check.comparator in ("IN", "NOTIN"):
            items = ", ".join(_literal(expr, v, num) for v in check.values)
            parts.append(f"{check.variable} {'in' if check.comparator == 'IN' else 'not in'} [{items}]")
        else:
            parts.append(f"{check.variable} {_PANDAS[check.comparator]} {_literal(expr, check.values[0], num)}")
    return " and ".join(parts)
