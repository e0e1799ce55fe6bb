"""The one expression language (subgen.core.expr): grammar, semantics, renderers, errors.

Expected masks are worked out by hand from the frames below.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

from subgen.core.expr import (
    And,
    ColumnRef,
    Compare,
    ExprError,
    Expression,
    InList,
    IsBlank,
    MissingColumnError,
    Not,
    Num,
    Or,
    RangeCheck,
    Str,
    check_columns,
    columns,
    evaluate,
    evaluate_where,
    parse,
    parse_where,
    range_checks,
    row_condition,
    where_clauses,
)
from subgen.core.spec.model import Spec

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

AE = pd.DataFrame({
    "AETERM": ["Nausea and vomiting", "Crohn's disease", " nausea and vomiting ", None, "Headache"],
    "AESER": ["Y", "n", "", "Y", None],
    "AESTDTC": ["2025-01-03", "2025-01-10", "2025-02-01", "", "2025-01-05"],
    "AEENDTC": ["2025-01-02", "2025-01-12", "", "2025-01-01", "2025-01-05"],
    "ARMCD": ["A", "b", "A", None, "C"],
    "ACTARMCD": ["a", "B", "B", None, ""],
    "CHG": pd.Series([-5, -4, -3.5, None, 0], dtype="Float64"),
    "BASE": pd.Series([10.0, 4.0, np.nan, 2.0, 0.0]),
    "AVISITN": ["0", "1", "x", None, " 1 "],
    "enrol.SEX": ["F", "Female", "M", None, "m"],
    "IT.AGE": [30, 40, 50, 60, 70],
})


def mask(text: str, frame: pd.DataFrame = AE) -> list[bool]:
    return evaluate(text, frame).tolist()


# --------------------------------------------------------------------------- parsing: the constructs


def test_text_comparison_and_quoting() -> None:
    assert parse("AETERM = 'Nausea and vomiting'").root == Compare(ColumnRef(None, "AETERM"), "=",
                                                                   Str("Nausea and vomiting"))
    assert parse("AETERM = 'Crohn''s disease'").root.right == Str("Crohn's disease")  # type: ignore[union-attr]
    assert parse('AETERM = "Crohn\'s disease"').root.right == Str("Crohn's disease")  # type: ignore[union-attr]
    assert parse(r"AETERM = 'Crohn\'s \"x\" \\ y \n'").root.right == Str("Crohn's \"x\" \\ y \\n")  # type: ignore[union-attr]
    assert parse('X = "say ""hi"""').root.right == Str('say "hi"')  # type: ignore[union-attr]


def test_numbers() -> None:
    for text, value in [("0", 0.0), ("-4", -4.0), ("+2", 2.0), ("1.50", 1.5), (".5", 0.5), ("5.", 5.0),
                        ("1e3", 1000.0), ("-2.5E-1", -0.25)]:
        assert parse(f"CHG <= {text}").root == Compare(ColumnRef(None, "CHG"), "<=", Num(value, text))


def test_every_comparator_and_a_literal_on_the_left_is_turned_round() -> None:
    for op in ("=", "!=", "<", "<=", ">", ">="):
        assert parse(f"CHG {op} 1").root == Compare(ColumnRef(None, "CHG"), op, Num(1.0, "1"))
    assert parse("1 < CHG").root == parse("CHG > 1").root
    assert parse("'2025' >= AESTDTC").root == parse("AESTDTC <= '2025'").root


def test_lists_blank_and_keywords_in_any_case() -> None:
    assert parse("ARMCD in ('A', 'B',)").root == InList(ColumnRef(None, "ARMCD"), (Str("A"), Str("B")))
    assert parse("ARMCD NOT IN ('A')").root == InList(ColumnRef(None, "ARMCD"), (Str("A"),), negated=True)
    assert parse("AVISITN In (0, 1)").root == InList(ColumnRef(None, "AVISITN"), (Num(0.0, "0"), Num(1.0, "1")))
    assert parse("AESER IS BLANK").root == IsBlank(ColumnRef(None, "AESER"))
    assert parse("AESER is Not blank").root == IsBlank(ColumnRef(None, "AESER"), negated=True)
    assert parse("notable = 'x'").root == Compare(ColumnRef(None, "notable"), "=", Str("x"))  # a word, not `not`


