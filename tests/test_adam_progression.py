"""adam/progression.py: EDSS progression (PROGFL) and confirmed disability progression (CDP12FL/CDP24FL).

Every expected value below is worked out by hand from the rows of the test; dates are chosen so
the day gaps are easy to check (e.g. 2024-01-01 -> 2024-03-25 is 84 days).
"""

from __future__ import annotations

import pandas as pd
import pytest

from adam.progression import (
    EDSS_PROGRESSION_STEPS,
    ProgressionStep,
    derive_var_confirmation_flag,
    derive_var_onset_date,
    derive_var_progression_flag,
    filter_first_flagged,
    minimum_increase,
    progression_steps,
)
from subgen.core.problems import ProblemError


def bds(rows: list[tuple], base: dict[str, float | None] | None = None) -> pd.DataFrame:
    """A minimal EDSS BDS: rows are (USUBJID, AVISITN, ADT, AVAL, ABLFL[, SRCSEQ]).

    BASE is the AVAL of the subject's ABLFL = 'Y' row unless ``base`` overrides it.
    """
    frame = pd.DataFrame([r if len(r) == 6 else (*r, i + 1) for i, r in enumerate(rows)],
                         columns=["USUBJID", "AVISITN", "ADT", "AVAL", "ABLFL", "SRCSEQ"])
    frame["ADT"] = pd.to_datetime(frame["ADT"])
    frame["PARAMCD"] = "EDSS"
    frame["ABLFL"] = frame["ABLFL"].replace("", pd.NA)
    bl = frame[frame["ABLFL"].eq("Y").fillna(False)].set_index("USUBJID")["AVAL"].to_dict()
    bl.update(base or {})
    frame["BASE"] = frame["USUBJID"].map(bl).astype("Float64")
    return frame


def flags(frame: pd.DataFrame, var: str, subject: str) -> list:
    """The flag values of one subject in row order, missing as None."""
    values = frame.loc[frame["USUBJID"].eq(subject), var]
    return [None if pd.isna(v) else v for v in values]


def rules(frame: pd.DataFrame) -> list[str]:
    return [p.rule for p in frame]


# --------------------------------------------------------------------------- the step table
def test_minimum_increase_follows_the_protocol_table():
    base = pd.Series([0.0, 0.5, 1.0, 3.0, 5.5, 6.0, 6.5, 9.5, None])
    got = minimum_increase(base, EDSS_PROGRESSION_STEPS)
    # 0 -> 1.5; 0.5 not covered; 1.0..5.5 -> 1.0; 6.0 and up -> 0.5; missing -> missing
    assert [None if pd.isna(v) else float(v) for v in got] == [1.5, None, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, None]


def test_step_table_from_spec_rows_and_its_errors():
    steps = progression_steps([(0, 0, 1.5), ("1.0", "5.5", "1.0"), (6.0, "", 0.5)])
    assert steps == EDSS_PROGRESSION_STEPS
    with pytest.raises(ProblemError) as err:
        progression_steps([(0, 1.0, 1.5), (1.0, 5.5, 1.0), (7.0, 6.0, 0), ("x", 1, 1)])
    text = str(err.value)
    assert "steps overlap" in text  # 0-1.0 and 1.0-5.5 share 1.0
    assert "below baseline low" in text and "must be positive" in text and "three numbers" in text


