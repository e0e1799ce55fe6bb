"""adam/tte.py: derive_param_tte with event/censoring sources, on hand-built frames and on the MS demo SDTM.

Day counts are worked out by hand: AVAL = ADT - STARTDT + 1 (2024-01-01 -> 2024-04-01 is 91 days,
so AVAL 92).
"""

from __future__ import annotations

import pandas as pd
import pytest

from adam.progression import derive_var_confirmation_flag, derive_var_progression_flag
from adam.tte import censor_source, derive_param_tte, event_source, parse_source
from subgen.core.problems import ProblemError

D = pd.Timestamp


def adsl_frame() -> pd.DataFrame:
    """A: progresses; B: censored at last assessment; C: no post-baseline assessment; D: discontinued
    early (DS end 2024-05-15, last EDSS 2024-04-01); E: screen failure (no RANDDT)."""
    return pd.DataFrame({
        "STUDYID": "S1",
        "USUBJID": ["A", "B", "C", "D", "E"],
        "RANDDT": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01", None]),
        "EOSDT": pd.to_datetime(["2024-12-01", "2024-12-01", "2024-02-01", "2024-05-15", "2023-12-01"]),
        "RANDFL": ["Y", "Y", "Y", "Y", "N"],
    })


def bds_frame() -> pd.DataFrame:
    """Post-baseline EDSS records with a hand-set CDP12FL (the flag derivation is tested elsewhere)."""
    rows = [  # USUBJID, ADT, PROGFL, CDP12FL, SRCSEQ
        ("A", "2024-01-01", None, None, 1), ("A", "2024-04-01", "Y", "Y", 2), ("A", "2024-07-01", "Y", "Y", 3),
        ("A", "2024-10-01", "Y", "N", 4),
        ("B", "2024-01-01", None, None, 5), ("B", "2024-04-01", "N", "N", 6), ("B", "2024-10-01", "Y", "N", 7),
        ("C", "2024-01-01", None, None, 8),
        ("D", "2024-01-01", None, None, 9), ("D", "2024-04-01", "N", "N", 10),
    ]
    frame = pd.DataFrame(rows, columns=["USUBJID", "ADT", "PROGFL", "CDP12FL", "SRCSEQ"])
    return frame.assign(STUDYID="S1", PARAMCD="EDSS", SRCDOM="RS", ADT=pd.to_datetime(frame["ADT"]))


CDP12_EVENT = event_source("adedss", "ADT", filter="PARAMCD = 'EDSS' and CDP12FL = 'Y'",
                           set_values={"EVNTDESC": "12-WEEK CONFIRMED DISABILITY PROGRESSION", "SRCVAR": "RSDTC"},
                           copy_values={"SRCDOM": "SRCDOM", "SRCSEQ": "SRCSEQ"}, order=("SRCSEQ",))
LAST_EDSS = censor_source("adedss", "ADT", censor=1, filter="PARAMCD = 'EDSS' and PROGFL is not blank",
                          set_values={"EVNTDESC": "NO CONFIRMED PROGRESSION", "CNSDTDSC": "LAST EDSS ASSESSMENT",
                                      "SRCVAR": "RSDTC"},
                          copy_values={"SRCDOM": "SRCDOM", "SRCSEQ": "SRCSEQ"}, order=("SRCSEQ",))
RANDOMISED = censor_source("adsl", "RANDDT", censor=2,
                           set_values={"EVNTDESC": "NO POST-BASELINE EDSS ASSESSMENT",
                                       "CNSDTDSC": "RANDOMIZATION DATE", "SRCDOM": "ADSL", "SRCVAR": "RANDDT"})


def tte(dataset=None, **kw):
    adsl = kw.pop("adsl", adsl_frame())
    bds = kw.pop("bds", bds_frame())
    args = dict(event_conditions=[CDP12_EVENT], censor_conditions=[LAST_EDSS, RANDOMISED],
                set_values_to={"PARAMCD": "TTCDP12", "PARAM": "Time to 12-Week CDP (days)"},
                start_date="RANDDT", population="RANDFL = 'Y'")
    args.update(kw)
    return derive_param_tte(dataset, adsl, {"adsl": adsl, "adedss": bds}, **args)


