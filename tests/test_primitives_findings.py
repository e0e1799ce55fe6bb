"""Findings primitives (baseline flag, unit conversion, ranges, NRIND) against hand-worked values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from sdtm.engine import BuildContext
from sdtm.findings import (
    baseline_flag,
    derive_lobxfl,
    derive_stresc,
    derive_strnr,
    reference_indicator,
    sig_round,
    standard_range,
    standard_results,
)
from subgen.core.spec.model import Mapping, Spec, StudyInfo, UnitConversion

UNITS = (UnitConversion("*", "pg/mL", "ng/L", 1.0), UnitConversion("GLUC", "mg/dL", "mmol/L", 0.0555),
         UnitConversion("*", "mg/dL", "mg/dL", 1.0))


def make_ctx() -> BuildContext:
    study = StudyInfo("S1", "s", "d", "p", "3.4", "2.0", "2024", date(2025, 1, 1))
    return BuildContext(Spec("spec.xlsx", "", study, (), (), units=UNITS), Path("."))


def test_baseline_flag() -> None:
    frame = pd.DataFrame({
        "USUBJID": ["A", "A", "A", "A", "A", "B", "C"],
        "LBTESTCD": ["GLUC", "GLUC", "GLUC", "GLUC", "GLUC", "GLUC", "GLUC"],
        "LBORRES": ["5.1", "5.3", "5.2", "", "6.0", "4.0", "4.4"],
        "LBSTAT": [pd.NA, pd.NA, pd.NA, "NOT DONE", pd.NA, pd.NA, pd.NA],
        "LBDTC": ["2024-01-08", "2024-01-29", "2024-01-29", "2024-01-29T10:00", "2024-01-29T12:00", "2024-02-01",
                  "2024-03-01"],
        "LBSEQ": [1, 3, 2, 4, 5, 1, 1]})
    ref = pd.Series(["2024-01-29T11:20"] * 5 + ["2024-02-01", pd.NA])
    out = baseline_flag(frame, "LB", ["LBTESTCD"], ref)
    # A: two untimed records on the first-dose date -> the higher LBSEQ (3, row 1) is flagged; the NOT DONE
    # record at 10:00 is skipped; 12:00 is after the 11:20 first dose. B: same-day record is baseline.
    # C: never dosed -> no flag.
    assert out.fillna("").tolist() == ["", "Y", "", "", "", "Y", ""]


def test_derive_lobxfl_groups_by_value() -> None:
    ctx = make_ctx()
    ctx.datasets["DM"] = pd.DataFrame({"USUBJID": ["A"], "RFXSTDTC": ["2024-01-29"]})
    frame = pd.DataFrame({"USUBJID": ["A"] * 3, "LBTESTCD": ["GLUC"] * 3, "LBSPEC": ["SERUM", "URINE", "SERUM"],
                          "LBORRES": ["1", "2", "3"], "LBDTC": ["2024-01-20", "2024-01-20", "2024-01-10"]})
    out = derive_lobxfl(frame, Mapping("LB", "*", "LBLOBXFL", "derive_lobxfl", value="LBTESTCD,LBSPEC"), ctx)
    assert out.fillna("").tolist() == ["Y", "Y", ""]


def test_sig_round() -> None:
    assert sig_round(pd.Series([180 * 0.0555, 1234567.0, 0.000123456789, 0.0])).tolist() == [
        9.99, 1234570.0, 0.000123457, 0.0]


def test_standard_results() -> None:
    orres = pd.Series(["12.4", "180", "<0.5", "Positive", "7", "5,6", "abc", pd.NA])
    unit = pd.Series(["pg/mL", "mg/dL", "pg/mL", pd.NA, "mmol/mol", "pg/mL", "pg/mL", "pg/mL"])
    test = pd.Series(["NFL", "GLUC", "IL10", "HCG", "HBA1C", "GFAP", "GFAP", "NFL"])
    std = standard_results(orres, unit, test, UNITS)
    # 12.4 pg/mL x 1 = 12.4 ng/L; 180 mg/dL x 0.0555 = 9.99 mmol/L (GLUC row beats the * mg/dL row);
    # <0.5 pg/mL stays <0.5 ng/L with no number; Positive -> POSITIVE, no unit.
    assert std["STRESC"].tolist()[:4] == ["12.4", "9.99", "<0.5", "POSITIVE"]
    assert std["STRESN"].tolist()[:2] == [12.4, 9.99] and std["STRESN"][2:].isna().all()
    assert std["STRESU"].tolist()[:3] == ["ng/L", "mmol/L", "ng/L"] and pd.isna(std["STRESU"][3])
    # mmol/mol has no Units row; 5,6 and abc are bad numbers; blank stays blank without problems.
    assert std["STRESC"][4:].isna().all() and std["STRESU"][4:].isna().all()
    assert std["BAD_UNIT"].tolist() == [False] * 4 + [True] + [False] * 3
    assert std["BAD_NUMBER"].tolist() == [False] * 5 + [True, True, False]
    assert std["COMMA"].tolist()[5:7] == [True, False]


def test_limit_is_converted() -> None:
    std = standard_results(pd.Series(["<20", ">400"]), pd.Series(["mg/dL", "mg/dL"]), pd.Series(["GLUC", "GLUC"]),
                           UNITS)
    # 20 x 0.0555 = 1.11; 400 x 0.0555 = 22.2
    assert std["STRESC"].tolist() == ["<1.11", ">22.2"] and std["STRESN"].isna().all()


def test_derive_stresc_reports_unit_and_number_problems() -> None:
    ctx = make_ctx()
    frame = pd.DataFrame({"LBORRES": ["7", "5,6", "abc"], "LBORRESU": ["mmol/mol", "pg/mL", "pg/mL"],
                          "LBTESTCD": ["HBA1C", "GFAP", "GFAP"], "__file": "lab.csv", "__row": [4, 5, 6]})
    derive_stresc(frame, Mapping("LB", "*", "LBSTRESC", "derive_stresc"), ctx)
    got = sorted((p.row, p.column, p.value, p.rule) for p in ctx.problems)
    assert got == [(4, "LBORRESU", "mmol/mol", "MAP-UNIT"), (5, "LBORRES", "5,6", "MAP-NUMBER"),
                   (6, "LBORRES", "abc", "MAP-NUMBER")]
    assert all(p.where == "lab.csv" for p in ctx.problems)
    assert "mmol/mol" in ctx.problems[0].message or "mmol/mol" in ctx.problems[-1].message


def test_standard_range_and_strnr() -> None:
    lo, bad = standard_range(pd.Series(["70", "x", pd.NA]), pd.Series(["mg/dL"] * 3), pd.Series(["GLUC"] * 3), UNITS)
    assert lo[0] == 3.885 and lo[1:].isna().all() and bad.tolist() == [False, True, False]  # 70 x 0.0555
    ctx = make_ctx()
    frame = pd.DataFrame({"LBORNRHI": ["110"], "LBORRESU": ["mg/dL"], "LBTESTCD": ["GLUC"]})
    hi = derive_strnr(frame, Mapping("LB", "*", "LBSTNRHI", "derive_strnr"), ctx)
    assert hi.tolist() == [6.105]  # 110 x 0.0555


def test_reference_indicator() -> None:
    n = pd.Series([3.0, 7.0, 5.0, 5.0, pd.NA, pd.NA, pd.NA], dtype="Float64")
    c = pd.Series(["3", "7", "5", "5", "<0.5", "<2", ">9"])
    lo = pd.Series([4.0, 4.0, 4.0, pd.NA, 1.0, 1.0, 1.0], dtype="Float64")
    hi = pd.Series([6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0], dtype="Float64")
    out = reference_indicator(n, c, lo, hi)
    # low, high, normal, upper limit only (5 <= 6: normal); <0.5 with LO 1 is certainly LOW; <2 may be in
    # range -> missing; >9 HIGH.
    assert out.tolist() == ["LOW", "HIGH", "NORMAL", "NORMAL", "LOW", pd.NA, "HIGH"]


def test_reference_indicator_one_sided_ranges() -> None:
    # CRP reference "<= 5 mg/L" (upper limit only): 3 NORMAL, 5 NORMAL (limit inclusive), 8 HIGH, "<0.5" NORMAL,
    # ">10" HIGH. A lower limit only (>= 60): 59 LOW, 60 NORMAL, ">100" NORMAL, "<50" LOW, "<70" unknown.
    # No limit at all: no indicator.
    n = pd.Series([3, 5, 8, None, None, 59, 60, None, None, None, 4], dtype="Float64")
    c = pd.Series(["3", "5", "8", "<0.5", ">10", "59", "60", ">100", "<50", "<70", "4"])
    lo = pd.Series([None] * 5 + [60] * 5 + [None], dtype="Float64")
    hi = pd.Series([5] * 5 + [None] * 6, dtype="Float64")
    assert reference_indicator(n, c, lo, hi).tolist() == [
        "NORMAL", "NORMAL", "HIGH", "NORMAL", "HIGH", "LOW", "NORMAL", "NORMAL", "LOW", pd.NA, pd.NA]
