"""SDTM content a regulatory reviewer checks (issue 17, "Found in SDTM"), on both demo studies.

Each test fails on the output before its fix: it states the SDTMIG 3.4 / FDA TCG expectation on
the built datasets, not a value copied from today's output.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from conftest import read

from subgen.core.spec.loader import load_spec

pytestmark = pytest.mark.slow  # builds both demo studies once per session (the ``built`` fixture)

ROOT = Path(__file__).resolve().parents[1]


def _blank(series: pd.Series) -> pd.Series:
    return series.isna() | series.astype(str).str.strip().eq("")


# --------------------------------------------------------------------------- 1. EX
def test_ex_placebo_dose_is_zero_active_amount_in_particles_volume_in_vehicle_amount(built) -> None:
    # SDTMIG 3.4 EX assumption 2b: placebo EXDOSE = 0 of active; the 100 mL infusion volume is EXVAMT/EXVAMTU.
    ex = read(built["ms_exo"], "ex")
    placebo, active = ex[ex["EXTRT"] == "PLACEBO"], ex[ex["EXTRT"] == "MSC-DERIVED EXOSOMES"]
    assert len(placebo) and len(active)
    assert set(placebo["EXDOSE"]) == {0}
    # kitlist.csv: 101002's Baseline kit K0119 is lot EXO-L01 with 2.2E+10 particles
    base = active[(active["USUBJID"] == "MSEXO01-101002") & (active["VISIT"] == "BASELINE")].iloc[0]
    assert (base["EXDOSE"], base["EXDOSU"], base["EXLOT"]) == (2.2e10, "particles", "EXO-L01")
    assert set(ex["EXDOSU"]) == {"particles"}
    assert set(ex["EXVAMT"]) == {100} and set(ex["EXVAMTU"]) == {"mL"}
    assert not (built["ms_exo"] / "suppex.xpt").exists()  # the particle count is no longer a SUPPEX qualifier
    unit = load_spec(ROOT / "specs" / "ms_exo.xlsx").codelist("UNIT")
    [term] = [t for t in unit.terms if t.term == "particles"]
    assert term.extended


# --------------------------------------------------------------------------- 2. SV
def test_sv_occur_only_on_planned_visits(built) -> None:
    # SDTMIG 3.4 SV: SVOCCUR is null unless SVPRESP = Y (an unplanned visit is recorded because it happened).
    for study in ("ms_exo", "t2dm_exo"):
        sv = read(built[study], "sv")
        unplanned = sv[_blank(sv["SVPRESP"])]
        assert len(unplanned) >= 1 and set(unplanned["VISIT"]) == {"UNSCHEDULED"}
        assert _blank(unplanned["SVOCCUR"]).all()
        planned = sv[sv["SVPRESP"] == "Y"]
        assert not _blank(planned["SVOCCUR"]).any() and set(planned["SVOCCUR"]) == {"Y", "N"}


# --------------------------------------------------------------------------- 3. MH
def test_mh_ongoing_relative_to_screening_not_to_the_reference_period(built) -> None:
    # SDTMIG 3.4 MH assumption 5a: 'ongoing' at screening is MHENRTPT = ONGOING against MHENTPT (the screening
    # visit date), not MHENRF (relative to RFSTDTC-RFENDTC, which screen failures do not have).
    for study in ("ms_exo", "t2dm_exo"):
        mh, dm, sv = (read(built[study], n) for n in ("mh", "dm", "sv"))
        assert "MHENRF" not in mh.columns
        screening = sv[sv["VISIT"] == "SCREENING"].set_index("USUBJID")["SVSTDTC"]
        ongoing = mh[mh["MHENRTPT"] == "ONGOING"]
        assert len(ongoing) == len(mh)  # the demo forms tick 'ongoing' on every row
        assert (ongoing["MHENTPT"] == ongoing["USUBJID"].map(screening)).all()
        assert (mh["MHDTC"] == mh["USUBJID"].map(screening)).all()
        # MHDY (the IG's study day for MH: of MHDTC) is null for screen failures, negative for the others
        rfst = mh["USUBJID"].map(dm.set_index("USUBJID")["RFSTDTC"]).fillna("")
        assert _blank(mh.loc[rfst.eq(""), "MHDY"]).all() and rfst.eq("").any()
        assert (mh.loc[rfst.ne(""), "MHDY"] < 0).all()
        # MHSTDY: the SDTM model's study day of MHSTDTC (CORE-000328 expects it beside --STDTC): a complete
        # start date before RFSTDTC counts back from day -1 (no day 0); partial dates and screen failures are null
        assert "MHSTDY" in mh.columns
        for start, ref, day in zip(mh["MHSTDTC"].fillna(""), rfst, mh["MHSTDY"]):
            if len(start) == 10 and ref:
                diff = (dt.date.fromisoformat(start) - dt.date.fromisoformat(ref[:10])).days
                assert day == (diff + 1 if diff >= 0 else diff), (start, ref, day)
            else:
                assert day != day or day is None, (start, ref, day)  # NaN


# --------------------------------------------------------------------------- 4. EPOCH
def test_epoch_in_ae_and_cm(built) -> None:
    # FDA TCG: EPOCH in the events and interventions domains; the EPOCH of the start date.
    for study in ("ms_exo", "t2dm_exo"):
        dm = read(built[study], "dm").set_index("USUBJID")
        for name, dtc in (("ae", "AESTDTC"), ("cm", "CMSTDTC")):
            frame = read(built[study], name)
            assert "EPOCH" in frame.columns
            complete = frame[dtc].str.len() >= 10
            after_consent = frame[dtc].str[:10] >= frame["USUBJID"].map(dm["RFICDTC"]).fillna("9999")
            assert not _blank(frame.loc[complete & after_consent, "EPOCH"]).any(), (study, name)
            assert _blank(frame.loc[~complete | ~after_consent, "EPOCH"]).all(), (study, name)
    ae = read(built["ms_exo"], "ae")
    assert {"TREATMENT", "FOLLOW-UP"} <= set(ae["EPOCH"])


def test_epoch_compares_time_with_first_dose(built) -> None:
    # A sample taken before the first infusion on the day of first dose is SCREENING, not TREATMENT.
    for study in ("ms_exo", "t2dm_exo"):
        lb = read(built[study], "lb")
        rfx = lb["USUBJID"].map(read(built[study], "dm").set_index("USUBJID")["RFXSTDTC"]).fillna("")
        same_day = (lb["LBDTC"].str[:10] == rfx.str[:10]) & (lb["LBDTC"].str.len() == 16) & (rfx.str.len() == 16)
        pre, post = same_day & (lb["LBDTC"] < rfx), same_day & (lb["LBDTC"] >= rfx)
        assert pre.sum() > 50, study
        assert set(lb.loc[pre, "EPOCH"]) == {"SCREENING"}
        assert set(lb.loc[post, "EPOCH"]) <= {"TREATMENT"}


# --------------------------------------------------------------------------- 5. LB and variable order
def test_lb_time_point_number_wherever_time_point_is_set(built) -> None:
    lb = read(built["t2dm_exo"], "lb")
    timed = ~_blank(lb["LBTPT"])
    assert timed.sum() > 0
    assert not _blank(lb.loc[timed, "LBTPTNUM"]).any() and _blank(lb.loc[~timed, "LBTPTNUM"]).all()
    assert set(lb.loc[timed, "LBELTM"]) == {"PT2H"} and set(lb.loc[timed, "LBTPTREF"]) == {"STANDARD MEAL"}


def test_d_dimer_in_fibrinogen_equivalent_units(built) -> None:
    # CT UNIT offers ug/L FEU (C158292) and ug/L DDU: a D-dimer result names its calibration.
    lb = read(built["t2dm_exo"], "lb")
    dd = lb[(lb["LBTESTCD"] == "DDIMER") & ~_blank(lb["LBORRES"])]
    assert len(dd) and set(dd["LBORRESU"]) == set(dd["LBSTRESU"]) == {"ug/L FEU"}


def test_every_dataset_follows_the_sdtmig_variable_order(built) -> None:
    import pyreadstat

    from subgen.core.standards import ig_variables

    ig = ig_variables()
    for study in ("ms_exo", "t2dm_exo"):
        for path in sorted(built[study].glob("*.xpt")):
            name = path.stem.upper()
            key = ("SDTMIG 3.4", "SUPPQUAL" if name.startswith("SUPP") else name)
            order = {v.name: i for i, v in enumerate(ig[key])}
            _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
            ranks = [order[c] for c in meta.column_names if c in order]
            assert ranks == sorted(ranks), (study, name, meta.column_names)


# --------------------------------------------------------------------------- 6. AE
CRITERIA = ("AESDTH", "AESLIFE", "AESHOSP", "AESDISAB", "AESCONG", "AESMIE")


def test_ae_serious_events_carry_a_seriousness_criterion(built, root) -> None:
    # The raw AE form collects the criteria (simulate/); AESER = Y only with at least one criterion Y.
    for study in ("ms_exo", "t2dm_exo"):
        ae = read(built[study], "ae")
        assert set(CRITERIA) <= set(ae.columns)
        ticked = ae[list(CRITERIA)].eq("Y").any(axis=1)
        assert (ticked == ae["AESER"].eq("Y")).all(), study
        assert ae.loc[ae["AESER"] == "N", list(CRITERIA)].apply(_blank).all().all()
    ae = read(built["t2dm_exo"], "ae")
    assert ae["AESER"].eq("Y").sum() >= 1
    # ae.csv: 201016's community acquired pneumonia, hospitalised
    pneu = ae[(ae["USUBJID"] == "T2DMEXO01-201016") & (ae["AEDECOD"] == "Pneumonia")].iloc[0]
    assert (pneu["AESER"], pneu["AESHOSP"], pneu["AESMIE"]) == ("Y", "Y", "N")


def test_no_ae_ends_after_the_last_contact(built) -> None:
    # RFPENDTC is the last contact, including the AE follow-up after the last visit.
    for study in ("ms_exo", "t2dm_exo"):
        ae, dm = read(built[study], "ae"), read(built[study], "dm").set_index("USUBJID")
        end = ae["AEENDTC"].where(ae["AEENDTC"].str.len() >= 10)
        rfpen = ae["USUBJID"].map(dm["RFPENDTC"])
        assert not (end.notna() & (end.str[:10] > rfpen)).any(), study


# --------------------------------------------------------------------------- 7. TS
def test_ts_fda_expected_parameters(built) -> None:
    # FDA Study Data TCG: PCLAS for interventional studies, CURTRT for an add-on design, ADAPT, EXTTIND, OBJSEC.
    for study, extra in (("ms_exo", set()), ("t2dm_exo", {"CURTRT"})):
        ts = read(built[study], "ts")
        params = set(ts["TSPARMCD"])
        assert {"PCLAS", "ADAPT", "EXTTIND", "OBJSEC"} | extra <= params, study
        assert not _blank(ts["TSPARM"]).any()
        # a parameter without a value says why in TSVALNF, never with text such as UNK in TSVAL
        assert not ts["TSVAL"].isin(["UNK", "NA", "UNKNOWN"]).any()
        assert (_blank(ts["TSVAL"]) == ~_blank(ts["TSVALNF"])).all()
    t2 = read(built["t2dm_exo"], "ts").set_index("TSPARMCD")
    assert t2.loc["ADDON", "TSVAL"] == "Y" and "standard therapy" in t2.loc["CURTRT", "TSVAL"].lower()
    ms = read(built["ms_exo"], "ts").set_index("TSPARMCD")
    assert _blank(pd.Series([ms.loc["REGID", "TSVAL"]])).all() and ms.loc["REGID", "TSVALNF"] == "UNK"
