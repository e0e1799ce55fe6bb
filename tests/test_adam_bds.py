"""adam.bds on small hand-built frames: windows, ANL01FL, baseline, change, ranges, criteria, BLQ, derived params."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adam.bds import (
    derive_param_linear,
    derive_param_sdtm,
    derive_var_anl01fl,
    derive_var_anrind,
    derive_var_base,
    derive_var_blq,
    derive_var_chg,
    derive_var_crit,
    derive_var_extreme_flag,
    derive_var_pchg,
    derive_vars_merged_source,
    derive_vars_windows,
    round_half_up,
)
from adam.engine import TRACE_COL
from subgen.core.spec.model import AnalysisParameter, AnalysisWindow

WINDOWS = (
    AnalysisWindow("ADX", (), -1, "SCREENING", None, None, -1, "LAST"),
    AnalysisWindow("ADX", (), 0, "BASELINE", 1, 1, 1, "LAST"),
    AnalysisWindow("ADX", (), 3, "MONTH 3", 92, 2, 137, "CLOSEST-LATER"),
    AnalysisWindow("ADX", (), 6, "MONTH 6", 183, 138, 228, "CLOSEST-LATER"),
    AnalysisWindow("ADX", ("MRI",), 0, "BASELINE", 1, None, 1, "LAST"),
)


def bds(rows: list[tuple]) -> pd.DataFrame:
    """(USUBJID, PARAMCD, ADY, AVAL, SRCSEQ) rows."""
    f = pd.DataFrame(rows, columns=["USUBJID", "PARAMCD", "ADY", "AVAL", "SRCSEQ"])
    return f.astype({"USUBJID": "string", "PARAMCD": "string", "ADY": "Float64", "AVAL": "Float64",
                     "SRCSEQ": "Float64"})


@pytest.fixture()
def edss() -> pd.DataFrame:
    # Subject A: screening (day -21), baseline on the day of first dose (day 1), Month 3 on day 89,
    #   an unscheduled visit on day 95 (as far from the day-92 target as day 89: the later one is
    #   analysed), Month 6 on day 183 and an unscheduled day-177 visit (Month 6 is the closer one).
    # Subject B: no assessment on or before day 1 (missing baseline), then day 90.
    # Subject C: withdrew after one visit: screening and baseline only.
    # Subject D: two records 3 days either side of the Month 3 target (day 89 and day 95): a tie -> the later.
    return bds([("A", "EDSS", -21, 3.0, 1), ("A", "EDSS", 1, 3.5, 2), ("A", "EDSS", 89, 4.0, 3),
                ("A", "EDSS", 95, 4.5, 4), ("A", "EDSS", 177, 5.0, 5), ("A", "EDSS", 183, 5.5, 6),
                ("B", "EDSS", 90, 2.0, 1),
                ("C", "EDSS", -10, 6.0, 1), ("C", "EDSS", 1, 6.5, 2),
                ("D", "EDSS", 89, 1.0, 1), ("D", "EDSS", 95, 2.0, 2),
                ("A", "MRI", -18, 10.0, 7), ("A", "MRI", 180, 12.0, 8)])


def test_windows_by_analysis_day_with_parameter_specific_windows(edss: pd.DataFrame) -> None:
    out = derive_vars_windows(edss, ("AVISIT", "AVISITN"), WINDOWS)
    assert out["AVISIT"].tolist()[:6] == ["SCREENING", "BASELINE", "MONTH 3", "MONTH 3", "MONTH 6", "MONTH 6"]
    assert out["AVISITN"].tolist()[:6] == [-1, 0, 3, 3, 6, 6]
    # MRI has its own baseline window (open below): the day -18 scan is BASELINE, not SCREENING;
    # its day-180 scan has no MRI-specific window, and the general ones do not apply to MRI.
    mri = out[out["PARAMCD"] == "MRI"]
    assert mri["AVISIT"].tolist()[0] == "BASELINE" and pd.isna(mri["AVISIT"].iloc[1])


def test_anl01fl_closest_to_target_later_on_tie(edss: pd.DataFrame) -> None:
    out = derive_var_anl01fl(edss, "ANL01FL", WINDOWS)
    flagged = out[out["ANL01FL"] == "Y"][["USUBJID", "ADY"]].values.tolist()
    # A: Month 3 target 92: day 89 and day 95 are both 3 days away, a tie -> the later (95); Month 6
    # target 183: day 183 (0 days) beats the unscheduled day 177 (6 days).
    assert ["A", 95] in flagged and ["A", 89] not in flagged
    assert ["A", 183] in flagged and ["A", 177] not in flagged
    assert ["D", 95] in flagged and ["D", 89] not in flagged
    assert ["C", -10] in flagged and ["C", 1] in flagged
    # one record per subject, parameter and window
    per = out[out["ANL01FL"] == "Y"].assign(w=derive_vars_windows(edss, ("AV", "AVN"), WINDOWS)["AVN"])
    assert not per.duplicated(["USUBJID", "PARAMCD", "w"]).any()


def test_anl01fl_skips_missing_values() -> None:
    frame = bds([("A", "SDMT", 92, None, 1), ("A", "SDMT", 100, 40.0, 2)])
    out = derive_var_anl01fl(frame, "ANL01FL", WINDOWS)
    assert out["ANL01FL"].tolist()[1] == "Y" and pd.isna(out["ANL01FL"][0])


def test_baseline_flag_base_and_change(edss: pd.DataFrame) -> None:
    f = derive_var_extreme_flag(edss, "ABLFL", ("ADY", "SRCSEQ"), "last", "ADY <= 1", ("AVAL",))
    # A: day 1 (taken on the day of first dose) is baseline; B: nothing on or before day 1 -> no baseline.
    assert f.loc[(f.USUBJID == "A") & (f.PARAMCD == "EDSS"), "ABLFL"].tolist()[:2] == [pd.NA, "Y"]
    assert f.loc[f.USUBJID == "B", "ABLFL"].isna().all()
    f = derive_var_base(f, "BASE")
    assert f.loc[f.USUBJID == "A", "BASE"].tolist()[:6] == [3.5] * 6
    assert f.loc[f.USUBJID == "B", "BASE"].isna().all()
    f = derive_var_chg(f, "CHG")
    a = f[(f.USUBJID == "A") & (f.PARAMCD == "EDSS")]
    assert a["CHG"].tolist() == [-0.5, 0.0, 0.5, 1.0, 1.5, 2.0]
    assert f.loc[f.USUBJID == "B", "CHG"].isna().all()  # no baseline, no change
    # C withdrew after the baseline visit: a baseline and no post-baseline change.
    assert f.loc[f.USUBJID == "C", "BASE"].tolist() == [6.5, 6.5]


def test_baseline_flag_on_text_values() -> None:
    f = pd.DataFrame({"USUBJID": ["A", "A"], "PARAMCD": ["OCB", "OCB"], "ADY": [1.0, 300.0],
                      "AVAL": [np.nan, np.nan], "AVALC": ["POSITIVE", "NEGATIVE"]})
    out = derive_var_extreme_flag(f, "ABLFL", ("ADY",), "last", "ADY <= 1", ("AVAL", "AVALC"))
    assert out["ABLFL"].tolist()[0] == "Y"
    assert derive_var_base(out, "BASEC", source="AVALC")["BASEC"].tolist() == ["POSITIVE", "POSITIVE"]


def test_two_baseline_records_are_refused() -> None:
    f = pd.DataFrame({"USUBJID": ["A", "A"], "PARAMCD": ["P", "P"], "AVAL": [1.0, 2.0], "ABLFL": ["Y", "Y"]})
    with pytest.raises(ValueError, match="more than one ABLFL"):
        derive_var_base(f, "BASE")


def test_percent_change_is_missing_for_a_zero_baseline() -> None:
    f = pd.DataFrame({"AVAL": pd.Series([1226.5, 3.0, 2.0], dtype="Float64"),
                      "BASE": pd.Series([1232.9, 0.0, None], dtype="Float64")})
    out = derive_var_pchg(f, "PCHG")
    # (1226.5 - 1232.9) / 1232.9 x 100 = -6.4 / 12.329 = -0.519101...
    assert out["PCHG"][0] == pytest.approx(-0.5191013)
    assert out["PCHG"][1:].isna().all()


def test_range_indicator_two_and_one_sided() -> None:
    f = pd.DataFrame({"AVAL": pd.Series([3.0, 4.5, 7.0, 8.0, 1.0, None], dtype="Float64"),
                      "ANRLO": pd.Series([3.9, 3.9, 3.9, None, None, 3.9], dtype="Float64"),
                      "ANRHI": pd.Series([5.5, 5.5, 5.5, 7.0, None, 5.5], dtype="Float64")})
    out = derive_var_anrind(f, "ANRIND")
    assert out["ANRIND"].tolist()[:4] == ["LOW", "NORMAL", "HIGH", "HIGH"]
    assert out["ANRIND"][4:].isna().all()


def test_criterion_flag_sdmt_worsening() -> None:
    f = pd.DataFrame({"CHG": pd.Series([-5, -4, -3, None], dtype="Float64")})
    out = derive_var_crit(f, ("CRIT1", "CRIT1FL"), "SDMT decrease >= 4", "CHG <= -4")
    assert out["CRIT1FL"].tolist()[:3] == ["Y", "Y", "N"] and pd.isna(out["CRIT1FL"][3])
    assert out["CRIT1"][0] == "SDMT decrease >= 4" and pd.isna(out["CRIT1"][3])


def test_below_quantification_limit_rule() -> None:
    f = pd.DataFrame({"AVAL": pd.Series([None, 1.2, None, None], dtype="Float64"),
                      "AVALC": pd.Series(["<0.5", "1.2", "< 2", None], dtype="string")})
    out = derive_var_blq(f, ("AVAL", "DTYPE"), factor=0.5, dtype="HALFLLOQ")
    assert out["AVAL"].tolist()[:3] == [0.25, 1.2, 1.0] and pd.isna(out["AVAL"][3])
    assert out["DTYPE"].tolist()[0] == "HALFLLOQ" and pd.isna(out["DTYPE"][1]) and out["DTYPE"][2] == "HALFLLOQ"


def test_hba1c_mmol_mol_as_a_derived_parameter() -> None:
    params = (AnalysisParameter("ADLB", "HBA1CMMO", "Hemoglobin A1C (mmol/mol)", 4, "GLYCEMIC"),)
    f = pd.DataFrame({"USUBJID": ["A", "A"], "PARAMCD": ["HBA1C", "GLUCF"], "PARAM": ["HbA1c (%)", "G"],
                      "PARAMN": [3.0, 1.0], "AVAL": [9.0, 7.0], "AVALC": ["9", "7"], "ANRLO": [4.0, 3.9],
                      "ANRHI": [5.6, 5.5], "SRCSEQ": [14.0, 8.0], TRACE_COL: [[("LB", "LBSTRESN", "LBSEQ=14")], []]})
    out = derive_param_linear(f, "HBA1CMMO", "HBA1C", 10.929, params, "ADLB", offset=-2.15, digits=0,
                              vars=("AVAL", "ANRLO", "ANRHI"))
    new = out[out["PARAMCD"] == "HBA1CMMO"].iloc[0]
    # (9.0 - 2.15) x 10.929 = 74.86 -> 75; (4.0 - 2.15) x 10.929 = 20.22 -> 20; (5.6 - 2.15) x 10.929 = 37.7 -> 38
    assert (new["AVAL"], new["ANRLO"], new["ANRHI"]) == (75, 20, 38)
    assert new["PARAM"] == "Hemoglobin A1C (mmol/mol)" and new["PARAMN"] == 4 and pd.isna(new["AVALC"])
    assert new["SRCSEQ"] == 14 and new[TRACE_COL] == [("LB", "LBSTRESN", "LBSEQ=14")]
    assert len(out) == 3


def test_round_half_up() -> None:
    got = round_half_up(pd.Series([74.5, -74.5, 2.675, None], dtype="Float64"), 0)
    assert got.tolist()[:3] == [75, -75, 3] and pd.isna(got[3])
    assert round_half_up(pd.Series([2.675]), 2)[0] == 2.68


@pytest.fixture()
def lb() -> pd.DataFrame:
    f = pd.DataFrame({"STUDYID": ["S"] * 4, "USUBJID": ["S-1"] * 4, "LBSEQ": [1.0, 2.0, 3.0, 4.0],
                      "LBTESTCD": ["HBA1C", "HBA1C", "INTLK10", "GLUC"], "LBSTRESN": [9.0, None, None, 11.1],
                      "LBSTRESC": ["9", None, "<0.5", "11.1"], "LBSTNRLO": [4.0, 4.0, None, 3.9],
                      "LBSTNRHI": [5.6, 5.6, 9.1, 5.5],
                      "LBDTC": ["2025-06-13T07:45", "2025-09", "2025-06-13", "2025-06-13"],
                      "VISIT": ["BASELINE", "MONTH 3", "BASELINE", "BASELINE"], "VISITNUM": [2.0, 5.0, 2.0, 2.0]})
    f.attrs["name"] = "LB"
    return f


def test_parameters_from_sdtm_records(lb: pd.DataFrame) -> None:
    params = (AnalysisParameter("ADLB", "HBA1C", "HbA1c (%)", 3, "GLYCEMIC", "LB", "LBTESTCD = 'HBA1C'", "LBSTRESN",
                                "LBSTRESC", row=2),
              AnalysisParameter("ADLB", "INTLK10", "IL-10 (ng/L)", 7, None, "LB", "LBTESTCD = 'INTLK10'", "LBSTRESN",
                                "LBSTRESC", row=3),
              AnalysisParameter("ADLB", "CRP", "CRP (mg/L)", 9, None, "LB", "LBTESTCD = 'CRP'", "LBSTRESN", row=4),
              AnalysisParameter("ADLB", "HBA1CMMO", "HbA1c (mmol/mol)", 4, row=5))
    problems: list = []
    names = ("STUDYID", "USUBJID", "PARAMCD", "PARAM", "PARAMN", "AVAL", "AVALC", "ADT", "VISIT", "SRCDOM",
             "SRCVAR", "SRCSEQ")
    out = derive_param_sdtm(pd.DataFrame(), names, params, {"LB": lb}.__getitem__, problems, "ADLB")
    assert out["PARAMCD"].tolist() == ["HBA1C", "HBA1C", "INTLK10"]
    assert out["AVAL"].tolist()[0] == 9.0 and pd.isna(out["AVAL"][2]) and out["AVALC"][2] == "<0.5"
    # 2025-06-13: 1960..2025 = 65 years, 17 leap days -> 23742; + Jan..May (151) + 12 = 23905.
    assert out["ADT"][0] == 23905 and pd.isna(out["ADT"][1])
    assert out[["SRCDOM", "SRCVAR"]].iloc[0].tolist() == ["LB", "LBSTRESN"] and out["SRCSEQ"].tolist() == [1, 2, 3]
    assert out[TRACE_COL][2] == [("LB", "LBSTRESN", "LBSEQ=3")]
    rules = sorted((p.rule, p.severity) for p in problems)
    assert rules == [("ADAM-PARAM-EMPTY", "Warning"), ("ADAM-PARTIAL-DATE", "Warning")]
    assert "VISITNUM" not in out.columns  # only the row's Variables (and the keys) are kept
    ranges = derive_vars_merged_source(out, ("ANRLO", "ANRHI"), ("LBSTNRLO", "LBSTNRHI"), {"LB": lb}.__getitem__)
    assert ranges["ANRLO"].tolist()[:2] == [4.0, 4.0] and pd.isna(ranges["ANRLO"][2])
    assert ranges["ANRHI"].tolist() == [5.6, 5.6, 9.1]
