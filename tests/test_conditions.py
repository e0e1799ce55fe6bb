"""The Filter/Condition language: parsed, never evaluated as code."""

from __future__ import annotations

import pandas as pd
import pytest

from sdtm.conditions import ConditionError, evaluate, parse_condition

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
    assert evaluate(FRAME, text).tolist() == expected


@pytest.mark.parametrize("text", ["__import__('os').system('x')", "EXYN == 'Y'", "EXYN = Y", "EXYN in ()"])
def test_rejects_anything_else(text: str) -> None:
    with pytest.raises(ConditionError):
        parse_condition(text)


def test_condition_may_name_another_forms_column() -> None:
    from sdtm.conditions import condition_columns

    assert condition_columns("enrol.SEX in ('F', 'Female') and VISIT = 'Baseline'") == ("enrol.SEX", "VISIT")
