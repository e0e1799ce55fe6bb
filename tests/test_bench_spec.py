"""The benchmark's spec copies (bench/spec.py): panel terms, units, LBCAT and ADLB parameters."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench.spec import ADAM_SPEC, CT_ROWS, SDTM_SPEC, adam_tables, panel_ct_rows, read_ct_rows, sdtm_tables, write_study
from simulate.safety_labs import PANEL
from subgen.core.spec.workbook import read_workbook

REPO = Path(__file__).resolve().parents[1]
CT_FILE = REPO.parent / "shared" / "reference" / "ct" / "SDTM_Terminology_2025-03-28.txt"


@pytest.fixture(scope="module")
def tables():
    return sdtm_tables(read_workbook(SDTM_SPEC), read_ct_rows())


def _records(table, **match):
    return [r for _, r in table.records() if all(r[k] == v for k, v in match.items())]


@pytest.mark.skipif(not CT_FILE.is_file(), reason="CDISC CT reference file not available")
def test_committed_ct_rows_are_the_ct_release() -> None:
    assert read_ct_rows(CT_ROWS) == panel_ct_rows(CT_FILE)
    with CT_FILE.open(encoding="utf-8") as fh:
        ct = {(r["Codelist Code"], r["CDISC Submission Value"]): r["Code"] for r in csv.DictReader(fh, delimiter="\t")}
    # LBTESTCD C65047: every panel code with its NCI code; LBTEST C67154 pairs by the same code
    for row in read_ct_rows(CT_ROWS):
        assert ct[(row[2], row[8])] == row[9], row


def test_lbtestcd_terms_decode_to_lbtest_and_take_the_lab_names(tables) -> None:
    cl = tables["Codelists"]
    testcd = {r["Term"]: r for r in _records(cl, ID="LBTESTCD")}
    test = {r["NCI Term Code"]: r["Term"] for r in _records(cl, ID="LBTEST")}
    for t in PANEL:
        row = testcd[t.testcd]
        assert row["Decoded Value"] == test[row["NCI Term Code"]]
        names = {row["Term"].upper(), row["Decoded Value"].upper(),
                 *(s.upper() for s in row["Synonyms"].split("|") if s)}
        assert t.name.upper() in names, t.name
    assert testcd["RBC"]["Synonyms"] == "Red blood cell count" and testcd["RBC"]["Decoded Value"] == "Erythrocytes"
    assert testcd["ALT"]["Synonyms"] == ""  # the lab's "ALT" is the term itself
    # orders continue after the spec's own terms, one number per term
    orders = [int(r["Order"]) for r in _records(cl, ID="LBTESTCD")]
    assert sorted(orders) == list(range(1, len(orders) + 1)) and len(orders) == 33
    units = {r["Term"] for r in _records(cl, ID="UNIT")}
    assert {t.unit for t in PANEL} | {t.si_unit for t in PANEL} <= units
    assert {r["Term"] for r in _records(cl, ID="SPECTYPE")} == {"SERUM", "CEREBROSPINAL FLUID", "BLOOD"}


def test_units_rows_convert_conventional_to_si(tables) -> None:
    units = {(r["Test"], r["From Unit"]): r for _, r in tables["Units"].records()}
    assert (units[("HGB", "g/dL")]["To Unit"], units[("HGB", "g/dL")]["Factor"]) == ("g/L", "10")
    assert (units[("GLUC", "mg/dL")]["To Unit"], units[("GLUC", "mg/dL")]["Factor"]) == ("mmol/L", "0.0555")
    assert (units[("CREAT", "mg/dL")]["To Unit"], units[("CREAT", "mg/dL")]["Factor"]) == ("umol/L", "88.42")
    assert (units[("K", "mmol/L")]["To Unit"], units[("K", "mmol/L")]["Factor"]) == ("mmol/L", "1")
    assert ("NFLP", "ng/L") in units and len(units) == 32


def test_lbcat_mappings_follow_the_spec_rows(tables) -> None:
    rows = [r for _, r in tables["Mappings"].records() if r["Dataset"] == "LB" and r["Variable"] == "LBCAT"]
    assert [r["Value"] for r in rows] == ["NEUROLOGICAL BIOMARKERS", "NEUROLOGICAL BIOMARKERS", "CSF IMMUNOLOGY",
                                          "HEMATOLOGY", "CHEMISTRY"]
    assert rows[3]["Condition"].startswith("LBTEST in ('Hemoglobin', 'Hematocrit', ")
    assert "'Cholesterol')" in rows[4]["Condition"]


def test_adlb_parameters_one_per_test() -> None:
    params = [r for _, r in adam_tables(read_workbook(ADAM_SPEC))["Parameters"].records() if r["Dataset"] == "ADLB"]
    assert [r["PARAMCD"] for r in params[5:]] == [t.testcd for t in PANEL]
    hgb = params[5]
    assert (hgb["PARAMN"], hgb["PARAM"], hgb["PARCAT1"]) == ("6", "Hemoglobin (g/L)", "HEMATOLOGY")
    assert hgb["Filter"] == "LBTESTCD = 'HGB' and LBSPEC = 'BLOOD'"
    assert params[-1]["Filter"] == "LBTESTCD = 'CHOL' and LBSPEC = 'SERUM'"


def test_write_study_gives_loadable_specs(tmp_path: Path) -> None:
    folder = write_study(tmp_path / "study", tmp_path / "raw")
    text = (folder / "study.toml").read_text(encoding="utf-8")
    assert 'name = "ms_exo"' in text and str((tmp_path / "raw").resolve()) in text
    assert (folder / "specs" / "ms_exo_bench.xlsx").is_file()
    assert (folder / "specs" / "ms_exo_bench_adam.xlsx").is_file()
    # the product spec itself is untouched by the bench
    assert "HGB" not in {r["Term"] for r in _records(read_workbook(SDTM_SPEC)["Codelists"], ID="LBTESTCD")}