def record(frame: pd.DataFrame, subject: str) -> dict:
    row = frame[frame["USUBJID"].eq(subject)]
    assert len(row) == 1
    return {k: (None if not isinstance(v, (str, list)) and pd.isna(v) else v) for k, v in row.iloc[0].items()}


def test_event_censorings_and_the_layout():
    out, problems = tte()
    assert problems == []
    assert list(out.columns) == ["STUDYID", "USUBJID", "PARAMCD", "PARAM", "STARTDT", "ADT", "AVAL", "CNSR",
                                 "EVNTDESC", "CNSDTDSC", "SRCDOM", "SRCVAR", "SRCSEQ"]
    assert list(out["USUBJID"]) == ["A", "B", "C", "D"]  # ADSL order; E is outside RANDFL = 'Y'
    # A: first CDP12FL = 'Y' is 2024-04-01 (SRCSEQ 2): 91 days after 2024-01-01 -> AVAL 92, event
    assert record(out, "A") == {
        "STUDYID": "S1", "USUBJID": "A", "PARAMCD": "TTCDP12", "PARAM": "Time to 12-Week CDP (days)",
        "STARTDT": D("2024-01-01"), "ADT": D("2024-04-01"), "AVAL": 92, "CNSR": 0,
        "EVNTDESC": "12-WEEK CONFIRMED DISABILITY PROGRESSION", "CNSDTDSC": None, "SRCDOM": "RS",
        "SRCVAR": "RSDTC", "SRCSEQ": 2}
    # B: unconfirmed progression at the last assessment is no event: censored there (274 days -> 275)
    b = record(out, "B")
    assert (b["ADT"], b["AVAL"], b["CNSR"], b["CNSDTDSC"], b["SRCSEQ"]) == (D("2024-10-01"), 275, 1,
                                                                           "LAST EDSS ASSESSMENT", 7)
    # C: no post-baseline assessment: the randomisation censoring is the only one -> day 1, CNSR 2
    c = record(out, "C")
    assert (c["ADT"], c["AVAL"], c["CNSR"], c["SRCDOM"], c["SRCVAR"], c["SRCSEQ"]) == (
        D("2024-01-01"), 1, 2, "ADSL", "RANDDT", None)
    # D: discontinued 2024-05-15 but last known free of progression at its last EDSS, 2024-04-01 -> 92
    d = record(out, "D")
    assert (d["ADT"], d["AVAL"], d["CNSR"], d["SRCSEQ"]) == (D("2024-04-01"), 92, 1, 10)


def test_sas_date_numbers_in_and_out():
    def sas(frame: pd.DataFrame, col: str) -> pd.DataFrame:
        return frame.assign(**{col: ((frame[col] - D("1960-01-01")).dt.days).astype("Float64")})

    out, problems = tte(adsl=sas(adsl_frame(), "RANDDT"), bds=sas(bds_frame(), "ADT"))
    assert problems == []
    a = record(out, "A")
    assert (a["STARTDT"], a["ADT"], a["AVAL"]) == (23376, 23467, 92)  # 01JAN2024 = SAS day 23376, +91
    assert str(out["ADT"].dtype) == "Float64"
    # datetime ADSL with SAS-number sources: dates follow ADSL's representation
    out, _ = tte(bds=sas(bds_frame(), "ADT"))
    assert record(out, "A")["ADT"] == D("2024-04-01")


def test_add_one_false_counts_elapsed_days():
    out, _ = tte(add_one=False)
    assert list(out["AVAL"]) == [91, 274, 0, 91]


def test_second_parameter_is_appended():
    first, _ = tte()
    both, _ = tte(first, set_values_to={"PARAMCD": "TTCDP24", "PARAM": "Time to 24-Week CDP (days)"})
    assert list(both["PARAMCD"]) == ["TTCDP12"] * 4 + ["TTCDP24"] * 4
    assert both["USUBJID"].tolist() == ["A", "B", "C", "D"] * 2