# --------------------------------------------------------------------------- PROGFL
def test_progression_thresholds_at_every_step_edge():
    frame = bds([
        ("A", 1, "2024-01-01", 0.0, "Y"), ("A", 2, "2024-04-01", 1.0, ""), ("A", 3, "2024-07-01", 1.5, ""),
        ("B", 1, "2024-01-01", 5.5, "Y"), ("B", 2, "2024-04-01", 6.0, ""), ("B", 3, "2024-07-01", 6.5, ""),
        ("C", 1, "2024-01-01", 6.0, "Y"), ("C", 2, "2024-04-01", 6.5, ""), ("C", 3, "2024-07-01", 6.0, ""),
        ("D", 1, "2024-01-01", 1.0, "Y"), ("D", 2, "2024-04-01", 1.5, ""), ("D", 3, "2024-07-01", 2.0, ""),
    ])
    out, problems = derive_var_progression_flag(frame)
    assert problems == []
    assert flags(out, "PROGFL", "A") == [None, "N", "Y"]  # baseline 0: +1.0 no, +1.5 yes
    assert flags(out, "PROGFL", "B") == [None, "N", "Y"]  # baseline 5.5: +0.5 no, +1.0 yes
    assert flags(out, "PROGFL", "C") == [None, "Y", "N"]  # baseline 6.0: +0.5 yes, +0 no
    assert flags(out, "PROGFL", "D") == [None, "N", "Y"]  # baseline 1.0: +0.5 no, +1.0 yes
    assert list(out.columns[:-1]) == list(frame.columns) and len(out) == len(frame)


def test_baseline_half_is_reported_unless_the_table_covers_it():
    frame = bds([("E", 1, "2024-01-01", 0.5, "Y"), ("E", 2, "2024-04-01", 1.5, ""),
                 ("E", 3, "2024-07-01", 2.0, "")])
    out, problems = derive_var_progression_flag(frame)
    assert flags(out, "PROGFL", "E") == [None, None, None]
    assert rules(problems) == ["ADAM-PROG-STEP"]
    assert problems[0].value == "0.5" and "E EDSS" in problems[0].message and problems[0].severity == "Warning"
    # the spec chooses to rate 0.5 like 1.0-5.5: +1.0 is progression, +0.5... is not (1.5 - 0.5 = 1.0 yes)
    covered = [ProgressionStep(0.0, 0.0, 1.5), ProgressionStep(0.5, 5.5, 1.0), ProgressionStep(6.0, None, 0.5)]
    out, problems = derive_var_progression_flag(frame, covered)
    assert problems == []
    assert flags(out, "PROGFL", "E") == [None, "Y", "Y"]  # 1.5 - 0.5 = 1.0 >= 1.0; 2.0 - 0.5 = 1.5


def test_missing_baseline_gives_no_flags_and_one_warning_per_subject():
    frame = bds([("F", 1, "2024-01-01", 4.0, ""), ("F", 2, "2024-04-01", 5.5, ""), ("F", 3, "2024-07-01", 6.0, ""),
                 ("G", 1, "2024-01-01", 4.0, "Y"), ("G", 2, "2024-04-01", 5.0, "")])
    out, problems = derive_var_progression_flag(frame)
    assert flags(out, "PROGFL", "F") == [None, None, None]
    assert flags(out, "PROGFL", "G") == [None, "Y"]
    assert rules(problems) == ["ADAM-PROG-BASE"] and problems[0].message.startswith("F EDSS: no baseline")


def test_baseline_record_with_missing_value_is_reported():
    frame = bds([("H", 1, "2024-01-01", None, "Y"), ("H", 2, "2024-04-01", 5.0, "")])
    out, problems = derive_var_progression_flag(frame)
    assert flags(out, "PROGFL", "H") == [None, None]
    assert rules(problems) == ["ADAM-PROG-BASE"]


def test_only_records_after_the_baseline_date_are_rated():
    # screening before baseline (+1.0 would count), a second record on the baseline date (day of
    # first dose), a post-baseline record without AVAL (not done): none of them is rated
    frame = bds([("J", 0, "2023-12-10", 5.0, ""), ("J", 1, "2024-01-01", 4.0, "Y"), ("J", 1.01, "2024-01-01", 5.0, ""),
                 ("J", 2, "2024-04-01", None, ""), ("J", 3, "2024-07-01", 5.0, "")])
    out, problems = derive_var_progression_flag(frame)
    assert problems == []
    assert flags(out, "PROGFL", "J") == [None, None, None, None, "Y"]


