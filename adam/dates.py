"""ADaM numeric dates: ISO 8601 text to SAS dates, and explicit, flagged imputation of partial dates.

ADaM dates (ADT, ASTDT, TRTSDT, ...) are SAS date values: whole days since 1960-01-01, stored as
numbers with a DATE9. display format (set in the spec's Variables sheet). Inside the ``adam``
package every such date is a ``Float64`` Series of day numbers (missing = <NA>); ADY-style day
counts are differences of those numbers.

Partial dates are imputed only where a derivation asks for it (``derive_vars_dt``), and every
imputed date carries its flag (``D`` day imputed, ``M`` month and day imputed, ``Y`` all
imputed; ADaM CT C81223 DATEFL).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

SAS_EPOCH = dt.date(1960, 1, 1)
_EPOCH64 = np.datetime64("1960-01-01", "D")
_ISO = r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?"


def sas_date(value: dt.date) -> int:
    """The SAS date number of ``value``."""
    return (value - SAS_EPOCH).days


def from_sas_date(number: float) -> dt.date:
    """The calendar date of a SAS date number."""
    return SAS_EPOCH + dt.timedelta(days=int(number))


def iso_to_sas(iso: pd.Series) -> pd.Series:
    """SAS date numbers of complete ISO 8601 dates (``YYYY-MM-DD`` with or without a time part).

    Partial or missing dates give <NA>: use :func:`impute_partial` to impute them on purpose.
    """
    text = iso.astype("string").str.slice(0, 10)
    complete = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).astype(bool)
    parsed = pd.to_datetime(text.where(complete), format="%Y-%m-%d", errors="coerce")
    days = (parsed.to_numpy(dtype="datetime64[D]") - _EPOCH64).astype("float64")
    days[parsed.isna().to_numpy()] = np.nan
    return pd.Series(days, index=iso.index).astype("Float64")


def sas_to_iso(days: pd.Series) -> pd.Series:
    """ISO 8601 text of SAS date numbers (<NA> stays <NA>)."""
    values = pd.to_numeric(days, errors="coerce").astype("Float64")
    ok = values.notna()
    out = pd.Series(pd.NA, index=days.index, dtype="string")
    if ok.any():
        stamps = _EPOCH64 + values[ok].to_numpy(dtype="float64").astype("int64").astype("timedelta64[D]")
        out[ok] = pd.Series(stamps.astype("datetime64[D]").astype(str), index=values[ok].index)
    return out


def impute_partial(iso: pd.Series, imputation: str = "first", highest: str = "M",
                   min_dates: pd.Series | None = None, max_dates: pd.Series | None = None
                   ) -> tuple[pd.Series, pd.Series]:
    """Impute partial ISO 8601 dates; return ``(SAS date, imputation flag)``.

    ``imputation`` is ``first`` (first day of the unknown part) or ``last`` (last day).
    ``highest`` is the highest level imputed: ``D`` (day only), ``M`` (month and day) or ``Y``
    (year too; a missing date then stays missing, since no year is known to impute from).
    A complete date keeps its value and no flag. ``min_dates`` / ``max_dates`` (SAS dates per
    row, e.g. TRTSDT for an AE start, the end-of-study date for an AE end) replace the imputed
    date when they fall inside the range the partial date allows and the imputed date is before
    (after) them, as admiral's ``derive_vars_dt(min_dates=, max_dates=)`` does: an AE starting
    "2024-11" in the month of first dose is then not counted as starting before treatment.
    """
    if imputation not in ("first", "last"):
        raise ValueError(f"imputation must be 'first' or 'last', not {imputation!r}")
    if highest not in ("D", "M", "Y"):
        raise ValueError(f"highest imputation must be D, M or Y, not {highest!r}")
    parts = iso.astype("string").str.extract(_ISO)
    year = pd.to_numeric(parts["y"], errors="coerce")
    month = pd.to_numeric(parts["m"], errors="coerce")
    day = pd.to_numeric(parts["d"], errors="coerce")
    complete = year.notna() & month.notna() & day.notna()
    day_only = year.notna() & month.notna() & day.isna()
    month_too = year.notna() & month.isna()
    allowed = complete.copy()
    flag = pd.Series(pd.NA, index=iso.index, dtype="string")
    if highest in ("D", "M", "Y"):
        allowed |= day_only
        flag[day_only] = "D"
    if highest in ("M", "Y"):
        allowed |= month_too
        flag[month_too] = "M"
    first_month = month.where(month.notna(), 1)
    last_month = month.where(month.notna(), 12)
    lo = _ymd(year, first_month, day.where(day.notna(), 1))
    hi_month_start = _ymd(year, last_month, pd.Series(1, index=iso.index))
    hi = (hi_month_start + pd.offsets.MonthEnd(0)).where(day.isna(), _ymd(year, last_month, day))
    lo_n, hi_n = _days(lo), _days(hi)
    value = lo_n if imputation == "first" else hi_n
    if min_dates is not None:
        md = pd.to_numeric(min_dates, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        use = (md >= lo_n) & (md <= hi_n) & (value < md)
        value = np.where(use, md, value)
    if max_dates is not None:
        xd = pd.to_numeric(max_dates, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        use = (xd >= lo_n) & (xd <= hi_n) & (value > xd)
        value = np.where(use, xd, value)
    out = pd.Series(value, index=iso.index).astype("Float64").where(allowed.to_numpy())
    flag = flag.where(allowed & ~complete)
    return out, flag


def _ymd(year: pd.Series, month: pd.Series, day: pd.Series) -> pd.Series:
    frame = pd.DataFrame({"year": year.fillna(2000), "month": month.fillna(1), "day": day.fillna(1)})
    return pd.to_datetime(frame, errors="coerce").where(year.notna())


def _days(stamps: pd.Series) -> np.ndarray:
    out = (stamps.to_numpy(dtype="datetime64[D]") - _EPOCH64).astype("float64")
    out[stamps.isna().to_numpy()] = np.nan
    return out


def study_day(dates: pd.Series, reference: pd.Series) -> pd.Series:
    """ADaM study day: date - reference + 1 on or after the reference, date - reference before (no day 0)."""
    d = pd.to_numeric(dates, errors="coerce").astype("Float64")
    r = pd.to_numeric(reference, errors="coerce").astype("Float64")
    diff = d - r
    return diff.where(diff < 0, diff + 1)
