"""subgen/core/xpt/read.py: the one reader; what it returns is pyreadstat's reading, with its options."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from xpt_cases import CREATED, DM, dm_frame, make_dataset, var

from subgen.core.spec.model import Variable
from subgen.core.xpt.read import XptMeta, read_xpt, shared_text
from subgen.core.xpt.write import write_xpt


def dated_file(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """An ADaM-like file with a DATE9. variable (days since 1960-01-01) and a text column."""
    ds = make_dataset([var("USUBJID", "Unique Subject Identifier"),
                       Variable(dataset="AD", name="ADT", label="Analysis Date", data_type="integer", length=8, order=2,
                                display_format="DATE9."),
                       var("AVALC", "Analysis Value (C)", order=3)], "AD", "Analysis")
    frame = pd.DataFrame({"USUBJID": ["S-1", "S-2", "S-1"], "ADT": [23_000.0, np.nan, 0.0],
                          "AVALC": ["HIGH", "LOW", "HIGH"]})
    path = tmp_path / "ad.xpt"
    write_xpt(frame, ds, path, CREATED)
    return path, frame


def test_default_is_pyreadstat_with_dates_as_numbers(tmp_path: Path) -> None:
    path, _ = dated_file(tmp_path)
    frame, meta = read_xpt(path)
    expected, raw = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
    pd.testing.assert_frame_equal(frame, expected)
    assert frame["ADT"].tolist()[0] == 23_000.0
    assert meta == XptMeta(dataset_name="AD", dataset_label="Analysis", column_names=("USUBJID", "ADT", "AVALC"),
                           column_labels={"USUBJID": "Unique Subject Identifier", "ADT": "Analysis Date",
                                          "AVALC": "Analysis Value (C)"},
                           widths={"USUBJID": 3, "ADT": 8, "AVALC": 4},
                           types={"USUBJID": "char", "ADT": "num", "AVALC": "char"},
                           created=raw.creation_time, rows=3)
    assert meta.created == CREATED


def test_convert_dates_is_pyreadstats_default(tmp_path: Path) -> None:
    path, _ = dated_file(tmp_path)
    frame, _ = read_xpt(path, convert_dates=True)
    expected, _ = pyreadstat.read_xport(str(path))
    pd.testing.assert_frame_equal(frame, expected)
    assert frame["ADT"].iloc[0] == dt.date(2022, 12, 21) and frame["ADT"].iloc[2] == dt.date(1960, 1, 1)


def test_columns_and_metadata_only(tmp_path: Path) -> None:
    path = tmp_path / "dm.xpt"
    write_xpt(dm_frame(), DM, path, CREATED)
    frame, meta = read_xpt(path, columns=["AGE", "USUBJID"])
    assert list(frame.columns) == ["USUBJID", "AGE"]  # file order
    assert frame["USUBJID"].tolist() == ["ABC-101-0001", "ABC-101-0002", "ABC-101-0003", "ABC-101-04"]
    assert meta.rows == 4
    empty, meta = read_xpt(path, metadata_only=True)
    assert len(empty) == 0 and list(empty.columns) == list(DM.variable_names)
    assert meta.rows is None and meta.widths["COMMENT"] == 200 and meta.column_labels["SEX"] == "Sex"


def test_share_text_keeps_the_values(tmp_path: Path) -> None:
    path, _ = dated_file(tmp_path)
    frame, _ = read_xpt(path, convert_dates=True)
    shared, _ = read_xpt(path, convert_dates=True, share_text=True)
    pd.testing.assert_frame_equal(shared, frame)
    assert shared["AVALC"].iloc[0] is shared["AVALC"].iloc[2]
    assert shared["USUBJID"].iloc[0] is shared["USUBJID"].iloc[2]
    mixed = pd.DataFrame({"T": pd.Series(["a", None, "a", np.nan], dtype=object), "N": [1.0, 2.0, 1.0, np.nan]})
    out = shared_text(mixed)
    pd.testing.assert_frame_equal(out, mixed)
    assert out["T"].iloc[1] is None and np.isnan(out["T"].iloc[3])  # nulls as they were
    assert out["T"].iloc[0] is out["T"].iloc[2]


def test_missing_labels_are_blank(tmp_path: Path) -> None:
    path = tmp_path / "raw.xpt"
    pyreadstat.write_xport(pd.DataFrame({"A": ["x"], "B": [1.0]}), str(path), table_name="RAW",
                           file_format_version=5, column_labels=["", "Bee"])
    _, meta = read_xpt(path)
    assert (meta.dataset_name, meta.dataset_label) == ("RAW", "")
    assert meta.column_labels == {"A": "", "B": "Bee"}


def test_a_damaged_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "bad.xpt"
    path.write_bytes(b"\x00" * 400)
    with pytest.raises(Exception):  # noqa: B017 - pyreadstat's own error types; validation reports any
        read_xpt(path)
