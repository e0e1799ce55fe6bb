"""subgen/core/xpt/write.py: checked, deterministic XPT v5 files that both readers read back as written."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xpt_cases import CREATED, DM, dm_frame, errors, make_dataset, relative_error, var

from subgen.core.problems import ProblemError
from subgen.core.xpt.checks import check_xpt_frame
from subgen.core.xpt.header import parse_xpt_header
from subgen.core.xpt.verify import IBM_REL_TOL, PANDAS_IBM_ZERO, pandas_reader_trustworthy, read_xpt_both, verify_xpt
from subgen.core.xpt.write import write_xpt


def test_round_trip_through_both_readers(tmp_path: Path) -> None:
    path = tmp_path / "dm.xpt"
    frame = dm_frame()
    write_xpt(frame, DM, path, CREATED)
    got, meta = read_xpt_both(path)
    pdf = meta["pandas"]["frame"]

    # widths = longest right-trimmed value in bytes, hand-computed; not the spec Length
    widths = {"STUDYID": 7, "USUBJID": 12, "AGE": 8, "WEIGHT": 8, "SEX": 1, "COMMENT": 200}
    assert meta["widths"] == widths
    assert meta["pandas"]["widths"] == widths
    assert meta["header"].widths == widths  # parsed from the NAMESTR records
    assert [v.position for v in meta["header"].variables] == [0, 7, 19, 27, 35, 36]
    assert meta["header"].record_length == 236

    for m in (meta, meta["pandas"]):
        assert m["dataset_name"] == "DM"
        assert m["dataset_label"] == "Demographics"
        assert m["column_names"] == list(DM.variable_names)
        assert m["column_labels"] == {v.name: v.label for v in DM.variables}
        assert m["types"] == {"STUDYID": "char", "USUBJID": "char", "AGE": "num", "WEIGHT": "num",
                              "SEX": "char", "COMMENT": "char"}
    assert list(got.columns) == list(pdf.columns) == list(DM.variable_names)

    for reader_frame in (got, pdf):
        assert reader_frame["USUBJID"].tolist() == ["ABC-101-0001", "ABC-101-0002", "ABC-101-0003",
                                                    "ABC-101-04"]
        assert reader_frame["SEX"].tolist() == ["F", "", "M", ""]
        assert reader_frame["COMMENT"].tolist() == ["  leading blanks kept", "", "", "x" * 200]
        assert reader_frame["AGE"].tolist()[2:] == [71.0, float(2 ** 40)]
        weight = reader_frame["WEIGHT"].to_numpy()
        assert weight[0] == 70.25 and math.isnan(weight[1]) and weight[2] == -0.1 and weight[3] == 1e-70
    assert got["AGE"].tolist()[:2] == [34.0, 0.0]
    assert pdf["AGE"].tolist()[:2] == [34.0, PANDAS_IBM_ZERO]  # pandas-dev/pandas#50670

    problems = verify_xpt(path, frame, DM)
    assert [(p.severity, p.rule) for p in problems] == [("Notice", "XPT-PANDAS-ZERO")]
    assert pandas_reader_trustworthy(path) and pandas_reader_trustworthy(meta)


def test_missing_values_bytes(tmp_path: Path) -> None:
    ds = make_dataset([var("A", "Text", length=3), var("N", "Number", "float")])
    path = tmp_path / "dm.xpt"
    write_xpt(pd.DataFrame({"A": [None], "N": [np.nan]}), ds, path, CREATED)
    data = path.read_bytes()
    header = parse_xpt_header(data)
    record = data[header.data_offset:header.data_offset + header.record_length]
    assert record == b" " + b"." + b"\x00" * 7  # blank char (width 1), SAS missing numeric
    assert data[header.data_offset + header.record_length:] == b" " * (80 - 9)


def test_all_missing_char_column_has_width_one(tmp_path: Path) -> None:
    ds = make_dataset([var("STUDYID", "Study Identifier", length=8), var("EMPTY", "Never Filled", length=200)])
    path = tmp_path / "dm.xpt"
    write_xpt(pd.DataFrame({"STUDYID": ["S1", "S1"], "EMPTY": [np.nan, np.nan]}), ds, path, CREATED)
    assert read_xpt_both(path)[1]["widths"] == {"STUDYID": 2, "EMPTY": 1}


def test_pyreadstat_width_comes_from_data_not_format(tmp_path: Path) -> None:
    """The finding write_xpt relies on: "$12." sets the NAMESTR format only; width = longest bytes."""
    path = tmp_path / "raw.xpt"
    pyreadstat.write_xport(pd.DataFrame({"A": ["abc", "", None]}), str(path), table_name="T",
                           file_format_version=5, variable_format={"A": "$12."})
    header = parse_xpt_header(path.read_bytes())
    assert header.variables[0].length == 3
    assert header.variables[0].format == "$12."


def test_zero_records(tmp_path: Path) -> None:
    path = tmp_path / "dm.xpt"
    frame = dm_frame().iloc[0:0]
    write_xpt(frame, DM, path, CREATED)
    got, meta = read_xpt_both(path)  # pandas.read_sas alone raises StopIteration here
    assert len(got) == 0 and meta["pandas"]["rows"] == 0
    assert list(meta["pandas"]["frame"].columns) == list(DM.variable_names)
    assert set(meta["widths"].values()) == {1, 8}
    assert verify_xpt(path, frame, DM) == []


def test_categorical_and_nullable_columns(tmp_path: Path) -> None:
    frame = dm_frame()
    frame["SEX"] = frame["SEX"].astype("category")
    frame["AGE"] = pd.array([34, None, 71, 5], dtype="Int64")
    path = tmp_path / "dm.xpt"
    write_xpt(frame, DM, path, CREATED)
    got, _ = read_xpt_both(path)
    assert got["SEX"].tolist() == ["F", "", "M", ""]
    assert got["AGE"].isna().tolist() == [False, True, False, False]
    assert verify_xpt(path, frame, DM) == []


def test_rewrites_are_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "dm.xpt", tmp_path / "b" / "dm.xpt"
    write_xpt(dm_frame(), DM, first, CREATED)
    write_xpt(dm_frame(), DM, second, CREATED)
    before = first.read_bytes()
    write_xpt(dm_frame(), DM, first, CREATED)  # over an existing file
    assert first.read_bytes() == before == second.read_bytes()
    assert sorted(p.name for p in first.parent.iterdir()) == ["dm.xpt"]  # no temp file left


def test_nothing_written_when_checks_fail(tmp_path: Path) -> None:
    path = tmp_path / "dm.xpt"
    path.write_bytes(b"previous file")
    os.utime(path, (1_000_000_000, 1_000_000_000))
    frame = dm_frame()
    frame.loc[1, "COMMENT"] = "ü"
    with pytest.raises(ProblemError) as info:
        write_xpt(frame, DM, path, CREATED)
    assert [(p.rule, p.row, p.column) for p in info.value.problems] == [("XPT-ASCII", 2, "COMMENT")]
    assert path.read_bytes() == b"previous file"
    assert path.stat().st_mtime == 1_000_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dm.xpt"]


ascii_text = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200),
    st.integers(0, 200).map(lambda k: " " * k),
    st.none(),
)


floats = st.one_of(
    st.floats(min_value=1e-70, max_value=1e70), st.floats(min_value=-1e70, max_value=-1e-70),
    st.floats(min_value=-1e6, max_value=1e6).filter(lambda x: x == 0 or abs(x) >= 1e-70),
    st.just(0.0), st.just(-0.0), st.just(float("nan")),
)


PROP = make_dataset([var("TXT", "Random Text"), var("INT", "Random Integer", "integer"),
                     var("FLT", "Random Float", "float"), var("BLANK", "Often Blank")], "PR", "Property")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(ascii_text, st.integers(-(2 ** 53), 2 ** 53), floats,
                               st.sampled_from(["", " ", None, "Q"])), min_size=1, max_size=12))
def test_values_round_trip_through_both_readers(rows: list[tuple]) -> None:
    frame = pd.DataFrame(rows, columns=["TXT", "INT", "FLT", "BLANK"])
    frame["INT"] = frame["INT"].astype("int64")
    assert check_xpt_frame(frame, PROP) == []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pr.xpt"
        write_xpt(frame, PROP, path, CREATED)
        got, meta = read_xpt_both(path)
        problems = verify_xpt(path, frame, PROP)
    assert errors(problems) == []
    assert {p.rule for p in problems} <= {"XPT-PANDAS-ZERO", "XPT-PANDAS-ROWS"}
    texts = frame["TXT"].fillna("").str.rstrip(" ")
    assert got["TXT"].tolist() == texts.tolist()
    assert meta["widths"]["TXT"] == max(1, texts.str.len().max())
    pdf = meta["pandas"]["frame"]
    m = len(pdf)
    assert m == meta["pandas_rows_expected"]
    assert pdf["TXT"].tolist()[:len(frame)] == texts.tolist()[:m]
    for name in ("INT", "FLT"):
        expected = frame[name].to_numpy(dtype="float64")
        err = relative_error(got[name].to_numpy(), expected)
        assert err.max() == 0.0 <= IBM_REL_TOL  # exact in range; the documented bound holds
        p = pdf[name].to_numpy()[:min(m, len(frame))]
        p = np.where((expected[:len(p)] == 0) & (p == PANDAS_IBM_ZERO), 0.0, p)
        assert relative_error(p, expected[:len(p)]).max(initial=0.0) == 0.0
