"""Simulator of the MSEXO01 EDC export (progressive MS, MSC-exosome vs placebo).

The demo study is one "block" of 20 randomised subjects plus one screen
failure at block position 6.  ``--subjects N`` repeats the block pattern
(sites of 100 subjects, SITEID 101, 102, ...), so every deliberate quirk is
carried by the subject at the same block position in every block.
"""

from __future__ import annotations

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
    round_half,
    sex_text,
    to_weekday,
    visit_dates,
    visit_frame,
    visit_key,
    years_between,
)
from .safety_labs import add_safety_panel

STUDY = "MSEXO01"
DEFAULT_SEED = 353921
DEFAULT_SUBJECTS = 20
FIRST_SITE = 101
RAND_PER_BLOCK = 20
SF_POSITIONS = (6,)

VISITS = ("Screening", "Baseline", "Month 3", "Month 6", "Month 9", "Month 12", "Month 18", "Month 24")
TARGET = np.array([0, 0, 91, 182, 273, 365, 547, 730])
WINDOW = np.array([0, 0, 7, 7, 7, 14, 14, 14])
DOSE_V = (1, 2, 3, 4)
MRI_V = (0, 3, 5, 6, 7)
BLOOD_V = (1, 2, 3, 4, 5, 6, 7)
CSF_V = (1, 5)
QOL_V = (1, 5, 7)
FIRST_SCREEN = day("2024-01-08")
RECRUIT_DAYS = 205            # last screening around 2024-07-31
DATA_CUT = day("2026-10-31")
ARMS = ("Placebo", "Exosome")  # arm code 0 / 1

#: block position -> deliberate quirk (see studies/README.md)
QUIRKS: dict[str, int] = {
    "cm_partial": 1,      # Baclofen start "UN-UNK-YYYY"
    "missed_visit": 3,    # Month 18 not done
    "ae_partial": 5,      # first AE start "UN-MON-YYYY"
    "sdmt_nd": 7,         # SDMT not done at Month 18
    "missed_dose": 8,     # Month 6 infusion not given
    "lab_nd": 9,          # Month 3 serum GFAP NOT DONE
    "edss_unconf": 10,    # EDSS +1.0 at Month 9, not confirmed at Month 12
    "ethnic_nr": 10,      # ETHNIC "Not reported"
    "dc_ae": 11,          # discontinued (Adverse Event) after Month 6
    "edss_conf": 12,      # EDSS +1.0 at Month 12 confirmed at Month 18
    "unsched": 14,        # Unscheduled 1 between Month 9 and Month 12
    "qs_missing": 15,     # two MSQOL-54 items blank at Month 12
    "dc_wd": 16,          # Withdrawal by Subject after Month 12
    "race_nr": 17,        # RACE "Not reported"
    "ae_postcut": 20,     # AE starting after the data cut
}
#: block position -> SEX text forced so that every spelling occurs in the demo
SEX_FORCED: dict[int, str] = {0: "Female", 1: "M", 2: "F ", 4: "MALE", 5: "F", 7: "Male", 13: "f", 19: "male"}

MISSED_VISIT_REASON = "Subject unable to travel (family emergency)"
MISSED_DOSE_REASON = "Fever 38.3 C on infusion day (common cold); infusion not given per protocol"
LAB_ND_REASON = "Insufficient sample volume"
SDMT_ND_REASON = "Trained rater not available"

AE_CATALOGUE: tuple[AETerm, ...] = (
    AETerm("Headache", 18, (("Headache", "Headache", 10019211), ("headache", "Headache", 10019211),
                            ("HEADACHE", "Headache", 10019211), ("Headache after infusion", "Headache", 10019211))),
    AETerm("Fatigue", 14, (("Fatigue", "Fatigue", 10016256), ("Tiredness", "Tiredness", 10043890),
                           ("Increased fatigue", "Fatigue", 10016256))),
    AETerm("Infusion related reaction", 7, (("Infusion reaction", "Infusion related reaction", 10051792),
                                            ("Flushing and chills during infusion", "Infusion related reaction",
                                             10051792)),
           anchor="dose", rel_p=(0.05, 0.15, 0.50, 0.30), median_days=1),
    AETerm("Pyrexia", 6, (("Fever", "Fever", 10016558), ("Pyrexia", "Pyrexia", 10037660),
                          ("fever after infusion", "Fever", 10016558)),
           anchor="dose", rel_p=(0.15, 0.30, 0.45, 0.10), median_days=1),
    AETerm("Nasopharyngitis", 14, (("Common cold", "Common cold", 10010106),
                                   ("Nasopharyngitis", "Nasopharyngitis", 10028810),
                                   ("cold symptoms", "Common cold", 10010106)),
           rel_p=(0.80, 0.18, 0.02, 0.0), median_days=7),
    AETerm("Urinary tract infection", 10, (("UTI", "Urinary tract infection", 10046571),
                                           ("Urinary tract infection", "Urinary tract infection", 10046571),
                                           ("urinary infection", "Urinary tract infection", 10046571)),
           rel_p=(0.85, 0.15, 0.0, 0.0), median_days=8),
    AETerm("Fall", 6, (("Fall at home", "Fall", 10016173), ("Fall", "Fall", 10016173)),
           rel_p=(0.85, 0.15, 0.0, 0.0), median_days=1),
    AETerm("Back pain", 6, (("Back pain", "Back pain", 10003988), ("Low back pain", "Low back pain", 10024891),
                            ("lumbago", "Lumbago", 10024973)), rel_p=(0.80, 0.20, 0.0, 0.0), median_days=10),
    AETerm("Post lumbar puncture syndrome", 5,
           (("Post-LP headache", "Post lumbar puncture headache", 10066778),
            ("Headache after lumbar puncture", "Post lumbar puncture headache", 10066778)),
           anchor="lp", rel_p=(0.95, 0.05, 0.0, 0.0), median_days=3),
    AETerm("Muscle spasticity", 6, (("Increased spasticity", "Spasticity", 10041416),
                                    ("Leg spasticity worse", "Spasticity", 10041416)),
           rel_p=(0.70, 0.25, 0.05, 0.0), median_days=20),
    AETerm("Dizziness", 5, (("Dizziness", "Dizziness", 10013573), ("dizzy", "Dizziness", 10013573))),
    AETerm("Nausea", 4, (("Nausea", "Nausea", 10028813), ("nausea after infusion", "Nausea", 10028813)),
           rel_p=(0.30, 0.35, 0.30, 0.05), median_days=1),
    AETerm("Arthralgia", 3, (("Joint pain", "Joint pain", 10023222), ("Arthralgia", "Arthralgia", 10003239)),
           median_days=10),
)

