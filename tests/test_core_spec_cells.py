"""Spec cell languages parsed once at load (subgen.core.spec.cells) and located as Problems."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from subgen.core.conformance import gx_runner
from subgen.core.conformance.outcomes import ISSUES
from subgen.core.conformance.ranges import declared_ranges, ranges_for
from subgen.core.conformance.suite import build_suite
from subgen.core.problems import ProblemError
from subgen.core.spec.cells import parse_range
from subgen.core.spec.loader import load_spec, spec_from_tables
from subgen.core.spec.model import ValueRange
from tests.spec_edit import load_tables, set_cell

SPEC = Path(__file__).resolve().parents[1] / "specs" / "ms_exo.xlsx"


def test_parse_range():
    assert parse_range("0 to 10 by 0.5") == ValueRange(0.0, 10.0, 0.5, "0 to 10 by 0.5")
    assert parse_range("0 TO 110") == ValueRange(0.0, 110.0, None, "0 TO 110")
    assert parse_range(" -3.5 to 2 by 0.25 ") == ValueRange(-3.5, 2.0, 0.25, "-3.5 to 2 by 0.25")
    for bad, why in [("0-10", "cannot read"), ("10 to 0", "larger than"), ("0 to 10 by 0", "positive"),
                     ("0 to 10 by 3", "whole number of steps"), ("a to 10", "not a number"),
                     ("0 to 1000000 by 0.001", "steps")]:
        with pytest.raises(ValueError, match=why):
            parse_range(bad)


def test_the_loader_parses_the_range_column_into_the_model():
    spec = load_spec(SPEC)
    edss = next(vl for vl in spec.value_level if vl.where.text == "RSTESTCD EQ EDSS0101")
    assert edss.range == ValueRange(0.0, 10.0, 0.5, "0 to 10 by 0.5")
    assert sum(vl.range is not None for vl in spec.value_level) == len(declared_ranges(spec)) > 0


def test_an_xlsm_spec_keeps_its_range_checks(tmp_path: Path):
    """Issue 21: ranges were read only from .xlsx; an .xlsm copy must check a planted EDSS 10.5."""
    xlsm = tmp_path / "ms_exo.xlsm"
    shutil.copy(SPEC, xlsm)
    spec = load_spec(xlsm)
    assert declared_ranges(spec) == declared_ranges(load_spec(SPEC))
    rs = spec.dataset("RS")
    suite = build_suite(rs, {c.id: c for c in spec.codelists}, ranges=ranges_for("RS", declared_ranges(spec)))
    frame = pd.DataFrame({"USUBJID": ["S1", "S2"], "RSTESTCD": ["EDSS0101", "EDSS0101"], "RSSTRESN": [3.5, 10.5]})
    frame = frame.reindex(columns=[*frame.columns, *(n for n in rs.variable_names if n not in frame)])
    runs = {r.check: r for r in gx_runner.run_suite_checks(frame, suite)}
    value = runs["RANGE-VALUE:RSSTRESN:RSTESTCD EQ EDSS0101"]
    assert value.outcome == ISSUES and [p.value for p in value.problems] == ["10.5"]


@pytest.mark.parametrize("where, text, message", [
    ("RSTESTCD EQ EDSS0101", "0 to ten", "maximum 'ten' is not a number"),
    ("RSTESTCD EQ EDSS0101", "10 to 0", "the minimum is larger than the maximum"),
])
def test_a_bad_range_is_a_load_problem_with_its_cell(where: str, text: str, message: str):
    tables = load_tables(SPEC)
    row = set_cell(tables, "ValueLevel", {"Where Clause": where}, "Range", text)
    with pytest.raises(ProblemError) as err:
        spec_from_tables(tables, SPEC)
    (p,) = err.value.problems
    assert (p.where, p.row, p.column, p.value, p.rule) == (f"{SPEC} [ValueLevel]", row, "Range", text, "SPEC-RANGE")
    assert message in p.message and "README" in p.fix


def test_a_range_on_a_character_variable_is_a_load_problem():
    tables = load_tables(SPEC)
    row = set_cell(tables, "ValueLevel", {"Where Clause": "RSTESTCD EQ EDSS0101"}, "Variable", "RSORRES")
    with pytest.raises(ProblemError) as err:
        spec_from_tables(tables, SPEC)
    found = [(p.row, p.column, p.message) for p in err.value.problems if p.rule == "SPEC-RANGE"]
    assert found == [(row, "Range", "RSORRES is a character variable; a Range needs a numeric (integer/float) "
                                    "variable")]
