"""Function calls in the expression language: grammar, registry, evaluation, errors."""

from __future__ import annotations

import pandas as pd
import pytest

from subgen.core.expr import (
    Call,
    ColumnRef,
    ExprError,
    Num,
    Str,
    columns,
    evaluate,
    parse,
    row_condition,
    where_clauses,
)
from subgen.core.expr.functions import FUNCTIONS


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "USUBJID": ["S1", "S1", "S2", "S2", "S3"],
        "AESEQ": [1.0, 1.0, 1.0, 2.0, 1.0],
        "AETERM": ["Headache", "nausea", "", "Rash", "Crohn's disease"],
        "AESTDTC": ["2024-03-05", "2024-03", "", "2024-13-01", "2024-03-05T10:30"],
        "AEENDTC": ["2024-03-04", "2024-03-20", "2024-01-01", "2024-02-01", "2024-03-05"],
    })


def test_call_parses_to_a_call_node() -> None:
    expr = parse("matches(AETERM, '^[A-Z]') and longer_than(AETERM, 20) or exists(AEOCCUR)")
    call = expr.root.items[0].items[0]
    assert call == Call("matches", (ColumnRef(None, "AETERM"), Str("^[A-Z]")))
    assert parse("longer_than(AETERM, 20)").root.args[1] == Num(20.0, "20")
    assert [c.key for c in columns(expr)] == ["AETERM", "AEOCCUR"]
    assert parse("IS_COMPLETE_DATE(AESTDTC)").root.name == "is_complete_date"


def test_unknown_function_is_refused_when_parsed() -> None:
    with pytest.raises(ExprError) as err:
        parse("no_such_thing(AETERM)")
    assert err.value.position == 1 and "there is no function no_such_thing()" in str(err.value)


def test_a_column_named_like_a_function_is_still_a_column() -> None:
    frame = pd.DataFrame({"matches": ["a", "b"]})
    assert evaluate("matches = 'a'", frame).tolist() == [True, False]


def test_exists_answers_for_the_whole_frame_and_never_fails_on_an_absent_column() -> None:
    frame = _frame()
    assert evaluate("exists(AETERM)", frame).tolist() == [True] * 5
    assert evaluate("not exists(AEOCCUR) and AESEQ = 2", frame).tolist() == [False, False, False, True, False]


def test_value_functions() -> None:
    frame = _frame()
    assert evaluate("matches(AETERM, '^[A-Z]')", frame).tolist() == [True, False, False, True, True]
    assert evaluate("not matches(AETERM, '^[A-Z]')", frame).tolist() == [False, True, True, False, False]
    assert evaluate("longer_than(AETERM, 6)", frame).tolist() == [True, False, False, False, True]
    assert evaluate("is_complete_date(AESTDTC)", frame).tolist() == [True, False, False, False, True]
    assert evaluate("is_incomplete_date(AESTDTC)", frame).tolist() == [False, True, False, False, False]
    assert evaluate("is_invalid_date(AESTDTC)", frame).tolist() == [False, False, False, True, False]
    assert evaluate("is_not_unique_set(USUBJID, AESEQ)", frame).tolist() == [True, True, False, False, False]


def test_date_comparisons_use_the_precision_both_dates_have() -> None:
    frame = _frame()
    # 2024-03 vs 2024-03-20: the same month, neither earlier nor later; blank and invalid dates never compare
    assert evaluate("date_gt(AESTDTC, AEENDTC)", frame).tolist() == [True, False, False, False, False]
    assert evaluate("date_le(AESTDTC, AEENDTC)", frame).tolist() == [False, True, False, False, True]
    assert evaluate("date_eq(AESTDTC, '2024-03')", frame).tolist() == [True, True, False, False, True]


def test_relationship_and_groups() -> None:
    frame = pd.DataFrame({"TESTCD": ["A", "A", "B", "C"], "TEST": ["Alpha", "Alpha2", "Beta", "Beta"]})
    assert evaluate("is_not_unique_relationship(TESTCD, TEST)", frame).tolist() == [True, True, True, True]
    frame = pd.DataFrame({"G": ["1", "1", "2"], "V": ["x", "y", "z"]})
    assert evaluate("is_inconsistent_within(V, G)", frame).tolist() == [True, True, False]
    assert evaluate("next_in_group_differs(V, G)", frame).tolist() == [True, False, False]
    assert evaluate("is_last_in_group(G)", frame).tolist() == [False, True, True]


def test_a_value_function_on_an_absent_column_names_it() -> None:
    with pytest.raises(ExprError, match="reads AEOCCUR"):
        evaluate("is_complete_date(AEOCCUR)", _frame())


def test_exact_comparison_keeps_case() -> None:
    frame = pd.DataFrame({"STAT": ["NOT DONE", "Not Done", ""]})
    assert evaluate("STAT = 'NOT DONE'", frame).tolist() == [True, True, False]
    assert evaluate("STAT = 'NOT DONE'", frame, exact=True).tolist() == [True, False, False]
    assert evaluate("STAT in ('NOT DONE')", frame, exact=True).tolist() == [True, False, False]


def test_calls_are_not_expressible_in_define_xml() -> None:
    with pytest.raises(ExprError, match="(?i)call"):
        row_condition(parse("is_complete_date(AESTDTC)"), ())


def test_every_function_has_a_docstring() -> None:
    assert all(f.doc for f in FUNCTIONS.values())


def test_a_negated_call_is_not_expressible_in_define_xml() -> None:
    with pytest.raises(ExprError, match="a function"):
        where_clauses(parse("not is_complete_date(AESTDTC)"))
