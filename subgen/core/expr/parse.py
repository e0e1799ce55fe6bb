"""Cell text -> :class:`~subgen.core.expr.nodes.Expression`, for both surfaces, with readable errors.

Parsing is cached on the text (the trees are frozen), so a condition written on a thousand rows
is read once.
"""

from __future__ import annotations

import functools
import re
from typing import cast

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from subgen.core.expr.errors import ExprError
from subgen.core.expr.functions import FUNCTIONS
from subgen.core.expr.grammar import NUMBER_PATTERN, parser
from subgen.core.expr.nodes import (
    And,
    Call,
    ColumnRef,
    Comparator,
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
    Surface,
)

_FLIP: dict[str, Comparator] = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_WHERE_OPS: dict[str, Comparator] = {"EQ": "=", "NE": "!=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}
_NUMBER = re.compile(NUMBER_PATTERN)
_WHERE_VARIABLE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,7}")
_ESCAPE = re.compile(r"\\(['\"\\])")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


class _Fail(Exception):
    """A semantic problem found while building the tree (turned into ExprError with the cell text)."""

    def __init__(self, position: int, reason: str, example: str) -> None:
        super().__init__(reason)
        self.position, self.reason, self.example = position, reason, example


# --------------------------------------------------------------------------- literals and references


def unquote_string(token: str) -> str:
    """The value of a quoted literal: outer quotes off, a doubled quote and ``\\'`` ``\\"`` ``\\\\`` undone."""
    quote, body = token[0], token[1:-1]
    return re.sub(_ESCAPE.pattern + "|" + quote * 2, lambda m: m.group(1) or quote, body)


def unquote_name(token: str) -> str:
    """The name inside backticks, a doubled backtick undone."""
    return token[1:-1].replace("``", "`")


def _pos(token: Token) -> int:
    return int(token.start_pos or 0) + 1


def _column(tree: Tree) -> ColumnRef:
    (token,) = tree.children
    assert isinstance(token, Token)
    text, pos = str(token), _pos(token)
    if token.type == "QUOTED_NAME":
        return ColumnRef(None, unquote_name(text), pos, quoted=True)
    if token.type == "DOTTED":
        form, _, col = text.partition(".")
        if col.startswith("`"):
            return ColumnRef(form, unquote_name(col), pos, quoted=True)
        return ColumnRef(form, col, pos)
    return ColumnRef(None, text, pos)


def _operand(node: Tree) -> Operand:
    if node.data == "column":
        return _column(node)
    (token,) = node.children
    text = str(token)
    if node.data == "string":
        return Str(unquote_string(text))
    return Num(float(text), text)


def _operand_pos(node: Tree) -> int:
    token = node.children[0]
    return _pos(token) if isinstance(token, Token) else 0


# --------------------------------------------------------------------------- condition surface


def _comparison(tree: Tree) -> Compare:
    left_tree, op_token, right_tree = tree.children
    assert isinstance(left_tree, Tree) and isinstance(right_tree, Tree) and isinstance(op_token, Token)
    left, right = _operand(left_tree), _operand(right_tree)
    op = cast(Comparator, str(op_token))
    if not isinstance(left, ColumnRef):
        if not isinstance(right, ColumnRef):
            raise _Fail(_operand_pos(left_tree), "a comparison needs a column on one side",
                        "AESEV = 'MILD' or AVAL > 3")
        left, right, op = right, left, _FLIP[op]
    return Compare(left, op, right)


def _list_items(tree: Tree) -> tuple[Lit, ...]:
    items: list[Lit] = []
    for child in tree.children:
        assert isinstance(child, Tree)
        lit = _operand(child)
        assert not isinstance(lit, ColumnRef)
        if items and isinstance(lit, Num) != isinstance(items[0], Num):
            raise _Fail(_operand_pos(child), "a list holds either quoted values or numbers, not both",
                        "AVISITN in (1, 2) or VISIT in ('WEEK 1', 'WEEK 2')")
        items.append(lit)
    return tuple(items)


