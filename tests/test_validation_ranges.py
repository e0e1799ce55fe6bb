"""Numeric ranges from the ValueLevel sheet's Range column (subgen.core.conformance.ranges) and their GX checks."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest

from subgen.core.conformance import gx_runner
from subgen.core.conformance.outcomes import ISSUES, PASSED
from subgen.core.conformance.ranges import RangeRule, declared_ranges, numeric_variables, range_rule
from subgen.core.conformance.suite import build_suite, suite_to_json
from subgen.core.expr import ExprError, RangeCheck, parse_where, parse_where_clause, range_checks, row_condition
from subgen.core.spec.cells import parse_range
from subgen.core.spec.model import Dataset, ValueLevel, Variable


def _v(name: str, data_type: str = "text") -> Variable:
    return Variable("RS", name, name, data_type, 8, 0)


RS = Dataset("RS", "Disease Response", "FINDINGS", "One record per test per visit per subject",
             ("USUBJID", "RSTESTCD", "VISITNUM"),
             (_v("USUBJID"), _v("RSTESTCD"), _v("VISITNUM", "float"), _v("RSSTRESN", "float"),
              _v("RSORRES")))
EDSS = ValueLevel("RS", "RSSTRESN", "RSTESTCD EQ EDSS0101", "float", 8, 1, row=2)


def _rule(vl: ValueLevel, text: str) -> RangeRule:
    return range_rule(replace(vl, range=parse_range(text)))


def test_parse_where():
    assert range_checks(parse_where("RSTESTCD EQ EDSS0101")) == (RangeCheck("RSTESTCD", "EQ", ("EDSS0101",)),)
    assert range_checks(parse_where("LBTESTCD in (GLUC, 'HBA1C') and LBSPEC NE \"URINE\"")) == (
        RangeCheck("LBTESTCD", "IN", ("GLUC", "HBA1C")), RangeCheck("LBSPEC", "NE", ("URINE",)))
    with pytest.raises(ValueError, match="cannot read where clause"):
        parse_where("RSTESTCD = EDSS0101")
    # the condition surface reads it, as a column compared with a column, which define.xml cannot express
    with pytest.raises(ExprError, match="define.xml cannot express"):
        range_checks(parse_where_clause("RSTESTCD = EDSS0101"))


def test_row_condition_quotes_text_and_not_numbers():
    rule = _rule(ValueLevel("RS", "RSSTRESN", "RSTESTCD IN (EDSS0101, X\"Y) AND VISITNUM GE 2",
                                 "float", 8, 1), "0 to 10")
    assert row_condition(rule.expression, numeric_variables(RS)) == (
        r'RSTESTCD in ["EDSS0101", "X\"Y"] and VISITNUM >= 2.0')


def test_allowed_values_are_the_steps():
    rule = _rule(EDSS, "0 to 10 by 0.5")
    assert rule.allowed_values == [k / 2 for k in range(21)]
    assert _rule(EDSS, "0 to 110").allowed_values == []


def _frame(values: list) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame({"USUBJID": [f"S{i}" for i in range(n)], "RSTESTCD": ["EDSS0101"] * (n - 1) + ["KFSS1"],
                         "VISITNUM": [1.0] * n, "RSSTRESN": values, "RSORRES": ["x"] * n})


def test_range_and_step_checks_fire_only_on_matching_records():
    suite = build_suite(RS, {}, ranges=[_rule(EDSS, "0 to 10 by 0.5")])
    # 6.499999999999999 is 6.5 read back from IBM floating point; 10.5 is out of range; 3.3 is off-step;
    # None is not checked; 50 is on a record of another test (KFSS1) and must not fire.
    runs = {r.check: r for r in gx_runner.run_suite_checks(_frame([6.499999999999999, 10.5, 3.3, None, 0.0, 50.0]),
                                                            suite)}
    value = runs["RANGE-VALUE:RSSTRESN:RSTESTCD EQ EDSS0101"]
    step = runs["RANGE-STEP:RSSTRESN:RSTESTCD EQ EDSS0101"]
    assert value.outcome == ISSUES and [(p.row, p.value) for p in value.problems] == [(2, "10.5")]
    # 10.5 is outside the range: reported once, by RANGE-VALUE; 3.3 is inside but off the steps
    assert step.outcome == ISSUES and [(p.row, p.value) for p in step.problems] == [(3, "3.3")]
    assert value.problems[0].severity == "Error" and "0 to 10" in value.problems[0].message
    clean = {r.check: r.outcome for r in gx_runner.run_suite_checks(_frame([0.0, 10.0, 4.5, 50.0]), suite)}
    assert clean["RANGE-VALUE:RSSTRESN:RSTESTCD EQ EDSS0101"] == PASSED
    assert clean["RANGE-STEP:RSSTRESN:RSTESTCD EQ EDSS0101"] == PASSED


def test_range_checks_are_visible_in_the_suite_json():
    data = json.loads(suite_to_json(build_suite(RS, {}, ranges=[_rule(EDSS, "0 to 10 by 0.5")])))
    between = [e for e in data["expectations"] if e["meta"]["rule"] == "RANGE-VALUE"][0]
    assert between["kwargs"]["row_condition"]["pass_through_filter"] == 'RSTESTCD == "EDSS0101"'
    assert (between["kwargs"]["min_value"], between["kwargs"]["max_value"]) == (0.0, 10.0)


def test_declared_ranges_are_the_rows_with_a_range():
    spec = _spec((replace(EDSS, range=parse_range("0 to 10 by 0.5")), replace(EDSS, variable="RSORRES", row=3)))
    (rule,) = declared_ranges(spec)
    assert (rule.dataset, rule.variable, rule.minimum, rule.maximum, rule.step, rule.row) == (
        "RS", "RSSTRESN", 0, 10, 0.5, 2)
    assert declared_ranges(_spec((EDSS,))) == ()
    with pytest.raises(ValueError, match="declares no Range"):
        range_rule(EDSS)


def _spec(value_level: tuple[ValueLevel, ...]):
    from datetime import date

    from subgen.core.spec.model import Spec, StudyInfo

    info = StudyInfo("X", "X", "X", "X", "3.4", "2.0", "2025-03-28", date(2025, 1, 1))
    return Spec("x.xlsx", "", info, (RS,), (), value_level)