#: FS grades (visual, brainstem, pyramidal, cerebellar, sensory, bowel/bladder, cerebral) and
#: Neurostatus-style ambulation score for each EDSS step 2.0 .. 7.5 (index = 2*EDSS - 4)
FS_TABLE = np.array([
    # V  BS  P  C  S  BB Cer AMB
    [0, 0, 2, 1, 1, 0, 0, 0],   # 2.0
    [0, 0, 2, 2, 1, 1, 0, 0],   # 2.5
    [0, 0, 3, 1, 1, 1, 0, 0],   # 3.0
    [0, 0, 3, 2, 2, 1, 0, 0],   # 3.5
    [0, 0, 4, 1, 1, 1, 0, 1],   # 4.0
    [0, 0, 4, 2, 2, 1, 0, 2],   # 4.5
    [0, 0, 4, 2, 2, 2, 0, 3],   # 5.0
    [0, 0, 4, 3, 2, 2, 0, 4],   # 5.5
    [0, 0, 4, 3, 3, 2, 0, 6],   # 6.0
    [0, 0, 4, 3, 3, 3, 0, 8],   # 6.5
    [0, 0, 5, 3, 3, 3, 0, 10],  # 7.0
    [0, 0, 5, 4, 3, 3, 0, 11],  # 7.5
])
FS_NAMES = ("FS_VISUAL", "FS_BRAINSTEM", "FS_PYRAMIDAL", "FS_CEREBELLAR", "FS_SENSORY", "FS_BOWEL_BLADDER",
            "FS_CEREBRAL")

#: MSQOL-54 item response range (low, high) and direction (+1: higher code = better QoL)
_Q = ([(1, 5, -1), (1, 5, -1)] + [(1, 3, 1)] * 10 + [(1, 2, 1)] * 7 + [(1, 5, -1), (1, 6, -1), (1, 5, -1)]
      + [(1, 6, s) for s in (-1, 1, 1, -1, -1, 1, 1, -1, 1, -1)]
      + [(1, 5, 1), (1, 5, 1), (1, 5, -1), (1, 5, 1), (1, 5, -1)]
      + [(1, 6, 1)] * 8 + [(1, 4, -1)] * 4 + [(1, 5, -1), (1, 5, -1), (1, 6, -1), (0, 10, 1), (1, 7, -1)])
MSQOL_LO = np.array([q[0] for q in _Q])
MSQOL_HI = np.array([q[1] for q in _Q])
MSQOL_DIR = np.array([q[2] for q in _Q])
MSQOL_PHYS = np.arange(54) < 16  # items 1-16 load on physical disability
MSQOL_MISSING_ITEMS = (46, 50)   # sexual-function items left blank (1-based)
assert len(_Q) == 54


