"""The grammar of both surfaces, as one lark LALR(1) grammar with two start symbols.

``condition`` is the spec-cell language (``AETERM = 'Crohn''s disease' and not AESER = 'Y'``);
A condition may call a named function, ``is_complete_date(AESTDTC)`` or ``matches(AETERM, '^[A-Z]')``
(arguments are columns or literals; the functions are in :mod:`subgen.core.expr.functions`).
``where`` is the Define-XML where-clause surface (``LBTESTCD EQ NFLP AND LBSPEC EQ "SERUM"``).
Keywords are case-insensitive and end at a word boundary (``notable`` is a column, ``not`` a
keyword). The contextual lexer lets a bare where value (``EQ CEREBROSPINAL FLUID``) and a column
name share the text without ambiguity: each is only looked for where the parser can accept it.
"""

from __future__ import annotations

import functools

from lark import Lark

NUMBER_PATTERN = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"

GRAMMAR = r"""
condition: disjunction

?disjunction: conjunction (_OR conjunction)*
?conjunction: negation (_AND negation)*
?negation: NOT negation                      -> negated
         | primary
?primary: "(" disjunction ")"
        | operand COMPARATOR operand         -> comparison
        | operand NOT? IN value_list         -> membership
        | operand IS NOT? BLANK              -> blank_test
        | NAME "(" [call_args] ")"           -> call

call_args: operand ("," operand)* ","?

value_list: "(" literal ("," literal)* ","? ")"
?operand: column | literal
column: NAME | QUOTED_NAME | DOTTED
?literal: STRING                             -> string
        | NUMBER                             -> number

where: where_test (_AND where_test)*
?where_test: NAME WHERE_OP WHERE_VALUE       -> where_compare
           | NAME WHERE_OP STRING            -> where_compare
           | NAME (IN | NOTIN) where_list    -> where_member
where_list: "(" where_item ("," where_item)* ","? ")"
          | where_item ("," where_item)*
?where_item: WHERE_ITEM | STRING

_OR.2: /or\b/i
_AND.2: /and\b/i
NOT.2: /not\b/i
IN.2: /in\b/i
IS.2: /is\b/i
BLANK.2: /blank\b/i
NOTIN.2: /notin\b/i
WHERE_OP.2: /(?:eq|ne|lt|le|gt|ge)\b/i
COMPARATOR: "<=" | ">=" | "!=" | "=" | "<" | ">"

NAME: /[A-Za-z_][A-Za-z0-9_]*/
QUOTED_NAME: /`(?:[^`]|``)+`/
DOTTED.3: /[A-Za-z_][A-Za-z0-9_]*\.(?:[A-Za-z_][A-Za-z0-9_]*|`(?:[^`]|``)+`)/
STRING: /'(?:[^'\\]|\\.|'')*'/ | /"(?:[^"\\]|\\.|"")*"/
NUMBER: /""" + NUMBER_PATTERN + r"""/

// A bare where value runs to the end or to the next " AND "; inside it anything goes except a
// leading quote. A bare list item stops at a comma or a parenthesis too.
WHERE_VALUE: /[^\s'"](?:\S|\s+(?!and\s)(?=\S))*/i
WHERE_ITEM: /[^\s,()'"](?:[^\s,()]|\s+(?!and\s)(?=[^\s,()]))*/i

%import common.WS
%ignore WS
"""


@functools.cache
def parser() -> Lark:
    """The LALR parser for both start symbols (built once, on first use)."""
    return Lark(GRAMMAR, parser="lalr", lexer="contextual", start=["condition", "where"],
                maybe_placeholders=False)
