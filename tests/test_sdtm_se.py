"""SE (subject elements) from DM, SV and the TA/TE design, against dates worked out by hand from the raw CSVs,
and EPOCH in the findings domains consistent with SE."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import STUDIES, read


def elements(built, study: str, usubjid: str) -> list[tuple]:
    se = read(built[study], "se")
    part = se[se["USUBJID"] == usubjid].sort_values("SESEQ")
    return [(int(r.SESEQ), r.ETCD, r.EPOCH, r.SESTDTC, r.SEENDTC) for r in part.itertuples()]


def test_ms_completer_101001(built) -> None:
    # enrol ICDAT 08-JAN-2024; first infusion dosing 29-JAN-2024 11:20 (placebo arm); visit.csv Month 12
    # 23-JAN-2025; ds.csv completed 28-JAN-2026 (RFPENDTC).
    assert elements(built, "ms_exo", "MSEXO01-101001") == [
        (1, "SCRN", "SCREENING", "2024-01-08", "2024-01-29T11:20"),
        (2, "PBO", "TREATMENT", "2024-01-29T11:20", "2025-01-23"),
        (3, "FU", "FOLLOW-UP", "2025-01-23", "2026-01-28")]
    se = read(built["ms_exo"], "se")
    fu = se[(se["USUBJID"] == "MSEXO01-101001") & (se["ETCD"] == "FU")].iloc[0]
    assert (fu["SESTDY"], fu["SEENDY"], fu["ELEMENT"]) == (361, 731, "Follow-up")  # 2025-01-23 is day 361


def test_ms_early_discontinuation_and_screen_failure(built) -> None:
    # 101012: consent 17-MAY-2024, first infusion 30-MAY-2024 11:45, discontinued (adverse event) 20-DEC-2024
    # before Month 12: no follow-up element. 101007: screen failure on 23-APR-2024, the day of consent.
    assert elements(built, "ms_exo", "MSEXO01-101012") == [
        (1, "SCRN", "SCREENING", "2024-05-17", "2024-05-30T11:45"),
        (2, "PBO", "TREATMENT", "2024-05-30T11:45", "2024-12-20")]
    assert elements(built, "ms_exo", "MSEXO01-101007") == [
        (1, "SCRN", "SCREENING", "2024-04-23", "2024-04-23")]


def test_t2dm_subject_201001(built) -> None:
    se = read(built["t2dm_exo"], "se")
    got = elements(built, "t2dm_exo", "T2DMEXO01-201001")
    assert [g[1:3] for g in got] == [("SCRN", "SCREENING"), ("HWS", "TREATMENT")]
    assert got[1][3] == "2025-06-13T10:25" and got[0][4] == got[1][3]  # no gap between elements
    assert len(se.drop_duplicates(["USUBJID", "ETCD"])) == len(se)


@pytest.mark.parametrize("study", STUDIES)
def test_epoch_in_findings_matches_se(built, study: str) -> None:
    # The element whose start is the latest on or before the record's date and time gives the EPOCH (a record
    # without a time belongs to the element starting that day; a timed one before RFXSTDTC's time does not).
    se = read(built[study], "se")
    se = se.assign(DAY=pd.to_datetime(se["SESTDTC"], format="ISO8601"))
    for name in ("lb", "qs", "ex"):
        frame = read(built[study], name)
        dtc = next(c for c in (f"{name.upper()}DTC", f"{name.upper()}STDTC") if c in frame.columns)
        rec = frame[frame[dtc].str.len() >= 10]
        key = rec[dtc].where(rec[dtc].str.len() >= 16, rec[dtc].str[:10] + "T23:59")
        rec = rec.assign(DAY=pd.to_datetime(key, format="ISO8601")).reset_index().sort_values("DAY")
        hit = pd.merge_asof(rec, se.sort_values("DAY")[["USUBJID", "DAY", "EPOCH"]], on="DAY", by="USUBJID",
                            suffixes=("", "_SE"))
        assert (hit["EPOCH"].fillna("") == hit["EPOCH_SE"].fillna("")).all(), (name, hit[hit["EPOCH"] != hit[
            "EPOCH_SE"]][["USUBJID", dtc, "EPOCH", "EPOCH_SE"]].head())