def build_cohort(rs: Streams, n_rand: int) -> Cohort:
    """Simulate subject numbering, randomisation, visit schedule and disposition."""
    lay = make_layout(n_rand, RAND_PER_BLOCK, SF_POSITIONS, FIRST_SITE)
    n = lay.n_total
    rnd = ~lay.is_sf
    qm = {name: (lay.pos == p) & rnd for name, p in QUIRKS.items()}
    qm["sf"] = lay.is_sf.copy()

    r = rs["schedule"]
    dates = visit_dates(r, lay, FIRST_SCREEN, RECRUIT_DAYS, (8, 28), TARGET, WINDOW)
    screen, base = dates[:, 0], dates[:, 1]

    last_vis = np.full(n, len(VISITS) - 1)
    last_vis[qm["sf"]] = 0
    last_vis[qm["dc_ae"]] = 3
    last_vis[qm["dc_wd"]] = 5
    planned = np.arange(len(VISITS))[None, :] <= last_vis[:, None]
    done = planned.copy()
    done[qm["missed_visit"], 6] = False

    ds_date = dates[:, -1].copy()
    ds_date[qm["sf"]] = screen[qm["sf"]]
    extra_ae = to_weekday(dates[:, 3] + r.integers(21, 36, n))
    extra_wd = to_weekday(dates[:, 5] + r.integers(30, 61, n))
    ds_date = np.where(qm["dc_ae"], extra_ae, np.where(qm["dc_wd"], extra_wd, ds_date))
    unsched_date = to_weekday(dates[:, 4] + 40 + r.integers(0, 10, n))

    # central randomisation in order of randomisation date, permuted blocks of 4
    ridx = np.nonzero(rnd)[0]
    ro = ridx[np.lexsort((ridx, base[ridx]))]
    arm = np.full(n, -1, dtype=np.int64)
    arm[ro] = permuted_blocks(rs["rand"], n_rand)
    randno = np.zeros(n, dtype=np.int64)
    randno[ro] = np.arange(1, n_rand + 1)

    return Cohort(
        study=STUDY, layout=lay, visits=VISITS, arm=arm, randno=randno, dates=dates, planned=planned,
        done=done, last_vis=last_vis, ds_date=ds_date, unsched=qm["unsched"].copy(),
        unsched_date=unsched_date, unsched_after=np.full(n, 4), extra={"quirk_mask": qm},
    )


def enrol_form(c: Cohort, rs: Streams) -> tuple[pd.DataFrame, np.ndarray]:
    """enrol form (demography incl. personal data); also returns the female flag."""
    r = rs["demog"]
    n, lay = c.n, c.layout
    female = r.random(n) < 0.62
    sex = sex_text(r, female)
    for p, txt in SEX_FORCED.items():
        m = lay.pos == p
        sex[m] = txt
        female[m] = txt.strip().upper().startswith("F")
    age_target = np.clip(np.round(r.normal(51.0, 8.0, n)), 28, 64).astype(np.int64)
    screen = c.dates[:, 0]
    birth = screen - np.floor(age_target * 365.2425).astype(np.int64) - r.integers(1, 364, n)
    age = years_between(birth, screen)
    ini = initials(r, n, "ABDEGHJKLMNOPRSTWZ", [6, 3, 4, 3, 3, 2, 4, 9, 5, 9, 4, 2, 7, 5, 7, 4, 6, 4])
    email = r.random(n) < 0.7
    contact = np.where(email, "coordinator." + lay.siteid + "@example.org", "+48 22 555 0" + lay.siteid)
    race = const(n, "White")
    race[c.at("race_nr")] = "Not reported"
    ethnic = const(n, "Not Hispanic or Latino")
    ethnic[c.at("ethnic_nr")] = "Not reported"
    df = assemble(c, np.arange(n), {
        "INITIALS": ini, "SITE_CONTACT": contact.astype(object), "ICDAT": fmt_date(screen),
        "BRTHDAT": fmt_date(birth, level=UNK_MONTH), "AGE": fmt_int(age), "SEX": sex, "RACE": race,
        "ETHNIC": ethnic, "COUNTRY": "Poland",
    })
    return df, female


def edss_form(c: Cohort, rs: Streams) -> tuple[pd.DataFrame, np.ndarray]:
    """edss form (FS, ambulation, EDSS); also returns the EDSS matrix (n x V)."""
    r = rs["edss"]
    n, V = c.n, len(VISITS)
    steps = np.arange(3.0, 7.0, 0.5)
    b = steps[r.choice(len(steps), size=n, p=[0.08, 0.10, 0.14, 0.14, 0.14, 0.14, 0.16, 0.10])]
    slope = np.clip(np.where(c.arm == 1, 0.12, 0.30) + r.normal(0.0, 0.12, n), -0.05, 0.8)
    t = np.clip((c.dates - c.dates[:, [1]]) / 365.25, 0.0, None)
    noise = r.normal(0.0, 0.13, (n, V))
    noise[:, 1] = 0.0
    edss = np.clip(round_half(b[:, None] + slope[:, None] * t + noise), 2.0, 7.5)
    edss[:, 0] = np.clip(edss[:, 0], 3.0, 6.5)
    conf, unconf = c.at("edss_conf"), c.at("edss_unconf")
    edss[conf] = [4.0, 4.0, 4.0, 4.5, 4.5, 5.0, 5.0, 5.5]
    edss[unconf] = [3.5, 3.5, 3.5, 4.0, 4.5, 4.0, 4.0, 4.0]
    edss[c.at("sf"), 0] = 7.0
    uns_edss = np.clip(edss[:, 4] + 0.5, 2.0, 7.5)

    si, vi = np.nonzero(c.done)
    us = np.nonzero(c.unsched)[0]
    subj = np.concatenate([si, us])
    val = np.concatenate([edss[si, vi], uns_edss[us]])
    dates = np.concatenate([c.dates[si, vi], c.unsched_date[us]])
    key = np.concatenate([visit_key(vi), visit_key(c.unsched_after[us], True)])
    m = subj.shape[0]
    k = (val * 2).astype(np.int64) - 4
    fs = FS_TABLE[k].copy()
    fs[:, [0, 1, 6]] += r.integers(0, 2, (m, 3))
    amb_bump = r.integers(0, 2, m)
    fs[:, 7] += np.where((val == 6.0) | (val == 6.5), amb_bump, 0)
    cols = {"VISIT": np.concatenate([np.array(VISITS, dtype=object)[vi],
                                     const(us.shape[0], "Unscheduled 1")]),
            "EDSSDAT": fmt_date(dates)}
    for j, name in enumerate(FS_NAMES):
        cols[name] = fmt_int(fs[:, j])
    cols["AMBULATION"] = fmt_int(fs[:, 7])
    cols["EDSS"] = fmt_fixed(val, 1)
    return assemble(c, subj, cols, keys=(key, dates)), edss