def _subject(tree: Tree, what: str, example: str) -> ColumnRef:
    first = tree.children[0]
    assert isinstance(first, Tree)
    operand = _operand(first)
    if not isinstance(operand, ColumnRef):
        raise _Fail(_operand_pos(first), f"{what} needs a column on its left", example)
    return operand


def _membership(tree: Tree) -> InList:
    negated = any(isinstance(c, Token) and c.type == "NOT" for c in tree.children)
    items = tree.children[-1]
    assert isinstance(items, Tree)
    ref = _subject(tree, "in", "AESEV in ('MILD', 'MODERATE')")
    return InList(ref, _list_items(items), negated)


def _blank_test(tree: Tree) -> IsBlank:
    negated = any(isinstance(c, Token) and c.type == "NOT" for c in tree.children)
    return IsBlank(_subject(tree, "is blank", "AEENDTC is blank"), negated)


def _call(tree: Tree) -> Call:
    name = tree.children[0]
    assert isinstance(name, Token)
    if str(name).lower() not in FUNCTIONS:
        raise _Fail(_pos(name), f"there is no function {name}() (the functions are {', '.join(sorted(FUNCTIONS))})",
                    "is_complete_date(AESTDTC) or matches(AETERM, '^[A-Z]')")
    args: tuple[Operand, ...] = ()
    if len(tree.children) > 1 and isinstance(tree.children[1], Tree):
        args = tuple(_operand(c) for c in tree.children[1].children if isinstance(c, Tree))
    return Call(str(name).lower(), args, _pos(name))


def _flatten(kind: type[And | Or], items: list[Node]) -> tuple[Node, ...]:
    out: list[Node] = []
    for item in items:
        out.extend(item.items if isinstance(item, kind) else (item,))
    return tuple(out)


def _node(tree: Tree) -> Node:
    kind = tree.data
    if kind == "comparison":
        return _comparison(tree)
    if kind == "membership":
        return _membership(tree)
    if kind == "blank_test":
        return _blank_test(tree)
    if kind == "call":
        return _call(tree)
    subs = [_node(c) for c in tree.children if isinstance(c, Tree)]
    if kind == "negated":
        return Not(subs[0])
    if kind == "conjunction":
        return And(_flatten(And, subs))
    if kind == "disjunction":
        return Or(_flatten(Or, subs))
    if kind == "condition":
        return subs[0]
    raise AssertionError(f"unknown rule {kind}")  # pragma: no cover - grammar and builder go together


# --------------------------------------------------------------------------- where surface


def _where_value(token: Token, variable: str) -> Lit:
    text = str(token)
    if token.type == "STRING":
        value = unquote_string(text)
        if value == "":
            raise _Fail(_pos(token), "the value is empty", f"{variable} EQ GLUC")
        return Str(value)
    if _NUMBER.fullmatch(text):
        return Num(float(text), text)
    return Str(text)


def _where_variable(token: Token) -> ColumnRef:
    text = str(token)
    if not _WHERE_VARIABLE.fullmatch(text):
        raise _Fail(_pos(token), f"{text} is not a variable name (a letter, then up to 7 letters, digits or _)",
                    "LBTESTCD EQ GLUC")
    return ColumnRef(None, text.upper(), _pos(token))


def _where_test(tree: Tree) -> Node:
    name, op = tree.children[0], tree.children[1]
    assert isinstance(name, Token) and isinstance(op, Token)
    ref = _where_variable(name)
    if tree.data == "where_compare":
        value = tree.children[2]
        assert isinstance(value, Token)
        return Compare(ref, _WHERE_OPS[str(op).upper()], _where_value(value, ref.column))
    items = tree.children[2]
    assert isinstance(items, Tree)
    values = tuple(_where_value(t, ref.column) for t in items.children if isinstance(t, Token))
    return InList(ref, values, negated=op.type == "NOTIN")


def _where_root(tree: Tree) -> Node:
    tests = [_where_test(c) for c in tree.children if isinstance(c, Tree)]
    return tests[0] if len(tests) == 1 else And(tuple(tests))


# --------------------------------------------------------------------------- errors


