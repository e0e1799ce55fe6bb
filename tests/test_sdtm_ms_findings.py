"""RS (EDSS, Kurtzke FS), FT (SDMT) and NV (MRI) for MSEXO01, against values worked out by hand from the raw CSVs.

Needs specs/ms_exo.xlsx generated with the RS/FT/NV module (one Sources row per test of the wide forms).
"""

from __future__ import annotations

import pandas as pd
from conftest import read


def rows(frame: pd.DataFrame, usubjid: str, **where) -> list[dict]:
    part = frame[frame["USUBJID"] == usubjid]
    for k, v in where.items():
        part = part[part[k] == v]
    return [{k: (None if v == "" or (isinstance(v, float) and pd.isna(v)) else v) for k, v in r.items()}
            for r in part.to_dict("records")]


def one(frame: pd.DataFrame, usubjid: str, **where) -> dict:
    found = rows(frame, usubjid, **where)
    assert len(found) == 1, (usubjid, where, len(found))
    return found[0]


def test_rs_edss_and_fs_101008_baseline_flag(built) -> None:
    # edss.csv 101008: Screening 06-MAY-2024 FS_VISUAL 0 ... EDSS 5.5; Baseline 03-JUN-2024 FS_VISUAL 1, EDSS 5.5.
    # DM RFXSTDTC = RFSTDTC = 2024-06-03T10:30: the untimed Baseline record on the first-dose day is the last
    # pre-dose one, so RSLOBXFL is on Baseline, not Screening. Screening is 28 days before: RSDY -28.
    rs = read(built["ms_exo"], "rs")
    total = rows(rs, "MSEXO01-101008", RSTESTCD="EDSS0101")
    assert [r["VISIT"] for r in total[:2]] == ["SCREENING", "BASELINE"]
    scr, base = total[0], total[1]
    assert (base["RSTEST"], base["RSCAT"], base["RSORRES"], base["RSSTRESC"], base["RSSTRESN"]) == (
        "EDSS01-Expanded Disability Score", "EDSS", "5.5", "5.5", 5.5)
    assert (base["RSLOBXFL"], base["VISITNUM"], base["EPOCH"], base["RSDTC"], base["RSDY"]) == (
        "Y", 2, "TREATMENT", "2024-06-03", 1)
    assert scr["RSLOBXFL"] is None and scr["RSDY"] == -28 and scr["EPOCH"] == "SCREENING"
    assert sum(r["RSLOBXFL"] == "Y" for r in total) == 1
    # Visual FS is KFSS106 (Kurtzke FSS codelist KFSS1TC, RSCAT KFSS): 0 at screening, 1 at baseline (flagged).
    visual = rows(rs, "MSEXO01-101008", RSTESTCD="KFSS106")
    assert [(r["RSORRES"], r["RSSTRESN"], r["RSLOBXFL"]) for r in visual[:2]] == [("0", 0, None), ("1", 1, "Y")]
    assert visual[0]["RSTEST"] == "KFSS1-Visual or Optic Functions" and visual[0]["RSCAT"] == "KFSS"
    # Month 18 (02-DEC-2025): 2024-06-03 -> 2025-06-03 is 365 days, + 182 days to 2025-12-02 = 547, RSDY 548,
    # after the Month 12 visit, so FOLLOW-UP; TV VISITNUM 7.
    m18 = one(rs, "MSEXO01-101008", RSTESTCD="EDSS0101", VISIT="MONTH 18")
    assert (m18["RSORRES"], m18["VISITNUM"], m18["EPOCH"], m18["RSDY"]) == ("5.5", 7, "FOLLOW-UP", 548)


