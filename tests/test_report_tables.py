"""report.tables on hand-made frames: disposition, populations, completeness and by-visit summaries."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from report import tables


def _dm() -> pd.DataFrame:
    return pd.DataFrame({
        "USUBJID": ["S-1", "S-2", "S-3", "S-4", "S-5"],
        "ARM": ["Drug", "Drug", "Placebo", "Placebo", ""],
        "RFXSTDTC": ["2024-01-02", "2024-01-03", "2024-01-04", "", ""],
    })


def _ds() -> pd.DataFrame:
    rows = [
        ("S-1", "PROTOCOL MILESTONE", "RANDOMIZED", "2024-01-02", 1),
        ("S-1", "DISPOSITION EVENT", "COMPLETED", "2024-06-01", 2),
        ("S-2", "PROTOCOL MILESTONE", "RANDOMIZED", "2024-01-03", 1),
        # two disposition events: the later one (adverse event) is the subject's status
        ("S-2", "DISPOSITION EVENT", "COMPLETED", "2024-02-01", 2),
        ("S-2", "DISPOSITION EVENT", "ADVERSE EVENT", "2024-03-01", 3),
        ("S-3", "PROTOCOL MILESTONE", "RANDOMIZED", "2024-01-04", 1),
        ("S-4", "PROTOCOL MILESTONE", "RANDOMIZED", "2024-01-05", 1),
        ("S-4", "DISPOSITION EVENT", "WITHDRAWAL BY SUBJECT", "2024-01-20", 2),
        ("S-5", "DISPOSITION EVENT", "SCREEN FAILURE", "2023-12-20", 1),
    ]
    return pd.DataFrame(rows, columns=["USUBJID", "DSCAT", "DSDECOD", "DSSTDTC", "DSSEQ"])


def test_last_disposition_takes_the_latest_event():
    last = tables.last_disposition(_ds())
    assert last.to_dict() == {"S-1": "COMPLETED", "S-2": "ADVERSE EVENT", "S-4": "WITHDRAWAL BY SUBJECT",
                              "S-5": "SCREEN FAILURE"}


def test_disposition_counts_per_arm_by_hand():
    counts = tables.derive_disposition(_dm(), _ds())
    assert list(counts.columns) == ["Drug", "Placebo", "Not randomized", "Total"]
    expected = {
        "Screened": [2, 2, 1, 5],
        "Randomized": [2, 2, 0, 4],
        "Treated": [2, 1, 0, 3],  # S-4 has no RFXSTDTC
        "Completed": [1, 0, 0, 1],
        "Screen failure": [0, 0, 1, 1],
        "Discontinued": [1, 1, 0, 2],
        "Discontinued: ADVERSE EVENT": [1, 0, 0, 1],
        "Discontinued: WITHDRAWAL BY SUBJECT": [0, 1, 0, 1],
        "Ongoing": [0, 1, 0, 1],  # S-3: randomized, no disposition event yet
    }
    assert {k: list(v) for k, v in counts.iterrows()} == expected


def test_disposition_without_ds_uses_the_planned_arm():
    counts = tables.derive_disposition(_dm(), None)
    assert list(counts.loc["Randomized"]) == [2, 2, 0, 4]
    assert list(counts.loc["Ongoing"]) == [2, 2, 0, 4]
    assert "Completed" in counts.index and counts.loc["Completed", "Total"] == 0


def test_population_counts():
    adsl = pd.DataFrame({"TRT01P": ["Drug", "Drug", "Placebo"], "ITTFL": ["Y", "Y", "Y"], "SAFFL": ["Y", "N", "Y"],
                         "EFFFL": ["Y", "", ""]})
    counts = tables.derive_population_counts(adsl)
    assert {k: list(v) for k, v in counts.iterrows()} == {"ITTFL": [2, 1, 3], "SAFFL": [1, 1, 2], "EFFFL": [1, 0, 1]}


def _sv() -> pd.DataFrame:
    return pd.DataFrame({
        "USUBJID": ["S-1", "S-1", "S-1", "S-2", "S-2", "S-3"],
        "VISITNUM": [1.0, 2.0, 2.01, 1.0, 2.0, 1.0],
        "VISIT": ["SCREENING", "WEEK 4", "UNSCHEDULED", "SCREENING", "WEEK 4", "SCREENING"],
        "SVPRESP": ["Y", "Y", "", "Y", "Y", "Y"],
        "SVOCCUR": ["Y", "Y", "Y", "Y", "N", "Y"],  # S-2 missed week 4
    })


def test_completeness_by_hand():
    lb = pd.DataFrame({
        "USUBJID": ["S-1", "S-2", "S-3", "S-1", "S-1", "S-2", "S-1"],
        "VISITNUM": [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.01],
        "LBTESTCD": ["GLUC", "GLUC", "GLUC", "GLUC", "HBA1C", "GLUC", "GLUC"],
        "LBORRES": ["5.1", "", "6.0", "5.5", "7.1", "5.0", "5.2"],
        "LBSTAT": ["", "NOT DONE", "", "", "", "", ""],
    })
    percent, counts = tables.derive_completeness(_sv(), {"LB": lb})
    assert list(percent.columns) == ["SCREENING", "WEEK 4"]  # the unscheduled visit is not a column
    # visits done/planned: screening 3/3, week 4 1/2
    assert counts.loc["SV visit done"].tolist() == ["3/3", "1/2"]
    assert percent.loc["SV visit done"].tolist() == [100.0, 50.0]
    # GLUC: screening S-1 and S-3 have a result, S-2 NOT DONE -> 2/3; week 4: only S-1 was seen (S-2's record
    # at a missed visit does not count) -> 1/1
    assert counts.loc["LB GLUC"].tolist() == ["2/3", "1/1"]
    assert percent.loc["LB GLUC", "SCREENING"] == pytest.approx(200 / 3)
    assert percent.loc["LB GLUC", "WEEK 4"] == 100.0
    # HBA1C is not collected at screening: NaN there, not 0%
    assert math.isnan(percent.loc["LB HBA1C", "SCREENING"]) and counts.loc["LB HBA1C", "SCREENING"] == ""
    assert percent.loc["LB HBA1C", "WEEK 4"] == 100.0


def test_completeness_groups_a_questionnaire_by_category():
    n = tables.MAX_TESTS_PER_DOMAIN + 1
    qs = pd.DataFrame({"USUBJID": ["S-1"] * n, "VISITNUM": [1.0] * n, "QSTESTCD": [f"Q{i:02d}" for i in range(n)],
                       "QSCAT": ["MYQOL"] * n, "QSORRES": ["1"] * n})
    percent, _ = tables.derive_completeness(_sv(), {"QS": qs})
    assert "QS MYQOL" in percent.index and not any(i.startswith("QS Q") for i in percent.index)
    assert percent.loc["QS MYQOL", "SCREENING"] == pytest.approx(100 / 3)


def test_findings_domains_skip_ie_and_supp():
    frame = pd.DataFrame(columns=["USUBJID", "VISITNUM"])
    sdtm = {"LB": frame.assign(LBTESTCD=[], LBORRES=[]), "IE": frame.assign(IETESTCD=[], IEORRES=[]),
            "DM": pd.DataFrame(columns=["USUBJID"]), "SUPPLB": frame.assign(SUPPLBTESTCD=[], SUPPLBORRES=[])}
    assert tables.findings_domains(sdtm) == ["LB"]


def test_summarise_by_visit_by_hand():
    adlb = pd.DataFrame({
        "USUBJID": ["1", "2", "3", "1", "2", "3", "4", "1"],
        "TRTP": ["A", "A", "B", "A", "A", "B", "B", "A"],
        "PARAMCD": ["HBA1C"] * 7 + ["GLUC"],
        "AVISIT": ["BASELINE", "BASELINE", "BASELINE", "MONTH 3", "MONTH 3", "MONTH 3", "MONTH 3", "MONTH 3"],
        "AVISITN": [0, 0, 0, 3, 3, 3, 3, 3],
        "AVAL": [8.0, 7.0, 9.0, 7.0, 6.0, 8.5, 7.5, 5.0],
        "CHG": [np.nan, np.nan, np.nan, -1.0, -1.0, -0.5, 1.0, 0.0],
        "ANL01FL": ["Y", "Y", "Y", "Y", "Y", "Y", "", "Y"],  # subject 4's record is not analysed
    })
    summary = tables.summarise_by_visit(adlb, "HBA1C", "AVAL")
    rows = {(r.ARM, r.AVISIT): r for r in summary.itertuples()}
    assert rows[("A", "BASELINE")].n == 2 and rows[("A", "BASELINE")].mean == 7.5
    assert rows[("A", "BASELINE")].se == pytest.approx(math.sqrt(0.5) / math.sqrt(2))  # sd of 8, 7 = sqrt(0.5)
    assert rows[("B", "MONTH 3")].n == 1 and rows[("B", "MONTH 3")].mean == 8.5
    assert math.isnan(rows[("B", "MONTH 3")].se)
    change = tables.summarise_by_visit(adlb, "HBA1C", "CHG")
    assert [(r.ARM, r.AVISIT, r.n, r.mean) for r in change.itertuples()] == [("A", "MONTH 3", 2, -1.0),
                                                                           ("B", "MONTH 3", 1, -0.5)]
