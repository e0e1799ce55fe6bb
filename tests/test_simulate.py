"""Tests of the EDC export simulator (simulate) and the committed demo data."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from simulate import DEFAULT_SEEDS, generate_study, simulate_study
from simulate.__main__ import main as cli_main

REPO = Path(__file__).resolve().parents[1]
STUDIES = ("ms_exo", "t2dm_exo")
MS_FORMS = {"enrol", "elig", "rand", "visit", "dosing", "kitlist", "lab", "ae", "cm", "mh", "ds", "edss", "sdmt",
            "mri", "msqol54"}
T2_FORMS = {"enrol", "elig", "rand", "visit", "dosing", "lab", "ae", "cm", "mh", "ds", "dqol"}
FULL_DATE = re.compile(r"^\d{2}-(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)-\d{4}$")
PARTIAL_DATE = re.compile(r"^UN-((JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)|UNK)-\d{4}$")
DATE_COLS = re.compile(r"(DAT|DTC)$")
CUT = {"ms_exo": datetime(2026, 10, 31), "t2dm_exo": datetime(2025, 12, 31)}
# visit -> (target day relative to Baseline, allowed +/- days); Screening handled separately
WINDOWS = {
    "ms_exo": {"Baseline": (0, 0), "Month 3": (91, 7), "Month 6": (182, 7), "Month 9": (273, 7),
               "Month 12": (365, 14), "Month 18": (547, 14), "Month 24": (730, 14)},
    "t2dm_exo": {"Baseline": (0, 0), "Month 1": (30, 3), "Month 2": (60, 3), "Month 3": (90, 5)},
}
SCREEN_WINDOW = {"ms_exo": (-28, -7), "t2dm_exo": (-14, -1)}


def read(path: Path) -> pd.DataFrame:
    """Read a raw CSV the way downstream code must: all text, empty cells stay ''."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def parse(d: str) -> datetime:
    """Parse a full EDC date."""
    return datetime.strptime(d.title(), "%d-%b-%Y")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, dict[str, pd.DataFrame]]:
    """Default-seed demo output of both studies, written to disk and read back as text."""
    out = {}
    for study in STUDIES:
        d = tmp_path_factory.mktemp(study)
        simulate_study(study, d)
        out[study] = {p.stem: read(p) for p in sorted(d.glob("*.csv"))}
    return out


def test_same_seed_is_byte_identical(tmp_path: Path) -> None:
    for study in STUDIES:
        a, b = tmp_path / study / "a", tmp_path / study / "b"
        simulate_study(study, a, seed=12345)
        simulate_study(study, b, seed=12345)
        files = sorted(p.name for p in a.glob("*.csv"))
        assert files == sorted(p.name for p in b.glob("*.csv"))
        for name in files:
            assert (a / name).read_bytes() == (b / name).read_bytes(), f"{study}/{name}"


def test_different_seed_differs() -> None:
    a = generate_study("ms_exo", seed=1)["lab"]
    b = generate_study("ms_exo", seed=2)["lab"]
    assert not a.equals(b)


def test_committed_raw_matches_fresh_generation(tmp_path: Path) -> None:
    for study in STUDIES:
        committed = REPO / "studies" / study / "raw"
        fresh = tmp_path / study
        simulate_study(study, fresh, seed=DEFAULT_SEEDS[study])
        names = sorted(p.name for p in fresh.glob("*.csv"))
        assert names == sorted(p.name for p in committed.glob("*.csv")), study
        for name in names:
            assert (fresh / name).read_bytes() == (committed / name).read_bytes(), \
                f"studies/{study}/raw/{name} drifted: run `make demo-data` and commit"


def test_returned_frames_are_all_text() -> None:
    frames = generate_study("t2dm_exo")
    assert set(frames) == T2_FORMS
    for name, df in frames.items():
        assert list(df.columns[:3]) == ["STUDY", "SITEID", "SUBJID"], name
        for col in df.columns:
            assert all(isinstance(v, str) for v in df[col]), f"{name}.{col}"


