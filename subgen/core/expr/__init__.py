"""One expression language for every spec cell: Filters, Conditions and Define-XML where clauses.

Two surfaces, one tree (:mod:`~subgen.core.expr.nodes`):

* :func:`parse` reads a spec cell (``AETERM = 'Crohn''s disease' and (AESER = 'Y' or AESEV in ('SEVERE'))``);
* :func:`parse_where` reads a Define-XML where clause (``LBTESTCD EQ NFLP AND LBSPEC EQ "SERUM"``).

:func:`parse_where_clause` reads a ValueLevel Where Clause in either surface.

:func:`evaluate` applies the condition semantics to a DataFrame, :func:`evaluate_where` the
where-clause semantics (see :mod:`~subgen.core.expr.evaluate` for both); :func:`range_checks` and
:func:`row_condition` render a where clause for define.xml and for Great Expectations
(:func:`where_clauses`: one WhereClauseDef per alternative of an ``or``);
:func:`columns` lists what an expression reads. Every problem is an :class:`ExprError` (a
ValueError) with the 1-based character position and an example of how to write it.

Grammar of a spec cell (keywords in any case; precedence ``not`` > ``and`` > ``or``)::

    expr       := expr or expr | expr and expr | not expr | ( expr ) | test
    test       := operand (= | != | < | <= | > | >=) operand
                | column [not] in ( literal, ... )
                | column is [not] blank
                | name ( [operand, ...] )          a named function (subgen.core.expr.functions)
    operand    := column | literal
    column     := NAME | `any name` | form.NAME | form.`any name`      (a ` inside is written ``)
    literal    := 'text' | "text" | number        ('' or \\' for a quote inside; \\\\ for a backslash)
    number     := [+-] digits [. digits] [e [+-] digits]

Grammar of a where clause (Define-XML comparators, values quoted or bare, never columns)::

    where      := VAR comparator value (AND VAR comparator value)*
    comparator := EQ | NE | LT | LE | GT | GE, or IN / NOTIN with (value, ...)
"""

from __future__ import annotations

from subgen.core.expr.errors import ExprError, MissingColumnError
from subgen.core.expr.evaluate import Resolver, check_columns, evaluate, evaluate_where
from subgen.core.expr.nodes import (
                                    And,
                                    Call,
                                    ColumnRef,
                                    Compare,
                                    Expression,
                                    InList,
                                    IsBlank,
                                    Lit,
                                    Node,
                                    Not,
                                    Num,
                                    Operand,
                                    Or,
                                    Str,
                                    columns,
)
from subgen.core.expr.parse import as_expression, parse, parse_where, parse_where_clause
from subgen.core.expr.render import RangeCheck, range_checks, row_condition, where_clauses

__all__ = ["And", "Call", "ColumnRef", "Compare", "ExprError", "Expression", "InList", "IsBlank", "Lit",
           "MissingColumnError", "Node", "Not", "Num", "Operand", "Or", "RangeCheck", "Resolver", "Str",
           "as_expression", "check_columns", "columns", "evaluate", "evaluate_where", "parse", "parse_where",
           "parse_where_clause", "range_checks", "row_condition", "where_clauses"]