def test_filter_limits_the_rating_to_one_parameter():
    frame = bds([("K", 1, "2024-01-01", 4.0, "Y"), ("K", 2, "2024-04-01", 5.0, "")])
    other = frame.assign(PARAMCD="SDMT")
    out, _ = derive_var_progression_flag(pd.concat([frame, other], ignore_index=True), filter="PARAMCD = 'EDSS'")
    assert [None if pd.isna(v) else v for v in out["PROGFL"]] == [None, "Y", None, None]


def test_two_baseline_records_are_reported_not_guessed():
    frame = bds([("L", 1, "2024-01-01", 4.0, "Y"), ("L", 1, "2024-01-02", 4.0, "Y"), ("L", 2, "2024-04-01", 5.0, "")])
    out, problems = derive_var_progression_flag(frame)
    assert flags(out, "PROGFL", "L") == [None, None, None]
    assert rules(problems) == ["ADAM-PROG-BASE"] and "2 records have ABLFL" in problems[0].message


def test_sas_date_numbers_work_like_datetimes_and_text_is_refused():
    frame = bds([("N", 1, "2024-01-01", 4.0, "Y"), ("N", 2, "2024-04-01", 5.0, ""), ("N", 3, "2024-07-01", 5.0, "")])
    sas = frame.assign(ADT=((frame["ADT"] - pd.Timestamp("1960-01-01")).dt.days).astype("Float64"))
    assert list(sas["ADT"]) == [23376, 23467, 23558]  # 01JAN2024 is SAS day 23376; +91, +91
    rated, _ = derive_var_progression_flag(sas)
    out, _ = derive_var_confirmation_flag(rated, confirm_date_var="CDT")
    assert flags(out, "CDP12FL", "N") == [None, "Y", "N"]
    assert str(out["CDT"].dtype) == "Float64" and out.loc[1, "CDT"] == 23558
    with pytest.raises(ProblemError, match="ADT must be a date column"):
        derive_var_progression_flag(frame.assign(ADT=frame["ADT"].dt.strftime("%Y-%m-%d")))


# --------------------------------------------------------------------------- confirmation
def confirm(frame: pd.DataFrame, **kw) -> tuple[pd.DataFrame, list]:
    rated, p1 = derive_var_progression_flag(frame)
    out, p2 = derive_var_confirmation_flag(rated, **kw)
    return out, p1 + p2


def test_confirmed_at_the_next_visit_and_at_the_last_visit():
    # N: baseline 4.0; 2024-04-01 5.0 (onset); 2024-07-01 5.0 (91 days later, >= 84: confirms);
    # 2024-10-01 5.0 is the last visit: onset there has no later assessment -> N
    frame = bds([("N", 1, "2024-01-01", 4.0, "Y"), ("N", 2, "2024-04-01", 5.0, ""), ("N", 3, "2024-07-01", 5.0, ""),
                 ("N", 4, "2024-10-01", 5.0, "")])
    out, problems = confirm(frame, confirm_date_var="CDP12CDT")
    assert problems == []
    assert flags(out, "CDP12FL", "N") == [None, "Y", "Y", "N"]  # 07-01 is confirmed by 10-01, the last visit
    assert list(out["CDP12CDT"].dt.strftime("%Y-%m-%d").fillna("")) == ["", "2024-07-01", "2024-10-01", ""]


def test_progression_not_sustained_drops_back():
    # P: baseline 3.5; 4.5 at 2024-04-01 (onset), back to 4.0 (+0.5) at 2024-07-01 -> not confirmed;
    # the later 4.5 at 2024-10-01 is the last visit -> not confirmable
    frame = bds([("P", 1, "2024-01-01", 3.5, "Y"), ("P", 2, "2024-04-01", 4.5, ""), ("P", 3, "2024-07-01", 4.0, ""),
                 ("P", 4, "2024-10-01", 4.5, "")])
    out, _ = confirm(frame)
    assert flags(out, "PROGFL", "P") == [None, "Y", "N", "Y"]
    assert flags(out, "CDP12FL", "P") == [None, "N", "N", "N"]