def test_forms_and_subject_counts(demo) -> None:
    ms, t2 = demo["ms_exo"], demo["t2dm_exo"]
    assert set(ms) == MS_FORMS and set(t2) == T2_FORMS
    assert ms["enrol"].SUBJID.tolist() == [f"101{i:03d}" for i in range(1, 22)]
    assert t2["enrol"].SUBJID.tolist() == [f"201{i:03d}" for i in range(1, 53)]
    assert (ms["enrol"].STUDY == "MSEXO01").all() and (ms["enrol"].SITEID == "101").all()
    assert (t2["enrol"].STUDY == "T2DMEXO01").all() and (t2["enrol"].SITEID == "201").all()
    assert ms["rand"].ARM.value_counts().to_dict() == {"Exosome": 10, "Placebo": 10}
    assert t2["rand"].ARM.value_counts().to_dict() == {"Group 1": 25, "Group 2": 25}
    for study, frames in demo.items():
        assert frames["rand"].RANDNO.is_unique
        assert frames["ds"].SUBJID.tolist() == frames["enrol"].SUBJID.tolist()  # one ds row per subject
        assert set(frames["elig"].SUBJID) == set(frames["enrol"].SUBJID)
        for name, df in frames.items():
            assert not df.duplicated().any(), f"{study}/{name}"
            assert df.SUBJID.is_monotonic_increasing, f"{study}/{name}"
    ages = t2["enrol"].AGE.astype(int)
    rand_ages = ages[t2["enrol"].SUBJID.isin(t2["rand"].SUBJID)]
    assert rand_ages.between(40, 65).all()


def test_every_date_parseable_and_before_cut(demo) -> None:
    for study, frames in demo.items():
        late = []
        for name, df in frames.items():
            for col in (c for c in df.columns if DATE_COLS.search(c)):
                for v in df[col]:
                    if v == "":
                        continue
                    if PARTIAL_DATE.match(v):
                        continue
                    assert FULL_DATE.match(v), f"{study}/{name}.{col}: {v!r}"
                    if parse(v) > CUT[study]:
                        late.append((name, col, v))
            for col in (c for c in df.columns if c.endswith("TIM")):
                assert df[col].str.fullmatch(r"(\d{2}:\d{2})?").all(), f"{study}/{name}.{col}"
        # only the deliberate post-cut AE start
        assert [x[:2] for x in late] == [("ae", "AESTDAT")], late


def test_visit_dates_respect_windows(demo) -> None:
    for study, frames in demo.items():
        v = frames["visit"]
        v = v[v.VISYN == "Y"]
        base = {s: parse(d) for s, d in v[v.VISIT == "Baseline"][["SUBJID", "VISDAT"]].itertuples(index=False)}
        lo, hi = SCREEN_WINDOW[study]
        for s, vis, d in v[["SUBJID", "VISIT", "VISDAT"]].itertuples(index=False):
            if s not in base:
                assert vis == "Screening"
                continue
            rel = (parse(d) - base[s]).days
            if vis == "Screening":
                assert lo <= rel <= hi, (study, s, vis, rel)
            elif vis in WINDOWS[study]:
                target, w = WINDOWS[study][vis]
                assert abs(rel - target) <= w, (study, s, vis, rel)
        # assessments only at visits that were done
        done = set(zip(v.SUBJID, v.VISIT))
        for name, df in frames.items():
            if "VISIT" in df.columns and name not in ("visit", "elig"):
                assert set(zip(df.SUBJID, df.VISIT)) <= done, (study, name)


def test_quirk_partial_dates(demo) -> None:
    for study, frames in demo.items():
        for form, col in (("ae", "AESTDAT"), ("cm", "CMSTDAT"), ("mh", "MHSTDAT")):
            vals = frames[form][col]
            assert vals.str.match(PARTIAL_DATE).any(), (study, form)
        both = pd.concat([frames["cm"].CMSTDAT, frames["mh"].MHSTDAT])
        assert both.str.startswith("UN-UNK-").any() and both.str.match(r"UN-[A-Z]{3}-\d{4}$").any()
    assert demo["ms_exo"]["ae"].query("SUBJID == '101006'").AESTDAT.str.match(r"UN-[A-Z]{3}-").any()
    assert demo["t2dm_exo"]["ae"].query("SUBJID == '201041'").AESTDAT.str.match(r"UN-[A-Z]{3}-").any()


