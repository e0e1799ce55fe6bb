"""Value-wise expectations run on distinct values (subgen.core.conformance.gx_runner._validate_results).

On a large frame, expectations whose verdict per record depends only on that record's value
run on the column's distinct values, and their findings are mapped back to the records. The
findings must be exactly those of a run on the whole frame: same records, same counts, same
outcomes, for text, numbers and nulls, with table-level, multi-column and row-condition
expectations still run on the whole frame.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from subgen.core.conformance import gx_runner

N = 3_000  # COMPACT_MIN_ROWS is set per test


def _frame() -> pd.DataFrame:
    """A findings-like frame with planted defects at known records (1-based record = position + 1)."""
    i = np.arange(N)
    frame = pd.DataFrame({
        "USUBJID": pd.Series([f"S-{k // 30:04d}" for k in i], dtype="string"),
        "SEQ": (i % 30 + 1).astype("float64"),
        "TESTCD": pd.Series(np.array(["HGB", "ALT", "K"], dtype=object)[i % 3], dtype="string"),
        "DTC": pd.Series([f"2024-01-{k % 28 + 1:02d}" for k in i], dtype="string"),
        "VALUE": (i % 97).astype("float64"),
        "FLAG": pd.Series(np.where(i % 2 == 0, "Y", pd.NA), dtype="string"),
    })
    frame.loc[5, "TESTCD"] = "hgb"                 # not in the codelist
    frame.loc[[7, 2500], "DTC"] = "2024-13-01"     # month 13: regex failure, twice
    frame.loc[[11, 2900], "USUBJID"] = pd.NA     # required value missing
    frame.loc[[20, 21, 22], "VALUE"] = 500.0       # out of range
    frame.loc[30, "VALUE"] = np.nan                # null: not checked by the range
    frame.loc[40, "TESTCD"] = "TOOLONGCODE"        # too long and not in the set
    frame.loc[N - 1, "SEQ"] = 1.0                  # duplicate key with record 1 of that subject (pos N-30)
    return frame


def _suite():
    gx = gx_runner.import_gx()
    from great_expectations import expectations as gxe

    def meta(check: str) -> dict:
        return {"check": check, "rule": check.split(":")[0], "severity": "Error", "message": check}

    return gx.ExpectationSuite(name="LB", expectations=[
        gxe.ExpectTableColumnsToMatchOrderedList(column_list=["USUBJID", "SEQ", "TESTCD", "DTC", "VALUE", "FLAG"],
                                                 meta=meta("COLS:*")),
        gxe.ExpectColumnValuesToNotBeNull(column="USUBJID", meta=meta("REQ:USUBJID")),
        gxe.ExpectColumnValuesToBeInSet(column="TESTCD", value_set=["HGB", "ALT", "K"], meta=meta("CT:TESTCD")),
        gxe.ExpectColumnValueLengthsToBeBetween(column="TESTCD", min_value=1, max_value=8, meta=meta("LEN:TESTCD")),
        gxe.ExpectColumnValuesToMatchRegex(column="DTC", regex=r"^\d{4}-(0[1-9]|1[0-2])-\d{2}$",
                                           meta=meta("DTC:DTC")),
        gxe.ExpectColumnValuesToNotMatchRegex(column="DTC", regex=r"-13-", meta=meta("DTC13:DTC")),
        gxe.ExpectColumnValuesToBeBetween(column="VALUE", min_value=0, max_value=100, meta=meta("RANGE:VALUE")),
        gxe.ExpectColumnValuesToBeInSet(column="FLAG", value_set=["Y"], meta=meta("CT:FLAG")),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["USUBJID", "SEQ"], meta=meta("KEY:*")),
        gxe.ExpectColumnValuesToBeBetween(column="VALUE", min_value=0, max_value=50, meta=meta("VL:VALUE"),
                                          row_condition='TESTCD=="K"', condition_parser="pandas"),
    ])


def _runs(monkeypatch, min_rows: int):
    monkeypatch.setattr(gx_runner, "COMPACT_MIN_ROWS", min_rows)
    return gx_runner.run_suite_checks(_frame(), _suite(), max_records=10_000)


def _summary(runs):
    return [(r.check, r.outcome, r.unexpected_count, [(p.row, p.column, p.value, p.message) for p in r.problems])
            for r in runs]


def test_distinct_value_run_equals_whole_frame_run(monkeypatch) -> None:
    compact = _summary(_runs(monkeypatch, 0))
    whole = _summary(_runs(monkeypatch, 10 ** 9))
    assert compact == whole


def test_distinct_value_findings_are_the_planted_records(monkeypatch) -> None:
    runs = {r.check: r for r in _runs(monkeypatch, 0)}
    rows = {check: sorted(p.row for p in r.problems if p.row is not None) for check, r in runs.items()}
    assert runs["COLS:*"].outcome == "passed" and runs["CT:FLAG"].outcome == "passed"
    assert rows["REQ:USUBJID"] == [12, 2901] and runs["REQ:USUBJID"].unexpected_count == 2
    assert rows["CT:TESTCD"] == [6, 41]
    assert rows["LEN:TESTCD"] == [41]
    assert rows["DTC:DTC"] == [8, 2501] and rows["DTC13:DTC"] == [8, 2501]
    assert rows["RANGE:VALUE"] == [21, 22, 23] and runs["RANGE:VALUE"].unexpected_count == 3
    assert rows["KEY:*"] == [N - 29, N]
    # VALUE > 50 where TESTCD is K (position % 3 == 2); records 21-23 hold 500
    k_over = [p + 1 for p in range(N) if p % 3 == 2 and _frame().loc[p, "VALUE"] > 50]
    assert rows["VL:VALUE"] == k_over


def test_compact_frame_keeps_dtype_and_each_distinct_value_once() -> None:
    frame = _frame()
    compact, maps = gx_runner._compact(frame, ["TESTCD", "VALUE", "FLAG"])
    assert str(compact["TESTCD"].dtype) == str(frame["TESTCD"].dtype)
    assert compact["VALUE"].dtype == frame["VALUE"].dtype
    assert set(compact["TESTCD"].dropna()) == set(frame["TESTCD"].dropna())
    assert len(compact) == frame["VALUE"].nunique(dropna=False)
    assert compact["FLAG"].isna().any() and set(compact["FLAG"].dropna()) == {"Y"}
    codes_compact, codes = maps["TESTCD"]
    # every compact position's value is the value of the records with the same code
    for pos in range(len(compact)):
        records = np.flatnonzero(codes == codes_compact[pos])
        value = compact["TESTCD"].iloc[pos]
        assert frame["TESTCD"].iloc[records].eq(value).all() if not pd.isna(value) else \
            frame["TESTCD"].iloc[records].isna().all()


@pytest.mark.parametrize("kwargs", [{"mostly": 0.9}, {"row_condition": 'TESTCD=="K"', "condition_parser": "pandas"}])
def test_partial_expectations_are_not_value_wise(kwargs) -> None:
    gx_runner.import_gx()
    from great_expectations import expectations as gxe

    assert gx_runner._value_wise_column(gxe.ExpectColumnValuesToBeInSet(column="A", value_set=["x"])) == "A"
    assert gx_runner._value_wise_column(gxe.ExpectColumnValuesToBeInSet(column="A", value_set=["x"], **kwargs)) is None
    assert gx_runner._value_wise_column(gxe.ExpectColumnValuesToBeUnique(column="A")) is None