def test_rs_discontinued_101012(built) -> None:
    # edss.csv 101012: Screening 17-MAY-2024 FS_PYRAMIDAL 4 EDSS 5.0; Baseline 30-MAY-2024 FS_PYRAMIDAL 4 EDSS 5.0,
    # ambulation 3; Month 3 30-AUG-2024; Month 6 27-NOV-2024, then discontinued (RFPENDTC 2024-12-20).
    # RFSTDTC 2024-05-30: screening RSDY -13; Month 6: 181 days later, RSDY 182.
    rs = read(built["ms_exo"], "rs")
    total = rows(rs, "MSEXO01-101012", RSTESTCD="EDSS0101")
    assert [r["VISIT"] for r in total] == ["SCREENING", "BASELINE", "MONTH 3", "MONTH 6"]
    assert [r["RSSTRESN"] for r in total] == [5.0, 5.0, 5.0, 5.0]
    assert [r["RSDY"] for r in total] == [-13, 1, 93, 182]
    assert [r["RSLOBXFL"] for r in total] == [None, "Y", None, None]
    assert {r["EPOCH"] for r in rows(rs, "MSEXO01-101012")} == {"SCREENING", "TREATMENT"}
    pyr = one(rs, "MSEXO01-101012", RSTESTCD="KFSS101", VISIT="BASELINE")
    assert (pyr["RSTEST"], pyr["RSORRES"], pyr["RSSTRESN"], pyr["RSLOBXFL"]) == (
        "KFSS1-Pyramidal Functions", "4", 4, "Y")
    amb = one(rs, "MSEXO01-101012", RSTESTCD="AMBSCORE", VISIT="BASELINE")
    assert (amb["RSTEST"], amb["RSCAT"], amb["RSORRES"]) == ("Neurostatus Ambulation Score", "EDSS", "3")
    # 9 tests (EDSS, ambulation, 7 FS) x 4 visits, RSSEQ 1..36
    assert sorted(r["RSSEQ"] for r in rows(rs, "MSEXO01-101012")) == list(range(1, 37))


def test_rs_unscheduled_edss_101015(built) -> None:
    # edss.csv 101015: Month 9 04-APR-2025; Unscheduled 1 19-MAY-2025 EDSS 6.5, FS_BOWEL_BLADDER 3, ambulation 8;
    # Month 12 07-JUL-2025. VISITNUM: MONTH 9 is 5, so the unscheduled visit is 5.01 (before MONTH 12 = 6).
    # RFSTDTC 2024-07-08: 2025-05-19 is 315 days later, RSDY 316; before Month 12, so TREATMENT.
    rs = read(built["ms_exo"], "rs")
    uns = one(rs, "MSEXO01-101015", RSTESTCD="EDSS0101", VISIT="UNSCHEDULED")
    assert (uns["RSORRES"], uns["RSSTRESN"], uns["VISITNUM"], uns["RSDTC"], uns["RSDY"], uns["EPOCH"]) == (
        "6.5", 6.5, 5.01, "2025-05-19", 316, "TREATMENT")
    assert one(rs, "MSEXO01-101015", RSTESTCD="KFSS105", VISIT="UNSCHEDULED")["RSORRES"] == "3"
    assert len(rows(rs, "MSEXO01-101015", VISIT="UNSCHEDULED")) == 9
    nums = [r["VISITNUM"] for r in rows(rs, "MSEXO01-101015", RSTESTCD="EDSS0101")]
    assert nums == [1, 2, 3, 4, 5, 5.01, 6, 7, 8]


def test_ft_sdmt_and_not_done(built) -> None:
    # sdmt.csv 101008: Screening 06-MAY-2024 44; Baseline 03-JUN-2024 48 (last pre-dose: FTLOBXFL);
    # Month 18 02-DEC-2025 SDMTYN N, no score, SDMTNDRS "Trained rater not available": FTDY 548, FOLLOW-UP.
    ft = read(built["ms_exo"], "ft")
    sdmt = rows(ft, "MSEXO01-101008")
    assert [r["FTORRES"] for r in sdmt] == ["44", "48", "49", "51", "51", "45", None, "52"]
    base = sdmt[1]
    assert (base["FTTESTCD"], base["FTTEST"], base["FTCAT"], base["FTSTRESN"], base["FTLOBXFL"], base["FTDY"]) == (
        "SDMT0101", "SDMT01-Total Score", "SDMT", 48, "Y", 1)
    nd = sdmt[6]
    assert (nd["VISIT"], nd["VISITNUM"], nd["FTSTAT"], nd["FTREASND"], nd["FTSTRESC"], nd["FTSTRESN"]) == (
        "MONTH 18", 7, "NOT DONE", "Trained rater not available", None, None)
    assert (nd["FTDTC"], nd["FTDY"], nd["EPOCH"], nd["FTLOBXFL"]) == ("2025-12-02", 548, "FOLLOW-UP", None)
    assert ft["FTSTAT"].fillna("").eq("NOT DONE").sum() == 1
    # 101012 (discontinued): Screening 33, Baseline 35, Month 3 36, Month 6 40
    assert [r["FTSTRESN"] for r in rows(ft, "MSEXO01-101012")] == [33, 35, 36, 40]