@pytest.mark.parametrize("study,subj,forms,before,after", [
    ("ms_exo", "101015", ("edss", "lab"), "Month 9", "Month 12"),
    ("t2dm_exo", "201036", ("lab",), "Month 1", "Month 2"),
])
def test_quirk_unscheduled_visit(demo, study, subj, forms, before, after) -> None:
    f = demo[study]
    v = f["visit"].query("SUBJID == @subj").set_index("VISIT")
    assert "Unscheduled 1" in v.index
    d = parse(v.loc["Unscheduled 1", "VISDAT"])
    assert parse(v.loc[before, "VISDAT"]) < d < parse(v.loc[after, "VISDAT"])
    for form in forms:
        assert (f[form].query("SUBJID == @subj").VISIT == "Unscheduled 1").any(), form
    assert (f["visit"].VISIT == "Unscheduled 1").sum() == 1


@pytest.mark.parametrize("study,subj,visit", [("ms_exo", "101004", "Month 18"), ("t2dm_exo", "201013", "Month 2")])
def test_quirk_missed_visit(demo, study, subj, visit) -> None:
    f = demo[study]
    row = f["visit"].query("SUBJID == @subj and VISIT == @visit")
    assert row.VISYN.tolist() == ["N"] and row.VISDAT.tolist() == [""] and row.VISNDRSN.iloc[0] != ""
    for name, df in f.items():
        if "VISIT" in df.columns and name != "visit":
            assert df.query("SUBJID == @subj and VISIT == @visit").empty, name
    assert f["ds"].query("SUBJID == @subj").DSSTATUS.tolist() == ["Completed"]


@pytest.mark.parametrize("study,expected", [
    ("ms_exo", {"101012": ("Adverse Event", "Month 6"), "101017": ("Withdrawal by Subject", "Month 12")}),
    ("t2dm_exo", {"201010": ("Lost to Follow-up", "Month 1"), "201016": ("Adverse Event", "Month 2"),
                  "201022": ("Withdrawal by Subject", "Baseline")}),
])
def test_quirk_early_discontinuations(demo, study, expected) -> None:
    f = demo[study]
    ds = f["ds"].set_index("SUBJID")
    early = ds[~ds.DSSTATUS.isin(["Completed", "Screen Failure"])]
    assert set(early.index) == set(expected)
    visits = list(WINDOWS[study])
    for subj, (status, last) in expected.items():
        assert ds.loc[subj, "DSSTATUS"] == status
        v = f["visit"].query("SUBJID == @subj")
        assert v.VISIT.iloc[-1] == last
        assert parse(ds.loc[subj, "DSDAT"]) >= parse(v.VISDAT.iloc[-1])
        later = set(visits[visits.index(last) + 1:])
        for name, df in f.items():
            if "VISIT" in df.columns:
                assert not set(df.query("SUBJID == @subj").VISIT) & later, (subj, name)


@pytest.mark.parametrize("study,failures", [
    ("ms_exo", {"101007": ["IN03"]}),
    ("t2dm_exo", {"201005": ["IN02"], "201031": ["EX02", "EX06"]}),
])
def test_quirk_screen_failures(demo, study, failures) -> None:
    f = demo[study]
    el = f["elig"]
    assert set(el[el.IEYN == "N"].SUBJID) == set(failures)
    assert (el[el.IEYN == "Y"].IECRIT == "").all()
    for subj, crits in failures.items():
        assert el.query("SUBJID == @subj").IECRIT.tolist() == crits
        assert (el.query("SUBJID == @subj").IEYN == "N").all()
        assert f["ds"].query("SUBJID == @subj").DSSTATUS.tolist() == ["Screen Failure"]
        assert f["visit"].query("SUBJID == @subj").VISIT.tolist() == ["Screening"]
        assert subj not in set(f["rand"].SUBJID) and subj not in set(f["dosing"].SUBJID)
        for name, df in f.items():
            if "VISIT" in df.columns:
                assert set(df.query("SUBJID == @subj").VISIT) <= {"Screening"}, name
        assert f["ae"].query("SUBJID == @subj").empty


