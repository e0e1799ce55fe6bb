"""ISO 8601 --DTC values from raw EDC date and time parts (SDTMIG 3.4 section 4.4).

Raw dates arrive as EDC exports write them: ``05-MAR-2024``; partial with ``UN``/``UNK`` for an
unknown day or month (``UN-MAR-2024``, ``UN-UNK-2024``); or already ISO (``2024-03-05``,
``2024-03``, ``2024``). Partial dates stay partial: SDTM never imputes. Anything else, an
impossible calendar date, a year before 1900, or a time without a date, is returned as a
reason per row so the caller can report file, row, column and value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from subgen.core.distinct import on_distinct

MONTHS = {m: f"{i:02d}" for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
UNKNOWN = {"UN", "UK", "UNK", "UKN", "--", ""}
MIN_YEAR = 1900

_EDC = r"^(?P<d>\d{1,2}|UN|UK|UNK)[-/ ](?P<m>[A-Z]{3}|UN|UK|UNK)[-/ ](?P<y>\d{4})$"
_ISO = r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?$"
_TIME = r"^(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?$"


@on_distinct
def iso_date(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Convert raw date text to ISO 8601 (possibly partial).

    Returns ``(iso, reason)``: ``iso`` holds the ISO text or NA; ``reason`` holds NA where the
    value converted (or was blank) and an explanation where it did not.
    """
    text = raw.fillna("").astype(str).str.strip().str.upper()
    edc = text.str.extract(_EDC)
    iso = text.str.extract(_ISO)
    is_edc = edc["y"].notna()
    is_iso = iso["y"].notna() & ~is_edc
    year = edc["y"].where(is_edc, iso["y"])
    month_edc = edc["m"].map(lambda v: MONTHS.get(v, "") if isinstance(v, str) else "")
    month = month_edc.where(is_edc, iso["m"].fillna(""))
    day = edc["d"].where(is_edc, iso["d"]).fillna("")
    day = day.where(~day.isin(UNKNOWN), "").map(lambda v: v.zfill(2) if v else "")

    reason = pd.Series(pd.NA, index=raw.index, dtype="string")
    blank = text.eq("")
    unparsed = ~blank & ~is_edc & ~is_iso
    reason[unparsed] = "not a date in DD-MON-YYYY (EDC) or YYYY-MM-DD (ISO 8601) form"
    numeric = unparsed & text.str.match(r"^\d{1,2}[/.]\d{1,2}[/.]\d{4}$")
    reason[numeric] = ("all-numeric day/month order is ambiguous (31/12/2025 or 12/31/2025?); "
                       "export dates as DD-MON-YYYY or YYYY-MM-DD")
    bad_month = is_edc & edc["m"].notna() & ~edc["m"].isin(UNKNOWN) & month_edc.eq("")
    reason[bad_month] = "unknown month abbreviation"
    yr = pd.to_numeric(year, errors="coerce")
    old = (is_edc | is_iso) & (yr < MIN_YEAR)
    reason[old] = f"year before {MIN_YEAR}"
    # A known day with an unknown month cannot be written in ISO 8601 without the month: keep the year only.
    day = day.where(month.ne(""), "")
    full = month.ne("") & day.ne("") & reason.isna() & ~blank
    parsed = pd.to_datetime(year.where(full, "2000") + "-" + month.where(full, "01") + "-" + day.where(full, "01"),
                            format="%Y-%m-%d", errors="coerce")
    impossible = full & parsed.isna()
    reason[impossible] = "impossible calendar date"
    bad_iso_month = is_iso & month.ne("") & ~month.isin(list(MONTHS.values()))
    reason[bad_iso_month & reason.isna()] = "month out of range"

    out = year.fillna("")
    out = out.where(month.eq(""), out + "-" + month)
    out = out.where(day.eq(""), out + "-" + day)
    result = out.where(reason.isna() & ~blank & (is_edc | is_iso)).astype("string")
    result[result.eq("")] = pd.NA  # type: ignore[call-overload]  # pandas-stubs: a mask may be set to NA
    return result, reason


@on_distinct
def iso_time(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Convert raw ``HH:MM[:SS]`` text to ISO 8601 time; returns ``(iso, reason)`` like :func:`iso_date`."""
    text = raw.fillna("").astype(str).str.strip()
    parts = text.str.extract(_TIME)
    reason = pd.Series(pd.NA, index=raw.index, dtype="string")
    blank = text.eq("")
    reason[~blank & parts["h"].isna()] = "not a time in HH:MM form"
    h = pd.to_numeric(parts["h"], errors="coerce")
    mi = pd.to_numeric(parts["mi"], errors="coerce")
    s = pd.to_numeric(parts["s"], errors="coerce")
    out_of_range = (h > 23) | (mi > 59) | (s > 59)
    reason[out_of_range.fillna(False)] = "time out of range"
    iso = parts["h"].str.zfill(2) + ":" + parts["mi"]
    iso = iso.where(parts["s"].isna(), iso + ":" + parts["s"])
    return iso.where(reason.isna() & ~blank).astype("string"), reason


def iso_datetime(date_raw: pd.Series, time_raw: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
    """Combine raw date and optional time into ISO 8601 ``YYYY-MM-DDThh:mm``.

    A time is appended only to a complete date. A time without any date is a problem; a time
    with a partial date is kept out (SDTMIG: no time on an incomplete date) and reported.
    """
    date_iso, reason = iso_date(date_raw)
    if time_raw is None:
        return date_iso, reason
    time_iso, t_reason = iso_time(time_raw)
    reason = reason.copy()
    reason[reason.isna() & t_reason.notna()] = t_reason
    has_time = time_iso.notna()
    no_date = has_time & date_raw.fillna("").astype(str).str.strip().eq("")
    reason[no_date & reason.isna()] = "time given without a date"
    complete = date_iso.fillna("").str.len().eq(10)
    partial_with_time = has_time & date_iso.notna() & ~complete
    reason[partial_with_time & reason.isna()] = "time given with an incomplete date; time dropped"
    combined = date_iso.where(~(has_time & complete), date_iso + "T" + time_iso)
    return combined.where(reason.isna() | partial_with_time), reason


def study_day(dtc: pd.Series, reference: pd.Series) -> pd.Series:
    """--DY per SDTMIG 4.4.4: days from the reference date, +1 on or after it, no day 0.

    Only complete dates (first 10 characters YYYY-MM-DD) on both sides give a value.
    """
    d = pd.to_datetime(dtc.astype("string").str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    r = pd.to_datetime(reference.astype("string").str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    delta = (d - r).dt.days
    dy = np.where(delta >= 0, delta + 1, delta)
    return pd.Series(dy, index=dtc.index, dtype="Float64").where(delta.notna())


def complete_date(dtc: pd.Series) -> pd.Series:
    """The date part of complete --DTC values as datetime64 (NaT for partial or missing)."""
    return pd.to_datetime(dtc.astype("string").str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
