"""The ISO 8601 builder and --DY, against hand-worked values."""

from __future__ import annotations

import pandas as pd
import pytest

from sdtm.dates import iso_date, iso_datetime, study_day


@pytest.mark.parametrize("raw, iso", [
    ("05-MAR-2024", "2024-03-05"), ("5-mar-2024", "2024-03-05"), ("UN-MAR-2024", "2024-03"),
    ("UN-UNK-2024", "2024"), ("2024-03-05", "2024-03-05"), ("2024-03", "2024-03"), ("2024", "2024"),
    ("29-FEB-2024", "2024-02-29"),
])
def test_valid_dates(raw: str, iso: str) -> None:
    out, reason = iso_date(pd.Series([raw]))
    assert out[0] == iso and pd.isna(reason[0])


@pytest.mark.parametrize("raw, why", [
    ("2025-02-30", "impossible calendar date"), ("29-FEB-2025", "impossible calendar date"),
    ("31/12/2025", "ambiguous"), ("12/31/2025", "ambiguous"), ("01-JAN-1899", "year before 1900"),
    ("05-MRZ-2024", "unknown month"), ("2024-13", "month out of range"), ("yesterday", "not a date"),
])
def test_invalid_dates_give_reasons(raw: str, why: str) -> None:
    out, reason = iso_date(pd.Series([raw]))
    assert pd.isna(out[0]) and why in reason[0]


def test_blank_is_missing_without_reason() -> None:
    out, reason = iso_date(pd.Series(["", None]))
    assert out.isna().all() and reason.isna().all()


def test_datetime_combines_only_complete_dates() -> None:
    out, reason = iso_datetime(pd.Series(["05-MAR-2024", "UN-MAR-2024", "", "05-MAR-2024"]),
                               pd.Series(["9:05", "10:00", "10:00", ""]))
    assert out.tolist()[:2] == ["2024-03-05T09:05", "2024-03"]
    assert pd.isna(out[2]) and reason[2] == "time given without a date"
    assert "time dropped" in reason[1]
    assert out[3] == "2024-03-05"


def test_study_day_has_no_day_zero() -> None:
    ref = pd.Series(["2024-03-05T09:00"] * 4)
    dy = study_day(pd.Series(["2024-03-05", "2024-03-04T23:59", "2024-04-05", "2024-03"]), ref)
    assert dy.tolist()[:3] == [1, -1, 32]
    assert pd.isna(dy[3])


# ----------------------------------------------------------------------------- property-based
import calendar  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


@st.composite
def edc_dates(draw) -> tuple[str, str]:
    """A valid EDC date (DD-MON-YYYY, UN day, UNK month) and the ISO 8601 text it must become."""
    year = draw(st.integers(1900, 2100))
    month = draw(st.one_of(st.none(), st.integers(1, 12)))
    if month is None:
        return f"UN-UNK-{year}", f"{year:04d}"
    day = draw(st.one_of(st.none(), st.integers(1, calendar.monthrange(year, month)[1])))
    mon = draw(st.sampled_from([MONTHS[month - 1], MONTHS[month - 1].lower(), MONTHS[month - 1].title()]))
    if day is None:
        return f"UN-{mon}-{year}", f"{year:04d}-{month:02d}"
    return f"{day:02d}-{mon}-{year}", f"{year:04d}-{month:02d}-{day:02d}"


@settings(max_examples=150, deadline=None)
@given(st.lists(edc_dates(), min_size=1, max_size=20))
def test_any_valid_partial_date_round_trips(cases: list[tuple[str, str]]) -> None:
    raw = pd.Series([c[0] for c in cases])
    out, reason = iso_date(raw)
    assert out.tolist() == [c[1] for c in cases]
    assert reason.isna().all()
    # ISO input that is already partial stays exactly as it is
    again, why = iso_date(out)
    assert again.tolist() == out.tolist() and why.isna().all()


@settings(max_examples=100, deadline=None)
@given(st.integers(1900, 2100), st.integers(1, 12), st.integers(29, 35))
def test_impossible_days_are_rejected_with_a_reason(year: int, month: int, day: int) -> None:
    last = calendar.monthrange(year, month)[1]
    raw = pd.Series([f"{day:02d}-{MONTHS[month - 1]}-{year}", f"{year}-{month:02d}-{day:02d}"])
    out, reason = iso_date(raw)
    if day <= last:
        assert out.tolist() == [f"{year}-{month:02d}-{day:02d}"] * 2 and reason.isna().all()
    else:
        assert out.isna().all() and reason.str.contains("impossible calendar date").all()


@settings(max_examples=100, deadline=None)
@given(st.integers(1000, 1899), st.integers(1, 12), st.integers(1, 28))
def test_years_before_1900_are_rejected(year: int, month: int, day: int) -> None:
    out, reason = iso_date(pd.Series([f"{day:02d}-{MONTHS[month - 1]}-{year}"]))
    assert pd.isna(out[0]) and "year before 1900" in reason[0]