def test_nv_mri_volumes_and_counts(built) -> None:
    # mri.csv 101008 Month 18 02-DEC-2025: T2LESN 22, T2LESVOL 9322.8 mm3 (CT unit uL), NEWT2N 0, GDLESN 0,
    # BRAINVOL 1329.6 mL; NVDY 548, FOLLOW-UP.
    nv = read(built["ms_exo"], "nv")
    brain = one(nv, "MSEXO01-101008", NVTESTCD="VOLUME", NVCAT="BRAIN VOLUMETRY", VISIT="MONTH 18")
    assert (brain["NVTEST"], brain["NVORRES"], brain["NVORRESU"], brain["NVSTRESN"], brain["NVSTRESU"]) == (
        "Volume", "1329.6", "mL", 1329.6, "mL")
    assert (brain["NVLOC"], brain["NVMETHOD"], brain["NVDY"], brain["EPOCH"]) == ("BRAIN", "MRI", 548, "FOLLOW-UP")
    lesvol = one(nv, "MSEXO01-101008", NVTESTCD="VOLUME", NVCAT="T2 LESIONS", VISIT="MONTH 18")
    assert (lesvol["NVORRES"], lesvol["NVORRESU"], lesvol["NVSTRESN"], lesvol["NVSTRESU"]) == (
        "9322.8", "uL", 9322.8, "uL")
    count = one(nv, "MSEXO01-101008", NVTESTCD="T2LESN", VISIT="MONTH 18")
    assert (count["NVTEST"], count["NVORRES"], count["NVSTRESN"], count["NVORRESU"], count["NVSTRESU"]) == (
        "Number of T2 Lesions", "22", 22, None, None)
    # mri.csv 101012: Screening scan 20-MAY-2024 (10 days before RFSTDTC 2024-05-30: NVDY -10, last pre-dose scan),
    # T2LESN 23, NEWT2N blank (no record), BRAINVOL 1232.9; Month 6 27-NOV-2024 T2LESN 24, NEWT2N 2, NVDY 182.
    scr = one(nv, "MSEXO01-101012", NVTESTCD="VOLUME", NVCAT="BRAIN VOLUMETRY", VISIT="SCREENING")
    assert (scr["NVSTRESN"], scr["NVSTRESU"], scr["NVLOBXFL"], scr["NVDY"], scr["VISITNUM"]) == (
        1232.9, "mL", "Y", -10, 1)
    assert [(r["NVSTRESN"], r["NVLOBXFL"], r["NVDY"]) for r in rows(nv, "MSEXO01-101012", NVTESTCD="T2LESN")] == [
        (23, "Y", -10), (24, None, 182)]
    assert [(r["VISIT"], r["NVSTRESN"]) for r in rows(nv, "MSEXO01-101012", NVTESTCD="NEWT2N")] == [("MONTH 6", 2)]
    assert not nv["NVORRES"].fillna("").eq("").any()


def test_findings_keys_unique(built) -> None:
    for name, keys in (("rs", ["USUBJID", "RSCAT", "RSTESTCD", "VISITNUM"]),
                       ("ft", ["USUBJID", "FTTESTCD", "VISITNUM"]),
                       ("nv", ["USUBJID", "NVCAT", "NVTESTCD", "NVLOC", "VISITNUM"])):
        frame = read(built["ms_exo"], name)
        assert not frame.duplicated(keys).any(), name
