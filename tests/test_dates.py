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