def sdmt_form(c: Cohort, rs: Streams) -> pd.DataFrame:
    """sdmt form (Symbol Digit Modalities Test, all visits, randomised subjects)."""
    r = rs["sdmt"]
    n, V = c.n, len(VISITS)
    s0 = np.clip(np.round(r.normal(44.0, 9.0, n)), 20, 75)
    decline = np.where(c.arm == 1, 0.5, 1.6) + r.normal(0.0, 0.5, n)
    t = np.clip((c.dates - c.dates[:, [1]]) / 365.25, 0.0, None)
    practice = np.array([-1.0, 0.0, 1.5, 2.5, 3.0, 3.0, 3.0, 3.0])
    score = np.clip(np.round(s0[:, None] + practice[None, :] - decline[:, None] * t
                             + r.normal(0.0, 3.0, (n, V))), 0, 110)
    mask = c.done & (c.arm >= 0)[:, None]
    si, vi = np.nonzero(mask)
    nd = c.at("sdmt_nd")[si] & (vi == 6)
    cols = {
        "VISIT": np.array(VISITS, dtype=object)[vi],
        "SDMTDAT": fmt_date(c.dates[si, vi]),
        "SDMTYN": np.where(nd, "N", "Y").astype(object),
        "SDMTSCOR": fmt_int(score[si, vi], missing=nd),
        "SDMTNDRS": np.where(nd, SDMT_ND_REASON, "").astype(object),
    }
    return assemble(c, si, cols, keys=(visit_key(vi), c.dates[si, vi]))


def mri_form(c: Cohort, rs: Streams, female: np.ndarray) -> pd.DataFrame:
    """mri form: T2 lesions, new/enlarging T2, Gd+ lesions, brain volume."""
    r = rs["mri"]
    n = c.n
    exo = c.arm == 1
    n0 = np.clip(np.round(lognormal(r, 32.0, 0.45, n)), 6, 120)
    vol0 = n0 * lognormal(r, 260.0, 0.35, n)
    bv0 = np.clip(np.where(female, r.normal(1215.0, 70.0, n), r.normal(1345.0, 70.0, n)), 1100.0, 1500.0)
    atrophy = np.clip(np.where(exo, 0.0036, 0.0050) + r.normal(0.0, 0.0012, n), 0.0015, 0.009)
    rate_new = np.where(exo, 0.5, 1.0)  # new/enlarging T2 per year
    scan_date = c.dates[:, list(MRI_V)].copy()
    scan_date[:, 0] = to_weekday(c.dates[:, 0] + r.integers(1, 6, n))
    scanned = c.done[:, list(MRI_V)] & (c.arm >= 0)[:, None]
    S = len(MRI_V)
    count = np.zeros((n, S))
    vol = np.zeros((n, S))
    newt2 = np.zeros((n, S), dtype=np.int64)
    gd = r.poisson(np.where(exo, 0.04, 0.07)[:, None], (n, S))
    gd[:, 0] = r.poisson(0.12, n)
    cur_n, cur_v, last_d = n0.copy(), vol0.copy(), scan_date[:, 0].copy()
    count[:, 0], vol[:, 0] = n0, vol0
    yrs_all = (scan_date - scan_date[:, [0]]) / 365.25
    bv = bv0[:, None] * (1.0 - atrophy[:, None] * yrs_all) * (1.0 + r.normal(0.0, 0.0015, (n, S)))
    new_draw = r.random((n, S))
    inc_draw = r.random((n, S))
    lesvol_draw = lognormal(r, 90.0, 0.4, (n, S))
    vol_noise = r.normal(0.0, 0.006, (n, S))
    for j in range(1, S):
        dt = np.maximum(scan_date[:, j] - last_d, 0) / 365.25
        lam = rate_new * dt
        # Poisson via inverse CDF on a pre-drawn uniform (keeps stream use fixed)
        k = np.zeros(n, dtype=np.int64)
        p = np.exp(-lam)
        cdf = p.copy()
        for kk in range(1, 12):
            k += (new_draw[:, j] > cdf)
            p = p * lam / kk
            cdf = cdf + p
        inc = np.floor(k * (0.5 + 0.5 * inc_draw[:, j])).astype(np.int64)
        s = scanned[:, j]
        newt2[:, j] = k
        cur_n = np.where(s, cur_n + inc, cur_n)
        cur_v = np.where(s, cur_v + inc * lesvol_draw[:, j] + (k - inc) * 35.0, cur_v)
        count[:, j] = cur_n
        vol[:, j] = cur_v * (1.0 + vol_noise[:, j])
        last_d = np.where(s, scan_date[:, j], last_d)
    si, sj = np.nonzero(scanned)
    vi = np.array(MRI_V)[sj]
    cols = {
        "VISIT": np.array(VISITS, dtype=object)[vi],
        "MRIDAT": fmt_date(scan_date[si, sj]),
        "T2LESN": fmt_int(count[si, sj]),
        "T2LESVOL": fmt_fixed(vol[si, sj], 1),
        "NEWT2N": fmt_int(newt2[si, sj], missing=sj == 0),
        "GDLESN": fmt_int(gd[si, sj]),
        "BRAINVOL": fmt_fixed(bv[si, sj], 1),
    }
    return assemble(c, si, cols, keys=(visit_key(vi), scan_date[si, sj]))