_QUOTED = re.compile(r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"|`(?:[^`]|``)*`")
_KEYWORDS = {"and", "or", "not", "in", "is", "blank", "notin", "eq", "ne", "lt", "le", "gt", "ge"}
_BARE_RIGHT = re.compile(r"([A-Za-z_][\w.]*)\s*(!=|<=|>=|=|<|>)\s*([A-Za-z_]\w*)\s*$")
_WHERE_VAR_BEFORE = re.compile(r"([A-Za-z]\w*)\s+(?:eq|ne|lt|le|gt|ge|in|notin)\b", re.IGNORECASE)
_VALUE = {"STRING", "NUMBER", "NAME", "QUOTED_NAME", "DOTTED"}


def _last_column(text: str, position: int) -> str:
    """The last column-like word before ``position`` (1-based) outside quotes, for an example; COL if none."""
    prefix = _QUOTED.sub(" ", text[: position - 1])
    words = [w for w in _WORD.findall(prefix) if w.lower() not in _KEYWORDS]
    return words[-1] if words else "COL"


def _word_at(text: str, position: int) -> str:
    """The word starting at ``position`` (1-based), or ""."""
    m = re.compile(r"[^\s,()'\"=<>!]+").match(text, position - 1)
    return m.group(0) if m else ""


def _unquoted_value(text: str, position: int) -> str | None:
    """``COL = 'two words'`` when ``COL = two words`` stops at the second word (a value left unquoted)."""
    m = _BARE_RIGHT.search(text[: position - 1])
    if not m:
        return None
    rest = re.split(r"\s+(?:and|or)\s", text[m.start(3):], maxsplit=1, flags=re.IGNORECASE)[0].strip()
    return f"{m.group(1)} {m.group(2)} '{rest}'"


def _inner_quote(text: str, position: int) -> str | None:
    """``COL = 'Crohn''s disease'`` when a quoted value stops at a quote inside it (``'Crohn's disease'``)."""
    if position < 2 or text[position - 2] not in "'\"":
        return None
    opens = list(re.finditer(r"([A-Za-z_`][\w.`]*)\s*(!=|<=|>=|=|<|>)\s*(['\"])", text[: position - 1]))
    if not opens:
        return None
    m = opens[-1]
    quote = m.group(3)
    value = text[m.end():].rstrip()
    value = value[:-1] if value.endswith(quote) else value
    return f"{m.group(1)} {m.group(2)} {quote}{value.replace(quote, quote * 2)}{quote}"


def _explain_condition(expected: set[str], found: str, text: str, position: int) -> tuple[str, str]:
    """(what was expected, an example) for a condition that stops at ``position``."""
    col = _last_column(text, position)
    word = _word_at(text, position)
    if found.startswith("`"):
        return "the backtick ` is not closed", "`IT.AGE` > 18"
    if found.startswith(("&", "|")):
        return "conditions are joined with the words and / or", f"{col} = 'A' and OTHER = 'B'"
    if "LPAR" in expected and "NOT" in expected and "COMPARATOR" not in expected:
        return "expected a condition", f"{word if _WORD.fullmatch(word) else col} = 'Y'"
    if _VALUE <= expected:
        if found.startswith(("=", "<", ">")):
            return ("expected a quoted value, a number or a column (the comparators are =, !=, <, <=, >, >=)",
                    f"{col} = 'Y' or {col} <= 4")
        return "expected a quoted value, a number or a column", f"{col} = '{word or 'Y'}'"
    if "COMPARATOR" in expected:
        if found == "==":
            return "expected a comparator (= compares; there is no ==)", f"{col} = 'Y'"
        return ("expected =, !=, <, <=, >, >=, in, not in, is blank or is not blank",
                f"{col} = 'Y', {col} in ('A', 'B') or {col} is not blank")
    if expected <= {"NOT", "BLANK"}:
        return "expected blank or not blank after is", f"{col} is not blank"
    if expected == {"IN"}:
        return "expected in after not", f"{col} not in ('A', 'B')"
    if expected == {"LPAR"}:
        return "expected a list in parentheses", f"{col} in ('A', 'B')"
    if {"STRING", "NUMBER"} <= expected:
        if found == ")":
            return "the list is empty", f"{col} in ('A', 'B')"
        return "expected a quoted value or a number in the list", f"{col} in ('{word or 'A'}', 'B')"
    if "COMMA" in expected:
        return "expected , or ) after a list value", f"{col} in ('A', 'B')"
    if found == "" and "RPAR" in expected:
        return "a ( is not closed by )", f"({col} = 'A' or {col} = 'B') and OTHER is blank"
    if found == ")":
        return "this ) has no matching (", f"({col} = 'A' or {col} = 'B')"
    inner = _inner_quote(text, position)
    if inner:
        return "the value ends at this quote; a quote inside a value is written twice", inner
    if found[:1] in ("'", '"'):
        return ("expected and, or or the end of the condition (a quote inside a value is written twice)",
                f"{col} = 'Crohn''s disease'")
    unquoted = _unquoted_value(text, position)
    if unquoted:
        return "expected and, or or the end of the condition (a value with spaces goes in quotes)", unquoted
    return "expected and, or or the end of the condition", f"{col} = 'A' and OTHER = 'B'"