def test_confirmation_needs_the_full_gap_so_a_later_visit_confirms():
    # Q: onset 2024-04-01 (4.0 -> 5.0); unscheduled 2024-05-20 (49 days) still 5.0: too early to confirm,
    # but it is an intervening assessment; 2024-06-24 is 84 days after onset -> confirms (>= 84).
    # The 2024-05-20 record itself needs 84 days: 2024-08-12 is exactly 84 days later and 5.5 -> Y.
    # 2024-06-24 onset: first assessment >= 84 days later is 2024-09-16 (84) which dropped to 4.5 -> N.
    frame = bds([("Q", 1, "2024-01-01", 4.0, "Y"), ("Q", 2, "2024-04-01", 5.0, ""), ("Q", 2.01, "2024-05-20", 5.0, ""),
                 ("Q", 3, "2024-06-24", 5.0, ""), ("Q", 4, "2024-08-12", 5.5, ""), ("Q", 5, "2024-09-16", 4.5, "")])
    out, _ = confirm(frame, confirm_date_var="CDT")
    assert flags(out, "CDP12FL", "Q") == [None, "Y", "Y", "N", "N", "N"]
    assert out.loc[1, "CDT"] == pd.Timestamp("2024-06-24") and out.loc[2, "CDT"] == pd.Timestamp("2024-08-12")
    # 83 days is not enough: move the confirming visit one day earlier
    early = frame.copy()
    early.loc[3, "ADT"] = pd.Timestamp("2024-06-23")  # 83 days after 2024-04-01
    out, _ = confirm(early)
    # first assessment >= 84 days after 04-01 is now 08-12 (133 days); 05-20, 06-23 and 08-12 all progressed -> Y;
    # 05-20 is confirmed by 08-12 (84 days) as before; 06-23's first >= 84 days later is 09-16 (85 days, 4.5) -> N
    assert flags(out, "CDP12FL", "Q") == [None, "Y", "Y", "N", "N", "N"]


def test_drop_between_onset_and_confirmation_breaks_it():
    # R: onset 2024-04-01; unscheduled 2024-05-15 back to baseline; 2024-07-01 progressed again.
    # The intervening drop breaks 04-01; 05-15 is not a progression; 07-01 is the last visit.
    frame = bds([("R", 1, "2024-01-01", 4.0, "Y"), ("R", 2, "2024-04-01", 5.0, ""), ("R", 2.01, "2024-05-15", 4.0, ""),
                 ("R", 3, "2024-07-01", 5.0, "")])
    out, _ = confirm(frame)
    assert flags(out, "CDP12FL", "R") == [None, "N", "N", "N"]


def test_confirmation_on_an_unscheduled_visit():
    # S: onset at Month 3 2024-04-01, confirmed by an unscheduled visit 2024-06-28 (88 days) before Month 6 is missed
    frame = bds([("S", 1, "2024-01-01", 6.0, "Y"), ("S", 2, "2024-04-01", 6.5, ""), ("S", 2.01, "2024-06-28", 6.5, "")])
    out, _ = confirm(frame, confirm_date_var="CDT")
    assert flags(out, "CDP12FL", "S") == [None, "Y", "N"]
    assert out.loc[1, "CDT"] == pd.Timestamp("2024-06-28")


def test_missed_visit_and_not_done_assessment_are_skipped():
    # T: onset 2024-04-01; Month 6 missed (no record); a record without AVAL on 2024-07-01 (not done);
    # Month 9 2024-10-01 (183 days) still 5.0 -> confirmed at 12 and at 24 weeks
    frame = bds([("T", 1, "2024-01-01", 4.0, "Y"), ("T", 2, "2024-04-01", 5.0, ""), ("T", 3, "2024-07-01", None, ""),
                 ("T", 4, "2024-10-01", 5.0, "")])
    out, _ = confirm(frame)
    out, _ = derive_var_confirmation_flag(out, new_var="CDP24FL", min_gap_days=168)
    assert flags(out, "CDP12FL", "T") == [None, "Y", None, "N"]
    assert flags(out, "CDP24FL", "T") == [None, "Y", None, "N"]