def lab_form(c: Cohort, rs: Streams, female: np.ndarray | None = None) -> pd.DataFrame:
    """lab form (central lab long format): serum/CSF NfL and GFAP, CSF oligoclonal bands.

    With ``female`` given (scale mode with ``safety_labs``), the 30-test safety panel of
    :mod:`simulate.safety_labs` is added at every visit.
    """
    r = rs["lab"]
    n, V = c.n, len(VISITS)
    exo = c.arm == 1
    t = np.clip((c.dates - c.dates[:, [1]]) / 365.25, 0.0, None)
    nfl_f = np.where(exo[:, None], np.array([1, 1, .93, .89, .87, .86, .85, .85])[None, :], 1.0 + 0.03 * t)
    gfap_f = np.where(exo[:, None], np.array([1, 1, .98, .96, .95, .94, .93, .93])[None, :], 1.0 + 0.04 * t)
    snfl0 = np.clip(lognormal(r, 19.0, 0.35, n), 7.0, 48.0)
    sgfap0 = np.clip(lognormal(r, 140.0, 0.30, n), 70.0, 320.0)
    cnfl0 = snfl0 * lognormal(r, 62.0, 0.25, n)
    cgfap0 = lognormal(r, 8800.0, 0.30, n)
    ocb_pos = r.random(n) < 0.9
    snfl = snfl0[:, None] * nfl_f * lognormal(r, 1.0, 0.10, (n, V))
    sgfap = sgfap0[:, None] * gfap_f * lognormal(r, 1.0, 0.10, (n, V))
    cnfl = cnfl0[:, None] * nfl_f * lognormal(r, 1.0, 0.08, (n, V))
    cgfap = cgfap0[:, None] * gfap_f * lognormal(r, 1.0, 0.08, (n, V))
    draw = 8 * 60 + 5 * r.integers(0, 30, (n, V))
    lp = draw + 30 + 5 * r.integers(0, 7, (n, V))
    uns_draw = 9 * 60 + 5 * r.integers(0, 24, n)
    uns_nfl = snfl[:, 4] * 1.25 * lognormal(r, 1.0, 0.08, n)
    uns_gfap = sgfap[:, 4] * 1.10 * lognormal(r, 1.0, 0.08, n)

    rows = Rows()
    vis = np.array(VISITS, dtype=object)
    blood = c.done & np.isin(np.arange(V), BLOOD_V)[None, :] & (c.arm >= 0)[:, None]
    csf = c.done & np.isin(np.arange(V), CSF_V)[None, :] & (c.arm >= 0)[:, None]
    si, vi = np.nonzero(blood)
    base_cols = dict(VISIT=vis[vi], LBDAT=fmt_date(c.dates[si, vi]), LBTIM=fmt_time(draw[si, vi]))
    keys = lambda order: {"v": visit_key(vi), "d": c.dates[si, vi], "o": np.full(si.shape[0], order)}  # noqa: E731
    rows.add(si, keys(0), **base_cols, LBSPEC="Serum", LBTEST="Neurofilament light chain",
             LBORRES=fmt_fixed(snfl[si, vi], 1), LBORRESU="pg/mL", LBORNRLO="", LBORNRHI="")
    nd = c.at("lab_nd")[si] & (vi == 2)
    rows.add(si, keys(1), **base_cols, LBSPEC="Serum", LBTEST="GFAP",
             LBORRES=fmt_fixed(sgfap[si, vi], 1, missing=nd), LBORRESU=np.where(nd, "", "pg/mL"),
             LBORNRLO="", LBORNRHI="", LBSTAT=np.where(nd, "NOT DONE", ""),
             LBREASND=np.where(nd, LAB_ND_REASON, ""))
    si, vi = np.nonzero(csf)
    base_cols = dict(VISIT=vis[vi], LBDAT=fmt_date(c.dates[si, vi]), LBTIM=fmt_time(lp[si, vi]))
    rows.add(si, keys(2), **base_cols, LBSPEC="CSF", LBTEST="Neurofilament light chain",
             LBORRES=fmt_int(np.round(cnfl[si, vi])), LBORRESU="pg/mL", LBORNRLO="", LBORNRHI="890")
    rows.add(si, keys(3), **base_cols, LBSPEC="CSF", LBTEST="GFAP",
             LBORRES=fmt_int(np.round(cgfap[si, vi])), LBORRESU="pg/mL", LBORNRLO="", LBORNRHI="")
    rows.add(si, keys(4), **base_cols, LBSPEC="CSF", LBTEST="Oligoclonal bands",
             LBORRES=np.where(ocb_pos[si], "Positive", "Negative"), LBORRESU="", LBORNRLO="", LBORNRHI="")
    us = np.nonzero(c.unsched)[0]
    ub = dict(VISIT=const(us.shape[0], "Unscheduled 1"), LBDAT=fmt_date(c.unsched_date[us]),
              LBTIM=fmt_time(uns_draw[us]))
    ukeys = lambda order: {"v": visit_key(c.unsched_after[us], True), "d": c.unsched_date[us],  # noqa: E731
                           "o": np.full(us.shape[0], order)}
    rows.add(us, ukeys(0), **ub, LBSPEC="Serum", LBTEST="Neurofilament light chain",
             LBORRES=fmt_fixed(uns_nfl[us], 1), LBORRESU="pg/mL", LBORNRLO="", LBORNRHI="")
    rows.add(us, ukeys(1), **ub, LBSPEC="Serum", LBTEST="GFAP",
             LBORRES=fmt_fixed(uns_gfap[us], 1), LBORRESU="pg/mL", LBORNRLO="", LBORNRHI="")
    if female is not None:
        add_safety_panel(rows, c, rs["safety"], female, first_order=10)
    return rows.frame(c, ("VISIT", "LBDAT", "LBTIM", "LBSPEC", "LBTEST", "LBORRES", "LBORRESU", "LBORNRLO",
                          "LBORNRHI", "LBFAST", "LBTPT", "LBSTAT", "LBREASND"))