def _explain_where(expected: set[str], found: str, text: str, position: int) -> tuple[str, str]:
    """(what was expected, an example) for a where clause that stops at ``position``."""
    found_vars = _WHERE_VAR_BEFORE.findall(_QUOTED.sub(" ", text[: position - 1]))
    var = found_vars[-1].upper() if found_vars else _last_column(text, position).upper()
    if expected == {"NAME"}:
        return "expected a variable name", "LBTESTCD EQ GLUC"
    if "WHERE_OP" in expected:
        value = _unquoted_value(text + " ", len(text) + 1)
        if found.startswith(("=", "!", "<", ">")):
            return ("expected a comparator EQ, NE, LT, LE, GT, GE, IN or NOTIN (a where clause writes EQ, not =)",
                    f"{var} EQ {value.split(' ', 2)[2].strip(chr(39)) if value else 'GLUC'}")
        return "expected a comparator EQ, NE, LT, LE, GT, GE, IN or NOTIN", f"{var} EQ GLUC"
    if expected & {"WHERE_VALUE", "WHERE_ITEM", "STRING"}:
        if found == ")":
            return "the list is empty", f"{var} IN (GLUC, HBA1C)"
        return "expected a value", f"{var} EQ GLUC or {var} IN (GLUC, HBA1C)"
    if "COMMA" in expected:
        return "expected , or ) after a list value", f"{var} IN (GLUC, HBA1C)"
    return "expected AND or the end of the where clause", f"{var} EQ GLUC AND LBSPEC EQ SERUM"


def _expected(exc: UnexpectedInput) -> set[str]:
    """The terminals the parser could take where it stopped (after the reductions lookahead allows)."""
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is not None:
        return set(interactive.accepts()) - {"$END"} | ({"$END"} & set(interactive.accepts()))
    return set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())


def _translate(exc: UnexpectedInput, text: str, surface: Surface) -> ExprError:
    """An ExprError with position, expectation and example from lark's exception."""
    explain = _explain_where if surface == "where" else _explain_condition
    what = "where clause" if surface == "where" else "condition"
    expected = _expected(exc)
    if isinstance(exc, UnexpectedToken):
        at_end = exc.token.type == "$END"
        position = len(text.rstrip()) + 1 if at_end else _pos(exc.token)
        found = "" if at_end else str(exc.token)
    else:
        assert isinstance(exc, UnexpectedCharacters)
        position = int(exc.pos_in_stream or 0) + 1
        found = text[position - 1]
        if found in "'\"":
            example = f"{_last_column(text, position)} = {found}{text[position:].strip() or 'value'}{found}"
            return ExprError(text, position, f"the quote {found} is not closed", example, what)
        if found == "`":
            return ExprError(text, position, "the backtick ` is not closed", "`IT.AGE` > 18", what)
    unknown = _unknown_call(text, position) if surface == "condition" else None
    if unknown is not None:
        name, at = unknown
        return ExprError(text, at, f"there is no function {name}() (the functions are {', '.join(sorted(FUNCTIONS))})",
                         "is_complete_date(AESTDTC) or matches(AETERM, '^[A-Z]')", what)
    reason, example = explain(expected, found, text, position)
    if isinstance(exc, UnexpectedCharacters):
        reason = f"unexpected {found!r}; {reason}"
    return ExprError(text, position, reason, example, what)


