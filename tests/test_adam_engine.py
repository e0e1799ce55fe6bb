"""The ADaM spec workbook, the derivation registry, conditions and the engine's static checks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from spec_edit import append_row, load_tables, save, set_cell

import adam.functions  # noqa: F401  (registers the derivations)
from adam.engine import TRACE_COL, check_derivations, run_step
from adam.registry import REGISTRY, convert, parse_arguments
from subgen.core.expr import ExprError, evaluate, parse
from subgen.core.frames import conform
from subgen.core.problems import ProblemError
from subgen.core.spec.loader import load_spec
from subgen.core.spec.model import Dataset, DerivationStep, Variable

ADAM_SPECS = ["specs/ms_exo_adam.xlsx", "specs/t2dm_exo_adam.xlsx"]


@pytest.mark.parametrize("name", ADAM_SPECS)
def test_demo_adam_specs_load_and_pass_the_static_checks(root: Path, name: str) -> None:
    spec = load_spec(root / name)
    assert spec.standard == "ADaM" and spec.study.adamig_version == "1.3"
    adsl = spec.dataset("ADSL")
    assert adsl.keys == ("STUDYID", "USUBJID")
    assert adsl.variable("TRTSDT").display_format == "DATE9." and adsl.variable("TRTSDT").is_numeric
    assert spec.derivations_for("ADSL")[0].function == "derive_records_sdtm"
    assert check_derivations(spec) == []


def test_every_variable_of_the_demo_specs_has_a_derivation(root: Path) -> None:
    for name in ADAM_SPECS:
        spec = load_spec(root / name)
        for d in spec.datasets:
            given = {v for s in spec.derivations_for(d.name) for v in s.variables}
            assert set(d.variable_names) <= given, d.name


def test_sdtm_workbook_is_not_taken_for_an_adam_one(root: Path) -> None:
    assert load_spec(root / "specs/ms_exo.xlsx").standard == "SDTM"


@pytest.fixture()
def tables(root: Path):
    return load_tables(root / "specs/t2dm_exo_adam.xlsx")


def _problems(path: Path) -> list:
    with pytest.raises(ProblemError) as info:
        load_spec(path)
    return info.value.problems


def test_variable_without_derivation_is_named_with_its_row(tables, tmp_path: Path) -> None:
    row = append_row(tables, "Variables", {"Order": "99", "Dataset": "ADSL", "Variable": "BMIBL",
                                           "Label": "Baseline BMI", "Data Type": "float", "Origin": "Derived"})
    (p,) = _problems(save(tables, tmp_path / "a.xlsx"))
    assert (p.rule, p.row, p.value) == ("SPEC-UNMAPPED", row, "ADSL.BMIBL")
    assert "no Derivations row gives it" in p.message


def test_bad_window_rows_are_reported(tables, tmp_path: Path) -> None:
    set_cell(tables, "Windows", {"Dataset": "ADLB", "AVISIT": "MONTH 1"}, "Selection", "NEAREST")
    r2 = set_cell(tables, "Windows", {"Dataset": "ADLB", "AVISIT": "MONTH 2"}, "Low Day", "40")
    problems = _problems(save(tables, tmp_path / "a.xlsx"))
    rules = {(p.rule, p.column) for p in problems}
    assert ("SPEC-VALUE", "Selection") in rules
    overlap = [p for p in problems if p.rule == "SPEC-WINDOW"]
    assert overlap and overlap[0].row == r2 and "overlaps window MONTH 1" in overlap[0].message


def test_bad_condition_and_unknown_variable_in_derivations(tables, tmp_path: Path) -> None:
    r = set_cell(tables, "Derivations", {"Dataset": "ADSL", "Variable": "COMPLFL"}, "Condition", "EOSSTT == COMPLETED")
    r2 = set_cell(tables, "Derivations", {"Dataset": "ADSL", "Variable": "ITTFL"}, "Variable", "ITTFLG")
    problems = _problems(save(tables, tmp_path / "a.xlsx"))
    assert any(p.rule == "SPEC-CONDITION" and p.row == r for p in problems)
    assert any(p.rule == "SPEC-REFERENCE" and p.row == r2 and "Did you mean 'ITTFL'" in p.message
               for p in problems)


def test_static_checks_name_function_argument_and_codelist(tables, tmp_path: Path) -> None:
    r1 = set_cell(tables, "Derivations", {"Dataset": "ADSL", "Variable": "TRTDURD"}, "Function", "derive_var_durration")
    r2 = set_cell(tables, "Derivations", {"Dataset": "ADSL", "Variable": "AGEGR1"}, "Arguments",
                  "source=AGE; cut=55; codelist=AGEGR1")
    r3 = set_cell(tables, "Derivations", {"Dataset": "ADSL", "Variable": "AGEGR1N"}, "Arguments",
                  "source=AGEGR1; codelist=AGEGRP")
    spec = load_spec(save(tables, tmp_path / "a.xlsx"))
    found = {(p.row, p.column): p for p in check_derivations(spec)}
    assert "Did you mean 'derive_var_duration'" in found[(r1, "Function")].message
    by_row = [p for p in check_derivations(spec) if p.row == r2]
    assert any("has no argument 'cut'" in p.message and "Did you mean 'cuts'" in p.message for p in by_row)
    assert any("needs the argument cuts" in p.message for p in by_row)
    assert "codelist 'AGEGRP' is not in the Codelists sheet" in found[(r3, "Arguments")].message


def test_derived_parameter_needs_a_creator(tables, tmp_path: Path) -> None:
    append_row(tables, "Parameters", {"Dataset": "ADLB", "PARAMCD": "HOMAIR", "PARAM": "HOMA-IR"})
    spec = load_spec(save(tables, tmp_path / "a.xlsx"))
    (p,) = [p for p in check_derivations(spec) if p.rule == "SPEC-PARAMETER"]
    assert p.value == "HOMAIR" and "no derive_param_* row creates it" in p.message


def test_parse_and_convert_arguments() -> None:
    args = parse_arguments("source=AGE; cuts=50, 65; rule=CHG <= -4; text=a = b")
    assert args == {"source": "AGE", "cuts": "50, 65", "rule": "CHG <= -4", "text": "a = b"}
    assert convert("50, 65", tuple[float, ...]) == (50.0, 65.0)
    assert convert("Y", bool) is True and convert("3", int | None) == 3
    with pytest.raises(ValueError, match="no '='"):
        parse_arguments("source")
    with pytest.raises(ValueError, match="given twice"):
        parse_arguments("a=1; a=2")
    with pytest.raises(ValueError, match="not a number"):
        convert("x", float)


def test_numeric_conditions_and_sdtm_clauses() -> None:
    frame = pd.DataFrame({"CHG": pd.Series([-5, -4, -3.5, None], dtype="Float64"),
                          "PARAMCD": pd.Series(["SDMT", "SDMT", "X", "SDMT"], dtype="string")})
    assert list(evaluate("CHG <= -4", frame)) == [True, True, False, False]
    assert list(evaluate("CHG <= -4 and PARAMCD = 'sdmt'", frame)) == [True, True, False, False]
    assert list(evaluate("CHG is blank", frame)) == [False, False, False, True]
    assert list(evaluate("PARAMCD in ('X')", frame)) == [False, False, True, False]
    with pytest.raises(ExprError):
        parse("CHG <== 4")
    with pytest.raises(KeyError, match="reads AVAL"):
        evaluate("AVAL > 1", frame)


def _dataset(*names: str) -> Dataset:
    return Dataset("ADX", "X", "BASIC DATA STRUCTURE", "x", ("USUBJID",),
                   tuple(Variable("ADX", n, n, "float" if n in ("AVAL", "CHG") else "text", 8, i)
                         for i, n in enumerate(names, start=1)))


def test_condition_limits_where_a_derivation_writes() -> None:
    frame = pd.DataFrame({"USUBJID": pd.Series(["A", "B"], dtype="string"),
                          "PARAMCD": pd.Series(["P1", "P2"], dtype="string")})
    step = DerivationStep("ADX", ("FLAG",), "derive_var_constant", "value=Y", "PARAMCD = 'P2'", row=5)
    out = run_step(None, frame, step, _dataset("USUBJID", "PARAMCD", "FLAG"))
    assert out["FLAG"].isna().tolist() == [True, False] and out["FLAG"][1] == "Y"


def test_conform_orders_types_and_sorts_by_keys() -> None:
    frame = pd.DataFrame({"AVAL": [2, 1], "USUBJID": ["B", "A"], "EXTRA": [1, 2], "__trace": [[1], [2]]})
    out = conform(frame, _dataset("USUBJID", "AVAL"), keep=(TRACE_COL,))
    assert list(out.columns) == ["USUBJID", "AVAL", "__trace"]
    assert list(out["USUBJID"]) == ["A", "B"] and str(out["AVAL"].dtype) == "Float64"


def test_registry_functions_take_the_dataset_first_and_have_docstrings() -> None:
    assert len(REGISTRY) >= 25
    for fn in REGISTRY.values():
        assert fn.doc, fn.name
        assert fn.name.startswith(("derive_var_", "derive_vars_", "derive_param_", "derive_records_")), fn.name


def test_wrong_number_of_variables_is_a_static_problem(tables, tmp_path: Path) -> None:
    r = set_cell(tables, "Derivations", {"Dataset": "ADLB", "Variable": "AVISIT, AVISITN"}, "Variable",
                 "AVISIT, AVISITN, ADY")
    spec = load_spec(save(tables, tmp_path / "a.xlsx"))
    hit = [p for p in check_derivations(spec) if p.row == r]
    assert hit and "derive_vars_windows gives 2 variables; the row names 3" in hit[0].message


def test_a_derivation_that_does_not_fit_the_data_names_its_row(built, tables, tmp_path: Path) -> None:
    """Every ADLB record flagged as baseline: BASE cannot choose, and the problem names the BASE row."""
    from adam.stage import run_adam

    set_cell(tables, "Derivations", {"Dataset": "ADLB", "Variable": "ABLFL"}, "Function", "derive_var_constant")
    set_cell(tables, "Derivations", {"Dataset": "ADLB", "Variable": "ABLFL"}, "Arguments", "value=Y")
    base_row = next(n for n, rec in tables["Derivations"].records()
                    if rec["Dataset"] == "ADLB" and rec["Variable"] == "BASE")
    root = Path(__file__).resolve().parents[1]
    out = built["t2dm_exo"].parent.parent
    before = sorted(p.name for p in (out / "t2dm_exo").iterdir())
    with pytest.raises(ProblemError) as info:
        run_adam(root / "studies" / "t2dm_exo", out, save(tables, tmp_path / "a.xlsx"))
    (p,) = info.value.problems
    assert (p.rule, p.row) == ("ADAM-DERIVATION", base_row) and "more than one ABLFL" in p.message
    assert sorted(p.name for p in (out / "t2dm_exo").iterdir()) == before  # nothing written
