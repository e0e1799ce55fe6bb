"""SUPP-- datasets from the spec (ValueLevel SUPPxx.QVAL where QNAM EQ name + a Mappings row on xx) and
look-ups by key (form.COL@KEY), against values worked out by hand from the raw CSVs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import read
from spec_edit import append_row, load_tables, save

from sdtm.stage import build_sdtm
from subgen.core.problems import ProblemError
from subgen.core.spec.loader import load_spec
from subgen.core.study import load_study


def test_suppdm_randno_both_studies(built) -> None:
    # rand.csv: 101002 -> RANDNO R002; 201001 -> R004 (T2DM, line 2). DM links by USUBJID alone (no IDVAR).
    for study, usubjid, randno in (("ms_exo", "MSEXO01-101002", "R002"), ("t2dm_exo", "T2DMEXO01-201001", "R004")):
        supp = read(built[study], "suppdm")
        row = supp[supp["USUBJID"] == usubjid].iloc[0]
        assert (row["RDOMAIN"], row["IDVAR"], row["IDVARVAL"], row["QNAM"], row["QLABEL"], row["QVAL"],
                row["QORIG"]) == ("DM", "", "", "RANDNO", "Randomization Number", randno, "Assigned")
        # screen failures were never randomised: one RANDNO per randomised subject only
        dm = read(built[study], "dm")
        assert len(supp) == dm["ARMCD"].fillna("").ne("").sum()


def test_ex_lot_and_particles_from_kit_list(built) -> None:
    # dosing.csv line 6: 101002 Baseline kit K0119; kitlist.csv line 6: K0119 lot EXO-L01, 2.2E+10 particles.
    # Month 6 (dosing line 8) kit K0143: lot EXO-L02, 2.1E+10. 101001 (placebo) kits carry 0 particles.
    # The particle count is the active amount EXDOSE (no SUPPEX qualifier any more).
    ex = read(built["ms_exo"], "ex")
    s2 = ex[ex["USUBJID"] == "MSEXO01-101002"].set_index("VISIT")
    assert s2.loc["BASELINE", ["EXTRT", "EXLOT", "EXROUTE"]].tolist() == [
        "MSC-DERIVED EXOSOMES", "EXO-L01", "INTRAVENOUS"]
    assert s2.loc["MONTH 6", "EXLOT"] == "EXO-L02"
    assert s2.loc["BASELINE", "EXDOSE"] == 2.2e10 and s2.loc["MONTH 6", "EXDOSE"] == 2.1e10
    assert set(ex.loc[ex["USUBJID"] == "MSEXO01-101001", "EXDOSE"]) == {0}
    recon = pd.read_csv(built["ms_exo"] / "reports" / "reconciliation.csv").set_index("form")
    assert recon.loc["kitlist", "read_only"] == recon.loc["kitlist", "rows_in"] == 78  # every kit looked up


def _copy_study(root: Path, tmp_path: Path, study: str) -> Path:
    shutil.copytree(root / "studies" / study, tmp_path / "studies" / study)
    shutil.copytree(root / "specs", tmp_path / "specs")
    return tmp_path / "studies" / study


def test_kit_missing_from_kit_list_is_reported_at_the_dosing_row(root: Path, tmp_path: Path) -> None:
    study = _copy_study(root, tmp_path, "ms_exo")
    kits = (study / "raw" / "kitlist.csv").read_text().splitlines(keepends=True)
    (study / "raw" / "kitlist.csv").write_text("".join(k for k in kits if ",K0119," not in k))
    with pytest.raises(ProblemError) as exc:
        build_sdtm(load_study(study))
    hits = [p for p in exc.value.problems if p.rule == "MAP-LOOKUP"]
    assert {(p.where, p.row, p.column, p.value) for p in hits} == {("dosing.csv", 6, "KITNO", "K0119")}
    assert "kitlist" in hits[0].message and "EX." in hits[0].message


def test_declared_qualifier_without_mapping_and_bad_qnam_are_spec_errors(root: Path, tmp_path: Path) -> None:
    tables = load_tables(root / "specs" / "t2dm_exo.xlsx")
    row_long = append_row(tables, "ValueLevel", {"Order": "2", "Dataset": "SUPPDM", "Variable": "QVAL",
                                                 "Where Clause": "QNAM EQ TOOLONGNAME", "Description": "x",
                                                 "Data Type": "text"})
    row_where = append_row(tables, "ValueLevel", {"Order": "3", "Dataset": "SUPPDM", "Variable": "QVAL",
                                                  "Where Clause": "QNAM IN (A, B)", "Description": "x",
                                                  "Data Type": "text"})
    with pytest.raises(ProblemError) as exc:
        load_spec(save(tables, tmp_path / "bad.xlsx"))
    got = {(p.row, p.column) for p in exc.value.problems if p.rule == "SPEC-SUPP"}
    assert got == {(row_long, "Where Clause"), (row_where, "Where Clause")}

    tables = load_tables(root / "specs" / "t2dm_exo.xlsx")
    append_row(tables, "ValueLevel", {"Order": "2", "Dataset": "SUPPDM", "Variable": "QVAL",
                                      "Where Clause": "QNAM EQ HEIGHT", "Description": "Height", "Data Type": "text"})
    study = _copy_study(root, tmp_path / "run", "t2dm_exo")
    save(tables, tmp_path / "run" / "specs" / "t2dm_exo.xlsx")
    with pytest.raises(ProblemError) as exc:
        build_sdtm(load_study(study))
    [p] = [p for p in exc.value.problems if p.rule == "SPEC-UNMAPPED"]
    assert "HEIGHT" in p.message and "Mappings" in p.fix
