"""The spec loader: loads the demo specs, and says exactly what is wrong with a broken one."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from spec_edit import append_row, load_tables, save, set_cell

from subgen.core.problems import ProblemError
from subgen.core.spec.loader import load_spec
from subgen.core.spec.workbook import SheetTable, read_workbook, tables_to_text, text_to_tables

SPECS = ["specs/ms_exo.xlsx", "specs/t2dm_exo.xlsx"]


@pytest.mark.parametrize("name", SPECS)
def test_demo_spec_loads(root: Path, name: str) -> None:
    spec = load_spec(root / name)
    dm = spec.dataset("DM")
    assert dm.label == "Demographics"
    assert dm.keys == ("STUDYID", "USUBJID")
    assert dm.variable_names[:4] == ("STUDYID", "DOMAIN", "USUBJID", "SUBJID")
    assert spec.study.sdtmig_version == "3.4" and spec.study.sdtm_version == "2.0"
    assert spec.study.ct_version == "2025-03-28"
    sex = spec.codelist("SEX")
    assert sex.nci_code == "C66731" and not sex.extensible
    assert {t.term: t.nci_code for t in sex.terms}["F"] == "C16576"


def _problems(path: Path) -> list:
    with pytest.raises(ProblemError) as info:
        load_spec(path)
    return info.value.problems


@pytest.fixture()
def tables(root: Path):
    return load_tables(root / "specs/ms_exo.xlsx")


def test_missing_sheet_suggests_nearest(tables, tmp_path: Path) -> None:
    tables["Varables"] = tables.pop("Variables")
    (p,) = _problems(save(tables, tmp_path / "s.xlsx"))
    assert p.rule == "SPEC-SHEET" and "'Variables' is missing" in p.message and "Did you mean 'Varables'" in p.message


def test_misspelt_column_named_with_its_row(tables, tmp_path: Path) -> None:
    t = tables["Variables"]
    tables["Variables"] = SheetTable(tuple("Lable" if h == "Label" else h for h in t.header), t.rows)
    (p,) = _problems(save(tables, tmp_path / "s.xlsx"))
    assert (p.column, p.row, p.value, p.rule) == ("Label", 1, "Lable", "SPEC-COLUMN")
    assert "misspelling" in p.message


def test_variable_name_longer_than_8(tables, tmp_path: Path) -> None:
    row = set_cell(tables, "Variables", {"Dataset": "DM", "Variable": "DMDY"}, "Variable", "DMSTUDYDAY")
    problems = _problems(save(tables, tmp_path / "s.xlsx"))
    hit = [p for p in problems if p.rule == "SPEC-NAME"]
    assert hit and hit[0].row == row and hit[0].value == "DMSTUDYDAY" and hit[0].where.endswith("[Variables]")


def test_label_over_40(tables, tmp_path: Path) -> None:
    label = "Subject Reference Start Date/Time of the Trial"  # 46 characters
    row = set_cell(tables, "Variables", {"Dataset": "DM", "Variable": "RFSTDTC"}, "Label", label)
    (p,) = _problems(save(tables, tmp_path / "s.xlsx"))
    assert (p.rule, p.row, p.column, p.value) == ("SPEC-LABEL", row, "Label", label)
    assert "46 characters" in p.message


def test_duplicate_variable(tables, tmp_path: Path) -> None:
    row = append_row(tables, "Variables", {"Order": "99", "Dataset": "DM", "Variable": "SEX", "Label": "Sex",
                                           "Data Type": "text", "Origin": "Collected"})
    (p,) = _problems(save(tables, tmp_path / "s.xlsx"))
    assert p.rule == "SPEC-DUPLICATE" and p.row == row and "declared twice" in p.message


def test_codelist_referenced_but_not_defined(tables, tmp_path: Path) -> None:
    row = set_cell(tables, "Variables", {"Dataset": "DM", "Variable": "SEX"}, "Codelist", "SEXX")
    problems = _problems(save(tables, tmp_path / "s.xlsx"))
    p = next(p for p in problems if p.rule == "SPEC-REFERENCE")
    assert p.row == row and p.value == "SEXX" and "Did you mean 'SEX'" in p.message


def test_key_variable_not_in_dataset(tables, tmp_path: Path) -> None:
    set_cell(tables, "Datasets", {"Dataset": "DM"}, "Key Variables", "STUDYID, USUBJIDD")
    (p,) = _problems(save(tables, tmp_path / "s.xlsx"))
    assert p.rule == "SPEC-KEY" and p.value == "USUBJIDD" and "Did you mean 'USUBJID'" in p.message


def test_dataset_name_that_leaves_the_output_folder(tables, tmp_path: Path) -> None:
    append_row(tables, "Datasets", {"Dataset": "../x", "Description": "Escape", "Class": "EVENTS",
                                    "Structure": "x"})
    problems = _problems(save(tables, tmp_path / "s.xlsx"))
    assert any(p.rule == "SPEC-NAME" and p.value == "../x" for p in problems)


def test_formula_cell_rejected(root: Path, tmp_path: Path) -> None:
    wb = load_workbook(root / "specs/ms_exo.xlsx")
    ws = wb["Variables"]
    ws["F3"] = "=2*10"
    path = tmp_path / "f.xlsx"
    wb.save(path)
    (p,) = _problems(path)
    assert p.rule == "SPEC-FORMULA" and p.row == 3 and p.value == "=2*10" and "Paste Special" in p.fix


def test_all_problems_reported_together(tables, tmp_path: Path) -> None:
    set_cell(tables, "Variables", {"Dataset": "DM", "Variable": "SEX"}, "Data Type", "txt")
    set_cell(tables, "Variables", {"Dataset": "DM", "Variable": "AGE"}, "Origin", "Colected")
    problems = _problems(save(tables, tmp_path / "s.xlsx"))
    assert {p.value for p in problems} >= {"txt", "Colected"}
    assert any("Did you mean 'Collected'" in p.message for p in problems)


def test_text_round_trip_is_lossless(root: Path, tmp_path: Path) -> None:
    tables = read_workbook(root / "specs/ms_exo.xlsx")
    text = tables_to_text(tables)
    again = text_to_tables(text)
    save(again, tmp_path / "rt.xlsx")
    assert tables_to_text(read_workbook(tmp_path / "rt.xlsx")) == text


def test_adam_header_cell_twice_is_named(root: Path, tmp_path: Path) -> None:
    """The ADaM workbook's sheets are checked as the SDTM one's: a header cell written twice is a located problem."""
    adam = load_tables(root / "specs/ms_exo_adam.xlsx")
    t = adam["Parameters"]
    first = t.header[0]
    adam["Parameters"] = SheetTable((first, first, *t.header[2:]), t.rows)
    problems = _problems(save(adam, tmp_path / "a.xlsx"))
    twice = [p for p in problems if p.message == "column header appears twice"]
    assert [(p.where.split(" [")[-1], p.row, p.column, p.rule) for p in twice] == [("Parameters]", 1, first,
                                                                                    "SPEC-COLUMN")]
