"""VISIT, VISITNUM, EPOCH and SE primitives on small hand-built frames with hand-worked values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from sdtm.engine import BuildContext
from sdtm.visits import (
    assign_epochs,
    assign_visit,
    derive_epoch,
    derive_visitnum,
    epoch_starts,
    match_visits,
    subject_elements,
    visit_numbers,
)
from subgen.core.spec.model import Mapping, Spec, StudyInfo

TV = [("1", "SCREENING"), ("2", "BASELINE"), ("3", "MONTH 3"), ("6", "MONTH 12")]
TA = [("EXO", "1", "SCRN", "SCREENING"), ("EXO", "2", "EXO", "TREATMENT"), ("EXO", "3", "FU", "FOLLOW-UP"),
      ("PBO", "1", "SCRN", "SCREENING"), ("PBO", "2", "PBO", "TREATMENT"), ("PBO", "3", "FU", "FOLLOW-UP")]


def _rows(cols: tuple[str, ...], values: list[tuple]) -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(tuple(zip(cols, v)) for v in values)


def make_spec() -> Spec:
    study = StudyInfo("S1", "s", "d", "p", "3.4", "2.0", "2024", date(2025, 1, 1))
    design = (("TV", _rows(("VISITNUM", "VISIT"), TV)),
              ("TA", _rows(("ARMCD", "TAETORD", "ETCD", "EPOCH"), TA)),
              ("TE", _rows(("ETCD", "ELEMENT"), [("SCRN", "Screening"), ("EXO", "Exosomes"), ("PBO", "Placebo"),
                                                 ("FU", "Follow-up")])))
    return Spec("spec.xlsx", "", study, (), (), design_data=design)


def make_ctx() -> BuildContext:
    return BuildContext(make_spec(), Path("."))


DM = pd.DataFrame({
    "STUDYID": ["S1"] * 3, "USUBJID": ["S1-1", "S1-2", "S1-3"],
    "ARMCD": ["EXO", "PBO", pd.NA], "ACTARMCD": ["EXO", "PBO", pd.NA],
    "RFICDTC": ["2024-01-08", "2024-02-01", "2024-03-01"],
    "RFXSTDTC": ["2024-01-29T11:20", "2024-02-20T09:00", pd.NA],
    "RFPENDTC": ["2025-06-30", "2024-08-15", "2024-03-20"]}, dtype="string")


def test_match_visits() -> None:
    raw = pd.Series(["Baseline", " month   3 ", "Unscheduled 1", "unscheduled", "Week 5", "", None])
    visit, bad = match_visits(raw, [v for _, v in TV])
    assert visit.tolist()[:4] == ["BASELINE", "MONTH 3", "UNSCHEDULED", "UNSCHEDULED"]
    assert visit[4:].isna().all()
    assert bad.tolist() == [False, False, False, False, True, False, False]


def test_assign_visit_reports_unmatched_with_row() -> None:
    ctx = make_ctx()
    rows = pd.DataFrame({"VISIT": ["Baseline", "Week 5"], "__file": "visit.csv", "__row": [2, 3]})
    rows.attrs = {"form": "visit"}
    out = assign_visit(rows, Mapping("SV", "*", "VISIT", "assign_visit", raw_column="VISIT", row=7), ctx)
    assert out[0] == "BASELINE" and pd.isna(out[1])
    [p] = ctx.problems
    assert (p.where, p.row, p.column, p.value, p.rule) == ("visit.csv", 3, "VISIT", "Week 5", "MAP-VISIT")


def test_visitnum_scheduled_and_unscheduled() -> None:
    tv = pd.DataFrame(TV, columns=["VISITNUM", "VISIT"])
    frame = pd.DataFrame({
        "USUBJID": ["A", "A", "A", "A", "A", "A", "A", "B", "B", "B"],
        "VISIT": ["SCREENING", "BASELINE", "UNSCHEDULED", "UNSCHEDULED", "UNSCHEDULED", "MONTH 3", "UNSCHEDULED",
                  "UNSCHEDULED", "SCREENING", "UNSCHEDULED"],
        "DTC": ["2024-01-08", "2024-01-29T09:00", "2024-02-20", "2024-02-10T08:00", "2024-02-10T15:00",
                "2024-04-29", "2024-04", "2024-01-01", "2024-01-05", "2024-01-05"]})
    out = visit_numbers(frame["USUBJID"], frame["VISIT"], frame["DTC"], tv)
    # A: baseline (2) on 29 Jan; unscheduled 10 Feb (two records, one visit) -> 2.01, 20 Feb -> 2.02;
    # partial-dated unscheduled -> missing. B: unscheduled before screening -> 1 - 1 + 0.01 = 0.01;
    # unscheduled on the screening date counts after screening -> 1.01.
    assert out.tolist()[:6] == [1, 2, 2.02, 2.01, 2.01, 3]
    assert pd.isna(out[6])
    assert out.tolist()[7:] == [0.01, 1, 1.01]
    # Row order does not change the numbers.
    perm = frame.sample(frac=1, random_state=3)
    again = visit_numbers(perm["USUBJID"], perm["VISIT"], perm["DTC"], tv)
    pd.testing.assert_series_equal(again.reindex(out.index), out)


def test_derive_visitnum_reports_undated_unscheduled() -> None:
    ctx = make_ctx()
    frame = pd.DataFrame({"USUBJID": ["A", "A"], "VISIT": ["BASELINE", "UNSCHEDULED"], "LBDTC": ["2024-01-29", pd.NA],
                          "__file": "lab.csv", "__row": [2, 9]})
    out = derive_visitnum(frame, Mapping("LB", "*", "VISITNUM", "derive_visitnum", value="LBDTC"), ctx)
    assert out[0] == 2 and pd.isna(out[1])
    assert [(p.where, p.row, p.rule) for p in ctx.problems] == [("lab.csv", 9, "MAP-VISITNUM")]


def test_epoch_boundaries() -> None:
    later = {"FOLLOW-UP": pd.Series({"S1-1": "2025-01-27"})}
    starts = epoch_starts(DM, pd.DataFrame(TA, columns=["ARMCD", "TAETORD", "ETCD", "EPOCH"]), later)
    subj = ["S1-1"] * 7 + ["S1-3", "S1-3", "S1-2"]
    dtc = ["2024-01-07", "2024-01-08", "2024-01-28T23:59", "2024-01-29", "2024-01-29T08:00", "2025-01-26",
           "2025-01-27", "2024-03-05", "2024-03", "2025-03-01"]
    out = assign_epochs(pd.Series(subj), pd.Series(dtc), starts)
    # before consent -> missing; consent day SCREENING; day before first dose SCREENING; first-dose day
    # without a time TREATMENT, at 08:00 (before the 11:20 dose) still SCREENING; day before Month 12
    # TREATMENT, Month 12 FOLLOW-UP; screen failure SCREENING, partial date missing; S1-2 has no Month 12.
    assert out.astype(object).where(out.notna(), None).tolist() == [
        None, "SCREENING", "SCREENING", "TREATMENT", "SCREENING", "TREATMENT", "FOLLOW-UP", "SCREENING", None,
        "TREATMENT"]


def test_derive_epoch_from_frame_visit() -> None:
    ctx = make_ctx()
    ctx.datasets["DM"] = DM
    frame = pd.DataFrame({"USUBJID": ["S1-1", "S1-1", "S1-1"], "VISIT": ["SCREENING", "MONTH 12", "UNSCHEDULED"],
                          "LBDTC": ["2024-01-28", "2025-01-27T10:00", "2025-02-01"]})
    out = derive_epoch(frame, Mapping("LB", "*", "EPOCH", "derive_epoch", value="LBDTC|FOLLOW-UP=Month 12"), ctx)
    assert out.tolist() == ["SCREENING", "FOLLOW-UP", "FOLLOW-UP"]


def test_subject_elements() -> None:
    sv = pd.DataFrame({"USUBJID": ["S1-1", "S1-1", "S1-2"], "VISIT": ["BASELINE", "MONTH 12", "MONTH 3"],
                       "SVSTDTC": ["2024-01-29", "2025-01-27", "2024-05-20"]})
    ta = pd.DataFrame(TA, columns=["ARMCD", "TAETORD", "ETCD", "EPOCH"])
    te = pd.DataFrame({"ETCD": ["SCRN", "EXO", "PBO", "FU"],
                       "ELEMENT": ["Screening", "Exosomes", "Placebo", "Follow-up"]})
    se = subject_elements(DM, sv, ta, te, {"FOLLOW-UP": "Month 12"})
    got = [tuple(r) for r in se[["USUBJID", "SESEQ", "ETCD", "ELEMENT", "TAETORD", "EPOCH", "SESTDTC",
                                 "SEENDTC"]].itertuples(index=False)]
    assert got == [
        # completer: screening to first dose, treatment to Month 12, follow-up to RFPENDTC
        ("S1-1", 1, "SCRN", "Screening", 1, "SCREENING", "2024-01-08", "2024-01-29T11:20"),
        ("S1-1", 2, "EXO", "Exosomes", 2, "TREATMENT", "2024-01-29T11:20", "2025-01-27"),
        ("S1-1", 3, "FU", "Follow-up", 3, "FOLLOW-UP", "2025-01-27", "2025-06-30"),
        # discontinued before Month 12: no follow-up element, treatment ends at RFPENDTC
        ("S1-2", 1, "SCRN", "Screening", 1, "SCREENING", "2024-02-01", "2024-02-20T09:00"),
        ("S1-2", 2, "PBO", "Placebo", 2, "TREATMENT", "2024-02-20T09:00", "2024-08-15"),
        # screen failure: screening only, to RFPENDTC
        ("S1-3", 1, "SCRN", "Screening", 1, "SCREENING", "2024-03-01", "2024-03-20"),
    ]
    assert set(se["STUDYID"]) == {"S1"} and set(se["DOMAIN"]) == {"SE"}
