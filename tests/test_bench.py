"""``make bench`` at a tiny size: every stage and floor measured, the JSON complete and consistent.

No timing is asserted (speed targets never go in unit tests); the figures must be present, positive
and add up, and the path the benchmark runs must produce what the spec says for the safety panel
(checked against values worked out by hand from the simulated raw data).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from bench.floors import COMPONENTS
from bench.run import STAGES, main

SIZE = 5  # randomised subjects (one screen failure comes with them)

pytestmark = pytest.mark.slow  # four subgen stages and four floors, each its own process


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> tuple[dict, Path]:
    work = tmp_path_factory.mktemp("bench")
    path = work / "results.json"
    assert main(["--sizes", str(SIZE), "--work", str(work), "--json", str(path), "--keep"]) == 0
    return json.loads(path.read_text(encoding="utf-8")), work / f"ms_{SIZE}"


def test_json_has_every_stage_with_sane_fields(bench) -> None:
    results, _ = bench
    assert results["stages"] == list(STAGES) and results["commit"]
    assert results["machine"]["cpus"] >= 1
    size = results["sizes"][str(SIZE)]
    assert size["subjects"] == SIZE and size["raw_lab_rows"] > 0 and size["raw_rows"] > size["raw_lab_rows"]
    for stage in STAGES:
        m = size["stages"][stage]
        assert m["exit_code"] in (0, 1) and m["wall_s"] > 0 and m["cpu_s"] > 0 and m["peak_rss_mb"] > 10, stage
        assert m["records"] > 0 and m["rows_per_s"] == round(m["records"] / m["wall_s"]), stage
        floor = m["floor"]
        assert floor["stage"] == stage
        assert set(floor["components"]) == {"startup", *COMPONENTS[stage]} | ({"write_json"} if stage == "package"
                                                                            else set())
        assert all(v >= 0 for v in floor["components"].values())
        assert math.isclose(floor["seconds"], sum(floor["components"].values()), abs_tol=0.01)
        assert m["ratio"] == round(m["wall_s"] / floor["seconds"], 2)
        assert m["cpu_ratio"] == round(m["cpu_s"] / floor["cpu_seconds"], 2)
        if "gx" in COMPONENTS[stage]:
            assert floor["expectations"] > 0
    total = size["total"]
    assert math.isclose(total["wall_s"], sum(size["stages"][s]["wall_s"] for s in STAGES), abs_tol=0.01)
    assert total["peak_rss_mb"] == max(size["stages"][s]["peak_rss_mb"] for s in STAGES)
    assert math.isclose(total["floor_s"], sum(size["stages"][s]["floor"]["seconds"] for s in STAGES), abs_tol=0.01)


def test_records_are_what_the_stages_wrote(bench) -> None:
    results, base = bench
    stages = results["sizes"][str(SIZE)]["stages"]
    out = base / "out" / "ms_exo"

    def rows(*folders: str) -> int:
        return sum(len(pyreadstat.read_xport(str(p))[0]) for f in folders for p in (out / f).glob("*.xpt"))

    assert stages["sdtm"]["records"] == rows("sdtm")
    assert stages["adam"]["records"] == rows("adam")
    assert stages["validate"]["records"] == stages["package"]["records"] == rows("sdtm", "adam")
    lab = pd.read_csv(base / "raw" / "lab.csv", dtype=str, keep_default_na=False)
    assert results["sizes"][str(SIZE)]["raw_lab_rows"] == len(lab)
    assert (out / "m5" / "manifest.json").is_file()


def test_safety_panel_mapped_as_the_spec_says(bench) -> None:
    _, base = bench
    raw = pd.read_csv(base / "raw" / "lab.csv", dtype=str, keep_default_na=False)
    lb, _ = pyreadstat.read_xport(str(base / "out" / "ms_exo" / "sdtm" / "lb.xpt"))
    assert len(lb) == len(raw)  # nothing dropped
    # first haemoglobin of the first subject: g/dL x 10 = g/L, range from the lab's own limits
    first = raw[(raw["LBTEST"] == "Hemoglobin")].iloc[0]
    rec = lb[(lb["USUBJID"] == f"MSEXO01-{first['SUBJID']}") & (lb["LBTESTCD"] == "HGB")
             & (lb["VISIT"] == first["VISIT"].upper())].iloc[0]
    value, lo, hi = float(first["LBORRES"]), float(first["LBORNRLO"]), float(first["LBORNRHI"])
    assert (rec["LBTEST"], rec["LBCAT"], rec["LBSPEC"]) == ("Hemoglobin", "HEMATOLOGY", "BLOOD")
    assert (rec["LBORRES"], rec["LBORRESU"], rec["LBSTRESU"]) == (first["LBORRES"], "g/dL", "g/L")
    assert rec["LBSTRESN"] == pytest.approx(value * 10) and rec["LBSTNRLO"] == pytest.approx(lo * 10)
    assert rec["LBSTNRHI"] == pytest.approx(hi * 10)
    assert rec["LBNRIND"] == ("LOW" if value < lo else "HIGH" if value > hi else "NORMAL")
    # glucose mg/dL x 0.0555 = mmol/L (6 significant digits), one-sided cholesterol range (upper limit only)
    glu = raw[raw["LBTEST"] == "Glucose"].iloc[0]
    g = lb[(lb["LBTESTCD"] == "GLUC") & (lb["USUBJID"] == f"MSEXO01-{glu['SUBJID']}")
           & (lb["VISIT"] == glu["VISIT"].upper())].iloc[0]
    assert (g["LBCAT"], g["LBSPEC"], g["LBSTRESU"]) == ("CHEMISTRY", "SERUM", "mmol/L")
    assert g["LBSTRESN"] == pytest.approx(round(float(glu["LBORRES"]) * 0.0555, 6))
    chol = lb[lb["LBTESTCD"] == "CHOL"]
    assert chol["LBSTNRLO"].isna().all() and (chol["LBSTNRHI"].round(4) == round(200 * 0.02586, 4)).all()
    assert set(chol["LBNRIND"]) <= {"NORMAL", "HIGH"}
    expected = (chol["LBSTRESN"] > chol["LBSTNRHI"]).map({True: "HIGH", False: "NORMAL"})
    assert (chol["LBNRIND"] == expected).all()


def test_adlb_carries_the_panel(bench) -> None:
    _, base = bench
    adlb, _ = pyreadstat.read_xport(str(base / "out" / "ms_exo" / "adam" / "adlb.xpt"))
    lb, _ = pyreadstat.read_xport(str(base / "out" / "ms_exo" / "sdtm" / "lb.xpt"))
    hgb = adlb[adlb["PARAMCD"] == "HGB"]
    assert set(hgb["PARAM"]) == {"Hemoglobin (g/L)"} and len(hgb) == (lb["LBTESTCD"] == "HGB").sum()
    src = lb.set_index("LBSEQ")
    # AVAL is the standard result of the LB record named by SRCSEQ
    for _, row in hgb.head(5).iterrows():
        lbrec = src[(src["USUBJID"] == row["USUBJID"])].loc[row["SRCSEQ"]]
        assert row["AVAL"] == pytest.approx(lbrec["LBSTRESN"])
