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
from subgen.core.expr import parse
from subgen.core.problems import ProblemError
from subgen.core.spec.cells import CONDITION_ARGUMENTS, RawPart, parse_arguments, parse_range, parse_raw_ref
from subgen.core.spec.loader import load_spec, spec_from_tables
from subgen.core.spec.model import Mapping, Source, ValueRange
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


# ------------------------------------------------------------------------------------------ Raw Column
@pytest.mark.parametrize("text, parts, label", [
    ("AGE", (RawPart(None, "AGE"),), "AGE"),
    ("rand.ARM", (RawPart("rand", "ARM"),), "ARM"),
    ("kitlist.LOTNO@KITNO", (RawPart("kitlist", "LOTNO", "KITNO"),), "LOTNO@KITNO"),
    ("dosing.EXDAT+EXSTTIM", (RawPart("dosing", "EXDAT"), RawPart(None, "EXSTTIM")), "EXDAT+EXSTTIM"),
    ("LBDAT + LBTIM", (RawPart(None, "LBDAT"), RawPart(None, "LBTIM")), "LBDAT + LBTIM"),
])
def test_parse_raw_ref(text: str, parts: tuple[RawPart, ...], label: str):
    ref = parse_raw_ref(text)
    assert (ref.text, ref.parts, ref.label) == (text, parts, label)
    assert ref.reads_other_form is (parts[0].form is not None)


def test_later_parts_share_the_first_parts_form():
    assert parse_raw_ref("dosing.EXDAT+EXSTTIM").resolved("ex") == (RawPart("dosing", "EXDAT"),
                                                                    RawPart("dosing", "EXSTTIM"))
    assert parse_raw_ref("EXDAT+EXSTTIM").resolved("ex") == (RawPart("ex", "EXDAT"), RawPart("ex", "EXSTTIM"))
    assert RawPart("kitlist", "LOTNO", "KITNO").shown == "LOTNO@KITNO"


def test_a_mapping_carries_its_raw_column_parsed():
    mp = Mapping("EX", "dosing", "EXLOT", "assign_no_ct", "kitlist.LOTNO@KITNO")
    assert mp.raw == parse_raw_ref("kitlist.LOTNO@KITNO")
    assert Mapping("DM", "dm", "DOMAIN", "hardcode_ct", value="DM").raw is None
    spec = load_spec(SPEC)
    assert all((mp.raw is None) == (not mp.raw_column) for mp in spec.mappings)


# ------------------------------------------------------------------------------------------ Arguments
def test_parse_arguments_keeps_values_and_parses_conditions():
    args = parse_arguments("dataset_add=DS; filter=DSDECOD = 'RANDOMIZED' and DSSTDTC is not blank; text=a = b")
    assert args.as_dict() == {"dataset_add": "DS", "filter": "DSDECOD = 'RANDOMIZED' and DSSTDTC is not blank",
                              "text": "a = b"}
    assert args.condition("filter") == parse("DSDECOD = 'RANDOMIZED' and DSSTDTC is not blank")
    assert args.condition("text") is None and "filter" in CONDITION_ARGUMENTS
    assert parse_arguments(None).as_dict() == {}
    for bad, why in [("source", "has no '='"), ("a=1; a=2", "given twice"), ("rule=CHG <=", "cannot read")]:
        with pytest.raises(ValueError, match=why):
            parse_arguments(bad)


ADAM = SPEC.with_name("ms_exo_adam.xlsx")


def test_the_adam_loader_gives_each_step_its_arguments():
    spec = load_spec(ADAM)
    crit = next(s for s in spec.derivations if s.function == "derive_var_crit")
    assert crit.args is not None and crit.args.condition("rule") == parse("CHG <= -4")


@pytest.mark.parametrize("arguments, column_value, message, rule", [
    ("text=x; rule", "text=x; rule", "argument 'rule' has no '='", "SPEC-DERIVATION"),
    ("text=x; rule=CHG <= ", "CHG <=", "cannot read condition", "SPEC-CONDITION"),
])
def test_a_bad_arguments_cell_is_a_load_problem_with_its_cell(arguments: str, column_value: str, message: str,
                                                              rule: str):
    tables = load_tables(ADAM)
    row = set_cell(tables, "Derivations", {"Function": "derive_var_crit"}, "Arguments", arguments)
    with pytest.raises(ProblemError) as err:
        spec_from_tables(tables, ADAM)
    (p,) = err.value.problems
    assert (p.where, p.row, p.column, p.value, p.rule) == (f"{ADAM} [Derivations]", row, "Arguments", column_value,
                                                           rule)
    assert message in p.message


# ------------------------------------------------------------------------------------------ item ranges
def test_a_sources_result_columns_are_read_once():
    src = Source("QS", "qol", "qol", result_column="MSQOL01..MSQOL03, MSQOL05")
    assert src.result_columns == (("MSQOL01", "01"), ("MSQOL02", "02"), ("MSQOL03", "03"), ("MSQOL05", "05"))
    assert src.result_columns is src.result_columns and src.is_repeated
    with pytest.raises(ValueError, match="same prefix"):
        _ = Source("QS", "qol", "qol", result_column="A01..B03").result_columns
