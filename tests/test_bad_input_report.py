"""Bad input that needs a whole SDTM run: map-and-report cases, pre-write checks, value ranges.

Each group shares one corrupted copy of ``studies/ms_exo`` and one run (the full run takes
seconds, the catalogue must stay fast); each test asserts the entry its own corruption must
produce, so a reviewer still reads one case per test.

* map and report: the run succeeds (exit 0) and the problem or reconciliation report says
  what happened (a dose after the data cut, a free-text term an extensible codelist lacks, a
  partial date, a partial date with a time);
* pre-write checks: text that cannot go into an XPT file stops the run before anything is
  written, and the message names the raw record behind the SDTM record;
* value ranges (a lab result far outside any physiological range, EDSS 10.5 and 3.25, SDMT
  120): the spec's ValueLevel sheet declares them (Range column) and the pre-write suite checks
  them, so the run stops and names the raw record.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from bad_input_kit import ANY, Expect, copy_study, leftovers, matching_lines, raw_line, run_cli, set_raw, tree_digest

pytestmark = pytest.mark.study  # every group builds a whole corrupted copy of ms_exo


def _xpt(folder: Path, name: str) -> pd.DataFrame:
    frame, _ = pyreadstat.read_xport(str(folder / f"{name}.xpt"))
    return frame


# ------------------------------------------------------------------------------ map and report
@pytest.fixture(scope="module")
def reported(tmp_path_factory) -> dict:
    """One run over four corruptions that must be mapped and reported, not stop the run."""
    copy = copy_study(tmp_path_factory.mktemp("reported"))
    # dosing.csv line 80: 101021 Month 9 infusion (08-MAY-2025 11:15-11:49) moved after the cut (31-OCT-2026).
    assert raw_line(copy, "dosing.csv", 80)["SUBJID"] == "101021"
    set_raw(copy, "dosing.csv", 80, "EXDAT", "03-NOV-2026")
    # cm.csv line 2: 101001 baclofen, frequency QOD (every other day): a CDISC term the spec's FREQ
    # codelist (extensible) does not list.
    set_raw(copy, "cm.csv", 2, "CMFRQ", "QOD")
    # ae.csv line 4: 101001 AESPID 3 Nasopharyngitis started 29-OCT-2025; only the month is known.
    set_raw(copy, "ae.csv", 4, "AESTDAT", "UN-OCT-2025")
    # lab.csv line 3: 101001 Baseline serum GFAP, 29-JAN-2024 09:55; day unknown, time still given.
    set_raw(copy, "lab.csv", 3, "LBDAT", "UN-JAN-2024")
    code, out, err = run_cli(copy.argv())
    assert code == 0, out + err
    reports = copy.final / "reports"
    return {"copy": copy, "out": out, "err": err,
            "problems": pd.read_csv(reports / "problems.csv", dtype=str, keep_default_na=False),
            "recon": pd.read_csv(reports / "reconciliation.csv").set_index("form"),
            "lineage": pd.read_csv(reports / "lineage.csv", dtype=str, keep_default_na=False)}


def _problem(reported: dict, file: str, row: int) -> list[dict]:
    p = reported["problems"]
    return p[(p["where"] == file) & (p["row"] == str(row))].to_dict("records")


def test_dose_after_data_cut_is_left_out_and_reported(reported: dict) -> None:
    (entry,) = _problem(reported, "dosing.csv", 80)
    assert (entry["column"], entry["value"], entry["severity"], entry["rule"]) == (
        "EXSTDTC", "2026-11-03T11:15", "Notice", "CUT-AFTER")
    assert "starts after the data cut (2026-10-31); left out of EX" in entry["message"]
    # dosing: 79 rows; 101009's Month 6 (EXYN N) and the moved infusion are excluded, 77 are EX records.
    r = reported["recon"].loc["dosing"]
    assert (r["rows_in"], r["as_records"], r["excluded"], r["not_mapped"]) == (79, 77, 2, 0)
    ex = _xpt(reported["copy"].final, "ex")
    assert ex.loc[ex["USUBJID"] == "MSEXO01-101021", "EXSTDTC"].tolist() == [
        "2024-08-09T11:20", "2024-11-07T10:15", "2025-02-11T10:15"]
    # DM's last exposure is the last infusion before the cut: line 79, 11-FEB-2025 ending 10:49.
    dm = _xpt(reported["copy"].final, "dm").set_index("USUBJID")
    assert dm.at["MSEXO01-101021", "RFXENDTC"] == "2025-02-11T10:49"
    assert dm.at["MSEXO01-101021", "RFENDTC"] == "2025-02-11T10:49"


def test_unmapped_term_of_extensible_codelist_is_kept_and_reported(reported: dict) -> None:
    (entry,) = _problem(reported, "cm.csv", 2)
    assert (entry["column"], entry["value"], entry["severity"], entry["rule"]) == (
        "CMFRQ", "QOD", "Warning", "MAP-CT")
    assert "does not map to codelist FREQ" in entry["message"] and "kept as entered" in entry["message"]
    assert "Extended Value = Yes" in entry["fix"]
    cm = _xpt(reported["copy"].final, "cm")
    rec = cm[(cm["USUBJID"] == "MSEXO01-101001") & (cm["CMSPID"] == "1")]
    assert rec["CMDOSFRQ"].tolist() == ["QOD"]
    assert "warning(s): see reports/problems.csv" in reported["out"]


def test_partial_date_is_kept_partial_and_traced(reported: dict) -> None:
    assert _problem(reported, "ae.csv", 4) == []  # a partial date is valid SDTM, not a problem
    ae = _xpt(reported["copy"].final, "ae")
    rec = ae[(ae["USUBJID"] == "MSEXO01-101001") & (ae["AESPID"] == "3")]
    assert rec["AESTDTC"].tolist() == ["2025-10"] and rec["AESTDY"].isna().all()
    seq = str(int(rec["AESEQ"].iloc[0]))
    lin = reported["lineage"]
    hit = lin[(lin["dataset"] == "AE") & (lin["USUBJID"] == "MSEXO01-101001") & (lin["seq"] == seq)]
    assert hit[["raw_file", "raw_row"]].values.tolist() == [["ae.csv", "4"]]
    # ae: 41 rows; 101021's AE after the cut is excluded, every other row is a record.
    r = reported["recon"].loc["ae"]
    assert (r["rows_in"], r["as_records"], r["excluded"], r["not_mapped"]) == (41, 40, 1, 0)


def test_partial_date_with_time_drops_the_time_and_warns(reported: dict) -> None:
    (entry,) = _problem(reported, "lab.csv", 3)
    assert (entry["column"], entry["value"], entry["severity"], entry["rule"]) == (
        "LBDAT+LBTIM", "UN-JAN-2024 09:55", "Warning", "MAP-DATE")
    assert "time given with an incomplete date; time dropped" in entry["message"]
    lb = _xpt(reported["copy"].final, "lb")
    rec = lb[(lb["USUBJID"] == "MSEXO01-101001") & (lb["LBTESTCD"] == "GFAP") & (lb["LBSPEC"] == "SERUM")
             & (lb["VISIT"] == "BASELINE")]
    assert rec["LBDTC"].tolist() == ["2024-01"]


# ---------------------------------------------------------------------------- pre-write checks
@pytest.fixture(scope="module")
def unwritable(tmp_path_factory) -> dict:
    """Text XPT v5 cannot hold: non-ASCII letters and a 250-character comment (one run)."""
    copy = copy_study(tmp_path_factory.mktemp("unwritable"))
    before = tree_digest(copy.final)
    set_raw(copy, "ae.csv", 2, "AETERM", "Ból głowy")  # 101001 AESPID 1
    set_raw(copy, "ds.csv", 3, "DSSPEC", "x" * 250)  # 101002 end of study: DSSPEC becomes DSTERM
    code, out, err = run_cli(copy.argv())
    return {"copy": copy, "code": code, "err": err, "before": before}


def test_prewrite_failure_writes_nothing(unwritable: dict) -> None:
    assert unwritable["code"] == 2, unwritable["err"]
    assert "conformance problem(s) stop the write (nothing was written)" in unwritable["err"]
    assert tree_digest(unwritable["copy"].final) == unwritable["before"]
    assert leftovers(unwritable["copy"]) == []


def test_non_ascii_text(unwritable: dict) -> None:
    expect = Expect("XPT-ASCII", "AE", ANY, "AETERM", "Ból głowy",
                    "contains 'ó' (U+00F3) at character 2; XPT v5 holds printable ASCII only "
                    "(record from ae.csv row 2)",
                    "replace it with its ASCII equivalent")
    assert matching_lines(unwritable["err"], expect, {}), unwritable["err"]


def test_250_character_comment(unwritable: dict) -> None:
    expect = Expect("XPT-LEN200", "DS", ANY, "DSTERM", ANY,
                    "value is 250 bytes long; XPT v5 holds at most 200 bytes per character value "
                    "(record from ds.csv row 3)", "move text beyond 200 bytes to SUPP--")
    assert matching_lines(unwritable["err"], expect, {}), unwritable["err"]
    assert "[XPT-LENGTH]" not in unwritable["err"]  # no advice to raise Length beyond what XPT v5 allows


# -------------------------------------------------------------------------------- value ranges
@pytest.fixture(scope="module")
def out_of_range(tmp_path_factory) -> dict:
    """Values of the right type that no patient can have (one run); the spec's ValueLevel Range column
    declares what is possible and the pre-write suite checks it."""
    copy = copy_study(tmp_path_factory.mktemp("ranges"))
    before = tree_digest(copy.final)
    set_raw(copy, "lab.csv", 2, "LBORRES", "99999")  # 101001 Baseline serum NfL, pg/mL (the demo's are 5-60)
    set_raw(copy, "edss.csv", 2, "EDSS", "10.5")  # 101001 Screening; EDSS is 0-10
    set_raw(copy, "edss.csv", 3, "EDSS", "3.25")  # 101001 Baseline; EDSS moves in steps of 0.5
    set_raw(copy, "sdmt.csv", 2, "SDMTSCOR", "120")  # 101001 Screening; SDMT is 0-110 (110 symbols)
    code, out, err = run_cli(copy.argv())
    assert code == 2, out + err
    assert tree_digest(copy.final) == before and leftovers(copy) == []
    return {"err": err}


FIX_RANGE = "correct the data or, if the range is wrong, the Range in the spec's ValueLevel sheet"


@pytest.mark.parametrize("expect", [
    Expect("RANGE-VALUE", "LB", ANY, "LBSTRESN", "99999", "declared for LBTESTCD EQ NFLP AND LBSPEC EQ \"SERUM\" "
           "(record from lab.csv row 2)", FIX_RANGE),
    Expect("RANGE-VALUE", "RS", ANY, "RSSTRESN", "10.5", "RSSTRESN is outside 0 to 10 declared for RSTESTCD EQ "
           "EDSS0101 (record from edss.csv row 2)", FIX_RANGE),
    Expect("RANGE-STEP", "RS", ANY, "RSSTRESN", "3.25", "RSSTRESN is not in steps of 0.5 from 0 (0 to 10 by 0.5) "
           "declared for RSTESTCD EQ EDSS0101 (record from edss.csv row 3)", "EDSS scores move in steps of 0.5"),
    Expect("RANGE-VALUE", "FT", ANY, "FTSTRESN", "120", "FTSTRESN is outside 0 to 110 declared for FTTESTCD EQ "
           "SDMT0101 (record from sdmt.csv row 2)", FIX_RANGE),
], ids=["lab-far-out-of-range", "edss-10.5", "edss-3.25", "sdmt-120"])
def test_value_out_of_range(out_of_range: dict, expect: Expect) -> None:
    assert matching_lines(out_of_range["err"], expect, {}), out_of_range["err"]
