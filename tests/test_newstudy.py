"""subgen init: the new study folder loads, builds on its example rows, and its spec follows SDTMIG 3.4."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from bad_input_kit import run_cli
from conftest import read

from subgen.core.problems import ProblemError
from subgen.core.spec.loader import load_spec
from subgen.core.study import load_study
from subgen_cli.newstudy import DOMAINS, init_study


@pytest.fixture(scope="module")
def new_study(tmp_path_factory) -> Path:
    return init_study("trial_x", tmp_path_factory.mktemp("init"))


@pytest.fixture(scope="module")
def built_new(new_study: Path) -> Path:
    out = new_study.parent / "out"
    code, stdout, stderr = run_cli(["sdtm", "--study", str(new_study), "--out", str(out)])  # in-process: no import
    assert code == 0, stdout + stderr
    return out / "trial_x" / "sdtm"


def test_folder_layout_and_config(new_study):
    study = load_study(new_study)
    assert study.name == "trial_x" and study.spec_path == new_study / "trial_x.xlsx"
    spec = load_spec(study.spec_path)
    forms = {f.file for f in spec.forms}
    assert forms == {p.name for p in (new_study / "raw").glob("*.csv")}
    for path in (new_study / "raw").glob("*.csv"):
        rows = list(csv.reader(path.open(encoding="utf-8")))
        assert len(rows) == 2, path.name  # header + one example row
    assert [d.name for d in spec.datasets] == list(DOMAINS)
    assert spec.study.study_id == "TRIALX"


def _reference_variables(reference: Path) -> dict[tuple[str, str], dict[str, str]]:
    with (reference / "ig" / "sdtmig_v3.4" / "Variables.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {(r["Dataset Name"], r["Variable Name"]): r for r in csv.DictReader(fh)}


def test_variables_follow_sdtmig(new_study, reference):
    ig = _reference_variables(reference)
    spec = load_spec(new_study / "trial_x.xlsx")
    for ds in spec.datasets:
        names = [v.name for v in ds.variables]
        required = [n for (d, n), r in ig.items() if d == ds.name and r["Core"] in ("Req", "Exp")]
        assert set(required) <= set(names), ds.name
        for v in ds.variables:
            r = ig.get((ds.name, v.name))
            if r is None:
                assert v.name in ("VISIT", "VISITNUM", "EPOCH"), (ds.name, v.name)  # general timing variables
                continue
            assert v.label == r["Variable Label"] and v.core == r["Core"], (ds.name, v.name)
            assert (v.data_type in ("integer", "float")) == (r["Type"] == "Num"), (ds.name, v.name)
    dm = spec.dataset("DM")
    assert dm.variable("SEX").codelist == "SEX" and sorted(spec.codelist("SEX").submission_values) == \
        ["F", "INTERSEX", "M", "U"]
    assert spec.codelist("VSRESU").submission_values and "mmHg" in spec.codelist("VSRESU").submission_values


def test_roles_come_from_sdtmig(new_study, reference):
    from openpyxl import load_workbook

    ig = _reference_variables(reference)
    sheet = load_workbook(new_study / "trial_x.xlsx", read_only=True)["Variables"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    checked = 0
    for row in rows[1:]:
        rec = dict(zip(header, row))
        r = ig.get((rec["Dataset"], rec["Variable"]))
        if r is not None:
            assert rec["Role"] == r["Role"], (rec["Dataset"], rec["Variable"])
            checked += 1
    assert checked > 150


def test_from_sdtmig_lists_every_variable(tmp_path, reference):
    ig = _reference_variables(reference)
    folder = init_study("full", tmp_path, from_sdtmig=True)
    spec = load_spec(folder / "full.xlsx")
    for ds in spec.datasets:
        assert {n for (d, n) in ig if d == ds.name} <= {v.name for v in ds.variables}, ds.name
    from sdtm.stage import run_sdtm

    result = run_sdtm(folder, tmp_path / "out")
    assert not [p for p in result.problems if p.severity in ("Reject", "Error")]


def test_example_rows_build_with_hand_worked_values(built_new):
    dm = read(built_new, "dm")
    assert dm["USUBJID"].tolist() == ["TRIALX-01001"] and dm["ARMCD"].tolist() == ["TRT"]
    assert dm["RFXSTDTC"].tolist() == ["2026-01-12T09:30"]
    lb = read(built_new, "lb")
    # glucose 95 mg/dL x 0.0555 (Units sheet) = 5.2725 mmol/L
    assert lb["LBTESTCD"].tolist() == ["GLUC"] and lb["LBSTRESN"].tolist() == [pytest.approx(5.2725)]
    assert lb["LBSTRESU"].tolist() == ["mmol/L"] and lb["LBNRIND"].tolist() == ["NORMAL"]
    vs = read(built_new, "vs").set_index("VSTESTCD")
    assert vs["VSORRES"].to_dict() == {"SYSBP": "128", "DIABP": "82", "PULSE": "72", "WEIGHT": "70.5", "HEIGHT": "168"}
    assert vs["VSORRESU"].to_dict() == {"SYSBP": "mmHg", "DIABP": "mmHg", "PULSE": "beats/min", "WEIGHT": "kg",
                                        "HEIGHT": "cm"}
    assert vs.loc["WEIGHT", "VSSTRESN"] == 70.5 and vs.loc["SYSBP", "VSPOS"] == "SITTING"
    assert vs.loc["WEIGHT", "VSPOS"] == ""  # position is mapped for blood pressure and pulse only


def test_init_refuses_an_existing_folder_and_a_path(new_study):
    with pytest.raises(ProblemError, match="already exists"):
        init_study("trial_x", new_study.parent)
    with pytest.raises(ProblemError, match="one folder name"):
        init_study("../escape", new_study.parent)


def test_shipped_tables_are_a_fresh_build(root, reference):
    done = subprocess.run([sys.executable, str(root / "tools" / "build_init_template.py"), "--check", str(reference)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
