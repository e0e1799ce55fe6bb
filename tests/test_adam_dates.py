"""adam.dates: SAS date numbers, partial-date imputation with flags, study day; DATE9. in the XPT header."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from adam.dates import from_sas_date, impute_partial, iso_to_sas, sas_date, sas_to_iso, study_day

# 1960-01-01 .. 2024-01-01: 64 years, 16 leap days (1960, 1964, ..., 2020) -> 64 * 365 + 16 = 23376.
JAN1_2024 = 23376


def test_sas_date_by_hand() -> None:
    assert sas_date(dt.date(1960, 1, 1)) == 0
    assert sas_date(dt.date(2024, 1, 1)) == JAN1_2024
    # 2024-05-30 = Jan 31 + Feb 29 + Mar 31 + Apr 30 (121) + 29 days after 1 January.
    assert sas_date(dt.date(2024, 5, 30)) == JAN1_2024 + 150
    assert from_sas_date(JAN1_2024 + 150) == dt.date(2024, 5, 30)


def test_iso_to_sas_keeps_partial_dates_missing() -> None:
    iso = pd.Series(["2024-05-30", "2024-05-30T08:45", "2024-05", "2024", None, ""], dtype="string")
    got = iso_to_sas(iso)
    assert list(got[:2]) == [JAN1_2024 + 150] * 2
    assert got[2:].isna().all()
    assert list(sas_to_iso(got[:2])) == ["2024-05-30", "2024-05-30"]


def test_impute_first_and_last_with_flags() -> None:
    iso = pd.Series(["2024-11", "2024", "2024-02", "2024-03-05", None], dtype="string")
    first, flag = impute_partial(iso, "first", "M")
    # 2024-11-01: Jan..Oct = 31+29+31+30+31+30+31+31+30+31 = 305 days after 1 January.
    assert first[0] == JAN1_2024 + 305 and flag[0] == "D"
    assert first[1] == JAN1_2024 and flag[1] == "M"
    assert first[3] == JAN1_2024 + 31 + 29 + 4 and pd.isna(flag[3])  # complete: kept, no flag
    assert pd.isna(first[4]) and pd.isna(flag[4])
    last, lflag = impute_partial(iso, "last", "M")
    assert last[2] == JAN1_2024 + 31 + 28 and lflag[2] == "D"  # 2024-02-29 (leap year)
    assert last[1] == JAN1_2024 + 365 and lflag[1] == "M"  # 2024-12-31 (366-day year)


def test_highest_imputation_level_limits_what_is_imputed() -> None:
    iso = pd.Series(["2024-11", "2024"], dtype="string")
    got, flag = impute_partial(iso, "first", "D")
    assert got[0] == JAN1_2024 + 305 and flag[0] == "D"
    assert pd.isna(got[1]) and pd.isna(flag[1])  # a year-only date needs M


def test_min_date_inside_the_partial_range_wins() -> None:
    # AE start "2024-11" and first dose 2024-11-15: the first dose is in the possible range and
    # after the imputed 2024-11-01, so the AE is imputed to start on the day of first dose.
    iso = pd.Series(["2024-11", "2024-11", "2024-10"], dtype="string")
    first_dose = pd.Series([JAN1_2024 + 305 + 14, JAN1_2024 + 200, JAN1_2024 + 305 + 14], dtype="Float64")
    got, flag = impute_partial(iso, "first", "M", min_dates=first_dose)
    assert got[0] == JAN1_2024 + 319 and flag[0] == "D"
    assert got[1] == JAN1_2024 + 305  # first dose in July is outside November: not used
    assert got[2] == JAN1_2024 + 274  # first dose in November is outside October: 2024-10-01 stays


def test_max_date_caps_last_day_imputation() -> None:
    iso = pd.Series(["2024-11"], dtype="string")
    got, _ = impute_partial(iso, "last", "M", max_dates=pd.Series([JAN1_2024 + 310], dtype="Float64"))
    assert got[0] == JAN1_2024 + 310


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        impute_partial(pd.Series(["2024"]), "middle")
    with pytest.raises(ValueError):
        impute_partial(pd.Series(["2024"]), "first", "X")


def test_study_day_has_no_day_zero() -> None:
    ref = pd.Series([100, 100, 100, None], dtype="Float64")
    got = study_day(pd.Series([100, 99, 130, 5], dtype="Float64"), ref)
    assert list(got[:3]) == [1, -1, 31] and pd.isna(got[3])


def test_date9_format_reaches_the_xpt_header(tmp_path: Path) -> None:
    """A spec Format (DATE9.) is written to the NAMESTR record; values stay day numbers."""
    import pyreadstat

    from subgen.core.spec.model import Dataset, Variable
    from subgen.core.xpt.header import parse_xpt_header
    from subgen.core.xpt.write import write_xpt

    ds = Dataset("ADX", "Test", "BASIC DATA STRUCTURE", "x", ("USUBJID",),
                 (Variable("ADX", "USUBJID", "Unique Subject Identifier", "text", 10, 1),
                  Variable("ADX", "ADT", "Analysis Date", "integer", 8, 2, display_format="DATE9."),
                  Variable("ADX", "AVAL", "Analysis Value", "float", 8, 3)))
    frame = pd.DataFrame({"USUBJID": pd.Series(["S1", "S2"], dtype="string"),
                          "ADT": pd.Series([JAN1_2024 + 150, None], dtype="Float64"),
                          "AVAL": pd.Series([1.5, 2.0], dtype="Float64")})
    path = tmp_path / "adx.xpt"
    write_xpt(frame, ds, path, dt.datetime(2026, 10, 31))
    header = parse_xpt_header(path.read_bytes())
    assert {v.name: v.format for v in header.variables} == {"USUBJID": "", "ADT": "DATE9.", "AVAL": ""}
    back, meta = pyreadstat.read_xport(str(path))
    assert back["ADT"][0] == dt.date(2024, 5, 30)  # a reader honouring DATE9. shows the calendar date
    raw, _ = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
    assert raw["ADT"][0] == JAN1_2024 + 150
