"""Safety laboratory panel (haematology and chemistry) for the scale mode of the simulators.

A phase 3 trial draws a routine safety panel at every visit; with 30 tests this is what
makes a 5,000-subject study carry over a million LB records, the volume the benchmark
(``bench/``) needs. The panel is off by default, so the committed demo data does not change:
``python -m simulate --study ms_exo --subjects 5000 --safety-labs --out DIR``.

The central lab reports in conventional (US) units, so the SDTM mapping has to convert
several tests to SI units (haemoglobin g/dL -> g/L, glucose mg/dL -> mmol/L, creatinine
mg/dL -> umol/L, ...). Results are log-normal around a per-subject set point (between-subject
spread) with visit-to-visit noise (within-subject spread), so some results fall outside the
reference range; reference ranges are sex-specific where labs report them so. About 0.3% of
potassium results are NOT DONE (haemolysed sample).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .common import Cohort, Rows, const, fmt_date, fmt_fixed, fmt_time, visit_key

HAEMOLYSED_REASON = "Haemolysed sample"
P_HAEMOLYSED = 0.003


@dataclass(frozen=True)
class LabTest:
    """One panel test as the central lab reports it (all numbers in the reported unit)."""

    name: str          # test name in the lab transfer (LBTEST raw column)
    testcd: str        # CDISC LBTESTCD it maps to
    category: str      # LBCAT
    specimen: str      # LBSPEC as the lab writes it
    unit: str          # reported unit (CDISC UNIT submission value)
    decimals: int
    median_m: float
    median_f: float
    sd_between: float  # log scale, between subjects
    sd_within: float   # log scale, visit to visit
    lo_m: str          # reference range, as text ("" = the lab gives no limit)
    hi_m: str
    lo_f: str
    hi_f: str
    si_unit: str       # standard unit
    factor: float      # reported x factor = standard


def _t(name: str, testcd: str, cat: str, spec: str, unit: str, dec: int, med_m: float, med_f: float, sb: float,
       sw: float, lo_m: str, hi_m: str, lo_f: str | None = None, hi_f: str | None = None, si_unit: str | None = None,
       factor: float = 1.0) -> LabTest:
    return LabTest(name, testcd, cat, spec, unit, dec, med_m, med_f, sb, sw, lo_m, hi_m,
                   lo_m if lo_f is None else lo_f, hi_m if hi_f is None else hi_f, si_unit or unit, factor)


H, C = "HEMATOLOGY", "CHEMISTRY"
#: the 30-test panel, in the lab's reporting order
PANEL: tuple[LabTest, ...] = (
    _t("Hemoglobin", "HGB", H, "Blood", "g/dL", 1, 15.0, 13.5, 0.06, 0.035, "13.5", "17.5", "12.0", "15.5",
       "g/L", 10.0),
    _t("Hematocrit", "HCT", H, "Blood", "%", 1, 45.0, 40.5, 0.06, 0.035, "41.0", "53.0", "36.0", "46.0"),
    _t("Red blood cell count", "RBC", H, "Blood", "10^12/L", 2, 5.0, 4.5, 0.06, 0.035, "4.50", "5.90", "4.00",
       "5.20"),
    _t("White blood cell count", "WBC", H, "Blood", "10^9/L", 2, 6.5, 6.5, 0.20, 0.12, "4.00", "11.00"),
    _t("Platelet count", "PLAT", H, "Blood", "10^9/L", 0, 250, 265, 0.20, 0.08, "150", "400"),
    _t("Neutrophils", "NEUT", H, "Blood", "10^9/L", 2, 3.8, 3.9, 0.25, 0.15, "1.80", "7.70"),
    _t("Lymphocytes", "LYM", H, "Blood", "10^9/L", 2, 2.0, 2.0, 0.25, 0.12, "1.00", "4.80"),
    _t("Monocytes", "MONO", H, "Blood", "10^9/L", 2, 0.45, 0.42, 0.25, 0.15, "0.20", "0.80"),
    _t("Eosinophils", "EOS", H, "Blood", "10^9/L", 2, 0.15, 0.14, 0.50, 0.25, "0.00", "0.50"),
    _t("Basophils", "BASO", H, "Blood", "10^9/L", 2, 0.03, 0.03, 0.40, 0.25, "0.00", "0.20"),
    _t("MCV", "MCV", H, "Blood", "fL", 1, 90.0, 89.0, 0.04, 0.01, "80.0", "100.0"),
    _t("MCH", "MCH", H, "Blood", "pg", 1, 30.0, 29.5, 0.05, 0.015, "27.0", "33.0"),
    _t("Sodium", "SODIUM", C, "Serum", "mmol/L", 0, 140, 140, 0.012, 0.010, "135", "145"),
    _t("Potassium", "K", C, "Serum", "mmol/L", 1, 4.2, 4.2, 0.06, 0.05, "3.5", "5.1"),
    _t("Chloride", "CL", C, "Serum", "mmol/L", 0, 102, 102, 0.015, 0.012, "98", "107"),
    _t("Bicarbonate", "BICARB", C, "Serum", "mmol/L", 0, 25, 25, 0.06, 0.05, "22", "29"),
    _t("Blood urea nitrogen", "UREAN", C, "Serum", "mg/dL", 0, 14, 12, 0.25, 0.12, "7", "20",
       si_unit="mmol/L", factor=0.357),
    _t("Creatinine", "CREAT", C, "Serum", "mg/dL", 2, 1.0, 0.8, 0.15, 0.06, "0.74", "1.35", "0.59", "1.04",
       si_unit="umol/L", factor=88.42),
    _t("Glucose", "GLUC", C, "Serum", "mg/dL", 0, 90, 88, 0.10, 0.08, "70", "99", si_unit="mmol/L", factor=0.0555),
    _t("Calcium", "CA", C, "Serum", "mg/dL", 1, 9.4, 9.3, 0.03, 0.025, "8.6", "10.3", si_unit="mmol/L",
       factor=0.2495),
    _t("Albumin", "ALB", C, "Serum", "g/dL", 1, 4.3, 4.2, 0.06, 0.04, "3.5", "5.0", si_unit="g/L", factor=10.0),
    _t("Total protein", "PROT", C, "Serum", "g/dL", 1, 7.1, 7.0, 0.05, 0.04, "6.0", "8.3", si_unit="g/L",
       factor=10.0),
    _t("ALT", "ALT", C, "Serum", "U/L", 0, 24, 19, 0.35, 0.20, "7", "55", "7", "45"),
    _t("AST", "AST", C, "Serum", "U/L", 0, 23, 20, 0.25, 0.15, "8", "48"),
    _t("Alkaline phosphatase", "ALP", C, "Serum", "U/L", 0, 75, 70, 0.25, 0.08, "40", "129"),
    _t("GGT", "GGT", C, "Serum", "U/L", 0, 25, 18, 0.45, 0.15, "8", "61", "5", "36"),
    _t("Total bilirubin", "BILI", C, "Serum", "mg/dL", 1, 0.6, 0.5, 0.35, 0.20, "0.1", "1.2", si_unit="umol/L",
       factor=17.1),
    _t("Creatine kinase", "CK", C, "Serum", "U/L", 0, 110, 80, 0.40, 0.25, "39", "308", "26", "192"),
    _t("Uric acid", "URATE", C, "Serum", "mg/dL", 1, 5.5, 4.4, 0.18, 0.08, "3.4", "7.0", "2.4", "6.0",
       si_unit="umol/L", factor=59.48),
    _t("Cholesterol", "CHOL", C, "Serum", "mg/dL", 0, 188, 193, 0.15, 0.06, "", "200", si_unit="mmol/L",
       factor=0.02586),
)


def add_safety_panel(rows: Rows, c: Cohort, rng: np.random.Generator, female: np.ndarray,
                     first_order: int) -> None:
    """Add the panel's records to ``rows`` (lab form layout) at every done visit and unscheduled visit.

    Each test is one batch; ``first_order`` is the within-visit sort key of the first test
    (so the panel follows the study's own lab tests in the file).
    """
    n = c.n
    si, vi = np.nonzero(c.done)
    us = np.nonzero(c.unsched)[0]
    # one blood draw per visit: scheduled visits, then the unscheduled visits
    subj = np.concatenate([si, us])
    days = np.concatenate([c.dates[si, vi], c.unsched_date[us]])
    vkey = np.concatenate([visit_key(vi), visit_key(c.unsched_after[us], True)])
    visit = np.concatenate([np.array(c.visits, dtype=object)[vi], const(us.shape[0], "Unscheduled 1")])
    draw_min = 7 * 60 + 30 + 5 * np.asarray(rng.integers(0, 30, subj.shape[0]))
    base = dict(VISIT=visit, LBDAT=fmt_date(days), LBTIM=fmt_time(draw_min))
    fem = female[subj]
    m = subj.shape[0]
    for j, t in enumerate(PANEL):
        setpoint = np.where(female, t.median_f, t.median_m) * np.exp(rng.normal(0.0, t.sd_between, n))
        value = setpoint[subj] * np.exp(rng.normal(0.0, t.sd_within, m))
        floor = 10.0 ** -t.decimals
        value = np.maximum(value, floor)
        nd = np.less(rng.random(m), P_HAEMOLYSED) if t.testcd == "K" else np.zeros(m, dtype=bool)
        keys = {"v": vkey, "d": days, "o": np.full(m, first_order + j)}
        rows.add(subj, keys, **base, LBSPEC=t.specimen, LBTEST=t.name,
                 LBORRES=fmt_fixed(value, t.decimals, missing=nd), LBORRESU=np.where(nd, "", t.unit),
                 LBORNRLO=np.where(nd, "", np.where(fem, t.lo_f, t.lo_m)),
                 LBORNRHI=np.where(nd, "", np.where(fem, t.hi_f, t.hi_m)),
                 LBSTAT=np.where(nd, "NOT DONE", ""), LBREASND=np.where(nd, HAEMOLYSED_REASON, ""))
