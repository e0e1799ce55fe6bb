"""adam.occds on hand-built AE frames: imputed start/end dates with flags, treatment-emergent flag."""

from __future__ import annotations

import pandas as pd

from adam.occds import derive_var_trtemfl, derive_vars_dt

JAN1_2024 = 23376  # SAS date of 2024-01-01 (64 years after 1960, 16 leap days)
TRTSDT = JAN1_2024 + 31 + 29 + 31 + 30 + 12  # 2024-05-13 = day 133 of 2024 (0-based)
TRTEDT = TRTSDT + 270


def ae(starts: list, ends: list) -> pd.DataFrame:
    n = len(starts)
    return pd.DataFrame({"AESTDTC": pd.Series(starts, dtype="string"), "AEENDTC": pd.Series(ends, dtype="string"),
                         "TRTSDT": pd.Series([TRTSDT] * n, dtype="Float64"),
                         "TRTEDT": pd.Series([TRTEDT] * n, dtype="Float64"),
                         "EOSDT": pd.Series([TRTEDT + 460] * n, dtype="Float64")})


def test_start_date_imputation_and_flags() -> None:
    # "2024-11": 1 November, flag D. "2024-05" is the month of first dose (13 May): the first of the
    # month would put the AE before treatment, and 13 May is a possible date, so it is used (D).
    # "2024" (flag M): 1 January 2024 likewise gives way to the first dose date, which the year
    # contains; "2023" -> 1 January 2023 (the first dose is not in 2023).
    f = derive_vars_dt(ae(["2024-11", "2024-05", "2024", "2023", "2024-06-03", None], [None] * 6),
                       ("ASTDT", "ASTDTF"), "AESTDTC", "first", "M", min_dates=("TRTSDT",))
    nov1 = JAN1_2024 + 305
    jun3 = JAN1_2024 + 31 + 29 + 31 + 30 + 31 + 2
    assert f["ASTDT"].tolist()[:5] == [nov1, TRTSDT, TRTSDT, JAN1_2024 - 365, jun3]
    assert f["ASTDTF"].tolist()[:4] == ["D", "D", "M", "M"] and f["ASTDTF"][4:].isna().all()
    assert pd.isna(f["ASTDT"][5])


def test_end_date_imputation_is_capped_by_the_end_of_study() -> None:
    f = ae([None, None], ["2024-11", "2026"])
    f["EOSDT"] = pd.Series([JAN1_2024 + 310, JAN1_2024 + 366 + 365 + 100], dtype="Float64")
    out = derive_vars_dt(f, ("AENDT", "AENDTF"), "AEENDTC", "last", "M", max_dates=("EOSDT",))
    # 2024-11 -> 30 Nov would be after the end of study on 6 Nov (day 310): capped there.
    assert out["AENDT"].tolist() == [JAN1_2024 + 310, JAN1_2024 + 366 + 365 + 100]
    assert out["AENDTF"].tolist() == ["D", "M"]


def test_treatment_emergent_flag() -> None:
    f = ae([None] * 5, [None] * 5)
    f["ASTDT"] = pd.Series([TRTSDT - 1, TRTSDT, TRTEDT + 30, TRTEDT + 31, None], dtype="Float64")
    f["AENDT"] = pd.Series([TRTSDT - 1, None, None, None, TRTSDT - 2], dtype="Float64")
    flag = derive_var_trtemfl(f, "TRTEMFL")["TRTEMFL"]
    assert flag.tolist()[1:4] == ["Y", "Y", "Y"] and pd.isna(flag[0]) and pd.isna(flag[4])
    windowed = derive_var_trtemfl(f, "TRTEMFL", end_window=30)["TRTEMFL"]
    assert windowed.tolist()[1:3] == ["Y", "Y"] and pd.isna(windowed[3])
    # no start date and no end before the first dose: treatment-emergent (conservative)
    f.loc[4, "AENDT"] = pd.NA
    assert derive_var_trtemfl(f, "TRTEMFL")["TRTEMFL"][4] == "Y"
    # a subject never dosed gets no flag
    f["TRTSDT"] = pd.Series([None] * 5, dtype="Float64")
    assert derive_var_trtemfl(f, "TRTEMFL")["TRTEMFL"].isna().all()