def test_population_without_start_date_and_subjects_without_any_date_are_reported():
    out, problems = tte(population=None)  # E (no RANDDT) is now in scope
    assert "E" not in set(out["USUBJID"])
    assert [(p.rule, p.value) for p in problems] == [("ADAM-TTE-START", "E")]
    # without the randomisation censoring C has no date at all: reported, not silently lost
    out, problems = tte(censor_conditions=[LAST_EDSS])
    assert list(out["USUBJID"]) == ["A", "B", "D"]
    assert [(p.rule, p.value) for p in problems] == [("ADAM-TTE-NONE", "C")]


def test_earliest_event_wins_and_ties_go_to_the_first_source():
    adsl = adsl_frame().assign(RELDT=pd.to_datetime(["2024-04-01", "2024-03-01", None, None, None]))
    relapse = event_source("adsl", "RELDT", filter="RELDT is not blank",
                           set_values={"EVNTDESC": "RELAPSE", "SRCDOM": "ADSL", "SRCVAR": "RELDT"})
    # A: CDP onset and relapse both 2024-04-01 -> the CDP source is listed first and wins; B: relapse only
    out, _ = tte(adsl=adsl, event_conditions=[CDP12_EVENT, relapse])
    assert (record(out, "A")["EVNTDESC"], record(out, "A")["SRCSEQ"]) == ("12-WEEK CONFIRMED DISABILITY PROGRESSION", 2)
    b = record(out, "B")
    assert (b["ADT"], b["AVAL"], b["CNSR"], b["EVNTDESC"], b["SRCSEQ"]) == (D("2024-03-01"), 61, 0, "RELAPSE", None)
    out, _ = tte(adsl=adsl, event_conditions=[relapse, CDP12_EVENT])
    assert record(out, "A")["EVNTDESC"] == "RELAPSE"


def test_latest_censoring_wins_and_ties_go_to_the_last_source():
    adsl = adsl_frame()
    eos = censor_source("adsl", "EOSDT", censor=3, set_values={"CNSDTDSC": "END OF STUDY", "SRCDOM": "ADSL",
                                                                "SRCVAR": "EOSDT"})
    out, _ = tte(adsl=adsl, censor_conditions=[LAST_EDSS, RANDOMISED, eos])
    # D: end of study 2024-05-15 is later than its last EDSS (2024-04-01): 135 days -> 136, CNSR 3
    d = record(out, "D")
    assert (d["ADT"], d["AVAL"], d["CNSR"], d["CNSDTDSC"]) == (D("2024-05-15"), 136, 3, "END OF STUDY")
    # B: last EDSS 2024-10-01 vs EOS 2024-12-01 -> EOS; C: RANDDT 2024-01-01 vs EOS 2024-02-01 -> EOS
    assert record(out, "C")["CNSR"] == 3
    tie = adsl.assign(EOSDT=adsl["RANDDT"])  # C: both censorings on 2024-01-01 -> the last listed (eos)
    out, _ = tte(adsl=tie, censor_conditions=[LAST_EDSS, RANDOMISED, eos])
    assert record(out, "C")["CNSR"] == 3
    out, _ = tte(adsl=tie, censor_conditions=[LAST_EDSS, eos, RANDOMISED])
    assert record(out, "C")["CNSR"] == 2


def test_date_before_start_is_moved_to_start_and_reported():
    bds = bds_frame()
    bds.loc[bds["SRCSEQ"].eq(2), "ADT"] = D("2023-12-20")
    out, problems = tte(bds=bds)
    a = record(out, "A")
    assert (a["ADT"], a["AVAL"], a["CNSR"]) == (D("2024-01-01"), 1, 0)
    assert [(p.rule, p.value) for p in problems] == [("ADAM-TTE-EARLY", "A")]


def test_same_date_records_in_one_source_are_ordered_and_ties_reported():
    bds = pd.concat([bds_frame(), bds_frame().iloc[[1]].assign(SRCSEQ=1)], ignore_index=True)
    out, problems = tte(bds=bds)
    assert record(out, "A")["SRCSEQ"] == 1  # order=("SRCSEQ",): the lower sequence first
    assert problems == []
    unordered = event_source("adedss", "ADT", filter="CDP12FL = 'Y'", copy_values={"SRCSEQ": "SRCSEQ"})
    bds = pd.concat([bds_frame(), bds_frame().iloc[[1]]], ignore_index=True)
    out, problems = tte(bds=bds, event_conditions=[unordered])
    assert [p.rule for p in problems] == ["ADAM-TTE-TIE"]


