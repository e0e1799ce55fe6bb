"""LB for the demo studies, against values worked out by hand from the raw lab.csv rows.

lab.csv header: STUDY,SITEID,SUBJID,VISIT,LBDAT,LBTIM,LBSPEC,LBTEST,LBORRES,LBORRESU,LBORNRLO,LBORNRHI,LBFAST,LBTPT,
LBSTAT,LBREASND (line numbers below are CSV lines, header = line 1).

Conventions checked here: LBORRESU is the CDISC UNIT submission value of the reported unit (pg/mL -> ng/L,
ng/mL -> ug/L are CT synonyms, same number); glucose is standardised mg/dL x 0.0555 = mmol/L, every other test
keeps its unit (factor 1); LBNRIND needs both limits (one-sided ranges give no LBNRIND).
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import read


def rows(frame: pd.DataFrame, usubjid: str, **where: object) -> list[dict]:
    part = frame[frame["USUBJID"] == usubjid]
    for col, value in where.items():
        part = part[part[col] == value]
    return [{k: (None if v == "" or (isinstance(v, float) and pd.isna(v)) else v) for k, v in r.items()}
            for r in part.to_dict("records")]


def one(frame: pd.DataFrame, usubjid: str, **where: object) -> dict:
    found = rows(frame, usubjid, **where)
    assert len(found) == 1, (usubjid, where, len(found))
    return found[0]


def approx(x: float):
    return pytest.approx(x, rel=1e-9)


# --------------------------------------------------------------------------- MSEXO01
def test_lb_ms_row_count_and_structure(built) -> None:
    # lab.csv has 385 rows, each one LB record (NOT DONE included); LBTPT/LBFAST are not used in MS.
    lb = read(built["ms_exo"], "lb")
    assert len(lb) == 385
    assert list(lb.columns[:6]) == ["STUDYID", "DOMAIN", "USUBJID", "LBSEQ", "LBTESTCD", "LBTEST"]
    assert "LBTPT" not in lb.columns and "LBFAST" not in lb.columns
    assert set(lb["LBTESTCD"]) == {"NFLP", "GFAP", "OLIGBAND"}
    assert set(lb["LBSPEC"]) == {"SERUM", "CEREBROSPINAL FLUID"}
    assert not lb.duplicated(["USUBJID", "LBTESTCD", "LBSPEC", "VISITNUM", "LBDTC"]).any()
    recon = pd.read_csv(built["ms_exo"] / "reports/reconciliation.csv").set_index("form").loc["lab"]
    assert recon["as_records"] == recon["rows_in"] == 385 and recon["not_mapped"] == 0


def test_lb_ms_subject_101001(built) -> None:
    # line 2:  101001,Baseline,29-JAN-2024,09:55,Serum,Neurofilament light chain,21.0,pg/mL,,,,,,
    # line 4:  101001,Baseline,29-JAN-2024,10:45,CSF,Neurofilament light chain,1059,pg/mL,,890,,,,
    # line 6:  101001,Baseline,29-JAN-2024,10:45,CSF,Oligoclonal bands,Positive,,,,,,,
    # line 13: 101001,Month 12,23-JAN-2025,08:55,Serum,Neurofilament light chain,19.8,pg/mL,,,,,,
    # First infusion 29-JAN-2024 11:20 (dosing.csv), so both Baseline samples are pre-dose -> LBLOBXFL Y.
    # 2024-01-29 -> 2025-01-23 is 360 days (leap year): LBDY 361; Month 12 starts FOLLOW-UP.
    # The pre-dose Baseline samples (09:55 < 11:20) are in SCREENING: EPOCH compares date and time.
    lb = read(built["ms_exo"], "lb")
    assert len(rows(lb, "MSEXO01-101001")) == 20
    nfl = one(lb, "MSEXO01-101001", LBTESTCD="NFLP", LBSPEC="SERUM", VISIT="BASELINE")
    assert (nfl["LBTEST"], nfl["LBCAT"], nfl["LBORRES"], nfl["LBORRESU"]) == (
        "Neurofilament Light Chain Protein", "NEUROLOGICAL BIOMARKERS", "21.0", "ng/L")
    assert (nfl["LBSTRESC"], nfl["LBSTRESN"], nfl["LBSTRESU"]) == ("21", approx(21.0), "ng/L")
    assert (nfl["LBLOBXFL"], nfl["VISITNUM"], nfl["EPOCH"], nfl["LBDTC"], nfl["LBDY"]) == (
        "Y", 2, "SCREENING", "2024-01-29T09:55", 1)
    assert nfl["LBNRIND"] is None and nfl["LBSTNRHI"] is None

    csf = one(lb, "MSEXO01-101001", LBTESTCD="NFLP", LBSPEC="CEREBROSPINAL FLUID", VISIT="BASELINE")
    assert (csf["LBORRES"], csf["LBORRESU"], csf["LBORNRHI"], csf["LBSTRESN"], csf["LBSTNRHI"]) == (
        "1059", "ng/L", "890", approx(1059), approx(890))
    assert csf["LBORNRLO"] is None and csf["LBNRIND"] == "HIGH"  # upper limit only: 1059 > 890 ng/L
    assert csf["LBLOBXFL"] == "Y"

    ocb = one(lb, "MSEXO01-101001", LBTESTCD="OLIGBAND", VISIT="BASELINE")
    assert (ocb["LBTEST"], ocb["LBORRES"], ocb["LBSTRESC"], ocb["LBSPEC"]) == (
        "Oligoclonal Bands", "Positive", "POSITIVE", "CEREBROSPINAL FLUID")
    assert ocb["LBORRESU"] is None and ocb["LBSTRESN"] is None and ocb["LBSTRESU"] is None

    m12 = one(lb, "MSEXO01-101001", LBTESTCD="NFLP", LBSPEC="SERUM", VISIT="MONTH 12")
    assert (m12["LBSTRESN"], m12["VISITNUM"], m12["EPOCH"], m12["LBDY"], m12["LBLOBXFL"]) == (
        approx(19.8), 6, "FOLLOW-UP", 361, None)
    # one baseline flag per test and specimen: serum NfL, serum GFAP, CSF NfL, CSF GFAP, CSF OCB
    assert sum(r["LBLOBXFL"] == "Y" for r in rows(lb, "MSEXO01-101001")) == 5


def test_lb_ms_discontinued_101012(built) -> None:
    # Discontinued after Month 6 (AE): lab.csv has Baseline (2 serum + 3 CSF), Month 3 and Month 6 (2 serum each).
    # line: 101012,Baseline,30-MAY-2024,11:20,CSF,Neurofilament light chain,862,pg/mL,,890,,,,
    # line: 101012,Month 6,27-NOV-2024,10:05,Serum,GFAP,178.2,pg/mL,,,,,,
    # First infusion 30-MAY-2024 11:45 -> the 11:20 CSF sample is pre-dose. 2024-05-30 -> 2024-11-27 = 181 days.
    lb = read(built["ms_exo"], "lb")
    recs = rows(lb, "MSEXO01-101012")
    assert len(recs) == 9
    assert {r["VISIT"] for r in recs} == {"BASELINE", "MONTH 3", "MONTH 6"}
    # never reached Month 12, so no FOLLOW-UP; the Baseline samples before the 11:45 infusion are SCREENING
    assert {r["EPOCH"] for r in recs} == {"SCREENING", "TREATMENT"}
    assert {r["EPOCH"] for r in recs if r["VISIT"] == "BASELINE"} == {"SCREENING"}
    csf = one(lb, "MSEXO01-101012", LBTESTCD="NFLP", LBSPEC="CEREBROSPINAL FLUID")
    assert (csf["LBORRES"], csf["LBSTRESN"], csf["LBSTRESU"], csf["LBLOBXFL"], csf["LBDTC"]) == (
        "862", approx(862), "ng/L", "Y", "2024-05-30T11:20")
    gfap = one(lb, "MSEXO01-101012", LBTESTCD="GFAP", VISIT="MONTH 6")
    assert (gfap["LBORRES"], gfap["LBORRESU"], gfap["LBSTRESC"], gfap["VISITNUM"], gfap["LBDY"]) == (
        "178.2", "ng/L", "178.2", 4, 182)


def test_lb_ms_not_done_and_unscheduled(built) -> None:
    # line 166: 101010,Month 3,05-SEP-2024,08:45,Serum,GFAP,,,,,,,NOT DONE,Insufficient sample volume
    # line 260: 101015,Unscheduled 1,19-MAY-2025,10:15,Serum,Neurofilament light chain,20.0,pg/mL,,,,,,
    # 101015's Unscheduled 1 follows Month 9 (VISITNUM 5) -> 5.01; RFSTDTC 2024-07-08 -> 315 days later: LBDY 316.
    lb = read(built["ms_exo"], "lb")
    nd = one(lb, "MSEXO01-101010", LBTESTCD="GFAP", VISIT="MONTH 3")
    assert (nd["LBSTAT"], nd["LBREASND"], nd["LBSPEC"], nd["LBDTC"]) == (
        "NOT DONE", "Insufficient sample volume", "SERUM", "2024-09-05T08:45")
    assert all(nd[v] is None for v in ("LBORRES", "LBORRESU", "LBSTRESC", "LBSTRESN", "LBSTRESU", "LBLOBXFL"))
    uns = one(lb, "MSEXO01-101015", LBTESTCD="NFLP", VISIT="UNSCHEDULED")
    assert (uns["VISITNUM"], uns["LBORRES"], uns["LBSTRESC"], uns["LBSTRESN"], uns["EPOCH"], uns["LBDY"]) == (
        approx(5.01), "20.0", "20", approx(20.0), "TREATMENT", 316)


# --------------------------------------------------------------------------- T2DMEXO01
def test_lb_t2dm_row_count_and_structure(built) -> None:
    lb = read(built["t2dm_exo"], "lb")
    assert len(lb) == 881
    assert set(lb["LBTESTCD"]) == {"GLUC", "HBA1C", "CPEPTIDE", "INTLK6", "INTLK10", "DDIMER", "CRP"}
    assert set(lb["LBSPEC"]) == {"PLASMA", "BLOOD", "SERUM"}
    assert not lb.duplicated(["USUBJID", "LBTESTCD", "LBSPEC", "VISITNUM", "LBTPT", "LBDTC"]).any()
    # LBTPT/LBTPTREF only on the 2-hour glucose, which is the only non-fasting sample
    tpt = lb[lb["LBTPT"] != ""]
    assert set(tpt["LBTPT"]) == {"2 HOURS POST MEAL"} and set(tpt["LBTPTREF"]) == {"STANDARD MEAL"}
    assert set(tpt["LBFAST"]) == {"N"} and set(lb.loc[lb["LBTPT"] == "", "LBFAST"]) == {"Y"}
    recon = pd.read_csv(built["t2dm_exo"] / "reports/reconciliation.csv").set_index("form").loc["lab"]
    assert recon["as_records"] == recon["rows_in"] == 881 and recon["not_mapped"] == 0


def test_lb_t2dm_subject_201001(built) -> None:
    # line 2: 201001,Screening,02-JUN-2025,07:50,Plasma,Glucose,134,mg/dL,70,100,Y,,,
    # line 4: 201001,Baseline,13-JUN-2025,07:45,Plasma,Glucose,140,mg/dL,70,100,Y,,,
    # line 5: 201001,Baseline,13-JUN-2025,10:15,Plasma,Glucose,180,mg/dL,,140,N,2 HOURS POST MEAL,,
    # line 7: 201001,Baseline,13-JUN-2025,07:45,Serum,C-peptide,2.22,ng/mL,0.8,3.1,Y,,,
    # line 8: 201001,Baseline,13-JUN-2025,07:45,Serum,IL-6,11.6,pg/mL,,7.0,Y,,,
    # By hand: 140 x 0.0555 = 7.77, 180 x 0.0555 = 9.99, 134 x 0.0555 = 7.437 mmol/L; range 70-100 mg/dL =
    # 3.885-5.55 mmol/L, 140 mg/dL high -> 7.77 HIGH; C-peptide 2.22 in 0.8-3.1 -> NORMAL, ng/mL = ug/L.
    # First dose 13-JUN-2025 10:25: fasting (07:45) and 2-h (10:15) glucose are both pre-dose, flagged separately.
    lb = read(built["t2dm_exo"], "lb")
    assert len(rows(lb, "T2DMEXO01-201001")) == 18
    fast = one(lb, "T2DMEXO01-201001", LBTESTCD="GLUC", VISIT="BASELINE", LBFAST="Y")
    assert (fast["LBTEST"], fast["LBSPEC"], fast["LBORRES"], fast["LBORRESU"], fast["LBORNRLO"],
            fast["LBORNRHI"]) == ("Glucose", "PLASMA", "140", "mg/dL", "70", "100")
    assert (fast["LBSTRESC"], fast["LBSTRESN"], fast["LBSTRESU"]) == ("7.77", approx(7.77), "mmol/L")
    assert (fast["LBSTNRLO"], fast["LBSTNRHI"], fast["LBNRIND"]) == (approx(3.885), approx(5.55), "HIGH")
    assert (fast["LBTPT"], fast["LBTPTREF"], fast["LBLOBXFL"], fast["VISITNUM"], fast["LBDY"]) == (
        None, None, "Y", 2, 1)

    pp = one(lb, "T2DMEXO01-201001", LBTESTCD="GLUC", VISIT="BASELINE", LBFAST="N")
    assert (pp["LBTPT"], pp["LBTPTREF"], pp["LBDTC"], pp["LBORRES"]) == (
        "2 HOURS POST MEAL", "STANDARD MEAL", "2025-06-13T10:15", "180")
    assert (pp["LBSTRESC"], pp["LBSTRESN"], pp["LBSTRESU"], pp["LBSTNRHI"]) == ("9.99", approx(9.99), "mmol/L",
                                                                                 approx(7.77))
    assert pp["LBNRIND"] == "HIGH" and pp["LBLOBXFL"] == "Y"  # upper limit only: above 140 mg/dL

    scr = one(lb, "T2DMEXO01-201001", LBTESTCD="GLUC", VISIT="SCREENING")
    assert (scr["LBSTRESN"], scr["VISITNUM"], scr["EPOCH"], scr["LBDY"], scr["LBLOBXFL"]) == (
        approx(7.437), 1, "SCREENING", -11, None)

    cpep = one(lb, "T2DMEXO01-201001", LBTESTCD="CPEPTIDE", VISIT="BASELINE")
    assert (cpep["LBORRES"], cpep["LBORRESU"], cpep["LBSTRESN"], cpep["LBSTRESU"], cpep["LBNRIND"]) == (
        "2.22", "ug/L", approx(2.22), "ug/L", "NORMAL")
    il6 = one(lb, "T2DMEXO01-201001", LBTESTCD="INTLK6", VISIT="BASELINE")
    assert (il6["LBTEST"], il6["LBCAT"], il6["LBORRESU"], il6["LBSTRESN"], il6["LBSTRESU"]) == (
        "Interleukin 6", "IMMUNOLOGY", "ng/L", approx(11.6), "ng/L")


def test_lb_t2dm_withdrawn_201022(built) -> None:
    # Withdrew after Baseline: 2 Screening + 8 Baseline rows, no Month 3.
    # line 350: 201022,Baseline,30-JUN-2025,07:00,Plasma,Glucose,184,mg/dL,70,100,Y,,,
    # line 351: 201022,Baseline,30-JUN-2025,09:30,Plasma,Glucose,247,mg/dL,,140,N,2 HOURS POST MEAL,,
    # line 352: 201022,Baseline,30-JUN-2025,07:00,Whole blood,HbA1c,8.5,%,4.0,5.6,Y,,,
    # line 356: 201022,Baseline,30-JUN-2025,07:00,Plasma,D-dimer,355,ng/mL FEU,,500,Y,,,
    # 184 x 0.0555 = 10.212; 247 x 0.0555 = 13.7085; first dose 10:25, so both glucoses are baseline.
    lb = read(built["t2dm_exo"], "lb")
    recs = rows(lb, "T2DMEXO01-201022")
    assert len(recs) == 10 and {r["VISIT"] for r in recs} == {"SCREENING", "BASELINE"}
    fast = one(lb, "T2DMEXO01-201022", LBTESTCD="GLUC", VISIT="BASELINE", LBFAST="Y")
    pp = one(lb, "T2DMEXO01-201022", LBTESTCD="GLUC", VISIT="BASELINE", LBFAST="N")
    assert (fast["LBSTRESN"], fast["LBLOBXFL"], pp["LBSTRESN"], pp["LBLOBXFL"]) == (
        approx(10.212), "Y", approx(13.7085), "Y")
    hba1c = one(lb, "T2DMEXO01-201022", LBTESTCD="HBA1C", VISIT="BASELINE")
    assert (hba1c["LBTEST"], hba1c["LBSPEC"], hba1c["LBORRESU"], hba1c["LBSTRESC"], hba1c["LBSTRESU"],
            hba1c["LBNRIND"], hba1c["LBLOBXFL"]) == ("Hemoglobin A1C", "BLOOD", "%", "8.5", "%", "HIGH", "Y")
    # the screening HbA1c (same value) is earlier, so it is not the baseline
    assert one(lb, "T2DMEXO01-201022", LBTESTCD="HBA1C", VISIT="SCREENING")["LBLOBXFL"] is None
    dd = one(lb, "T2DMEXO01-201022", LBTESTCD="DDIMER")
    assert (dd["LBORRES"], dd["LBORRESU"], dd["LBSTRESN"], dd["LBSTRESU"], dd["LBCAT"]) == (
        "355", "ug/L FEU", approx(355), "ug/L FEU", "COAGULATION")


def test_lb_t2dm_below_limit_and_not_done(built) -> None:
    # line 119: 201008,Baseline,17-JUN-2025,07:35,Serum,IL-10,<0.5,pg/mL,,9.1,Y,,,
    # line 755: 201045,Month 3,08-OCT-2025,08:05,Plasma,D-dimer,,,,500,Y,,NOT DONE,Sample clotted
    lb = read(built["t2dm_exo"], "lb")
    il10 = one(lb, "T2DMEXO01-201008", LBTESTCD="INTLK10", VISIT="BASELINE")
    assert (il10["LBORRES"], il10["LBORRESU"], il10["LBSTRESC"], il10["LBSTRESU"]) == ("<0.5", "ng/L", "<0.5",
                                                                                     "ng/L")
    assert il10["LBSTRESN"] is None and il10["LBNRIND"] == "NORMAL"  # below 0.5, no lower limit, ULN 9.1
    assert il10["LBLOBXFL"] == "Y"  # a '<0.5' is a result (pre-dose sample, first dose 09:20)
    nd = one(lb, "T2DMEXO01-201045", LBTESTCD="DDIMER", VISIT="MONTH 3")
    assert (nd["LBSTAT"], nd["LBREASND"], nd["LBSPEC"], nd["VISITNUM"]) == ("NOT DONE", "Sample clotted", "PLASMA", 5)
    assert all(nd[v] is None for v in ("LBORRES", "LBORRESU", "LBSTRESC", "LBSTRESN", "LBNRIND"))


def test_lb_t2dm_unscheduled_visit(built) -> None:
    # line 586: 201036,Unscheduled 1,22-AUG-2025,09:25,Plasma,Glucose,154,mg/dL,70,100,Y,,,
    # 154 x 0.0555 = 8.547 mmol/L (HIGH); RFSTDTC 2025-07-10 -> 43 days later: LBDY 44.
    lb = read(built["t2dm_exo"], "lb")
    uns = one(lb, "T2DMEXO01-201036", VISIT="UNSCHEDULED")
    assert (uns["LBTESTCD"], uns["LBSTRESN"], uns["LBNRIND"], uns["LBFAST"], uns["EPOCH"], uns["LBDY"]) == (
        "GLUC", approx(8.547), "HIGH", "Y", "TREATMENT", 44)
    assert 2 < uns["VISITNUM"] < 5 and round(uns["VISITNUM"] % 1, 2) == 0.01


def test_lb_t2dm_unscheduled_visitnum_matches_sv(built) -> None:
    # visit.csv line 166: 201036 Unscheduled 1 on 22-AUG-2025, between Month 1 (08-AUG-2025, VISITNUM 3) and
    # Month 2 (09-SEP-2025): the visit is 3.01 in SV, and LB must use the same number (SDTMIG 4.4.5).
    lb = read(built["t2dm_exo"], "lb")
    sv = read(built["t2dm_exo"], "sv")
    uns_sv = one(sv, "T2DMEXO01-201036", VISIT="UNSCHEDULED")
    uns_lb = one(lb, "T2DMEXO01-201036", VISIT="UNSCHEDULED")
    assert uns_sv["VISITNUM"] == approx(3.01)
    assert uns_lb["VISITNUM"] == approx(uns_sv["VISITNUM"])