def test_quirk_lab_blq_not_done_units(demo) -> None:
    t2 = demo["t2dm_exo"]["lab"]
    il10 = t2[t2.LBTEST == "IL-10"]
    assert (il10.LBORRES == "<0.5").sum() >= 1
    assert (t2.query("SUBJID == '201008' and VISIT == 'Baseline' and LBTEST == 'IL-10'").LBORRES == "<0.5").all()
    for study, subj in (("ms_exo", "101010"), ("t2dm_exo", "201045")):
        lab = demo[study]["lab"]
        nd = lab[lab.LBSTAT == "NOT DONE"]
        assert nd.SUBJID.tolist() == [subj]
        assert (nd.LBORRES == "").all() and (nd.LBREASND != "").all()
        assert (lab[lab.LBSTAT == ""].LBORRES != "").all()
    units = set(demo["t2dm_exo"]["lab"].LBORRESU) | set(demo["ms_exo"]["lab"].LBORRESU)
    assert {"pg/mL", "ng/mL", "mg/dL", "%", "mg/L"} <= units
    pp = t2[t2.LBTPT == "2 HOURS POST MEAL"]
    assert (pp.LBTEST == "Glucose").all() and (pp.LBFAST == "N").all()
    fasting = t2[(t2.LBTEST == "Glucose") & (t2.LBTPT == "")]
    assert (fasting.LBFAST == "Y").all()
    ms = demo["ms_exo"]["lab"]
    assert set(ms.LBSPEC) == {"Serum", "CSF"}
    assert set(ms[ms.LBTEST == "Oligoclonal bands"].LBORRES) <= {"Positive", "Negative"}


def test_quirk_personal_data_and_sex_text(demo) -> None:
    for study, f in demo.items():
        e = f["enrol"]
        assert e.INITIALS.str.fullmatch(r"[A-Z]{3}").all()
        assert (e.SITE_CONTACT != "").all()
        assert e.SITE_CONTACT.str.contains("@example.org").any() and e.SITE_CONTACT.str.startswith("+").any()
        assert {"Female", "F", "f", "F ", "Male", "M", "male", "MALE"} <= set(e.SEX), study
        assert (e.RACE == "Not reported").sum() == 1 and (e.ETHNIC == "Not reported").sum() == 1
        born = e.BRTHDAT.str.extract(r"^UN-UNK-(\d{4})$")[0].astype(int)
        consent = e.ICDAT.str[-4:].astype(int)
        assert ((consent - born) - e.AGE.astype(int)).isin([0, 1]).all()


@pytest.mark.parametrize("study,subj,visit", [("ms_exo", "101009", "Month 6"), ("t2dm_exo", "201027", "Month 1")])
def test_quirk_missed_dose(demo, study, subj, visit) -> None:
    f = demo[study]
    d = f["dosing"]
    missed = d[d.EXYN == "N"]
    assert set(missed.SUBJID) == {subj} and set(missed.VISIT) == {visit}
    assert (missed.EXNDRSN != "").all() and (missed.EXDAT == "").all()
    assert (d[d.EXYN == "Y"].EXNDRSN == "").all()
    later = d.query("SUBJID == @subj and EXYN == 'Y'")
    assert parse(later.EXDAT.iloc[-1]) > parse(f["visit"].query("SUBJID == @subj and VISIT == @visit").VISDAT.iloc[0])
    assert f["ds"].query("SUBJID == @subj").DSSTATUS.tolist() == ["Completed"]