def test_bad_source_definitions_stop_with_every_problem():
    with pytest.raises(ProblemError) as err:
        tte(event_conditions=[event_source("adlb", "ADT"), event_source("adedss", "NOPE")],
            censor_conditions=[LAST_EDSS], start_date="TRTSDT")
    text = str(err.value)
    assert "source dataset adlb is not available" in text
    assert "column NOPE is missing from adedss" in text
    assert "column TRTSDT is missing from ADSL" in text
    with pytest.raises(ProblemError, match="positive integer CNSR"):
        censor_source("adsl", "RANDDT", censor=0)
    with pytest.raises(ProblemError, match="has CNSR 1"):
        tte(event_conditions=[LAST_EDSS])
    with pytest.raises(ProblemError, match="not a date column"):
        tte(adsl=adsl_frame().assign(RANDDT="2024-01-01"))


def test_chained_with_the_progression_derivations():
    # baseline 4.0 on 2024-01-01; 5.0 on 04-01 and 07-01 (91 days) -> CDP12 onset 04-01 (day 92);
    # for 24 weeks the first assessment >= 168 days after 04-01 is 10-01 (183 d), 5.0 -> onset 04-01 too;
    # a second subject never progresses and is censored at its last assessment 2024-07-01 (day 183)
    rows = [("A", "2024-01-01", 4.0, "Y", 1), ("A", "2024-04-01", 5.0, None, 2), ("A", "2024-07-01", 5.0, None, 3),
            ("A", "2024-10-01", 5.0, None, 4),
            ("B", "2024-01-01", 4.0, "Y", 5), ("B", "2024-07-01", 4.5, None, 6)]
    bds = pd.DataFrame(rows, columns=["USUBJID", "ADT", "AVAL", "ABLFL", "SRCSEQ"]).assign(
        STUDYID="S1", PARAMCD="EDSS", BASE=4.0, SRCDOM="RS")
    bds["ADT"] = pd.to_datetime(bds["ADT"])
    bds, _ = derive_var_progression_flag(bds)
    bds, _ = derive_var_confirmation_flag(bds, new_var="CDP12FL", min_gap_days=84)
    bds, _ = derive_var_confirmation_flag(bds, new_var="CDP24FL", min_gap_days=168)
    adsl = adsl_frame()[lambda f: f["USUBJID"].isin(["A", "B"])]
    out, problems = tte(bds=bds, adsl=adsl)
    assert problems == []
    assert out[["USUBJID", "ADT", "AVAL", "CNSR", "SRCSEQ"]].to_dict("records") == [
        {"USUBJID": "A", "ADT": D("2024-04-01"), "AVAL": 92, "CNSR": 0, "SRCSEQ": 2},
        {"USUBJID": "B", "ADT": D("2024-07-01"), "AVAL": 183, "CNSR": 1, "SRCSEQ": 6}]


