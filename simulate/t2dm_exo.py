"""Simulator of the T2DMEXO01 EDC export (NCT07144241: T2DM, MSC-exosome add-on).

Open label, 1:1: "Group 1" standard therapy + Exo-HWS + Exo-HUVEC versus
"Group 2" standard therapy + Exo-HWS, monthly IV bolus x3, assessments at
Baseline and Month 3.  The demo study is one 52-subject block (50 randomised
plus screen failures at block positions 4 and 30); ``--subjects N`` repeats
the block (sites of 100 subjects, SITEID 201, 202, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from .common import (
    FULL,
    SMALL_INT_TEXT,
    UNK_DAY,
    UNK_MONTH,
    AERows,
    AETerm,
    CMSpec,
    Cohort,
    Rows,
    Streams,
    ae_frame,
    assemble,
    cm_batch,
    cm_frame,
    const,
    day,
    ds_frame,
    elig_frame,
    fmt_date,
    fmt_fixed,
    fmt_int,
    fmt_time,
    forced_ae,
    initials,
    last_contact,
    lognormal,
    make_layout,
    mh_frame,
    partial_level,
    permuted_blocks,
    rand_frame,
    random_aes,
    sex_text,
    to_weekday,
    visit_dates,
    visit_frame,
    visit_key,
    years_between,
)

STUDY = "T2DMEXO01"
DEFAULT_SEED = 372666
DEFAULT_SUBJECTS = 50
FIRST_SITE = 201
RAND_PER_BLOCK = 50
SF_POSITIONS = (4, 30)

VISITS = ("Screening", "Baseline", "Month 1", "Month 2", "Month 3")
TARGET = np.array([0, 0, 30, 60, 90])
WINDOW = np.array([0, 0, 3, 3, 5])
DOSE_V = (1, 2, 3)
LAB_V = (1, 4)
QOL_V = (1, 4)
FIRST_SCREEN = day("2025-06-02")
RECRUIT_DAYS = 42
DATA_CUT = day("2025-12-31")
ARMS = ("Group 1", "Group 2")  # arm code 0 / 1

CRITERIA = (
    ("IN01", "Patients diagnosed with Type 2 Diabetes Mellitus."),
    ("IN02", "Patients aged 40 to 65 years."),
    ("IN03", "Patients who are willing to participate in the study and sign the informed consent form after "
             "receiving a detailed explanation of the research procedure."),
    ("EX01", "Patients with severe comorbidities that could affect the immune response, such as autoimmune "
             "diseases, malignancies, and severe infections."),
    ("EX02", "Patients currently undergoing anticoagulant therapy."),
    ("EX03", "Patients currently undergoing immunosuppressive therapy."),
    ("EX04", "Pregnant women, as the effects of exosome therapy on them have not been sufficiently studied."),
    ("EX05", "Patients with a history of severe allergies to components of the exosome therapy."),
    ("EX06", "Patients with CKD (Chronic Kidney Disease) on HD (Hemodialysis)."),
)

#: block position -> deliberate quirk (see studies/README.md)
QUIRKS: dict[str, int] = {
    "cm_partial": 2,      # Metformin start "UN-UNK-YYYY"
    "il10_blq": 7,        # baseline IL-10 "<0.5"
    "dc_ltfu": 9,         # Lost to Follow-up after Month 1
    "missed_visit": 12,   # Month 2 not done
    "dc_ae": 15,          # Adverse Event after Month 2
    "qs_missing": 18,     # two DQoL items blank at Month 3
    "dc_wd": 21,          # Withdrawal by Subject after Baseline
    "missed_dose": 26,    # Month 1 dose not given
    "ethnic_nr": 33,      # ETHNIC "Not reported"
    "unsched": 35,        # Unscheduled 1 between Month 1 and Month 2 (glucose)
    "ae_partial": 40,     # first AE start "UN-MON-YYYY"
    "lab_nd": 44,         # Month 3 D-dimer NOT DONE
    "race_nr": 47,        # RACE "Not reported"
    "ae_postcut": 51,     # AE starting after the data cut
}
SF_AGE_POS = 4           # screen failure: age 67 (IN02)
SF_TWO_POS = 30          # screen failure: EX02 + EX06
SEX_FORCED: dict[int, str] = {0: "Female", 1: "M", 2: "F ", 3: "MALE", 5: "F", 6: "Male", 8: "f", 10: "male"}

MISSED_VISIT_REASON = "Subject out of town (family event); visit could not be done within window"
MISSED_DOSE_REASON = "Subject febrile (38.4 C) on dosing day; dose not given per investigator"
LAB_ND_REASON = "Sample clotted"
DQOL_MISSING_ITEMS = (9, 27)

AE_CATALOGUE: tuple[AETerm, ...] = (
    AETerm("Headache", 14, (("Headache", "Headache", 10019211), ("headache", "Headache", 10019211))),
    AETerm("Fatigue", 10, (("Fatigue", "Fatigue", 10016256), ("Tiredness", "Tiredness", 10043890),
                           ("Lemas (weakness/tiredness)", "Tiredness", 10043890))),
    AETerm("Injection site pain", 8, (("Pain at injection site", "Injection site pain", 10022086),
                                      ("injection site pain", "Injection site pain", 10022086)),
           anchor="dose", rel_p=(0.05, 0.10, 0.45, 0.40), median_days=1),
    AETerm("Pyrexia", 6, (("Fever", "Fever", 10016558), ("Fever after injection", "Fever", 10016558)),
           anchor="dose", rel_p=(0.20, 0.30, 0.40, 0.10), median_days=1),
    AETerm("Hypoglycaemia", 12, (("Hypoglycemia", "Hypoglycaemia", 10020993),
                                 ("low blood sugar", "Low blood sugar", 10024903),
                                 ("Hypoglycaemia", "Hypoglycaemia", 10020993)),
           rel_p=(0.35, 0.45, 0.20, 0.0), sev_p=(0.70, 0.28, 0.02), median_days=1),
    AETerm("Nasopharyngitis", 12, (("Common cold", "Common cold", 10010106), ("Flu-like cold", "Common cold", 10010106),
                                   ("Nasopharyngitis", "Nasopharyngitis", 10028810)),
           rel_p=(0.85, 0.15, 0.0, 0.0), median_days=6),
    AETerm("Urinary tract infection", 8, (("UTI", "Urinary tract infection", 10046571),
                                          ("Urinary tract infection", "Urinary tract infection", 10046571)),
           rel_p=(0.85, 0.15, 0.0, 0.0), median_days=7),
    AETerm("Dizziness", 8, (("Dizziness", "Dizziness", 10013573), ("Dizzy", "Dizziness", 10013573))),
    AETerm("Nausea", 6, (("Nausea", "Nausea", 10028813),)),
    AETerm("Diarrhoea", 6, (("Diarrhea", "Diarrhea", 10012727), ("Loose stools", "Loose stools", 10024840)),
           rel_p=(0.60, 0.35, 0.05, 0.0), median_days=2),
    AETerm("Arthralgia", 5, (("Joint pain", "Joint pain", 10023222), ("Knee pain", "Joint pain", 10023222)),
           median_days=8),
    AETerm("Cough", 6, (("Cough", "Cough", 10011224), ("Dry cough", "Dry cough", 10013781)),
           rel_p=(0.85, 0.15, 0.0, 0.0), median_days=6),
)

CM_METFORMIN = CMSpec(("Metformin", "Metformin HCl", "METFORMIN"), ("T2DM", "Type 2 diabetes", "DM type 2"),
                      ("500", "850", "1000"), "mg", "Oral", ("BID", "Twice daily"))
CM_GLIMEPIRIDE = CMSpec(("Glimepiride", "Amaryl"), ("T2DM", "Type 2 diabetes"), ("1", "2", "3", "4"), "mg",
                        "Oral", ("QD", "Once daily"))
CM_GLARGINE = CMSpec(("Insulin glargine", "Lantus"), ("T2DM", "DM type 2"),
                     tuple(str(v) for v in range(10, 31, 2)), "IU", "Subcutaneous", ("Once daily", "QD at night"))
CM_AMLODIPINE = CMSpec(("Amlodipine",), ("Hypertension",), ("5", "10"), "mg", "Oral", ("QD", "Once daily"))
CM_ATORVA = CMSpec(("Atorvastatin", "Atorvastatin calcium"), ("Dyslipidaemia", "High cholesterol"), ("10", "20"),
                   "mg", "Oral", ("QD", "Once daily at night"))
CM_PARACETAMOL = CMSpec(("Paracetamol", "Panadol"), ("Fever", "Headache", "Pain"), ("500",), "mg", "Oral",
                        ("PRN", "TID"))


def build_cohort(rs: Streams, n_rand: int) -> Cohort:
    """Simulate subject numbering, randomisation, visit schedule and disposition."""
    lay = make_layout(n_rand, RAND_PER_BLOCK, SF_POSITIONS, FIRST_SITE)
    n = lay.n_total
    rnd = ~lay.is_sf
    qm = {name: (lay.pos == p) & rnd for name, p in QUIRKS.items()}
    qm["sf"] = lay.is_sf.copy()
    qm["sf_age"] = lay.is_sf & (lay.pos == SF_AGE_POS)
    qm["sf_two"] = lay.is_sf & (lay.pos == SF_TWO_POS)

    r = rs["schedule"]
    dates = visit_dates(r, lay, FIRST_SCREEN, RECRUIT_DAYS, (2, 14), TARGET, WINDOW)
    screen, base = dates[:, 0], dates[:, 1]

    last_vis = np.full(n, len(VISITS) - 1)
    last_vis[qm["sf"]] = 0
    last_vis[qm["dc_wd"]] = 1
    last_vis[qm["dc_ltfu"]] = 2
    last_vis[qm["dc_ae"]] = 3
    planned = np.arange(len(VISITS))[None, :] <= last_vis[:, None]
    done = planned.copy()
    done[qm["missed_visit"], 3] = False

    ds_date = dates[:, -1].copy()
    ds_date[qm["sf"]] = screen[qm["sf"]]
    d_wd = to_weekday(base + r.integers(7, 15, n))
    d_ltfu = to_weekday(dates[:, 2] + 60 + r.integers(0, 15, n))
    d_ae = to_weekday(dates[:, 3] + r.integers(14, 22, n))
    ds_date = np.where(qm["dc_wd"], d_wd, np.where(qm["dc_ltfu"], d_ltfu, np.where(qm["dc_ae"], d_ae, ds_date)))
    unsched_date = to_weekday(dates[:, 2] + 12 + r.integers(0, 5, n))

    ridx = np.nonzero(rnd)[0]
    ro = ridx[np.lexsort((ridx, base[ridx]))]
    arm = np.full(n, -1, dtype=np.int64)
    arm[ro] = permuted_blocks(rs["rand"], n_rand)
    randno = np.zeros(n, dtype=np.int64)
    randno[ro] = np.arange(1, n_rand + 1)

    # diabetes diagnosis date (shared by mh and cm)
    m = rs["misc"]
    dx = screen - np.floor(m.uniform(1.0, 15.0, n) * 365.25).astype(np.int64)
    return Cohort(
        study=STUDY, layout=lay, visits=VISITS, arm=arm, randno=randno, dates=dates, planned=planned,
        done=done, last_vis=last_vis, ds_date=ds_date, unsched=qm["unsched"].copy(),
        unsched_date=unsched_date, unsched_after=np.full(n, 2), extra={"quirk_mask": qm, "dx": dx},
    )


def enrol_form(c: Cohort, rs: Streams) -> pd.DataFrame:
    """enrol form (demography incl. personal data)."""
    r = rs["demog"]
    n, lay = c.n, c.layout
    female = r.random(n) < 0.55
    sex = sex_text(r, female)
    for p, txt in SEX_FORCED.items():
        sex[lay.pos == p] = txt
    age_target = np.clip(np.round(r.normal(54.0, 6.0, n)), 41, 64).astype(np.int64)
    age_target[c.at("sf_age")] = 67
    screen = c.dates[:, 0]
    birth = screen - np.floor(age_target * 365.2425).astype(np.int64) - r.integers(1, 364, n)
    age = years_between(birth, screen)
    ini = initials(r, n, "ABDEFHIKLMNPRSTUWY", [8, 4, 6, 3, 2, 5, 3, 3, 2, 7, 5, 4, 6, 12, 4, 3, 5, 4])
    email = r.random(n) < 0.6
    contact = np.where(email, "coordinator." + lay.siteid + "@example.org", "+62 24 555 0" + lay.siteid)
    race = const(n, "Asian")
    race[c.at("race_nr")] = "Not reported"
    ethnic = const(n, "Not Hispanic or Latino")
    ethnic[c.at("ethnic_nr")] = "Not reported"
    return assemble(c, np.arange(n), {
        "INITIALS": ini, "SITE_CONTACT": contact.astype(object), "ICDAT": fmt_date(screen),
        "BRTHDAT": fmt_date(birth, level=UNK_MONTH), "AGE": fmt_int(age), "SEX": sex, "RACE": race,
        "ETHNIC": ethnic, "COUNTRY": "Indonesia",
    })


def dosing_form(c: Cohort, rs: Streams) -> tuple[pd.DataFrame, np.ndarray]:
    """dosing form: Exo-HWS for everyone plus Exo-HUVEC for Group 1; returns given-dose dates too."""
    r = rs["dosing"]
    n = c.n
    dv = np.array(DOSE_V)
    mask = c.done[:, dv] & (c.arm >= 0)[:, None]
    missed = np.zeros_like(mask)
    missed[:, 1] = c.at("missed_dose") & mask[:, 1]
    given = mask & ~missed
    st1 = 9 * 60 + 5 * r.integers(0, 24, (n, dv.shape[0]))
    en1 = st1 + r.integers(3, 6, (n, dv.shape[0]))
    st2 = en1 + r.integers(10, 21, (n, dv.shape[0]))
    en2 = st2 + r.integers(3, 6, (n, dv.shape[0]))
    si, sj = np.nonzero(mask)
    vi = dv[sj]
    gv = given[si, sj]
    d = c.dates[si, vi]
    rows = Rows()
    common = dict(VISIT=np.array(VISITS, dtype=object)[vi], EXYN=np.where(gv, "Y", "N"),
                  EXDAT=fmt_date(d, missing=~gv), EXVIAL=np.where(gv, "1", ""), EXVOL=np.where(gv, "5", ""),
                  EXROUTE="IV bolus", EXNDRSN=np.where(gv, "", MISSED_DOSE_REASON))
    rows.add(si, {"v": visit_key(vi), "d": d, "o": np.zeros(si.shape[0])}, **common,
             EXSTTIM=fmt_time(st1[si, sj], missing=~gv), EXENTIM=fmt_time(en1[si, sj], missing=~gv),
             PRODUCT="Exo-HWS")
    g1 = c.arm[si] == 0
    common2 = {k: (v[g1] if np.ndim(v) else v) for k, v in common.items()}
    rows.add(si[g1], {"v": visit_key(vi[g1]), "d": d[g1], "o": np.ones(int(g1.sum()))}, **common2,
             EXSTTIM=fmt_time(st2[si, sj][g1], missing=~gv[g1]), EXENTIM=fmt_time(en2[si, sj][g1], missing=~gv[g1]),
             PRODUCT="Exo-HUVEC")
    frame = rows.frame(c, ("VISIT", "EXYN", "EXDAT", "EXSTTIM", "EXENTIM", "PRODUCT", "EXVIAL", "EXVOL",
                           "EXROUTE", "EXNDRSN"))
    return frame, np.where(given, c.dates[:, dv], -1)


def lab_form(c: Cohort, rs: Streams) -> pd.DataFrame:
    """lab form (central lab long format): glycaemic and inflammatory markers."""
    r = rs["lab"]
    n = c.n
    g1 = c.arm == 0
    fbg_b = np.clip(r.normal(192.0, 28.0, n), 140.0, 260.0)
    hba_b = np.clip(np.round((fbg_b + 46.7) / 28.7 + r.normal(0.0, 0.55, n), 1), 7.0, 11.0)
    pp_b = np.clip(fbg_b * 1.35 + r.normal(0.0, 22.0, n), 180.0, 350.0)
    cp_b = np.clip(lognormal(r, 2.0, 0.35, n), 0.8, 4.0)
    il6_b = np.clip(lognormal(r, 4.5, 0.5, n), 1.0, 15.0)
    il10_b = np.clip(lognormal(r, 1.8, 0.75, n), 0.2, 8.0)
    dd_b = np.clip(lognormal(r, 380.0, 0.4, n), 150.0, 900.0)
    crp_b = np.clip(lognormal(r, 3.5, 0.7, n), 0.5, 15.0)
    fbg_3 = fbg_b + np.where(g1, -35.0, -15.0) + r.normal(0.0, 15.0, n)
    hba_3 = hba_b + np.where(g1, -0.9, -0.4) + r.normal(0.0, 0.3, n)
    pp_3 = pp_b + np.where(g1, -50.0, -20.0) + r.normal(0.0, 20.0, n)
    cp_3 = np.maximum(cp_b + np.where(g1, 0.3, 0.1) + r.normal(0.0, 0.15, n), 0.3)
    il6_3 = il6_b * np.where(g1, 0.70, 0.90) * lognormal(r, 1.0, 0.15, n)
    il10_3 = il10_b * np.where(g1, 1.30, 1.05) * lognormal(r, 1.0, 0.15, n)
    dd_3 = dd_b * np.where(g1, 0.85, 0.95) * lognormal(r, 1.0, 0.10, n)
    crp_3 = crp_b * np.where(g1, 0.65, 0.90) * lognormal(r, 1.0, 0.20, n)
    fbg_s = fbg_b + r.normal(0.0, 12.0, n)
    hba_s = np.clip(hba_b + r.normal(0.0, 0.15, n), 6.8, 11.2)
    draw = 7 * 60 + 5 * r.integers(0, 18, (n, len(VISITS)))
    uns_draw = 8 * 60 + 5 * r.integers(0, 24, n)
    uns_glc = np.clip(fbg_b * 0.7 + r.normal(0.0, 10.0, n), 90.0, 160.0)
    il10_b[c.at("il10_blq")] = 0.3

    def il10_txt(v: np.ndarray) -> np.ndarray:
        return np.where(v < 0.5, "<0.5", fmt_fixed(v, 1)).astype(object)

    rows = Rows()
    vis = np.array(VISITS, dtype=object)
    rnd = (c.arm >= 0)[:, None]

    def add(mask_v: np.ndarray, order: int, values: dict[int, np.ndarray], fmt: Callable[[np.ndarray], np.ndarray],
            spec: str, test: str, unit: str,
            lo: str, hi: str, fast: str, tpt: str = "", offset: int = 0, nd: np.ndarray | None = None) -> None:
        si, vi = np.nonzero(mask_v)
        val = np.zeros(si.shape[0])
        for v, arr in values.items():
            val = np.where(vi == v, arr[si], val)
        notdone = np.zeros(si.shape[0], dtype=bool) if nd is None else nd[si] & (vi == 4)
        res = fmt(val)
        res[notdone] = ""
        rows.add(si, {"v": visit_key(vi), "d": c.dates[si, vi], "o": np.full(si.shape[0], order)},
                 VISIT=vis[vi], LBDAT=fmt_date(c.dates[si, vi]), LBTIM=fmt_time(draw[si, vi] + offset),
                 LBSPEC=spec, LBTEST=test, LBORRES=res, LBORRESU=np.where(notdone, "", unit),
                 LBORNRLO=lo, LBORNRHI=hi, LBFAST=fast, LBTPT=tpt,
                 LBSTAT=np.where(notdone, "NOT DONE", ""), LBREASND=np.where(notdone, LAB_ND_REASON, ""))

    V = len(VISITS)
    scr_all = c.done & (np.arange(V) == 0)[None, :]   # screen failures had screening labs too
    main = c.done & rnd & np.isin(np.arange(V), LAB_V)[None, :]
    glc_mask = scr_all | main

    def gint(v: np.ndarray) -> np.ndarray:
        return fmt_int(np.round(v))

    add(glc_mask, 0, {0: fbg_s, 1: fbg_b, 4: fbg_3}, gint, "Plasma", "Glucose", "mg/dL", "70", "100", "Y")
    add(main, 1, {1: pp_b, 4: pp_3}, gint, "Plasma", "Glucose", "mg/dL", "", "140", "N", "2 HOURS POST MEAL",
        offset=150)
    add(glc_mask, 2, {0: hba_s, 1: hba_b, 4: hba_3}, lambda v: fmt_fixed(v, 1), "Whole blood", "HbA1c", "%",
        "4.0", "5.6", "Y")
    add(main, 3, {1: cp_b, 4: cp_3}, lambda v: fmt_fixed(v, 2), "Serum", "C-peptide", "ng/mL", "0.8", "3.1", "Y")
    add(main, 4, {1: il6_b, 4: il6_3}, lambda v: fmt_fixed(v, 1), "Serum", "IL-6", "pg/mL", "", "7.0", "Y")
    add(main, 5, {1: il10_b, 4: il10_3}, il10_txt, "Serum", "IL-10", "pg/mL", "", "9.1", "Y")
    add(main, 6, {1: dd_b, 4: dd_3}, gint, "Plasma", "D-dimer", "ng/mL FEU", "", "500", "Y", nd=c.at("lab_nd"))
    add(main, 7, {1: crp_b, 4: crp_3}, lambda v: fmt_fixed(v, 1), "Serum", "CRP", "mg/L", "", "5.0", "Y")
    us = np.nonzero(c.unsched)[0]
    rows.add(us, {"v": visit_key(c.unsched_after[us], True), "d": c.unsched_date[us], "o": np.zeros(us.shape[0])},
             VISIT="Unscheduled 1", LBDAT=fmt_date(c.unsched_date[us]), LBTIM=fmt_time(uns_draw[us]),
             LBSPEC="Plasma", LBTEST="Glucose", LBORRES=gint(uns_glc[us]), LBORRESU="mg/dL", LBORNRLO="70",
             LBORNRHI="100", LBFAST="Y")
    return rows.frame(c, ("VISIT", "LBDAT", "LBTIM", "LBSPEC", "LBTEST", "LBORRES", "LBORRESU", "LBORNRLO",
                          "LBORNRHI", "LBFAST", "LBTPT", "LBSTAT", "LBREASND"))


def dqol_form(c: Cohort, rs: Streams) -> pd.DataFrame:
    """dqol form: Diabetes Quality of Life (46 items, 1-5) at Baseline and Month 3."""
    r = rs["qs"]
    n = c.n
    z0 = r.normal(0.0, 0.7, n)
    mask = c.done & np.isin(np.arange(len(VISITS)), QOL_V)[None, :] & (c.arm >= 0)[:, None]
    si, vi = np.nonzero(mask)
    m = si.shape[0]
    shift = np.where(vi == 4, np.where(c.arm[si] == 0, -0.35, -0.15), 0.0)
    z = z0[si] + shift + r.normal(0.0, 0.2, m)
    centre = np.concatenate([np.full(15, 2.6), np.full(20, 2.3), np.full(11, 2.0)])
    resp = np.clip(np.round(centre[None, :] + 0.9 * z[:, None] + r.normal(0.0, 0.6, (m, 46))), 1, 5).astype(np.int64)
    txt = SMALL_INT_TEXT[resp]
    qrow = c.at("qs_missing")[si] & (vi == 4)
    for item in DQOL_MISSING_ITEMS:
        txt[qrow, item - 1] = ""
    cols = {"VISIT": np.array(VISITS, dtype=object)[vi], "QSDAT": fmt_date(c.dates[si, vi])}
    for j in range(46):
        cols[f"DQOL{j + 1:02d}"] = txt[:, j]
    return assemble(c, si, cols, keys=(visit_key(vi), c.dates[si, vi]))


def ae_form(c: Cohort, rs: Streams, dose_dates: np.ndarray) -> pd.DataFrame:
    """ae form: background AEs plus the scripted quirk AEs, MedDRA-coded."""
    r = rs["ae"]
    n = c.n
    rnd = c.arm >= 0
    counts = np.where(rnd, r.choice(5, size=n, p=[0.16, 0.34, 0.26, 0.15, 0.09]), 0)
    counts = np.where(c.at("ae_partial"), np.maximum(counts, 1), counts)
    last_dose = np.where(rnd, dose_dates.max(axis=1), -1)
    last_visit = c.dates[np.arange(n), c.last_vis]
    bg = random_aes(r, AE_CATALOGUE, counts, c.dates[:, 1], last_visit, dose_dates, np.zeros((n, 0), np.int64),
                    last_visit + 30, DATA_CUT, last_dose)
    pm = c.at("ae_partial")[bg.subj]
    if pm.any():
        o = np.lexsort((bg.start, bg.subj))
        first = np.ones(o.shape[0], dtype=bool)
        first[1:] = bg.subj[o][1:] != bg.subj[o][:-1]
        bg.start_level[o[first & pm[o]]] = UNK_DAY
    parts = [bg]
    s = np.nonzero(c.at("dc_ae"))[0]
    parts.append(forced_ae(s, c.dates[s, 3] + 10, 14, "Pneumonia", "Community acquired pneumonia, hospitalised",
                           "Community acquired pneumonia", 10010120, "Severe", "Y", "Not related",
                           "Not applicable"))
    s = np.nonzero(c.at("missed_dose"))[0]
    parts.append(forced_ae(s, c.dates[s, 2] - 1, 4, "Pyrexia", "Fever", "Fever", 10016558, "Mild", "N",
                           "Not related", "Drug interrupted"))
    s = np.nonzero(c.at("unsched"))[0]
    parts.append(forced_ae(s, c.unsched_date[s] - 2, 0, "Hypoglycaemia",
                           "Hypoglycemia at home (capillary glucose 58 mg/dL)", "Hypoglycaemia", 10020993,
                           "Moderate", "N", "Unlikely related", "Dose not changed"))
    s = np.nonzero(c.at("ae_postcut"))[0]
    parts.append(forced_ae(s, np.full(s.shape[0], DATA_CUT + 6), None, "Cough", "Productive cough",
                           "Productive cough", 10036790, "Mild", "N", "Not related", "Not applicable"))
    return ae_frame(c, AERows.concat(parts))


def cm_form(c: Cohort, rs: Streams, htn: np.ndarray, dyslip: np.ndarray) -> pd.DataFrame:
    """cm form: standard diabetes therapy for every randomised subject plus comorbidity drugs."""
    r = rs["cm"]
    n = c.n
    rnd = c.arm >= 0
    screen, base, dx = c.dates[:, 0], c.dates[:, 1], c.extra["dx"]
    pre = screen - 30
    batches = []

    def pre_study(spec: CMSpec, has: np.ndarray, earliest: np.ndarray, force_unk: np.ndarray | None = None,
                  within: int | None = None) -> None:
        """Add a medication started between ``earliest`` and a month before screening."""
        earliest = np.minimum(earliest, pre - 60)
        span = pre - earliest if within is None else np.minimum(pre - earliest, within)
        start = earliest + np.floor(r.random(n) * span).astype(np.int64)
        level = partial_level(r, n, 0.25, 0.25)
        if force_unk is not None:
            level = np.where(force_unk, UNK_MONTH, level)
        s = np.nonzero(has)[0]
        batches.append(cm_batch(r, s, spec, start[s], start[s], np.ones(s.shape[0], dtype=bool), level[s]))

    pre_study(CM_METFORMIN, rnd, dx, c.at("cm_partial"), within=120)  # first-line: started at diagnosis
    pre_study(CM_GLIMEPIRIDE, rnd & (r.random(n) < 0.40), dx + 365)
    pre_study(CM_GLARGINE, rnd & (r.random(n) < 0.25), dx + 730)
    pre_study(CM_AMLODIPINE, rnd & htn & (r.random(n) < 0.8), screen - 3650)
    pre_study(CM_ATORVA, rnd & dyslip & (r.random(n) < 0.8), screen - 3650)
    has = rnd & (r.random(n) < 0.20)
    start = base + np.floor(r.random(n) * np.maximum(c.ds_date - base - 3, 1)).astype(np.int64)
    end = start + r.integers(0, 4, n)
    s = np.nonzero(has)[0]
    batches.append(cm_batch(r, s, CM_PARACETAMOL, start[s], end[s], np.zeros(s.shape[0], dtype=bool),
                            np.full(s.shape[0], FULL)))
    return cm_frame(c, batches)


def mh_form(c: Cohort, rs: Streams) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """mh form: T2DM for everyone, hypertension/dyslipidaemia; returns those two flags too."""
    r = rs["mh"]
    n = c.n
    screen = c.dates[:, 0]
    htn = r.random(n) < 0.45
    dys = r.random(n) < 0.35
    subj, term, start, level, ongo = [], [], [], [], []

    def add(has: np.ndarray, name: str, st: np.ndarray, lv: np.ndarray) -> None:
        s = np.nonzero(has)[0]
        subj.append(s)
        term.append(const(s.shape[0], name))
        start.append(st[s])
        level.append(lv[s])
        ongo.append(np.ones(s.shape[0], dtype=bool))

    add(np.ones(n, dtype=bool), "Type 2 diabetes mellitus", c.extra["dx"], partial_level(r, n, 0.45, 0.30))
    add(htn, "Hypertension", screen - r.integers(300, 5000, n), partial_level(r, n, 0.40, 0.30))
    add(dys, "Dyslipidaemia", screen - r.integers(300, 4000, n), partial_level(r, n, 0.40, 0.30))
    two = c.at("sf_two")
    add(two, "Chronic kidney disease on haemodialysis", screen - r.integers(400, 1500, n),
        np.full(n, UNK_DAY))
    add(two, "Atrial fibrillation on warfarin", screen - r.integers(400, 1500, n), np.full(n, UNK_MONTH))
    frame = mh_frame(c, np.concatenate(subj), np.concatenate(term), np.concatenate(start),
                     np.concatenate(level), np.concatenate(ongo))
    return frame, htn, dys


def generate(seed: int = DEFAULT_SEED, subjects: int = DEFAULT_SUBJECTS) -> dict[str, pd.DataFrame]:
    """Simulate every T2DMEXO01 form; returns frames keyed by form name."""
    rs = Streams(seed)
    c = build_cohort(rs, subjects)
    failed: dict[int, tuple[str, ...]] = {}
    for s in np.nonzero(c.at("sf"))[0]:
        failed[int(s)] = ("EX02", "EX06") if c.layout.pos[s] == SF_TWO_POS else ("IN02",)
    status = const(c.n, "Completed")
    spec = const(c.n, "")
    status[c.at("sf")] = "Screen Failure"
    spec[c.at("sf_age")] = "Age 67 years (IN02 not met)"
    spec[c.at("sf_two")] = "On anticoagulant therapy; CKD on haemodialysis (EX02, EX06)"
    status[c.at("dc_wd")] = "Withdrawal by Subject"
    spec[c.at("dc_wd")] = "Subject no longer wishes to receive injections"
    status[c.at("dc_ltfu")] = "Lost to Follow-up"
    spec[c.at("dc_ltfu")] = "No contact after 3 phone calls and a home visit"
    status[c.at("dc_ae")] = "Adverse Event"
    spec[c.at("dc_ae")] = "Community acquired pneumonia requiring hospitalisation"
    missed_reason = np.where(c.at("missed_visit"), MISSED_VISIT_REASON, "").astype(object)
    dosing, dose_dates = dosing_form(c, rs)
    mh, htn, dys = mh_form(c, rs)
    forms = {
        "enrol": enrol_form(c, rs),
        "elig": elig_frame(c, failed),
        "rand": rand_frame(c, ARMS),
        "visit": visit_frame(c, missed_reason),
        "dosing": dosing,
        "lab": lab_form(c, rs),
        "ae": ae_form(c, rs, dose_dates),
        "cm": cm_form(c, rs, htn, dys),
        "mh": mh,
        "ds": pd.DataFrame(),  # filled below, at the last contact (after the AE follow-up)
        "dqol": dqol_form(c, rs),
    }
    forms["ds"] = ds_frame(replace(c, ds_date=last_contact(c, forms["ae"])), status, spec)
    return forms