def test_dosing_masking_and_products(demo) -> None:
    ms = demo["ms_exo"]
    assert set(ms["dosing"].PRODUCT) == {"MSC-EXO/PLACEBO"}
    given = ms["dosing"][ms["dosing"].EXYN == "Y"]
    assert given.KITNO.is_unique and (given.KITNO != "").all()
    kits = ms["kitlist"].set_index("KITNO")
    assert set(kits.index) == set(given.KITNO)
    arm = ms["rand"].set_index("SUBJID").ARM
    expected = given.SUBJID.map(arm).map({"Exosome": "MSC-EXO", "Placebo": "PLACEBO"})
    assert (kits.loc[given.KITNO, "KITTYPE"].to_numpy() == expected.to_numpy()).all()
    t2 = demo["t2dm_exo"]
    arm2 = t2["rand"].set_index("SUBJID").ARM
    prods = t2["dosing"].groupby(["SUBJID", "VISIT"]).PRODUCT.apply(lambda s: tuple(sorted(s)))
    for (subj, _), p in prods.items():
        assert p == (("Exo-HUVEC", "Exo-HWS") if arm2[subj] == "Group 1" else ("Exo-HWS",))


@pytest.mark.parametrize("study,subj", [("ms_exo", "101021"), ("t2dm_exo", "201052")])
def test_quirk_ae_after_cut(demo, study, subj) -> None:
    ae = demo[study]["ae"]
    full = ae[~ae.AESTDAT.str.startswith("UN")]
    late = full[full.AESTDAT.map(parse) > CUT[study]]
    assert late.SUBJID.tolist() == [subj]
    assert (ae.AELLTCD.str.fullmatch(r"\d{8}")).all() and (ae.AESOCCD.str.fullmatch(r"\d{8}")).all()
    assert ((ae.AEENDAT == "") == (ae.AEONGO == "Y")).all()


@pytest.mark.parametrize("study,form,subj,visit,nitems", [
    ("ms_exo", "msqol54", "101016", "Month 12", 54),
    ("t2dm_exo", "dqol", "201019", "Month 3", 46),
])
def test_quirk_missing_questionnaire_items(demo, study, form, subj, visit, nitems) -> None:
    q = demo[study][form]
    items = q.columns[5:]
    assert len(items) == nitems
    blanks = (q[items] == "").sum(axis=1)
    assert blanks.sum() == 2
    row = q[blanks > 0]
    assert row.SUBJID.tolist() == [subj] and row.VISIT.tolist() == [visit]


def test_edss_progression_patterns(demo) -> None:
    e = demo["ms_exo"]["edss"]
    e = e[~e.VISIT.isin(["Screening", "Unscheduled 1"])]
    steps = e.EDSS.astype(float)
    assert ((steps * 2) % 1 == 0).all() and steps.between(0, 10).all()
    confirmed, unconfirmed = set(), set()
    for subj, g in e.assign(v=steps).groupby("SUBJID"):
        vals = g.v.tolist()
        for i in range(1, len(vals)):
            if vals[i] - vals[0] >= 1.0:
                if i + 1 < len(vals):
                    (confirmed if vals[i + 1] - vals[0] >= 1.0 else unconfirmed).add(subj)
                break
    assert "101013" in confirmed and "101011" in unconfirmed


def test_scale_mode(tmp_path: Path) -> None:
    frames = simulate_study("ms_exo", tmp_path, subjects=300)
    assert {p.stem for p in tmp_path.glob("*.csv")} == MS_FORMS
    e = frames["enrol"]
    assert e.SUBJID.is_unique and len(frames["rand"]) == 300
    assert e.SITEID.nunique() == 4 and (e.SUBJID.str[:3] == e.SITEID).all()
    assert frames["rand"].ARM.value_counts().to_dict() == {"Exosome": 150, "Placebo": 150}
    assert (frames["ds"].DSSTATUS == "Screen Failure").sum() == 15
    for name, df in frames.items():
        assert len(df) > 0, name
    t2 = generate_study("t2dm_exo", subjects=120)
    assert t2["enrol"].SUBJID.is_unique and len(t2["rand"]) == 120


def test_default_subjects_equals_explicit_demo_size() -> None:
    a = generate_study("ms_exo")
    b = generate_study("ms_exo", subjects=20)
    assert all(a[k].equals(b[k]) for k in a)


def test_cli(tmp_path: Path, capsys) -> None:
    assert cli_main(["--study", "t2dm_exo", "--out", str(tmp_path), "--seed", "7", "--subjects", "10"]) == 0
    assert (tmp_path / "dqol.csv").exists()
    assert "enrol" in capsys.readouterr().out
    with pytest.raises(ValueError):
        generate_study("nope")
