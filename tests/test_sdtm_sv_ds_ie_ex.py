"""SV, DS, IE and EX for the demo studies, against values worked out by hand from the raw CSVs."""

from __future__ import annotations

import pandas as pd
from conftest import read


def recs(frame: pd.DataFrame, usubjid: str, cols: list[str]) -> list[tuple]:
    part = frame.loc[frame["USUBJID"] == usubjid, cols]
    return [tuple(None if (v == "" or (isinstance(v, float) and pd.isna(v))) else v for v in r)
            for r in part.itertuples(index=False)]


def test_sv_unscheduled_and_missed_visits(built) -> None:
    sv = read(built["ms_exo"], "sv")
    # visit.csv 101015 "Unscheduled 1" 19-MAY-2025 between Month 9 (04-APR-2025, VISITNUM 5) and Month 12;
    # RFSTDTC 2024-07-08 -> 2025-05-19 is 315 days, so SVSTDY 316.
    assert (5.01, "UNSCHEDULED", None, None, "2025-05-19", 316) in recs(
        sv, "MSEXO01-101015", ["VISITNUM", "VISIT", "SVPRESP", "SVOCCUR", "SVSTDTC", "SVSTDY"])
    # visit.csv 101004 Month 18 VISYN N "Subject unable to travel (family emergency)".
    assert (7, "MONTH 18", "Y", "N", "Subject unable to travel (family emergency)", None) in recs(
        sv, "MSEXO01-101004", ["VISITNUM", "VISIT", "SVPRESP", "SVOCCUR", "SVREASOC", "SVSTDTC"])
    assert len(sv) == 156  # one record per visit.csv row


def test_ds_milestones_and_disposition(built) -> None:
    ds = read(built["ms_exo"], "ds")
    # enrol ICDAT 17-MAY-2024, rand 30-MAY-2024, ds "Adverse Event" 20-DEC-2024 with a specification.
    assert recs(ds, "MSEXO01-101012", ["DSSEQ", "DSDECOD", "DSCAT", "DSSTDTC", "EPOCH"]) == [
        (1, "INFORMED CONSENT OBTAINED", "PROTOCOL MILESTONE", "2024-05-17", "SCREENING"),
        (2, "RANDOMIZED", "PROTOCOL MILESTONE", "2024-05-30", "TREATMENT"),
        (3, "ADVERSE EVENT", "DISPOSITION EVENT", "2024-12-20", "TREATMENT")]
    assert recs(ds, "MSEXO01-101012", ["DSTERM"])[2] == (
        "Infusion related reaction at Month 6 infusion; no further infusions",)
    # screen failure 101007: consent and screen failure on 23-APR-2024, never randomized.
    assert recs(ds, "MSEXO01-101007", ["DSDECOD", "EPOCH"]) == [("INFORMED CONSENT OBTAINED", "SCREENING"),
                                                                 ("SCREEN FAILURE", "SCREENING")]
    # completer 101004 ends 02-APR-2026 at Month 24, in follow-up.
    assert recs(ds, "MSEXO01-101004", ["DSDECOD", "EPOCH"])[-1] == ("COMPLETED", "FOLLOW-UP")


def test_ie_criteria_not_met(built) -> None:
    # elig.csv: 201005 IN02 (age 67); 201031 EX02 and EX06. IETEST/IECAT come from TI.
    ie = read(built["t2dm_exo"], "ie")
    assert len(ie) == 3
    assert recs(ie, "T2DMEXO01-201031", ["IESEQ", "IETESTCD", "IECAT", "IEORRES", "VISIT", "EPOCH"]) == [
        (1, "EX02", "EXCLUSION", "Y", "SCREENING", "SCREENING"),
        (2, "EX06", "EXCLUSION", "Y", "SCREENING", "SCREENING")]
    assert recs(ie, "T2DMEXO01-201005", ["IETEST", "IEORRES"]) == [("Aged 40 to 65 years", "N")]


def test_ex_unblinded_treatment_and_study_days(built) -> None:
    ex = read(built["ms_exo"], "ex")
    # dosing.csv 101001 (rand Placebo): 29-JAN-2024 11:20-11:58, 29-APR-2024 10:30-11:13 (91 days later: EXSTDY 92),
    # 31-JUL-2024 12:05 (184 days: 185), 28-OCT-2024 12:05.
    # Placebo: EXDOSE 0 particles (SDTMIG EX assumption 2b); the 100 mL infusion is the vehicle amount EXVAMT.
    assert recs(ex, "MSEXO01-101001", ["EXSEQ", "EXTRT", "EXDOSE", "EXDOSU", "EXVAMT", "EXVAMTU", "EXROUTE",
                                       "VISITNUM", "EXSTDTC", "EXSTDY"]) == [
        (1, "PLACEBO", 0, "particles", 100, "mL", "INTRAVENOUS", 2, "2024-01-29T11:20", 1),
        (2, "PLACEBO", 0, "particles", 100, "mL", "INTRAVENOUS", 3, "2024-04-29T10:30", 92),
        (3, "PLACEBO", 0, "particles", 100, "mL", "INTRAVENOUS", 4, "2024-07-31T12:05", 185),
        (4, "PLACEBO", 0, "particles", 100, "mL", "INTRAVENOUS", 5, "2024-10-28T12:05", 274)]
    # 101009 missed the Month 6 dose (EXYN N): three records, the skipped one is excluded, not lost.
    assert [r[0] for r in recs(ex, "MSEXO01-101009", ["VISIT"])] == ["BASELINE", "MONTH 3", "MONTH 9"]
    recon = pd.read_csv(built["ms_exo"] / "reports/reconciliation.csv").set_index("form").loc["dosing"]
    assert (recon["as_records"], recon["excluded"], recon["not_mapped"]) == (78, 1, 0)


def test_t2dm_ex_products(built) -> None:
    ex = read(built["t2dm_exo"], "ex")
    # Group 1 subjects get Exo-HWS and Exo-HUVEC at each dosing visit; Group 2 only Exo-HWS.
    dm = read(built["t2dm_exo"], "dm").set_index("USUBJID")["ARMCD"]
    arms = ex.assign(ARMCD=ex["USUBJID"].map(dm)).groupby("ARMCD")["EXTRT"].agg(set)
    assert arms["EXOHWSHU"] == {"EXO-HWS", "EXO-HUVEC"} and arms["EXOHWS"] == {"EXO-HWS"}
    assert set(ex["EPOCH"]) == {"TREATMENT"}