# --------------------------------------------------------------------------- the MS demo study
def demo_inputs(folder) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An EDSS BDS straight from RS (EDSS0101) and a minimal ADSL (RANDDT from DS RANDOMIZED)."""
    from tests.conftest import read

    rs = read(folder, "rs")
    rs = rs[rs["RSTESTCD"].eq("EDSS0101")]
    bds = pd.DataFrame({
        "STUDYID": rs["STUDYID"], "USUBJID": rs["USUBJID"], "PARAMCD": "EDSS", "AVAL": rs["RSSTRESN"],
        "ADT": pd.to_datetime(rs["RSDTC"].str[:10]), "AVISITN": rs["VISITNUM"],
        "ABLFL": rs["RSLOBXFL"].replace("", pd.NA), "SRCDOM": "RS", "SRCVAR": "RSSTRESN", "SRCSEQ": rs["RSSEQ"],
    }).reset_index(drop=True)
    base = bds[bds["ABLFL"].eq("Y").fillna(False)].set_index("USUBJID")["AVAL"]
    bds["BASE"] = bds["USUBJID"].map(base)
    ds = read(folder, "ds")
    rand = ds[ds["DSDECOD"].eq("RANDOMIZED")].set_index("USUBJID")["DSSTDTC"]
    dm = read(folder, "dm")
    adsl = dm[["STUDYID", "USUBJID"]].assign(RANDDT=pd.to_datetime(dm["USUBJID"].map(rand)))
    adsl["RANDFL"] = adsl["RANDDT"].notna().map({True: "Y", False: "N"})
    return bds, adsl


def test_demo_study_ms_exo_by_hand(built):
    bds, adsl = demo_inputs(built["ms_exo"])
    bds, p1 = derive_var_progression_flag(bds)
    bds, p2 = derive_var_confirmation_flag(bds, new_var="CDP12FL", min_gap_days=84)
    bds, p3 = derive_var_confirmation_flag(bds, new_var="CDP24FL", min_gap_days=168)
    # the screen failure 101007 has a Screening EDSS only and no baseline record: reported, not flagged
    assert [(p.rule, p.message.split(":")[0]) for p in p1 + p2 + p3] == [("ADAM-PROG-BASE", "MSEXO01-101007 EDSS")]

    def flagged(subject: str, var: str) -> list:
        s = bds[bds["USUBJID"].eq(f"MSEXO01-{subject}")].sort_values("ADT")
        return [None if pd.isna(v) else v for v in s[var]]

    # 101013 (Exosome), rs.xpt EDSS0101 rows RSSEQ 9-16:
    #   Screening 2024-05-20 4.0 | Baseline 2024-06-07 4.0 (RSLOBXFL Y, RSSEQ 10) | M3 2024-09-05 4.0 |
    #   M6 2024-12-06 4.5 | M9 2025-03-10 4.5 | M12 2025-06-10 5.0 (RSSEQ 14) | M18 2025-12-04 5.0 (RSSEQ 15) |
    #   M24 2026-06-01 5.5 (RSSEQ 16)
    #   baseline 4.0 is in 1.0-5.5 -> needs +1.0: M12, M18, M24 progress; M6/M9 (+0.5) do not.
    #   M12 -> first assessment >= 84 days later is M18, 177 days later (>= 168 too), still 5.0: confirmed
    #   for 12 and 24 weeks. M18 -> M24 is 179 days later, 5.5: confirmed. M24 is the last: N.
    assert flagged("101013", "PROGFL") == [None, None, "N", "N", "N", "Y", "Y", "Y"]
    assert flagged("101013", "CDP12FL") == [None, None, "N", "N", "N", "Y", "Y", "N"]
    assert flagged("101013", "CDP24FL") == flagged("101013", "CDP12FL")
    # 101012 (Placebo, discontinued for an AE after Month 6; DS end 2024-12-20), RSSEQ 5-8:
    #   Screening 2024-05-17 5.0 | Baseline 2024-05-30 5.0 (RSSEQ 6) | M3 2024-08-30 5.0 | M6 2024-11-27 5.0 (RSSEQ 8)
    #   no increase at all -> N, N; censored at M6, the last EDSS.
    assert flagged("101012", "PROGFL") == [None, None, "N", "N"]
    assert flagged("101012", "CDP12FL") == [None, None, "N", "N"]
    # 101015 (quirk: unscheduled visit), baseline 6.0 -> needs +0.5: Unscheduled 2025-05-19 6.5 (RSSEQ 15)
    #   progresses but Month 12 2025-07-07 (49 days later: intervening) is back to 6.0 -> not confirmed.
    assert flagged("101015", "PROGFL") == [None, None, "N", "N", "N", "Y", "N", "N", "N"]
    assert flagged("101015", "CDP12FL") == [None, None, "N", "N", "N", "N", "N", "N", "N"]

    sources = {"adsl": adsl, "adedss": bds}
    common = dict(censor_conditions=[LAST_EDSS, RANDOMISED], start_date="RANDDT", population="RANDFL = 'Y'")
    ev24 = event_source("adedss", "ADT", filter="PARAMCD = 'EDSS' and CDP24FL = 'Y'",
                        set_values={"EVNTDESC": "24-WEEK CONFIRMED DISABILITY PROGRESSION", "SRCVAR": "RSDTC"},
                        copy_values={"SRCDOM": "SRCDOM", "SRCSEQ": "SRCSEQ"}, order=("SRCSEQ",))
    adtte, p12 = derive_param_tte(None, adsl, sources, event_conditions=[CDP12_EVENT],
                                  set_values_to={"PARAMCD": "TTCDP12"}, **common)
    adtte, p24 = derive_param_tte(adtte, adsl, sources, event_conditions=[ev24],
                                  set_values_to={"PARAMCD": "TTCDP24"}, **common)
    assert p12 == [] and p24 == []
    assert len(adtte) == 40  # 20 randomised subjects x 2 parameters; the screen failure is not randomised

    def rec(subject: str, paramcd: str) -> tuple:
        r = record(adtte[adtte["PARAMCD"].eq(paramcd)], f"MSEXO01-{subject}")
        return r["STARTDT"], r["ADT"], r["AVAL"], r["CNSR"], r["SRCDOM"], r["SRCSEQ"]

    # 101013: RANDDT 2024-06-07; onset 2025-06-10 = 365 + 3 days later -> AVAL 369 (= RSDY 369), RS RSSEQ 14
    assert rec("101013", "TTCDP12") == (D("2024-06-07"), D("2025-06-10"), 369, 0, "RS", 14)
    assert rec("101013", "TTCDP24") == rec("101013", "TTCDP12")
    # 101012: RANDDT 2024-05-30; censored at M6 2024-11-27 (181 days later) -> AVAL 182 (= RSDY 182), RSSEQ 8,
    # not at the DS end date 2024-12-20
    assert rec("101012", "TTCDP12") == (D("2024-05-30"), D("2024-11-27"), 182, 1, "RS", 8)
    # 101015: RANDDT 2024-07-08; censored at M24 2026-07-08 (730 days) -> AVAL 731, RSSEQ 18
    assert rec("101015", "TTCDP12") == (D("2024-07-08"), D("2026-07-08"), 731, 1, "RS", 18)
    # studies/README.md (EDSS progression table, protocol steps incl. >= 0.5 from 6.0): confirmed progressions
    # are 101013, 101006, 101014, 101021 and 101018 (Month 12 onset); each confirmation visit is >= 168 days
    # after onset (177, 182, 186, 194, 182 days), so the 24-week events are the same five subjects.
    for paramcd in ("TTCDP12", "TTCDP24"):
        events = adtte[adtte["PARAMCD"].eq(paramcd) & adtte["CNSR"].eq(0)]
        assert sorted(events["USUBJID"].str[-6:]) == ["101006", "101013", "101014", "101018", "101021"]


# --------------------------------------------------------------------------- sources as spec text
def test_parse_source_reads_the_spec_text_form():
    src = parse_source("ADEDSS.ADT where PARAMCD = 'EDSS' and CDP12FL = 'Y' order SRCSEQ "
                       "set EVNTDESC=12-WEEK CONFIRMED DISABILITY PROGRESSION, SRCDOM=@SRCDOM, SRCVAR=RSDTC, "
                       "SRCSEQ=@SRCSEQ")
    assert src == CDP12_EVENT.__class__(**{**CDP12_EVENT.__dict__, "dataset_name": "ADEDSS"})
    # a quoted value keeps its comma and a keyword inside quotes is not a keyword; CNSR is the caller's
    src = parse_source("ADSL.RANDDT  where RANDFL = 'Y' set CNSDTDSC='RANDOMIZATION, where no EDSS', SRCSEQ=", 2)
    assert (src.dataset_name, src.date, src.censor, src.filter.text) == ("ADSL", "RANDDT", 2, "RANDFL = 'Y'")
    assert src.set_values == {"CNSDTDSC": "RANDOMIZATION, where no EDSS", "SRCSEQ": None}
    assert src.copy_values == {} and src.order == ()


@pytest.mark.parametrize("text, message", [
    ("ADEDSS where CDP12FL = 'Y'", "is not DATASET.DATE_VARIABLE"),
    ("ADEDSS.ADT set EVNTDESC", "has no '='"),
    ("ADEDSS.ADT set SRCSEQ=@", "is not @COLUMN"),
    ("ADEDSS.ADT set A=1, A=2", "set twice"),
    ("ADEDSS.ADT where A = 'x' where B = 'y'", "given twice"),
    ("ADEDSS.ADT where A = 'x", "unbalanced quote"),
    ("ADEDSS.ADT order 1X", "variable names"),
])
def test_parse_source_says_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        parse_source(text)


# --------------------------------------------------------------------------- spec wrapper (adam.registry)
TTCDP12_ARGS = (
    "paramcd=TTCDP12; dataset_adsl=ADSL; dataset_add=ADEDSS; start_date=RANDDT; population=RANDFL = 'Y'; "
    "event=ADEDSS.ADT where PARAMCD = 'EDSS' and CDP12FL = 'Y' order SRCSEQ set "
    "EVNTDESC=12-WEEK CONFIRMED DISABILITY PROGRESSION, SRCDOM=@SRCDOM, SRCVAR=RSDTC, SRCSEQ=@SRCSEQ; "
    "censor1=ADEDSS.ADT where PARAMCD = 'EDSS' and PROGFL is not blank order SRCSEQ set "
    "EVNTDESC=NO CONFIRMED PROGRESSION, CNSDTDSC=LAST EDSS ASSESSMENT, SRCDOM=@SRCDOM, SRCVAR=RSDTC, "
    "SRCSEQ=@SRCSEQ; "
    "censor2=ADSL.RANDDT set EVNTDESC=NO POST-BASELINE EDSS ASSESSMENT, CNSDTDSC=RANDOMIZATION DATE, "
    "SRCDOM=ADSL, SRCVAR=RANDDT")


def test_time_to_event_spec_wrapper():
    from adam.engine import TRACE_COL
    from adam.registry import REGISTRY, convert, is_dataset_hint, parse_arguments
    from adam.tte import derive_param_time_to_event
    from subgen.core.spec.model import AnalysisParameter

    fn = REGISTRY["derive_param_time_to_event"]
    assert fn.kind == "records"
    adsl = adsl_frame()
    bds = bds_frame()
    adsl.attrs["name"], bds.attrs["name"] = "ADSL", "ADEDSS"
    frames = {"ADSL": adsl, "ADEDSS": bds}
    kwargs = {}
    for name, text in parse_arguments(TTCDP12_ARGS).items():
        hint = fn.argument(name).hint
        kwargs[name] = frames[text] if is_dataset_hint(hint) else convert(text, hint)
    params = (AnalysisParameter("ADTTE", "TTCDP12", "Time to 12-Week CDP (days)", 1, "EDSS"),)
    problems: list = []
    existing = pd.DataFrame({"USUBJID": ["Z"], "PARAMCD": ["OTHER"]})
    out = derive_param_time_to_event(existing, params=params, problems=problems, dataset_name="ADTTE", **kwargs)
    assert problems == []
    new = out.iloc[1:]
    assert list(new["USUBJID"]) == ["A", "B", "C", "D"] and out.loc[0, "PARAMCD"] == "OTHER"
    assert list(new["PARAM"].unique()) == ["Time to 12-Week CDP (days)"] and list(new["PARAMN"].unique()) == [1.0]
    # same hand-worked values as test_event_censorings_and_the_layout, now declared as spec text
    assert new[["AVAL", "CNSR", "SRCSEQ"]].astype("Float64").fillna(-1).to_numpy().tolist() == [
        [92, 0, 2], [275, 1, 7], [1, 2, -1], [92, 1, 10]]
    assert list(new[TRACE_COL]) == [[("RS", "RSDTC", "RSSEQ=2")], [("RS", "RSDTC", "RSSEQ=7")],
                                    [("ADSL", "RANDDT", "USUBJID=C")], [("RS", "RSDTC", "RSSEQ=10")]]
    with pytest.raises(ProblemError, match="neither dataset_adsl nor dataset_add"):
        derive_param_time_to_event(pd.DataFrame(), "TTCDP12", adsl, "ADLB.ADT", params, [], "ADTTE")
    with pytest.raises(ProblemError, match="is not DATASET.DATE_VARIABLE"):
        derive_param_time_to_event(pd.DataFrame(), "TTCDP12", adsl, "ADSL", params, [], "ADTTE")


def test_declared_rows_on_the_adam_engine_datasets(built, root):
    """The Derivations rows recommended for the MS ADaM spec, run by A's engine on its real ADEDSS and ADSL.

    Same hand-worked values as test_demo_study_ms_exo_by_hand, now with SAS date numbers:
    101013 onset 2025-06-10 = SAS 23902, RANDDT 2024-06-07 = SAS 23534 -> AVAL 23902 - 23534 + 1 = 369.
    """
    from adam.engine import run_step
    from adam.registry import REGISTRY, convert, is_dataset_hint, parse_arguments
    from adam.stage import build_adam, load_adam_spec
    from subgen.core.spec.model import AnalysisParameter, DerivationStep
    from subgen.core.study import load_study

    study = load_study(root / "studies" / "ms_exo")
    spec = load_adam_spec(study)
    ctx = build_adam(study, built["ms_exo"], spec)
    adedss, ds = ctx.adam["ADEDSS"], spec.dataset("ADEDSS")
    rows = [(("PROGFL",), "derive_var_progression", "filter=PARAMCD = 'EDSS'; steps=0:0:1.5, 1.0:5.5:1.0, 6.0::0.5"),
            (("CDP12FL",), "derive_var_confirmed", "min_gap_days=84"),
            (("CDP24FL",), "derive_var_confirmed", "min_gap_days=168")]
    before = len(ctx.problems)
    for variables, function, arguments in rows:
        adedss = run_step(ctx, adedss, DerivationStep("ADEDSS", variables, function, arguments), ds)
    adedss.attrs["name"] = "ADEDSS"
    # the screen failure has a Screening EDSS and no baseline: the only problem
    assert [(p.rule, p.message.split(":")[0]) for p in ctx.problems[before:]] == [
        ("ADAM-PROG-BASE", "MSEXO01-101007 EDSS")]
    s13 = adedss[adedss["USUBJID"].eq("MSEXO01-101013")].sort_values("ADT")
    assert list(s13["CDP12FL"].fillna("-")) == ["-", "-", "N", "N", "N", "Y", "Y", "N"]

    fn = REGISTRY["derive_param_time_to_event"]
    frames = {"ADSL": ctx.adam["ADSL"], "ADEDSS": adedss}
    params = (AnalysisParameter("ADTTE", "TTCDP12", "Time to 12-Week Confirmed Disability Progression (days)", 1),)
    kwargs = {k: frames[v] if is_dataset_hint(fn.argument(k).hint) else convert(v, fn.argument(k).hint)
              for k, v in parse_arguments(TTCDP12_ARGS).items()}
    problems: list = []
    adtte = fn.fn(pd.DataFrame(), params=params, problems=problems, dataset_name="ADTTE", **kwargs)
    assert problems == [] and len(adtte) == 20  # randomised subjects only

    def rec(subject: str) -> tuple:
        r = record(adtte, f"MSEXO01-{subject}")
        return r["STARTDT"], r["ADT"], r["AVAL"], r["CNSR"], r["SRCDOM"], r["SRCVAR"], r["SRCSEQ"]

    assert rec("101013") == (23534, 23902, 369, 0, "RS", "RSDTC", 14)  # 2024-06-07 -> 2025-06-10
    assert rec("101012") == (23526, 23707, 182, 1, "RS", "RSDTC", 8)  # 2024-05-30 -> 2024-11-27 (M6)
    assert rec("101015") == (23565, 24295, 731, 1, "RS", "RSDTC", 18)  # 2024-07-08 -> 2026-07-08 (M24)
    assert sorted(adtte.loc[adtte["CNSR"].eq(0), "USUBJID"].str[-6:]) == [
        "101006", "101013", "101014", "101018", "101021"]
