"""Make the raw folder of the third demo study, ``studies/t2dm_vs``: the T2DM exports plus a vital-signs form.

``studies/t2dm_vs/raw/`` gets a copy of ``studies/t2dm_exo/raw/*.csv`` and ``vitals.csv``: one row
per subject and visit that took place (visit.csv VISYN = Y) at Screening, Baseline and Month 3 —
date (the visit date), position, systolic/diastolic blood pressure (mmHg), pulse (beats/min),
weight with its unit (kg; about one subject in eight weighed in lb, as some clinics do) and height
(cm, at screening only). Seeded: the same command writes the same bytes.

Usage::

    python tools/make_t2dm_vs.py            # writes studies/t2dm_vs/raw/
"""

from __future__ import annotations

import csv
import io
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "studies" / "t2dm_exo" / "raw"
TARGET = ROOT / "studies" / "t2dm_vs" / "raw"
VISITS = ("Screening", "Baseline", "Month 3")
SEED = 20251122
LB_PER_KG = 2.20462


def vitals_rows(visit_rows: list[dict[str, str]], seed: int = SEED) -> list[list[str]]:
    """vitals.csv rows (header first) for the visits that took place, in visit.csv order."""
    rng = np.random.default_rng(seed)
    subjects = sorted({r["SUBJID"] for r in visit_rows})
    weight = dict(zip(subjects, rng.normal(72.0, 11.0, len(subjects))))
    height = dict(zip(subjects, rng.normal(162.0, 8.0, len(subjects))))
    in_lb = dict(zip(subjects, rng.random(len(subjects)) < 0.125))
    rows = [["STUDY", "SITEID", "SUBJID", "VISIT", "VSDAT", "VSPOS", "SYSBP", "DIABP", "PULSE", "WEIGHT", "WEIGHTU",
             "HEIGHT"]]
    for r in visit_rows:
        if r["VISYN"] != "Y" or r["VISIT"] not in VISITS:
            continue
        s = r["SUBJID"]
        sys_bp = int(round(rng.normal(136, 12)))
        dia_bp = int(round(min(sys_bp - 25, rng.normal(82, 8))))
        pulse = int(round(rng.normal(76, 9)))
        kg = weight[s] + rng.normal(0, 0.8)
        w, unit = (f"{kg * LB_PER_KG:.1f}", "lb") if in_lb[s] else (f"{kg:.1f}", "kg")
        h = f"{height[s]:.0f}" if r["VISIT"] == "Screening" else ""
        rows.append([r["STUDY"], r["SITEID"], s, r["VISIT"], r["VISDAT"], "Sitting", str(sys_bp), str(dia_bp),
                     str(pulse), w, unit, h])
    return rows


def main() -> int:
    """Copy the T2DM raw exports and write vitals.csv."""
    TARGET.mkdir(parents=True, exist_ok=True)
    for path in sorted(SOURCE.glob("*.csv")):
        shutil.copyfile(path, TARGET / path.name)
    with (SOURCE / "visit.csv").open(encoding="utf-8", newline="") as fh:
        visits = list(csv.DictReader(fh))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(vitals_rows(visits))
    (TARGET / "vitals.csv").write_text(buffer.getvalue(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
