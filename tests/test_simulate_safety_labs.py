"""The safety laboratory panel of the MS scale mode (simulate.safety_labs, ``--safety-labs``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulate import generate_study, simulate_study
from simulate.__main__ import main as cli_main
from simulate.safety_labs import HAEMOLYSED_REASON, PANEL

BIOMARKERS = {"Neurofilament light chain", "GFAP", "Oligoclonal bands"}
NAMES = {t.name: t for t in PANEL}


@pytest.fixture(scope="module")
def study() -> dict[str, pd.DataFrame]:
    """200 randomised subjects (10 screen failures) with the panel."""
    return generate_study("ms_exo", subjects=200, safety_labs=True)


def _panel(lab: pd.DataFrame) -> pd.DataFrame:
    return lab[lab["LBTEST"].isin(set(NAMES))]


def test_panel_has_thirty_tests_in_two_categories() -> None:
    assert len(PANEL) == 30 and len({t.testcd for t in PANEL}) == 30
    assert {t.category for t in PANEL} == {"HEMATOLOGY", "CHEMISTRY"}
    assert {t.specimen for t in PANEL if t.category == "HEMATOLOGY"} == {"Blood"}
    assert {t.specimen for t in PANEL if t.category == "CHEMISTRY"} == {"Serum"}


def test_other_forms_and_the_study_lab_tests_are_unchanged(study) -> None:
    plain = generate_study("ms_exo", subjects=200)
    for name, frame in plain.items():
        if name == "lab":
            own = study["lab"][~study["lab"]["LBTEST"].isin(set(NAMES))].reset_index(drop=True)
            pd.testing.assert_frame_equal(own, frame)
        else:
            pd.testing.assert_frame_equal(study[name], frame)


def test_every_test_at_every_visit_done(study) -> None:
    panel = _panel(study["lab"])
    visits = study["visit"]
    done = visits[visits["VISYN"] == "Y"]
    per_visit = panel.groupby(["SUBJID", "VISIT", "LBDAT"]).size()
    assert (per_visit == 30).all()
    # one panel per done visit (scheduled or unscheduled), and on the visit's date
    expected = set(zip(done["SUBJID"], done["VISIT"], done["VISDAT"]))
    assert set(per_visit.index) == expected
    assert len(panel) == 30 * len(done)
    # screen failures have the screening panel only
    sf = set(study["ds"].loc[study["ds"]["DSSTATUS"] == "Screen Failure", "SUBJID"])
    assert len(sf) == 10
    assert set(panel.loc[panel["SUBJID"].isin(sf), "VISIT"]) == {"Screening"}


def test_units_decimals_and_sex_specific_ranges(study) -> None:
    panel = _panel(study["lab"]).merge(study["enrol"][["SUBJID", "SEX"]], on="SUBJID")
    female = panel["SEX"].str.strip().str.upper().str.startswith("F")
    for name, rows in panel.groupby("LBTEST"):
        t = NAMES[name]
        done = rows[rows["LBSTAT"] == ""]
        assert set(done["LBORRESU"]) == {t.unit}, name
        assert set(done["LBSPEC"]) == {t.specimen}, name
        decimals = done["LBORRES"].str.partition(".")[2].str.len()
        assert (decimals == t.decimals).all(), name
        fem = female.loc[done.index]
        assert set(done.loc[fem, "LBORNRLO"]) == {t.lo_f} and set(done.loc[fem, "LBORNRHI"]) == {t.hi_f}, name
        assert set(done.loc[~fem, "LBORNRLO"]) == {t.lo_m} and set(done.loc[~fem, "LBORNRHI"]) == {t.hi_m}, name
    hgb = panel[(panel["LBTEST"] == "Hemoglobin")]
    assert set(hgb.loc[female[hgb.index], "LBORNRLO"]) == {"12.0"}


def test_values_are_plausible_with_some_out_of_range(study) -> None:
    panel = _panel(study["lab"]).merge(study["enrol"][["SUBJID", "SEX"]], on="SUBJID")
    male = ~panel["SEX"].str.strip().str.upper().str.startswith("F")
    done = panel[panel["LBSTAT"] == ""]
    value = done["LBORRES"].astype(float)
    for name, t in NAMES.items():
        m = (done["LBTEST"] == name) & male[done.index]
        assert abs(np.median(value[m]) / t.median_m - 1) < 0.1, name
    lo = pd.to_numeric(done["LBORNRLO"], errors="coerce")
    hi = pd.to_numeric(done["LBORNRHI"], errors="coerce")
    outside = ((value < lo) | (value > hi)).groupby(done["LBTEST"]).mean()
    # about a third of adults have total cholesterol above 200 mg/dL; every other test mostly within range
    assert 0.25 < outside["Cholesterol"] < 0.45
    assert outside.drop("Cholesterol").max() < 0.25 and outside.mean() > 0.01
    assert (value > 0).all()


def test_not_done_potassium(study) -> None:
    nd = _panel(study["lab"])
    nd = nd[nd["LBSTAT"] != ""]
    assert len(nd) > 0 and set(nd["LBTEST"]) == {"Potassium"}
    assert set(nd["LBSTAT"]) == {"NOT DONE"} and set(nd["LBREASND"]) == {HAEMOLYSED_REASON}
    assert (nd[["LBORRES", "LBORRESU", "LBORNRLO", "LBORNRHI"]] == "").all().all()


def test_rows_stay_sorted_by_subject_visit_and_test(study) -> None:
    lab = study["lab"]
    assert lab["SUBJID"].is_monotonic_increasing
    first = lab[lab["SUBJID"] == lab["SUBJID"].iloc[0]]
    screening = first[first["VISIT"] == "Screening"]["LBTEST"].tolist()
    assert screening == [t.name for t in PANEL]  # no biomarkers at screening, the panel in reporting order


def test_same_seed_same_bytes_and_cli(tmp_path: Path, capsys) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    simulate_study("ms_exo", a, seed=7, subjects=30, safety_labs=True)
    assert cli_main(["--study", "ms_exo", "--out", str(b), "--seed", "7", "--subjects", "30", "--safety-labs"]) == 0
    assert (a / "lab.csv").read_bytes() == (b / "lab.csv").read_bytes()
    assert "lab" in capsys.readouterr().out
    with pytest.raises(ValueError, match="ms_exo only"):
        generate_study("t2dm_exo", subjects=10, safety_labs=True)
    with pytest.raises(SystemExit):
        cli_main(["--study", "t2dm_exo", "--out", str(tmp_path / "c"), "--safety-labs"])


def test_five_thousand_subjects_give_over_a_million_lab_records() -> None:
    # visits done per block of 21 subjects: 18 x 8 - 1 (missed visit) + 4 + 6 (discontinued at Month 6 and
    # Month 12) + 1 (screen failure) + 1 (unscheduled) = 155 panels; 5,000 subjects = 250 blocks
    # -> 38,750 panels x 30 tests
    one_block = generate_study("ms_exo", subjects=20, safety_labs=True)
    panels = len(_panel(one_block["lab"])) // 30
    assert panels == 155
    assert 250 * panels * 30 == 1_162_500