_QUOTED = re.compile(r"'(?:[^'\\]|''|\\.)*'|\"(?:[^\"\\]|\"\"|\\.)*\"|`(?:[^`]|``)*`")
_CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*\(")


def _unknown_call(text: str, position: int) -> tuple[str, int] | None:
    """The first ``name(`` before ``position`` (outside quotes) that names no function, with its 1-based position.

    A syntax error after such a call (a dunder import followed by ``.system(...)``) is explained by the unknown
    name, not by the token where the grammar stopped.
    """
    blanked = _QUOTED.sub(lambda m: " " * len(m.group(0)), text[:position])
    for m in _CALL.finditer(blanked):
        name = m.group(1)
        if name.lower() not in FUNCTIONS and name.lower() not in ("in", "and", "or", "not"):
            return name, m.start(1) + 1
    return None


# --------------------------------------------------------------------------- entry points


def _parse(text: str, surface: Surface) -> Expression:
    what = "where clause" if surface == "where" else "condition"
    if not text.strip():
        raise ExprError(text, None, f"the {what} is empty",
                        "LBTESTCD EQ GLUC" if surface == "where" else "AESER = 'Y'", what)
    try:
        tree = parser().parse(text, start=surface)
        root = _where_root(tree) if surface == "where" else _node(tree)
    except UnexpectedInput as exc:
        raise _translate(exc, text, surface) from None
    except _Fail as fail:
        raise ExprError(text, fail.position, fail.reason, fail.example, what) from None
    return Expression(root, text, surface)


@functools.lru_cache(maxsize=4096)
def parse(text: str) -> Expression:
    """Read a spec cell (Filter, Condition, ...): ``AETERM = 'Nausea' and (AESER = 'Y' or not AEOUT in ('FATAL'))``.

    Raises :class:`ExprError` with the 1-based position, what was expected and an example.
    """
    return _parse(text, "condition")


@functools.lru_cache(maxsize=4096)
def parse_where(text: str) -> Expression:
    """Read a Define-XML where clause: ``VAR EQ value``, NE, LT, LE, GT, GE, ``VAR IN (a, b)``, NOTIN, joined by AND.

    Variables are upper-cased; a bare value is a literal (a number when it reads as one), never a
    column; an empty value is refused. Raises :class:`ExprError`.
    """
    return _parse(text, "where")


@functools.lru_cache(maxsize=4096)
def parse_where_clause(text: str) -> Expression:
    """Read a ValueLevel Where Clause written in either surface: ``LBTESTCD EQ GLUC AND LBSPEC EQ SERUM``
    (Define-XML comparators) or ``LBTESTCD = 'GLUC' and (VISITNUM = 1 or VISITNUM = 2)`` (the condition surface).

    The where surface is tried first; when neither reads the text, the error is the one of the
    surface that read further (the one the author most likely meant; the where surface on a tie).
    """
    try:
        return parse_where(text)
    except ExprError as where_error:
        try:
            return parse(text)
        except ExprError as condition_error:
            further = (condition_error.position or 0) > (where_error.position or 0)
            raise (condition_error if further else where_error) from None


def as_expression(value: Expression | str | None, where_clause: bool = False) -> Expression | None:
    """``value`` as an Expression: parsed when text (a where clause in either surface when ``where_clause``).

    None and blank text give None; an Expression is returned as it is. Raises :class:`ExprError`.
    The spec loader parses every cell itself (to report every problem at its cell); this is for
    model objects built in code.
    """
    if value is None or isinstance(value, Expression):
        return value
    if not value.strip():
        return None
    return parse_where_clause(value) if where_clause else parse(value)