def msqol_form(c: Cohort, rs: Streams, edss: np.ndarray) -> pd.DataFrame:
    """msqol54 form: coded item responses at Baseline, Month 12 and Month 24."""
    r = rs["qs"]
    n = c.n
    z0 = r.normal(0.0, 0.8, n) - 0.3 * (edss[:, 1] - 4.5)
    mask = c.done & np.isin(np.arange(len(VISITS)), QOL_V)[None, :] & (c.arm >= 0)[:, None]
    si, vi = np.nonzero(mask)
    m = si.shape[0]
    shift = np.where(c.arm[si] == 1, np.where(vi == 1, 0.0, 0.15), np.where(vi == 1, 0.0, -0.1 * (vi - 1) / 3))
    z = z0[si] + shift + r.normal(0.0, 0.25, m)
    zi = z[:, None] - np.where(MSQOL_PHYS[None, :], 0.45 * (edss[si, vi] - 4.5)[:, None], 0.0)
    half = (MSQOL_HI - MSQOL_LO) / 2.0
    centre = (MSQOL_HI + MSQOL_LO) / 2.0
    resp = np.clip(np.round(centre + MSQOL_DIR * zi * half * 0.6 + r.normal(0.0, 0.35, (m, 54)) * half),
                   MSQOL_LO, MSQOL_HI).astype(np.int64)
    miss = np.zeros((m, 54), dtype=bool)
    qrow = c.at("qs_missing")[si] & (vi == 5)
    for item in MSQOL_MISSING_ITEMS:
        miss[:, item - 1] = qrow
    cols = {"VISIT": np.array(VISITS, dtype=object)[vi], "QSDAT": fmt_date(c.dates[si, vi])}
    txt = SMALL_INT_TEXT[resp]
    txt[miss] = ""
    for j in range(54):
        cols[f"MSQOL{j + 1:02d}"] = txt[:, j]
    return assemble(c, si, cols, keys=(visit_key(vi), c.dates[si, vi]))