def test_twelve_week_confirmed_but_not_twenty_four_week():
    # U: onset 2024-04-01; 2024-07-01 (91 d) 5.0 confirms 12 weeks; the first assessment >= 168 days later
    # is 2024-10-01 (183 d) which is back to 4.5 -> not 24-week confirmed. 07-01: next >= 84 d is 10-01 -> N.
    frame = bds([("U", 1, "2024-01-01", 4.0, "Y"), ("U", 2, "2024-04-01", 5.0, ""), ("U", 3, "2024-07-01", 5.0, ""),
                 ("U", 4, "2024-10-01", 4.5, "")])
    out, _ = confirm(frame)
    out, _ = derive_var_confirmation_flag(out, new_var="CDP24FL", min_gap_days=168)
    assert flags(out, "CDP12FL", "U") == [None, "Y", "N", "N"]
    assert flags(out, "CDP24FL", "U") == [None, "N", "N", "N"]


def test_gap_in_calendar_months_is_an_argument():
    # V: onset 2024-04-01, next 2024-06-27 (87 days): confirms with 84 days, not with 3 * 30.4375 = 91.3125
    frame = bds([("V", 1, "2024-01-01", 4.0, "Y"), ("V", 2, "2024-04-01", 5.0, ""), ("V", 3, "2024-06-27", 5.0, "")])
    assert flags(confirm(frame, min_gap_days=84)[0], "CDP12FL", "V") == [None, "Y", "N"]
    assert flags(confirm(frame, min_gap_days=3 * 30.4375)[0], "CDP12FL", "V") == [None, "N", "N"]


def test_ties_on_a_date_count_only_if_all_progress():
    # W: two assessments on 2024-07-01 (5.0 and 4.0): the date is not a progression, so the onset
    # 2024-04-01 is not confirmed there; the tie is reported. X: both 5.0 on the tied date -> confirmed.
    frame = bds([("W", 1, "2024-01-01", 4.0, "Y"), ("W", 2, "2024-04-01", 5.0, ""), ("W", 3, "2024-07-01", 5.0, ""),
                 ("W", 3.01, "2024-07-01", 4.0, ""),
                 ("X", 1, "2024-01-01", 4.0, "Y"), ("X", 2, "2024-04-01", 5.0, ""), ("X", 3, "2024-07-01", 5.0, ""),
                 ("X", 3.01, "2024-07-01", 5.0, "")])
    out, problems = confirm(frame)
    assert flags(out, "CDP12FL", "W") == [None, "N", "N", "N"]
    assert flags(out, "CDP12FL", "X") == [None, "Y", "N", "N"]
    assert [(p.rule, p.value, p.message.split(":")[0]) for p in problems] == [
        ("ADAM-CONF-TIE", "2024-07-01", "W EDSS"), ("ADAM-CONF-TIE", "2024-07-01", "X EDSS")]


def test_subjects_do_not_confirm_each_other():
    # Y progresses once at its last visit; Z's later visit must not confirm Y's onset
    frame = bds([("Y", 1, "2024-01-01", 4.0, "Y"), ("Y", 2, "2024-04-01", 5.0, ""),
                 ("Z", 1, "2024-01-01", 4.0, "Y"), ("Z", 2, "2024-09-01", 5.0, "")])
    out, _ = confirm(frame)
    assert list(out["CDP12FL"].fillna("-")) == ["-", "N", "-", "N"]


def test_confirmation_gap_must_be_positive():
    frame = bds([("A", 1, "2024-01-01", 4.0, "Y")]).assign(PROGFL=pd.NA)
    with pytest.raises(ProblemError, match="positive number of days"):
        derive_var_confirmation_flag(frame, min_gap_days=0)