def test_precedence_not_over_and_over_or() -> None:
    a, b, c = (Compare(ColumnRef(None, n), "=", Str("Y")) for n in "ABC")
    assert parse("A = 'Y' or B = 'Y' and C = 'Y'").root == Or((a, And((b, c))))
    assert parse("(A = 'Y' or B = 'Y') and C = 'Y'").root == And((Or((a, b)), c))
    assert parse("not A = 'Y' and B = 'Y'").root == And((Not(a), b))
    assert parse("not (A = 'Y' and B = 'Y')").root == Not(And((a, b)))
    assert parse("A = 'Y' and B = 'Y' and C = 'Y'").root == And((a, b, c))  # flat
    assert parse("A = 'Y' OR B = 'Y' or C = 'Y'").root == Or((a, b, c))


def test_column_references() -> None:
    assert parse("AEENDTC < AESTDTC").root == Compare(ColumnRef(None, "AEENDTC"), "<", ColumnRef(None, "AESTDTC"))
    assert parse("enrol.SEX in ('F')").root.operand == ColumnRef("enrol", "SEX")  # type: ignore[union-attr]
    assert parse("`IT.AGE` > 18").root.left == ColumnRef(None, "IT.AGE")  # type: ignore[union-attr]
    assert parse("form.`IT.AGE` > 18").root.left == ColumnRef("form", "IT.AGE")  # type: ignore[union-attr]
    assert parse("`odd``name` is blank").root.operand == ColumnRef(None, "odd`name")  # type: ignore[union-attr]
    assert ColumnRef("enrol", "SEX").key == "enrol.SEX" and ColumnRef(None, "IT.AGE").key == "IT.AGE"


def test_columns_and_text() -> None:
    expr = parse("enrol.SEX in ('F', 'Female') and VISIT = 'Baseline' or enrol.SEX is blank or A < B")
    assert columns(expr) == (ColumnRef("enrol", "SEX"), ColumnRef(None, "VISIT"), ColumnRef(None, "A"),
                             ColumnRef(None, "B"))
    assert expr.text == "enrol.SEX in ('F', 'Female') and VISIT = 'Baseline' or enrol.SEX is blank or A < B"


def test_parsing_is_cached_and_trees_are_hashable() -> None:
    assert parse("AESER = 'Y'") is parse("AESER = 'Y'")
    assert len({parse("A = 'x'").root, parse("A  =  'x'").root, parse_where("A EQ x").root}) == 1


# --------------------------------------------------------------------------- the where-clause surface


def test_where_surface_gives_the_same_tree() -> None:
    assert parse_where("LBTESTCD EQ NFLP").root == parse("LBTESTCD = 'NFLP'").root
    assert parse_where('LBTESTCD eq NFLP and lbspec EQ "SERUM"').root == \
        parse("LBTESTCD = 'NFLP' and LBSPEC = 'SERUM'").root
    assert parse_where("X IN (a, 'b c') AND Y NOTIN (d)").root == parse("X in ('a', 'b c') and Y not in ('d')").root
    assert parse_where("VISITNUM GE 2").root == parse("VISITNUM >= 2").root
    for where, cond in [("A NE x", "A != 'x'"), ("A LT 1", "A < 1"), ("A LE 1", "A <= 1"), ("A GT 1", "A > 1")]:
        assert parse_where(where).root == parse(cond).root


def test_where_bare_values_are_literals() -> None:
    assert parse_where("LBSPEC EQ CEREBROSPINAL FLUID AND X EQ y").root == And((
        Compare(ColumnRef(None, "LBSPEC"), "=", Str("CEREBROSPINAL FLUID")),
        Compare(ColumnRef(None, "X"), "=", Str("y"))))
    assert parse_where("QNAM EQ RANDNO").root.right == Str("RANDNO")  # type: ignore[union-attr]
    assert parse_where('RSTESTCD IN (EDSS0101, X"Y)').root.items == (Str("EDSS0101"), Str('X"Y'))  # type: ignore[union-attr]
    assert parse_where("NVTESTCD IN T2LESN, NEWT2N").root.items == (Str("T2LESN"), Str("NEWT2N"))  # type: ignore[union-attr]


# --------------------------------------------------------------------------- condition semantics, by hand