def dosing_forms(c: Cohort, rs: Streams) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Masked dosing form and the unblinded IWRS kit list; returns given-dose dates too."""
    r = rs["dosing"]
    n = c.n
    dv = np.array(DOSE_V)
    mask = c.done[:, dv] & (c.arm >= 0)[:, None]
    missed = np.zeros_like(mask)
    missed[:, 2] = c.at("missed_dose") & mask[:, 2]   # Month 6
    given = mask & ~missed
    start = 10 * 60 + 5 * r.integers(0, 30, (n, dv.shape[0]))
    dur = 30 + r.integers(0, 16, (n, dv.shape[0]))
    # kit numbers: random draw without replacement from the site's kit pool
    g = int(given.sum())
    pool = g + max(20, -(-g // 4))
    kit_numbers = 101 + r.permutation(pool)[:g]
    width = max(4, len(str(int(kit_numbers.max()) if g else 0)))
    kit = const(mask.shape, "")
    kit[given] = np.array([f"K{k:0{width}d}" for k in kit_numbers.tolist()], dtype=object)

    si, sj = np.nonzero(mask)
    vi = dv[sj]
    gv = given[si, sj]
    d = c.dates[si, vi]
    cols = {
        "VISIT": np.array(VISITS, dtype=object)[vi],
        "EXYN": np.where(gv, "Y", "N").astype(object),
        "EXDAT": fmt_date(d, missing=~gv),
        "EXSTTIM": fmt_time(start[si, sj], missing=~gv),
        "EXENTIM": fmt_time(start[si, sj] + dur[si, sj], missing=~gv),
        "PRODUCT": "MSC-EXO/PLACEBO",
        "KITNO": kit[si, sj],
        "EXVOL": np.where(gv, "100", "").astype(object),
        "EXROUTE": "IV infusion",
        "EXNDRSN": np.where(gv, "", MISSED_DOSE_REASON).astype(object),
    }
    dosing = assemble(c, si, cols, keys=(visit_key(vi), d))

    # unblinded kit list (released with the randomisation list at database lock)
    ki, kj = np.nonzero(given)
    kd = c.dates[ki, dv[kj]]
    active = c.arm[ki] == 1
    lot_i = np.clip((kd - FIRST_SCREEN) // 182, 0, 9)
    lot_counts = np.round(lognormal(r, 2.0, 0.05, 10), 1)
    lot_pcount = np.array([f"{v * 1e10:.1E}" for v in lot_counts.tolist()], dtype=object)
    lot_txt = np.array([f"-L{i + 1:02d}" for i in lot_i.tolist()], dtype=object)
    kcols = {
        "KITNO": kit[ki, kj],
        "KITTYPE": np.where(active, "MSC-EXO", "PLACEBO").astype(object),
        "LOTNO": np.where(active, "EXO", "NACL") + lot_txt,
        "PCOUNT": np.where(active, lot_pcount[lot_i], "0"),
    }
    kitlist = assemble(c, ki, kcols, keys=(visit_key(dv[kj]), kd))
    dose_dates = np.where(given, c.dates[:, dv], -1)
    return dosing, kitlist, dose_dates


def ae_form(c: Cohort, rs: Streams, dose_dates: np.ndarray) -> pd.DataFrame:
    """ae form: background AEs plus the scripted quirk AEs, MedDRA-coded."""
    r = rs["ae"]
    n = c.n
    rnd = c.arm >= 0
    counts = np.where(rnd, r.choice(5, size=n, p=[0.12, 0.30, 0.28, 0.18, 0.12]), 0)
    counts = np.where(c.at("ae_partial"), np.maximum(counts, 1), counts)
    lp_done = c.done[:, list(CSF_V)] & rnd[:, None]
    lp_dates = np.where(lp_done, c.dates[:, list(CSF_V)], -1)
    last_dose = np.where(rnd, dose_dates.max(axis=1), -1)
    last_visit = c.dates[np.arange(n), c.last_vis]
    bg = random_aes(r, AE_CATALOGUE, counts, c.dates[:, 1], last_visit, dose_dates, lp_dates, last_visit + 30,
                    DATA_CUT, last_dose)
    # quirk: first AE of the ae_partial subject has an unknown day
    pm = c.at("ae_partial")[bg.subj]
    if pm.any():
        o = np.lexsort((bg.start, bg.subj))
        first = np.ones(o.shape[0], dtype=bool)
        first[1:] = bg.subj[o][1:] != bg.subj[o][:-1]
        target = o[first & pm[o]]
        bg.start_level[target] = UNK_DAY
    parts = [bg]
    s = np.nonzero(c.at("dc_ae"))[0]
    parts.append(forced_ae(s, c.dates[s, 3], 1, "Infusion related reaction",
                           "Infusion reaction with chills, rigors and BP drop at 3rd infusion",
                           "Infusion related reaction", 10051792, "Severe", "N", "Related", "Drug withdrawn"))
    s = np.nonzero(c.at("missed_dose"))[0]
    parts.append(forced_ae(s, c.dates[s, 3] - 3, 8, "Nasopharyngitis", "Common cold with fever",
                           "Common cold", 10010106, "Mild", "N", "Not related", "Drug interrupted"))
    s = np.nonzero(c.at("unsched"))[0]
    parts.append(forced_ae(s, c.unsched_date[s] - 4, 25, "Muscle spasticity",
                           "Worsening spasticity both legs (relapse ruled out)", "Spasticity", 10041416,
                           "Moderate", "N", "Not related", "Not applicable"))
    s = np.nonzero(c.at("ae_postcut"))[0]
    parts.append(forced_ae(s, np.full(s.shape[0], DATA_CUT + 5), None, "Back pain", "Lower back pain",
                           "Low back pain", 10024891, "Mild", "N", "Not related", "Not applicable"))
    return ae_frame(c, AERows.concat(parts))


CM_BACLOFEN = CMSpec(("Baclofen", "BACLOFEN", "Lioresal"), ("Spasticity", "MS spasticity"),
                     ("10", "15", "20", "25"), "mg", "Oral", ("TID", "3 times a day"))
CM_VITD = CMSpec(("Vitamin D3", "Cholecalciferol", "Vit D"), ("Supplementation", "Vitamin D deficiency"),
                 ("1000", "2000", "4000"), "IU", "Oral", ("QD", "Once daily"))
CM_FAMPRIDINE = CMSpec(("Fampridine", "Fampyra"), ("Walking impairment",), ("10",), "mg", "Oral", ("BID",))
CM_PARACETAMOL = CMSpec(("Paracetamol", "Paracetamol 500mg", "Apap"), ("Headache", "Back pain", "Pain"),
                        ("500", "1000"), "mg", "Oral", ("PRN", "As needed"))


def cm_form(c: Cohort, rs: Streams) -> pd.DataFrame:
    """cm form: occasional baclofen, vitamin D, fampridine (pre-study) and paracetamol (on study)."""
    r = rs["cm"]
    n = c.n
    rnd = c.arm >= 0
    screen, base = c.dates[:, 0], c.dates[:, 1]
    batches = []
    for spec, p in ((CM_BACLOFEN, 0.35), (CM_VITD, 0.40), (CM_FAMPRIDINE, 0.12)):
        has = rnd & (r.random(n) < p)
        if spec is CM_BACLOFEN:
            has |= c.at("cm_partial")
        start = screen - r.integers(120, 2600, n)
        level = partial_level(r, n, 0.30, 0.25)
        if spec is CM_BACLOFEN:
            level = np.where(c.at("cm_partial"), UNK_MONTH, level)
        s = np.nonzero(has)[0]
        batches.append(cm_batch(r, s, spec, start[s], start[s], np.ones(s.shape[0], dtype=bool), level[s]))
    has = rnd & (r.random(n) < 0.30)
    start = base + np.floor(r.random(n) * (c.ds_date - base - 10).clip(1)).astype(np.int64)
    end = start + r.integers(0, 6, n)
    s = np.nonzero(has)[0]
    batches.append(cm_batch(r, s, CM_PARACETAMOL, start[s], end[s], np.zeros(s.shape[0], dtype=bool),
                            np.full(s.shape[0], FULL)))
    return cm_frame(c, batches)


def mh_form(c: Cohort, rs: Streams) -> pd.DataFrame:
    """mh form: MS diagnosis for every subject plus common comorbidities."""
    r = rs["mh"]
    n = c.n
    screen = c.dates[:, 0]
    spms = r.random(n) < 0.6
    yrs = np.where(spms, r.uniform(8.0, 25.0, n), r.uniform(2.0, 10.0, n))
    dx = screen - np.floor(yrs * 365.25).astype(np.int64)
    subj = [np.arange(n)]
    term = [np.where(spms, "Secondary progressive multiple sclerosis",
                     "Primary progressive multiple sclerosis").astype(object)]
    start = [dx]
    level = [partial_level(r, n, 0.45, 0.30)]
    ongo = [np.ones(n, dtype=bool)]
    for name, p, ongoing in (("Hypertension", 0.20, True), ("Depression", 0.15, True), ("Migraine", 0.10, True)):
        has = np.nonzero(r.random(n) < p)[0]
        st = screen - r.integers(200, 6000, n)
        lv = partial_level(r, n, 0.40, 0.30)
        subj.append(has)
        term.append(const(has.shape[0], name))
        start.append(st[has])
        level.append(lv[has])
        ongo.append(np.full(has.shape[0], ongoing))
    return mh_frame(c, np.concatenate(subj), np.concatenate(term), np.concatenate(start),
                    np.concatenate(level), np.concatenate(ongo))


def generate(seed: int = DEFAULT_SEED, subjects: int = DEFAULT_SUBJECTS,
             safety_labs: bool = False) -> dict[str, pd.DataFrame]:
    """Simulate every MSEXO01 form; returns frames keyed by form name.

    ``safety_labs`` adds the haematology/chemistry panel to the lab form (scale mode; the
    demo data has none).
    """
    rs = Streams(seed)
    c = build_cohort(rs, subjects)
    enrol, female = enrol_form(c, rs)
    failed = {int(s): ("IN03",) for s in np.nonzero(c.at("sf"))[0]}
    status = const(c.n, "Completed")
    spec = const(c.n, "")
    status[c.at("sf")] = "Screen Failure"
    spec[c.at("sf")] = "EDSS 7.0 at screening (IN03 not met)"
    status[c.at("dc_ae")] = "Adverse Event"
    spec[c.at("dc_ae")] = "Infusion related reaction at Month 6 infusion; no further infusions"
    status[c.at("dc_wd")] = "Withdrawal by Subject"
    spec[c.at("dc_wd")] = "Subject relocated abroad"
    missed_reason = np.where(c.at("missed_visit"), MISSED_VISIT_REASON, "").astype(object)
    edss, edss_mat = edss_form(c, rs)
    dosing, kitlist, dose_dates = dosing_forms(c, rs)
    forms = {
        "enrol": enrol,
        "elig": elig_frame(c, failed),
        "rand": rand_frame(c, ARMS),
        "visit": visit_frame(c, missed_reason),
        "dosing": dosing,
        "kitlist": kitlist,
        "lab": lab_form(c, rs, female if safety_labs else None),
        "ae": ae_form(c, rs, dose_dates),
        "cm": cm_form(c, rs),
        "mh": mh_form(c, rs),
        "ds": pd.DataFrame(),  # filled below, at the last contact (after the AE follow-up)
        "edss": edss,
        "sdmt": sdmt_form(c, rs),
        "mri": mri_form(c, rs, female),
        "msqol54": msqol_form(c, rs, edss_mat),
    }
    forms["ds"] = ds_frame(replace(c, ds_date=last_contact(c, forms["ae"])), status, spec)
    return forms
