"""The third demo study (studies/t2dm_vs: T2DM exports + a vital-signs form mapped to VS by the README walkthrough)."""

from __future__ import annotations

import csv
import importlib.util
import math
from pathlib import Path

import pytest
from conftest import read

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def vs_build(root: Path, tmp_path_factory) -> Path:
    from sdtm.stage import run_sdtm

    return run_sdtm(root / "studies" / "t2dm_vs", tmp_path_factory.mktemp("t2dm_vs")).out_dir


def _records(frame, usubjid):
    rows = frame[frame["USUBJID"] == usubjid]
    return {(r.VSTESTCD, r.VISIT): r for r in rows.itertuples()}


def test_vs_values_by_hand_subject_in_kg(vs_build):
    # vitals.csv rows of 201001: Screening 02-JUN-2025 150/81, pulse 72, 69.7 kg, 159 cm; Baseline 13-JUN-2025
    # (first dose) 109/78, 67, 70.6 kg; Month 3 12-SEP-2025 126/90, 76, 68.7 kg
    vs = _records(read(vs_build, "vs"), "T2DMEXO01-201001")
    assert len(vs) == 13  # 3 visits x 4 tests + height at screening only
    expected = {("SYSBP", "SCREENING"): ("150", "mmHg", 150.0), ("DIABP", "BASELINE"): ("78", "mmHg", 78.0),
                ("PULSE", "MONTH 3"): ("76", "beats/min", 76.0), ("WEIGHT", "MONTH 3"): ("68.7", "kg", 68.7),
                ("HEIGHT", "SCREENING"): ("159", "cm", 159.0)}
    for key, (orres, unit, stresn) in expected.items():
        r = vs[key]
        assert (r.VSORRES, r.VSORRESU, r.VSSTRESN, r.VSSTRESU) == (orres, unit, stresn, unit), key
    assert vs[("SYSBP", "SCREENING")].VSDTC == "2025-06-02" and vs[("SYSBP", "SCREENING")].VSDY == -11
    assert vs[("SYSBP", "MONTH 3")].VSDY == 92  # 12-SEP-2025 - 13-JUN-2025 + 1
    assert vs[("SYSBP", "BASELINE")].VSLOBXFL == "Y" and vs[("SYSBP", "SCREENING")].VSLOBXFL == ""
    assert vs[("SYSBP", "BASELINE")].VSPOS == "SITTING" and vs[("WEIGHT", "BASELINE")].VSPOS == ""
    assert vs[("SYSBP", "MONTH 3")].VSTEST == "Systolic Blood Pressure"


def test_vs_values_by_hand_subject_weighed_in_pounds(vs_build):
    # 201005 (screen failure): Screening 04-JUN-2025 139/85, pulse 70, 143.5 lb, 159 cm.
    # 143.5 lb x 0.45359237 = 65.090505... -> 65.0905 (6 significant digits)
    vs = _records(read(vs_build, "vs"), "T2DMEXO01-201005")
    weight = vs[("WEIGHT", "SCREENING")]
    assert (weight.VSORRES, weight.VSORRESU, weight.VSSTRESU) == ("143.5", "LB", "kg")
    assert weight.VSSTRESN == pytest.approx(65.0905, abs=1e-9) and weight.VSSTRESC == "65.0905"
    assert vs[("SYSBP", "SCREENING")].VSSTRESN == 139.0 and vs[("DIABP", "SCREENING")].VSSTRESN == 85.0
    assert math.isnan(vs[("SYSBP", "SCREENING")].VSDY)  # never dosed: no RFSTDTC, no study day


def test_every_vitals_row_is_accounted_for(vs_build, root):
    with (vs_build / "reports" / "reconciliation.csv").open(encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh) if r["form"] == "vitals")
    with (root / "studies" / "t2dm_vs" / "raw" / "vitals.csv").open(encoding="utf-8") as fh:
        raw = list(csv.DictReader(fh))
    assert int(row["rows_in"]) == len(raw) == int(row["as_records"]) and int(row["not_mapped"]) == 0
    vs = read(vs_build, "vs")
    heights = sum(1 for r in raw if r["HEIGHT"])
    assert len(vs) == 4 * len(raw) + heights


def test_raw_vitals_are_the_seeded_simulation(root):
    spec = importlib.util.spec_from_file_location("make_t2dm_vs", root / "tools" / "make_t2dm_vs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with (root / "studies" / "t2dm_vs" / "raw" / "visit.csv").open(encoding="utf-8", newline="") as fh:
        rows = module.vitals_rows(list(csv.DictReader(fh)))
    with (root / "studies" / "t2dm_vs" / "raw" / "vitals.csv").open(encoding="utf-8", newline="") as fh:
        assert list(csv.reader(fh)) == rows