@pytest.mark.parametrize("text, expected", [
    ("AETERM = 'Nausea and vomiting'", [True, False, True, False, False]),  # trimmed, case ignored
    ("AETERM = 'Crohn''s disease'", [False, True, False, False, False]),
    ("AETERM != 'nausea AND vomiting'", [False, True, False, True, True]),
    ("AESER = 'y'", [True, False, False, True, False]),
    ("AESER != 'Y'", [False, True, True, False, True]),
    ("AESER in ('N', 'y')", [True, True, False, True, False]),
    ("AESER not in ('N', 'y')", [False, False, True, False, True]),
    ("AESER is blank", [False, False, True, False, True]),
    ("AESER is not blank", [True, True, False, True, False]),
    ("CHG <= -4", [True, True, False, False, False]),
    ("CHG != -4", [True, False, True, False, True]),  # missing never meets, not even !=
    ("CHG is blank", [False, False, False, True, False]),
    ("AVISITN = 1", [False, True, False, False, True]),  # text read as numbers; 'x' and null never meet
    ("AVISITN != 1", [True, False, False, False, False]),
    ("AVISITN in (0, 1)", [True, True, False, False, True]),
    ("AVISITN not in (0)", [False, True, False, False, True]),
    ("AESTDTC >= '2025-01-10'", [False, True, True, False, False]),  # blank never meets an ordering
    ("AEENDTC < AESTDTC", [True, False, False, False, False]),  # ISO dates as text; blanks never meet
    ("AEENDTC >= AESTDTC", [False, True, False, False, True]),
    ("ARMCD = ACTARMCD", [True, True, False, True, False]),  # case ignored; null = null as ''
    ("ARMCD != ACTARMCD", [False, False, True, False, True]),
    ("CHG < BASE", [True, True, False, False, False]),  # numeric columns: numbers, missing never meets
    ("CHG >= BASE", [False, False, False, False, True]),
    ("enrol.SEX in ('F', 'Female')", [True, True, False, False, False]),
    ("`IT.AGE` > 45", [False, False, True, True, True]),
    ("AESER = 'Y' or CHG <= -4 and AETERM is blank", [True, False, False, True, False]),
    ("(AESER = 'Y' or CHG <= -4) and AETERM is not blank", [True, True, False, False, False]),
    ("not AESER = 'Y'", [False, True, True, False, True]),
    ("not CHG > -4.5", [True, False, False, True, False]),  # not of "missing never meets" is True
])
def test_condition_semantics(text: str, expected: list[bool]) -> None:
    assert mask(text) == expected


def test_no_condition_selects_everything_and_the_index_is_kept() -> None:
    frame = AE.set_axis([10, 20, 30, 40, 50])
    assert evaluate(None, frame).tolist() == [True] * 5 and evaluate("  ", frame).tolist() == [True] * 5
    result = evaluate("AESER = 'Y'", frame)
    assert result.index.tolist() == [10, 20, 30, 40, 50] and result.dtype == bool


def test_a_missing_column_is_named() -> None:
    with pytest.raises(MissingColumnError, match="reads AVAL") as err:
        evaluate("AVAL > 1", AE)
    assert isinstance(err.value, KeyError) and isinstance(err.value, ExprError) and err.value.position == 1
    with pytest.raises(ExprError) as unquoted:
        evaluate("AETERM = Nausea", AE)
    assert str(unquoted.value) == ('cannot read condition "AETERM = Nausea" at character 10: '
                                   "expected a quoted value, a number or a column (there is no column Nausea); "
                                   "write e.g. AETERM = 'Nausea'")
    check_columns(parse("A = B"), {"A", "B"})
    with pytest.raises(MissingColumnError, match="write e.g. A = 'C'"):
        check_columns(parse("A = C"), {"A", "B"})


def test_a_resolver_reads_other_forms() -> None:
    other = pd.Series(["F", "M", "F", "F", "M"], index=AE.index)

    def resolve(ref: ColumnRef) -> pd.Series:
        return other if ref.form == "dm" else AE[ref.key]

    assert evaluate("dm.SEX = 'f' and AESER = 'Y'", AE, resolve).tolist() == [True, False, False, True, False]
    with pytest.raises(MissingColumnError, match="NOPE"):
        evaluate("NOPE = 'x'", AE, resolve)


