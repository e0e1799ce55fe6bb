"""The expression tree: typed, frozen (hashable) dataclasses shared by both surfaces.

A spec cell (``AETERM = 'Nausea'``) and a Define-XML where clause (``AETERM EQ Nausea``) parse to
the same node classes; only the semantics chosen at evaluation time differ (see
:mod:`subgen.core.expr.evaluate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: The comparison operators as the tree spells them (the where surface's EQ, NE, ... map onto these).
Comparator = Literal["=", "!=", "<", "<=", ">", ">="]
Surface = Literal["condition", "where"]


@dataclass(frozen=True)
class ColumnRef:
    """A column: ``COL`` (``form`` None) or ``form.COL`` (another raw form's column).

    ``pos`` is the 1-based character offset in the cell text, for messages; it takes no part in
    equality or hashing, so equal texts at different offsets give equal trees.
    """

    form: str | None
    column: str
    pos: int = field(default=0, compare=False, hash=False)
    quoted: bool = field(default=False, compare=False, hash=False)  # written in backticks

    @property
    def key(self) -> str:
        """The frame column name the reference reads: ``COL`` or ``form.COL``."""
        return self.column if self.form is None else f"{self.form}.{self.column}"


@dataclass(frozen=True)
class Str:
    """A text literal, unescaped but otherwise as written (not trimmed)."""

    value: str

    @property
    def text(self) -> str:
        """The value as text (the same as ``value``)."""
        return self.value


@dataclass(frozen=True)
class Num:
    """A number literal: its value and the text it was written as (``-4``, ``1.50``, ``2e3``)."""

    value: float
    text: str


Lit = Str | Num
Operand = ColumnRef | Str | Num


@dataclass(frozen=True)
class Compare:
    """``left op right``; after parsing, ``left`` is always a column."""

    left: ColumnRef
    op: Comparator
    right: Operand


@dataclass(frozen=True)
class InList:
    """``operand in (items)``, or ``not in`` when ``negated``."""

    operand: ColumnRef
    items: tuple[Lit, ...]
    negated: bool = False


@dataclass(frozen=True)
class IsBlank:
    """``operand is blank``, or ``is not blank`` when ``negated``."""

    operand: ColumnRef
    negated: bool = False


@dataclass(frozen=True)
class And:
    """All of ``items`` (two or more)."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """Any of ``items`` (two or more)."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """The negation of ``item``."""

    item: Node


@dataclass(frozen=True)
class Call:
    """``name(arg, ...)``: a named boolean function (:mod:`subgen.core.expr.functions`) over columns and literals.

    ``name`` is lower-cased; ``pos`` is the 1-based offset of the name (not part of equality).
    """

    name: str
    args: tuple[Operand, ...]
    pos: int = field(default=0, compare=False, hash=False)


Node = Compare | InList | IsBlank | And | Or | Not | Call


@dataclass(frozen=True)
class Expression:
    """A parsed cell: the tree, the cell text as written (for messages) and the surface it was read with."""

    root: Node
    text: str
    surface: Surface = "condition"

    def __str__(self) -> str:
        """The cell text as written (so messages and provenance show what the spec says)."""
        return self.text


def children(node: Node) -> tuple[Node, ...]:
    """The sub-expressions of a boolean node (none for a test)."""
    if isinstance(node, (And, Or)):
        return node.items
    if isinstance(node, Not):
        return (node.item,)
    return ()


def refs_of(node: Node) -> tuple[ColumnRef, ...]:
    """Every column reference of ``node``, in text order, repeats included."""
    if isinstance(node, Compare):
        return (node.left,) + ((node.right,) if isinstance(node.right, ColumnRef) else ())
    if isinstance(node, (InList, IsBlank)):
        return (node.operand,)
    if isinstance(node, Call):
        return tuple(arg for arg in node.args if isinstance(arg, ColumnRef))
    return tuple(ref for child in children(node) for ref in refs_of(child))


def columns(expr: Expression | Node) -> tuple[ColumnRef, ...]:
    """The distinct column references an expression reads, in the order they first appear."""
    root = expr.root if isinstance(expr, Expression) else expr
    return tuple(dict.fromkeys(refs_of(root)))
