"""Occurrence data (OCCDS, e.g. ADAE): imputed analysis dates with flags, treatment-emergent flag.

Duration (ADURN), analysis days (ASTDY/AENDY) and severity/relationship groupings use the
generic derivations (``derive_var_duration``, ``derive_var_dy``, ``derive_var_code``,
``derive_var_codelist``); the ADAE rows of the Derivations sheet say which.
"""

from __future__ import annotations

import pandas as pd

from adam.dates import impute_partial
from adam.registry import derivation


@derivation(variables=(1, 2))
def derive_vars_dt(dataset: pd.DataFrame, new_vars: tuple[str, ...], source: str, imputation: str = "first",
                   highest: str = "M", min_dates: tuple[str, ...] = (), max_dates: tuple[str, ...] = ()
                   ) -> pd.DataFrame:
    """An analysis date and its imputation flag (the row's two Variables, e.g. ``ASTDT, ASTDTF``) from ISO text.

    Complete dates convert as they are. A partial date is imputed to the ``first`` or ``last``
    possible day (``imputation``) up to the level ``highest`` (D: day only; M: month and day;
    Y: also the month and day of a year-only date; a date without a year is never imputed). The
    flag is D or M (ADaM CT DATEFL). ``min_dates`` / ``max_dates`` name date variables of the record
    (e.g. TRTSDT; the earliest / latest is used) that replace the imputed date when they fall in
    the range the partial date allows (admiral's ``derive_vars_dt(min_dates=, max_dates=)``).
    """
    mins = _combine(dataset, min_dates, "max") if min_dates else None
    maxs = _combine(dataset, max_dates, "min") if max_dates else None
    value, flag = impute_partial(dataset[source].astype("string"), imputation, highest, mins, maxs)
    out = dataset.copy()
    out[new_vars[0]] = value
    if len(new_vars) > 1:
        out[new_vars[1]] = flag
    return out


def _combine(frame: pd.DataFrame, names: tuple[str, ...], how: str) -> pd.Series:
    values = frame[list(names)].apply(pd.to_numeric, errors="coerce").astype("float64")
    return values.max(axis=1) if how == "max" else values.min(axis=1)


@derivation()
def derive_var_trtemfl(dataset: pd.DataFrame, new_var: str, start: str = "ASTDT", end: str = "AENDT",
                       trt_start: str = "TRTSDT", trt_end: str = "TRTEDT", end_window: int | None = None,
                       missing_start: str = "Y") -> pd.DataFrame:
    """Treatment-emergent flag: Y when the event starts on or after the first dose (up to ``end_window`` days after the last).

    Without ``end_window`` every event from the first dose on counts. An event without a start date is
    treatment-emergent (``missing_start=Y``, the conservative choice) unless it ended before the first dose.
    Subjects never dosed get no flag.
    """  # noqa: E501 - the first line is the `subgen functions` summary (adam.registry): kept whole
    s = pd.to_numeric(dataset[start], errors="coerce").astype("float64")
    e = pd.to_numeric(dataset[end], errors="coerce").astype("float64")
    t0 = pd.to_numeric(dataset[trt_start], errors="coerce").astype("float64")
    t1 = pd.to_numeric(dataset[trt_end], errors="coerce").astype("float64")
    on = s >= t0
    if end_window is not None:
        on &= s <= t1 + end_window
    unknown = s.isna() & ~(e < t0) & (missing_start.upper() == "Y")
    flag = (on | unknown) & t0.notna()
    out = dataset.copy()
    out[new_var] = pd.Series(pd.NA, index=dataset.index, dtype="string").mask(flag, "Y")
    return out