def test_large_frame_is_evaluated_per_distinct_value() -> None:
    n = 200_000
    frame = pd.DataFrame({"LBTESTCD": np.tile(["GLUC", "HBA1C", " gluc", None], n // 4),
                          "LBDTC": np.tile(["2025-01-01", "2025-02-01"], n // 2),
                          "LBENDTC": np.tile(["2025-01-15", "2025-01-15", "", "2025-03-01"], n // 4)})
    hit = evaluate("LBTESTCD = 'GLUC' and LBDTC < LBENDTC", frame)
    assert hit.sum() == n // 4 and hit.iloc[:4].tolist() == [True, False, False, False]


# --------------------------------------------------------------------------- renderers


def test_range_checks() -> None:
    assert range_checks(parse_where('LBTESTCD EQ NFLP AND LBSPEC EQ "SERUM"')) == (
        RangeCheck("LBTESTCD", "EQ", ("NFLP",)), RangeCheck("LBSPEC", "EQ", ("SERUM",)))
    assert range_checks(parse("X not in ('a', 'b') and Y >= 2.50")) == (
        RangeCheck("X", "NOTIN", ("a", "b")), RangeCheck("Y", "GE", ("2.50",)))
    assert range_checks(parse("not A = 'x'")) == (RangeCheck("A", "NE", ("x",)),)
    for text in ["A = 'x' or B = 'y'", "A is blank", "A < B", "enrol.SEX = 'F'", "not A < 3"]:
        with pytest.raises(ExprError, match="define.xml cannot express the where clause"):
            range_checks(parse(text))


def test_where_clauses_are_the_disjunctive_normal_form() -> None:
    a, b, c = (RangeCheck(v, "EQ", (v.lower(),)) for v in "ABC")
    assert where_clauses(parse("A = 'a' and (B = 'b' or C = 'c')")) == ((a, b), (a, c))
    assert where_clauses(parse("A = 'a' or B = 'b' and C = 'c'")) == ((a,), (b, c))
    assert where_clauses(parse("not (A = 'a' or B in ('b'))")) == (
        (RangeCheck("A", "NE", ("a",)), RangeCheck("B", "NOTIN", ("b",))),)
    expr = parse("A = 'a' or B = 'b'")
    assert row_condition(expr, ()) == '(A == "a") or (B == "b")'


def test_row_condition_quotes_text_and_not_numbers() -> None:
    expr = parse_where('RSTESTCD IN (EDSS0101, X"Y) AND VISITNUM GE 2')
    assert row_condition(expr, {"VISITNUM"}) == r'RSTESTCD in ["EDSS0101", "X\"Y"] and VISITNUM >= 2.0'
    assert row_condition(parse_where("A NOTIN (1, 2) AND B NE 'x'"), {"A"}) == 'A not in [1.0, 2.0] and B != "x"'
    with pytest.raises(ExprError, match="not a number"):
        row_condition(parse_where("A EQ x"), {"A"})


def test_where_semantics_by_hand() -> None:
    frame = pd.DataFrame({"LBTESTCD": ["GLUC", "gluc", "HBA1C", None], "VISITNUM": [1.0, 2.0, np.nan, 3.0],
                          "LBSPEC": ["SERUM", "SERUM ", "URINE", "SERUM"]})
    numeric = {"VISITNUM"}
    assert evaluate_where("LBTESTCD EQ GLUC", frame, numeric).tolist() == [True, False, False, False]  # as written
    assert evaluate_where("LBSPEC EQ SERUM", frame, numeric).tolist() == [True, False, False, True]
    assert evaluate_where("VISITNUM NE 2", frame, numeric).tolist() == [True, False, True, True]  # missing meets NE
    assert evaluate_where("VISITNUM GE 2", frame, numeric).tolist() == [False, True, False, True]
    assert evaluate_where("VISITNUM IN (1, 3) AND LBSPEC NOTIN (URINE)", frame, numeric).tolist() == \
        [True, False, False, True]
    with pytest.raises(ExprError, match="not a number"):
        evaluate_where("VISITNUM EQ x", frame, numeric)


# --------------------------------------------------------------------------- errors: position and advice


@pytest.mark.parametrize("text, position, says", [
    ("AETERM = 'Nausea", 10, "the quote ' is not closed; write e.g. AETERM = 'Nausea'"),
    ("EXYN == 'Y'", 7, "expected a quoted value, a number or a column"),
    ("CHG <== 4", 7, "write e.g. CHG = 'Y' or CHG <= 4"),
    ("EXYN in ()", 10, "the list is empty; write e.g. EXYN in ('A', 'B')"),
    ("EXYN in (Y, N)", 10, "expected a quoted value or a number in the list; write e.g. EXYN in ('Y', 'B')"),
    ("EXYN in ('a', 'b'", 18, "expected , or ) after a list value"),
    ("EXYN is 'Y'", 9, "expected blank or not blank after is; write e.g. EXYN is not blank"),
    ("EXYN not ('Y')", 10, "expected in after not"),
    ("EXYN in 'Y'", 9, "expected a list in parentheses"),
    ("EXYN = 'Y' and", 15, "expected a condition"),
    ("__import__('os').system('x')", 1, "there is no function __import__()"),
    ("(EXYN = 'Y'", 12, "a ( is not closed by )"),
    ("EXYN = 'Y')", 11, "this ) has no matching ("),
    ("AETERM = 'Crohn's disease'", 17,
     "a quote inside a value is written twice; write e.g. AETERM = 'Crohn''s disease'"),
    ("AETERM = Nausea and vomiting or X = 'b'", 1 + len("AETERM = Nausea and vomiting "),
     "expected =, !=, <, <=, >, >=, in, not in, is blank or is not blank"),
    ("AETERM = Nausea vomiting", 17, "(a value with spaces goes in quotes); write e.g. AETERM = 'Nausea vomiting'"),
    ("X = 'a' & Y = 'b'", 9, "conditions are joined with the words and / or"),
    ("X in ('a', 1)", 12, "a list holds either quoted values or numbers, not both"),
    ("'a' = 'b'", 1, "a comparison needs a column on one side"),
    ("'a' in ('a')", 1, "in needs a column on its left"),
    ("`IT.AGE = 1", 1, "the backtick ` is not closed"),
])
def test_condition_errors(text: str, position: int, says: str) -> None:
    with pytest.raises(ExprError) as err:
        parse(text)
    assert err.value.position == position
    assert says in str(err.value)
    assert str(err.value).startswith(f'cannot read condition "{text}" at character {position}: ')


def test_empty_condition() -> None:
    with pytest.raises(ExprError, match="the condition is empty") as err:
        parse("   ")
    assert err.value.position is None


@pytest.mark.parametrize("text, position, says", [
    ("RSTESTCD = EDSS0101", 10, "(a where clause writes EQ, not =); write e.g. RSTESTCD EQ EDSS0101"),
    ("VAR EQ ''", 8, "the value is empty"),
    ("VAR IN (a, '')", 12, "the value is empty"),
    ("AVERYLONGNAME EQ 1", 1, "AVERYLONGNAME is not a variable name"),
    ("X EQ", 5, "expected a value"),
    ("X IN ()", 7, "the list is empty"),
    ("X IN (a, b", 11, "expected , or ) after a list value; write e.g. X IN (GLUC, HBA1C)"),
    ("X EQ 'a' b", 10, "expected AND or the end of the where clause"),
])
def test_where_errors(text: str, position: int, says: str) -> None:
    with pytest.raises(ExprError) as err:
        parse_where(text)
    assert err.value.position == position and says in str(err.value)
    assert str(err.value).startswith(f'cannot read where clause "{text}" at character {position}: ')


# --------------------------------------------------------------------------- the module stands alone


def test_core_expr_imports_no_product_package() -> None:
    for path in (ROOT / "subgen" / "core" / "expr").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] not in {"sdtm", "adam", "validation", "export", "report"}, (path, name)


# --------------------------------------------------------------------------- the demo specs' cells
#
# The property tests that compared this evaluator with the four former readers (sdtm.conditions,
# adam.conditions, the where-clause reader of the range checks, define_vlm.where_mask) on random
# frames passed before those readers were deleted (branch expr2); the demo studies' outputs stay
# byte-identical (the suite JSON holds every row_condition, define.xml every RangeCheck).


def _demo_specs() -> list[Spec]:
    from subgen.core.spec.loader import load_spec

    return [load_spec(path) for path in sorted((ROOT / "specs").glob("*.xlsx"))]


@pytest.fixture(scope="module")
def demo_specs() -> list[Spec]:
    return _demo_specs()


def test_demo_cells_are_parsed_at_load(demo_specs: list[Spec]) -> None:
    cells = []
    for spec in demo_specs:
        cells += [s.filter for s in spec.sources if s.filter] + [m.condition for m in spec.mappings if m.condition]
        cells += [p.filter for p in spec.parameters if p.filter]
        cells += [d.condition for d in spec.derivations if d.condition]
    assert len(cells) > 100
    assert all(isinstance(cell, Expression) and cell.surface == "condition" for cell in cells)
    wheres = [vl.where for spec in demo_specs for vl in spec.value_level]
    assert len(wheres) > 80 and all(isinstance(w, Expression) and w.surface == "where" for w in wheres)
    assert all(len(where_clauses(w)) == 1 for w in wheres)  # one WhereClauseDef each, as before
