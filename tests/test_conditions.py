"""The Filter/Condition language: parsed, never evaluated as code (subgen.core.expr, condition surface)."""

from __future__ import annotations

import pandas as pd
import pytest

from subgen.core.expr import ExprError, columns, evaluate, parse

FRAME = pd.DataFrame({"EXYN": ["Y", "n", "", "Y"], "ST": ["Death", "Completed", "Death", ""]})


@pytest.mark.parametrize("text, expected", [
    ("EXYN = 'Y'", [True, False, False, True]),
    ("EXYN != 'Y'", [False, True, True, False]),
    ("EXYN = 'N'", [False, True, False, False]),
    ("ST in ('death', 'Completed')", [True, True, True, False]),
    ("ST not in ('Death')", [False, True, False, True]),
    ("EXYN is blank", [False, False, True, False]),
    ("EXYN is not blank and ST = 'Death'", [True, False, False, False]),
])
def test_evaluate(text: str, expected: list[bool]) -> None:
    assert evaluate(text, FRAME).tolist() == expected


@pytest.mark.parametrize("text", ["__import__('os').system('x')", "EXYN == 'Y'", "EXYN in ()"])
def test_rejects_anything_else(text: str) -> None:
    with pytest.raises(ExprError):
        parse(text)


def test_an_unquoted_value_is_refused_with_the_quoted_form() -> None:
    # EXYN = Y reads as EXYN compared with a column Y; the frame has none, so it is refused, saying to quote it
    with pytest.raises(ExprError, match="write e.g. EXYN = 'Y'"):
        evaluate("EXYN = Y", FRAME)


def test_condition_may_name_another_forms_column() -> None:
    refs = columns(parse("enrol.SEX in ('F', 'Female') and VISIT = 'Baseline'"))
    assert tuple(ref.key for ref in refs) == ("enrol.SEX", "VISIT")
    assert (refs[0].form, refs[0].column) == ("enrol", "SEX")
