"""DM and trial design end to end, both studies: raw CSV -> spec -> checked XPT.

Expected values are worked out by hand from the committed raw CSVs (rows quoted in comments),
not recomputed with the code under test.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from conftest import STUDIES, read, subject

from sdtm.stage import run_sdtm
from subgen.core.xpt.verify import read_xpt_both


def test_ms_dm_completer(built) -> None:
    # enrol: 101001 ICDAT 08-JAN-2024, AGE 64, SEX "Female", White, Poland; rand ARM Placebo;
    # dosing: first 29-JAN-2024 11:20, last 28-OCT-2024 ends 12:46; ds: Completed 28-JAN-2026.
    s = subject(read(built["ms_exo"], "dm"), "MSEXO01-101001")
    assert s["STUDYID"] == "MSEXO01" and s["DOMAIN"] == "DM" and s["SUBJID"] == "101001" and s["SITEID"] == "101"
    assert (s["RFSTDTC"], s["RFXSTDTC"]) == ("2024-01-29T11:20", "2024-01-29T11:20")
    assert (s["RFENDTC"], s["RFXENDTC"]) == ("2024-10-28T12:46", "2024-10-28T12:46")
    assert (s["RFICDTC"], s["RFPENDTC"], s["DMDTC"]) == ("2024-01-08", "2026-01-28", "2024-01-08")
    assert s["DMDY"] == -21  # 8 Jan is 21 days before 29 Jan; no day 0 before the reference
    assert (s["AGE"], s["AGEU"], s["SEX"], s["RACE"], s["ETHNIC"]) == (64, "YEARS", "F", "WHITE",
                                                                      "NOT HISPANIC OR LATINO")
    assert (s["ARMCD"], s["ARM"], s["ACTARMCD"], s["ACTARM"]) == ("PBO", "Placebo", "PBO", "Placebo")
    assert s["ARMNRS"] is None and s["DTHFL"] is None and s["COUNTRY"] == "POL"


def test_ms_dm_early_discontinuation(built) -> None:
    # 101012: three infusions (last 27-NOV-2024 10:15-10:58), ds Adverse Event 20-DEC-2024, ICDAT 17-MAY-2024.
    s = subject(read(built["ms_exo"], "dm"), "MSEXO01-101012")
    assert s["RFSTDTC"] == "2024-05-30T11:45" and s["RFXENDTC"] == "2024-11-27T10:58"
    assert s["RFPENDTC"] == "2024-12-20" and s["DMDY"] == -13 and s["ARMCD"] == "PBO"


def test_ms_dm_screen_failure(built) -> None:
    # 101007: SEX typed "F " (trailing blank); ds Screen Failure 23-APR-2024; never randomized or dosed.
    s = subject(read(built["ms_exo"], "dm"), "MSEXO01-101007")
    assert s["SEX"] == "F" and s["ARMCD"] is None and s["ACTARMCD"] is None and s["RFSTDTC"] is None
    assert s["ARMNRS"] == "SCREEN FAILURE" and s["RFPENDTC"] == "2024-04-23" and s["DMDY"] is None


def test_t2dm_dm_subjects(built) -> None:
    dm = read(built["t2dm_exo"], "dm")
    # 201022: SEX "f", Group 2, one Exo-HWS bolus 30-JUN-2025 10:25-10:30, withdrew 10-JUL-2025; ICDAT 16-JUN-2025.
    s = subject(dm, "T2DMEXO01-201022")
    assert (s["SEX"], s["AGE"], s["ARMCD"], s["ARM"]) == ("F", 49, "EXOHWS", "Exo-HWS")
    assert (s["RFSTDTC"], s["RFENDTC"], s["RFPENDTC"]) == ("2025-06-30T10:25", "2025-06-30T10:30", "2025-07-10")
    assert s["DMDY"] == -14 and s["COUNTRY"] == "IDN" and s["RACE"] == "ASIAN"
    # 201005: aged 67, screen failure (IN02).
    s = subject(dm, "T2DMEXO01-201005")
    assert (s["AGE"], s["SEX"], s["ARMNRS"]) == (67, "M", "SCREEN FAILURE")


@pytest.mark.parametrize("study, n, females, males, randomized", [
    ("ms_exo", 21, 15, 6, 20),  # enrol SEX: F 5, "F " 4, Female 5, f 1 | M 2, MALE 1, Male 2, male 1
    ("t2dm_exo", 52, 28, 24, 50),  # F 8, "F " 2, Female 12, f 6 | M 9, MALE 3, Male 9, male 3
])
def test_dm_counts(built, study: str, n: int, females: int, males: int, randomized: int) -> None:
    dm = read(built[study], "dm")
    assert len(dm) == n and dm["USUBJID"].is_unique
    assert (dm["SEX"] == "F").sum() == females and (dm["SEX"] == "M").sum() == males
    assert (dm["ARMCD"] != "").sum() == randomized


@pytest.mark.parametrize("study, values", [
    ("ms_exo", {"ACTSUB": "20", "SSTDTC": "2024-01-08", "SDTIGVER": "3.4", "SDTMVER": "2.0", "PLANSUB": "20",
                "TBLIND": "DOUBLE BLIND", "TCNTRL": "PLACEBO", "AGEMIN": "P18Y", "AGEMAX": "P65Y",
                "SPONSOR": "Biocells Medical", "DCUTDTC": "2026-10-31", "RANDOM": "Y", "STYPE": "INTERVENTIONAL"}),
    ("t2dm_exo", {"ACTSUB": "50", "SSTDTC": "2025-06-02", "REGID": "NCT07144241", "TBLIND": "OPEN LABEL",
                  "AGEMIN": "P40Y", "AGEMAX": "P65Y", "SPONSOR": "Universitas Indonesia", "ADDON": "Y",
                  "TDIGRP": "Type 2 diabetes mellitus", "COMPTRT": "Exo-HWS", "DCUTDTC": "2025-12-31"}),
])
def test_ts_parameters(built, study: str, values: dict[str, str]) -> None:
    ts = read(built[study], "ts")
    required = {"SSTDTC", "SDTIGVER", "SDTMVER", "TITLE", "STYPE", "TPHASE", "RANDOM", "TBLIND", "TCNTRL", "ADDON",
                "ACTSUB", "PLANSUB", "AGEMIN", "AGEMAX", "SEXPOP", "SPONSOR", "REGID", "TRT", "COMPTRT", "INDIC",
                "TDIGRP", "LENGTH", "OBJPRIM", "OUTMSPRI", "HLTSUBJI"}
    assert required <= set(ts["TSPARMCD"])
    first = ts[ts["TSSEQ"] == 1].set_index("TSPARMCD")
    for parm, value in values.items():
        assert first.loc[parm, "TSVAL"] == value, parm
    coded = ts[ts["TSVCDREF"] == "CDISC CT"]
    assert (coded["TSVCDVER"] == "2025-03-28").all() and (coded["TSVALCD"] != "").all()
    assert first.loc["TBLIND", "TSVALCD"] == ("C15228" if study == "ms_exo" else "C49659")
    # TSSEQ numbers repeated parameters 1, 2, ...
    outmspri = ts["TSPARMCD"] == "OUTMSPRI"
    assert sorted(ts.loc[outmspri, "TSSEQ"]) == list(range(1, outmspri.sum() + 1))


def test_trial_design(built) -> None:
    ta = read(built["ms_exo"], "ta")
    assert list(ta.loc[ta["ARMCD"] == "EXO", "EPOCH"]) == ["SCREENING", "TREATMENT", "FOLLOW-UP"]
    assert set(ta["ARM"]) == {"MSC-Derived Exosomes", "Placebo"}
    tv = read(built["ms_exo"], "tv")
    assert list(tv["VISIT"]) == ["SCREENING", "BASELINE", "MONTH 3", "MONTH 6", "MONTH 9", "MONTH 12", "MONTH 18",
                                 "MONTH 24"]
    ti = read(built["t2dm_exo"], "ti")
    assert (ti["IECAT"] == "INCLUSION").sum() == 3 and (ti["IECAT"] == "EXCLUSION").sum() == 6
    te = read(built["t2dm_exo"], "te")
    assert set(te["ETCD"]) == {"SCRN", "HWSHUV", "HWS"}


@pytest.mark.parametrize("study", STUDIES)
def test_xpt_attributes_from_spec_and_both_readers_agree(built, study: str) -> None:
    folder = built[study]
    dm, meta = pyreadstat.read_xport(str(folder / "dm.xpt"))
    assert meta.table_name == "DM" and meta.file_label == "Demographics"
    assert dm.columns[:4].tolist() == ["STUDYID", "DOMAIN", "USUBJID", "SUBJID"]
    assert meta.column_names_to_labels["RFXSTDTC"] == "Date/Time of First Study Treatment"
    # character length = longest value in bytes: USUBJID "MSEXO01-101001" is 14, "T2DMEXO01-201001" 16
    assert meta.variable_storage_width["USUBJID"] == (14 if study == "ms_exo" else 16)
    assert meta.variable_storage_width["SEX"] == 1
    for xpt in sorted(folder.glob("*.xpt")):
        ours, _ = read_xpt_both(xpt)
        theirs = pd.read_sas(xpt, format="xport", encoding="ascii")
        assert list(theirs.columns) == list(ours.columns)
        n = min(len(theirs), len(ours))
        assert len(ours) - len(theirs) in (0, 1), xpt.name  # pandas may drop a trailing blank-ended record
        for col in ours.columns:
            a, b = ours[col].iloc[:n], theirs[col].iloc[:n]
            if a.dtype == object:
                assert a.fillna("").str.rstrip().tolist() == b.fillna("").str.rstrip().tolist(), (xpt.name, col)
            else:
                assert a.fillna(-1e9).round(9).tolist() == b.fillna(-1e9).round(9).tolist(), (xpt.name, col)


@pytest.mark.parametrize("study", STUDIES)
def test_personal_data_never_reaches_sdtm(root: Path, built, study: str) -> None:
    enrol = pd.read_csv(root / "studies" / study / "raw/enrol.csv", dtype=str)
    secrets = set(enrol["INITIALS"]) | set(enrol["SITE_CONTACT"])
    for xpt in built[study].glob("*.xpt"):
        frame, _ = pyreadstat.read_xport(str(xpt))
        for col in frame.columns:
            if frame[col].dtype == object:
                assert not set(frame[col]) & secrets, (xpt.name, col)


@pytest.mark.parametrize("study", STUDIES)
def test_reconciliation_and_lineage(built, root: Path, study: str) -> None:
    reports = built[study] / "reports"
    recon = pd.read_csv(reports / "reconciliation.csv")
    for _, r in recon.iterrows():
        raw_rows = len(pd.read_csv(root / "studies" / study / "raw" / r["file"], dtype=str))
        assert r["rows_in"] == raw_rows
        assert r["as_records"] + r["read_only"] + r["excluded"] + r["not_mapped"] == raw_rows
    undeclared = recon[recon["status"] == "file not declared in the spec's Forms sheet"]
    assert undeclared.empty  # the spec declares every exported form
    # forms whose domains are not in the spec yet are counted as not mapped, row by row
    by_form = recon.set_index("form")
    assert by_form["not_mapped"].sum() == 0 and set(by_form["status"]) == {"complete"}
    questionnaire = by_form.loc[{"ms_exo": "msqol54", "t2dm_exo": "dqol"}[study]]
    assert questionnaire["as_records"] == questionnaire["rows_in"] > 0  # one raw row -> one record per item
    enrol = recon.set_index("form").loc["enrol"]
    assert enrol["as_records"] == enrol["rows_in"] and enrol["not_mapped"] == 0
    lineage = pd.read_csv(reports / "lineage.csv", dtype=str)
    dm = lineage[lineage["dataset"] == "DM"]
    first = dm[dm["USUBJID"].str.endswith("001")].iloc[0]
    assert (first["raw_file"], first["raw_row"]) == ("enrol.csv", "2")  # first data line of enrol.csv
    assert len(lineage[lineage["dataset"] == "TS"]) == len(read(built[study], "ts"))


def test_rerun_is_byte_identical(root: Path, built, tmp_path: Path) -> None:
    again = run_sdtm(root / "studies/ms_exo", tmp_path).out_dir
    cmp = filecmp.dircmp(built["ms_exo"], again)
    assert not cmp.diff_files and not cmp.left_only and not cmp.right_only
    reports = filecmp.dircmp(built["ms_exo"] / "reports", again / "reports")
    assert not reports.diff_files
    for name in ("dm.xpt", "ts.xpt"):
        assert (built["ms_exo"] / name).read_bytes() == (again / name).read_bytes()


@pytest.mark.study  # a whole ms_exo build
def test_undeclared_raw_file_is_reported(root: Path, tmp_path: Path) -> None:
    import shutil

    study = tmp_path / "ms_exo"
    shutil.copytree(root / "studies/ms_exo", study)
    (study / "study.toml").write_text(f'[study]\nspec = "{(root / "specs/ms_exo.xlsx").as_posix()}"\nraw = "raw"\n')
    (study / "raw/vitals.csv").write_text("STUDY,SITEID,SUBJID,SYSBP\nMSEXO01,101,101001,120\nMSEXO01,101,101002,131\n")
    recon = run_sdtm(study, tmp_path / "out").reconciliation
    row = recon[recon["file"] == "vitals.csv"].iloc[0]
    assert (row["rows_in"], row["not_mapped"], row["status"]) == (2, 2, "file not declared in the spec's Forms sheet")


def test_bad_date_read_only_by_a_summary_is_reported(root: Path, tmp_path: Path) -> None:
    # ds.csv row 2 (101001) DSDAT feeds DM.RFPENDTC through last_datetime; an impossible date must stop the run.
    import shutil

    from subgen.core.problems import ProblemError

    study = tmp_path / "ms_exo"
    shutil.copytree(root / "studies/ms_exo", study)
    (study / "study.toml").write_text(f'[study]\nspec = "{(root / "specs/ms_exo.xlsx").as_posix()}"\nraw = "raw"\n')
    ds = study / "raw/ds.csv"
    ds.write_text(ds.read_text().replace("MSEXO01,101,101001,28-JAN-2026,", "MSEXO01,101,101001,30-FEB-2026,", 1))
    with pytest.raises(ProblemError) as info:
        run_sdtm(study, tmp_path / "out")
    hits = [p for p in info.value.problems if p.rule == "MAP-DATE" and "RFPENDTC" in p.message]
    assert [(p.where, p.row, p.column, p.value) for p in hits] == [("ds.csv", 2, "DSDAT", "30-FEB-2026")]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.xpt"))