# --------------------------------------------------------------------------- onset per subject
def test_first_confirmed_onset_per_subject_and_on_adsl():
    frame = bds([("N", 1, "2024-01-01", 4.0, "Y"), ("N", 2, "2024-04-01", 5.0, "", 12),
                 ("N", 3, "2024-07-01", 5.0, "", 13), ("N", 4, "2024-10-01", 5.0, "", 14),
                 ("P", 1, "2024-01-01", 3.5, "Y"), ("P", 2, "2024-04-01", 4.5, "")])
    out, _ = confirm(frame)
    first = filter_first_flagged(out, flag_var="CDP12FL")
    assert first[["USUBJID", "ADT", "SRCSEQ"]].to_dict("records") == [
        {"USUBJID": "N", "ADT": pd.Timestamp("2024-04-01"), "SRCSEQ": 12}]
    adsl = pd.DataFrame({"USUBJID": ["P", "N", "Q"], "TRT01P": ["a", "b", "c"]}, index=[7, 8, 9])
    got = derive_var_onset_date(adsl, out, flag_var="CDP12FL", new_var="CDP12DT", filter_add="PARAMCD = 'EDSS'")
    assert list(got.index) == [7, 8, 9] and list(got["TRT01P"]) == ["a", "b", "c"]
    assert [None if pd.isna(v) else v for v in got["CDP12DT"]] == [None, pd.Timestamp("2024-04-01"), None]


# --------------------------------------------------------------------------- spec wrappers (adam.registry)
PROG_ARGS = "filter=PARAMCD = 'EDSS'; steps=0:0:1.5, 1.0:5.5:1.0, 6.0::0.5"
CDP12_ARGS = "min_gap_days=84; flag_var=PROGFL"


def spec_kwargs(name: str, text: str) -> dict:
    """Arguments text of a Derivations row converted as the engine converts it (by the type hints)."""
    from adam.registry import REGISTRY, convert, parse_arguments

    fn = REGISTRY[name]
    return {k: convert(v, fn.argument(k).hint) for k, v in parse_arguments(text).items()}


def test_spec_wrappers_are_registered_and_take_the_documented_arguments():
    from adam.registry import REGISTRY

    assert REGISTRY["derive_var_progression"].kind == "vars"
    assert set(REGISTRY["derive_var_progression"].injected) == {"new_var", "problems", "dataset_name"}
    assert spec_kwargs("derive_var_progression", PROG_ARGS) == {
        "filter": "PARAMCD = 'EDSS'", "steps": ("0:0:1.5", "1.0:5.5:1.0", "6.0::0.5")}
    assert spec_kwargs("derive_var_confirmed", CDP12_ARGS) == {"min_gap_days": 84.0, "flag_var": "PROGFL"}
    from adam.progression import EDSS_PROGRESSION_STEPS_TEXT, parse_steps
    assert parse_steps(EDSS_PROGRESSION_STEPS_TEXT) == EDSS_PROGRESSION_STEPS
    with pytest.raises(ProblemError, match="three numbers"):
        parse_steps(("0:0:1.5", "1.0-5.5:1.0"))


def test_spec_wrappers_on_a_sas_dated_frame():
    from adam.progression import derive_var_confirmed, derive_var_progression

    frame = bds([("N", 1, "2024-01-01", 4.0, "Y"), ("N", 2, "2024-04-01", 5.0, ""), ("N", 3, "2024-07-01", 5.0, ""),
                 ("F", 1, "2024-01-01", 4.0, ""), ("F", 2, "2024-04-01", 5.5, "")])
    frame["ADT"] = ((frame["ADT"] - pd.Timestamp("1960-01-01")).dt.days).astype("Float64")
    problems: list = []
    out = derive_var_progression(frame, "PROGFL", problems=problems, dataset_name="ADEDSS",
                                 **spec_kwargs("derive_var_progression", PROG_ARGS))
    out = derive_var_confirmed(out, ("CDP12FL", "CDP12CDT"), problems=problems, dataset_name="ADEDSS",
                               **spec_kwargs("derive_var_confirmed", CDP12_ARGS))
    assert flags(out, "PROGFL", "N") == [None, "Y", "Y"] and flags(out, "CDP12FL", "N") == [None, "Y", "N"]
    assert out.loc[1, "CDP12CDT"] == 23558  # 2024-07-01 as a SAS date (23376 + 182)
    assert [(p.where, p.rule) for p in problems] == [("ADEDSS", "ADAM-PROG-BASE")]  # F has no baseline
    assert out.index.equals(frame.index)
