"""subgen/core/xpt.py: checked, deterministic XPT v5 files that both readers read back as written."""

from __future__ import annotations

import math
import os
import tempfile
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subgen.core.xpt import (IBM_LIMIT, IBM_MIN, IBM_REL_TOL, PANDAS_IBM_ZERO, TIMESTAMP_RANGES, check_xpt_frame,
                        pandas_reader_trustworthy, parse_xpt_header, read_xpt_both, verify_xpt, write_xpt,
                        xpt_timestamp)
from subgen.core.problems import ProblemError
from subgen.core.spec.model import Dataset, Variable

CREATED = datetime(2024, 3, 5, 0, 0, 0)


def var(name: str, label: str, data_type: str = "text", length: int | None = None, order: int = 1,
        dataset: str = "DM") -> Variable:
    return Variable(dataset=dataset, name=name, label=label, data_type=data_type, length=length, order=order)


def make_dataset(variables: list[Variable], name: str = "DM", label: str = "Demographics") -> Dataset:
    return Dataset(name=name, label=label, class_="SPECIAL PURPOSE", structure="One record per subject",
                   keys=(variables[0].name,), variables=tuple(variables))


DM = make_dataset([
    var("STUDYID", "Study Identifier", length=12),
    var("USUBJID", "Unique Subject Identifier", length=20),
    var("AGE", "Age", "integer", 8),
    var("WEIGHT", "Weight (kg)", "float", 8),
    var("SEX", "Sex", length=1),
    var("COMMENT", "Free Text Comment", length=200),
])


def dm_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "STUDYID": ["ABC-101", "ABC-101", "ABC-101", "ABC-101"],
        "USUBJID": ["ABC-101-0001", "ABC-101-0002", "ABC-101-0003  ", "ABC-101-04"],
        "AGE": [34, 0, 71, 2 ** 40],
        "WEIGHT": [70.25, np.nan, -0.1, 1e-70],
        "SEX": ["F", None, "M", ""],
        "COMMENT": ["  leading blanks kept", "", None, "x" * 200],
    })


def rules(problems) -> list[tuple]:
    return [(p.rule, p.row, p.column, p.value) for p in problems]


def errors(problems) -> list:
    return [p for p in problems if p.severity != "Notice"]


# ------------------------------------------------------------------ round trip


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


# ------------------------------------------------------------------ determinism


def test_rewrites_are_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "dm.xpt", tmp_path / "b" / "dm.xpt"
    write_xpt(dm_frame(), DM, first, CREATED)
    write_xpt(dm_frame(), DM, second, CREATED)
    before = first.read_bytes()
    write_xpt(dm_frame(), DM, first, CREATED)  # over an existing file
    assert first.read_bytes() == before == second.read_bytes()
    assert sorted(p.name for p in first.parent.iterdir()) == ["dm.xpt"]  # no temp file left


def test_created_changes_only_the_timestamp_ranges(tmp_path: Path) -> None:
    a, b = tmp_path / "a.xpt", tmp_path / "b.xpt"
    write_xpt(dm_frame(), DM, a, datetime(2024, 3, 5))
    write_xpt(dm_frame(), DM, b, datetime(1999, 12, 31, 23, 59, 58))
    da, db = a.read_bytes(), b.read_bytes()
    assert len(da) == len(db)
    diff = {i for i in range(len(da)) if da[i] != db[i]}
    allowed = {i for start, end in TIMESTAMP_RANGES for i in range(start, end)}
    assert diff and diff <= allowed
    for start, end in TIMESTAMP_RANGES:
        assert da[start:end] == b"05MAR24:00:00:00"
        assert db[start:end] == b"31DEC99:23:59:58"
    assert read_xpt_both(b)[1]["pandas"]["frame"].shape == (4, 6)


def test_xpt_timestamp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert xpt_timestamp(date(2024, 3, 5)) == datetime(2024, 3, 5, 0, 0, 0)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1709251200")
    assert xpt_timestamp(date(2024, 3, 5)) == datetime(2024, 3, 1, 0, 0, 0)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ProblemError) as info:
        xpt_timestamp(date(2024, 3, 5))
    assert info.value.problems[0].rule == "XPT-TIMESTAMP"


# ------------------------------------------------------------------ checks


def one_var(v: Variable, values: list, name: str = "DM", label: str = "Demographics") -> tuple:
    ds = make_dataset([var("STUDYID", "Study Identifier", length=8, dataset=name), v], name, label)
    return ds, pd.DataFrame({"STUDYID": ["S1"] * len(values), v.name: values})


def test_clean_frame_has_no_problems() -> None:
    assert check_xpt_frame(dm_frame(), DM) == []


def test_label_of_41_characters() -> None:
    label = "L" * 41
    ds, frame = one_var(var("AETERM", label, length=20), ["HEADACHE"])
    assert rules(check_xpt_frame(frame, ds)) == [("XPT-LABEL", None, "AETERM", label)]
    p = check_xpt_frame(frame, ds)[0]
    assert "41 characters" in p.message and p.where == "DM"
    assert p.fix == "shorten the label in the spec's Variables sheet to 40 characters"
    ds40, frame40 = one_var(var("AETERM", "L" * 40, length=20), ["HEADACHE"])
    assert check_xpt_frame(frame40, ds40) == []
    ds_long, frame_long = one_var(var("AETERM", "Term", length=20), ["X"], label="D" * 41)
    assert rules(check_xpt_frame(frame_long, ds_long)) == [("XPT-LABEL", None, None, "D" * 41)]


def test_non_ascii_label() -> None:
    ds, frame = one_var(var("AETERM", "Terme rapporté", length=20), ["HEADACHE"])
    (p,) = check_xpt_frame(frame, ds)
    assert (p.rule, p.column, p.value) == ("XPT-LABEL", "AETERM", "Terme rapporté")
    assert "U+00E9" in p.message


def test_non_ascii_value() -> None:
    ds, frame = one_var(var("AETERM", "Reported Term", length=20), ["HEADACHE", "CAFÉ AU LAIT", "NAUSEA"])
    (p,) = check_xpt_frame(frame, ds)
    assert (p.rule, p.where, p.row, p.column, p.value) == ("XPT-ASCII", "DM", 2, "AETERM", "CAFÉ AU LAIT")
    assert "'É' (U+00C9) at character 4" in p.message and "13 bytes" in p.message
    ds, frame = one_var(var("AETERM", "Reported Term", length=20), ["é", "tab\there"])
    assert rules(check_xpt_frame(frame, ds)) == [("XPT-ASCII", 1, "AETERM", "é"),
                                                 ("XPT-ASCII", 2, "AETERM", "tab\there")]


def test_value_of_201_bytes() -> None:
    value = "A" * 150 + "B" * 51
    ds, frame = one_var(var("COVAL", "Comment", length=None), ["short", "x" * 200, value])
    (p,) = check_xpt_frame(frame, ds)
    assert (p.rule, p.row, p.column) == ("XPT-LEN200", 3, "COVAL")
    assert p.value == "A" * 60 + "..."
    assert "201 bytes" in p.message
    assert p.fix == "move text beyond 200 bytes to SUPP--/split per SDTMIG 4.5.3.2"
    # trailing blanks are insignificant in XPT: 200 bytes of text plus blanks is fine
    ds, frame = one_var(var("COVAL", "Comment"), ["y" * 200 + "   "])
    assert check_xpt_frame(frame, ds) == []


def test_variable_name_of_9_characters() -> None:
    ds, frame = one_var(var("AETERMXYZ", "Reported Term", length=20), ["HEADACHE"])
    (p,) = check_xpt_frame(frame, ds)
    assert (p.rule, p.row, p.column, p.value) == ("XPT-NAME", None, "AETERMXYZ", "AETERMXYZ")
    assert "9 characters" in p.message


def test_dataset_name_with_a_path(tmp_path: Path) -> None:
    ds, frame = one_var(var("AETERM", "Reported Term", length=20, dataset="../x"), ["HEADACHE"], name="../x")
    (p,) = check_xpt_frame(frame, ds)
    assert (p.rule, p.where, p.column, p.value) == ("XPT-NAME", "../x", None, "../x")
    target = tmp_path / "out" / "x.xpt"
    with pytest.raises(ProblemError):
        write_xpt(frame, ds, target, CREATED)
    assert list(tmp_path.iterdir()) == []


def test_lower_case_names() -> None:
    ds, frame = one_var(var("age", "Age", "integer"), [30], name="dm")
    found = rules(check_xpt_frame(frame, ds))
    assert ("XPT-NAME", None, None, "dm") in found
    assert ("XPT-NAME", None, "age", "age") in found
    assert len(found) == 2
    ds, frame = one_var(var("1AGE", "Age", "integer"), [30])
    assert rules(check_xpt_frame(frame, ds)) == [("XPT-NAME", None, "1AGE", "1AGE")]


def test_wrong_column_order() -> None:
    frame = dm_frame()[["STUDYID", "AGE", "USUBJID", "WEIGHT", "SEX", "COMMENT"]]
    (p,) = check_xpt_frame(frame, DM)
    assert (p.rule, p.row, p.column) == ("XPT-ORDER", None, "AGE")
    assert "STUDYID, USUBJID, AGE" in p.message


def test_missing_and_extra_columns() -> None:
    frame = dm_frame().drop(columns="SEX").assign(RACE="WHITE")
    found = rules(check_xpt_frame(frame, DM))
    assert found == [("XPT-ORDER", None, "SEX", None), ("XPT-ORDER", None, "RACE", None)]


def test_spec_length_too_short() -> None:
    ds, frame = one_var(var("AETERM", "Reported Term", length=8), ["HEADACHE", "NAUSEA", "DIZZINESS", "RASH"])
    (p,) = check_xpt_frame(frame, ds)
    assert (p.rule, p.row, p.column, p.value) == ("XPT-LENGTH", 3, "AETERM", "DIZZINESS")
    assert "9 bytes" in p.message and "Length is 8" in p.message


def test_numeric_variable_holding_text() -> None:
    ds, frame = one_var(var("AGE", "Age", "integer"), ["34", "unknown", None])
    found = rules(check_xpt_frame(frame, ds))
    assert found[0][0:3] == ("XPT-TYPE", None, "AGE")
    assert found[1:] == [("XPT-TYPE", 2, "AGE", "unknown")]
    ds, frame = one_var(var("AETERM", "Reported Term", length=8), ["A", 5])
    assert rules(check_xpt_frame(frame, ds)) == [("XPT-TYPE", 2, "AETERM", "5")]
    ds, frame = one_var(var("AGE", "Age", "integer"), pd.Series([30, None], dtype=object).tolist())
    assert check_xpt_frame(frame, ds) == []  # an object column of numbers is numbers


def test_numbers_beyond_ibm_range() -> None:
    below = np.nextafter(IBM_MIN, 0)
    values = [1.0, 1e-80, -1e76, np.inf, 2.0 ** 249, np.nextafter(2.0 ** 249, 0), IBM_MIN, below, 0.0]
    ds, frame = one_var(var("AVAL", "Analysis Value", "float"), values)
    found = [(p.rule, p.row) for p in check_xpt_frame(frame, ds)]
    assert found == [("XPT-NUMRANGE", 2), ("XPT-NUMRANGE", 3), ("XPT-NUMRANGE", 4), ("XPT-NUMRANGE", 5),
                     ("XPT-NUMRANGE", 8)]
    ds, frame = one_var(var("AVAL", "Analysis Value", "integer"), [2 ** 53, 2 ** 53 + 1])
    assert rules(check_xpt_frame(frame, ds)) == [("XPT-NUMRANGE", 2, "AVAL", str(2 ** 53 + 1))]


def test_trailing_blank_records_are_refused(tmp_path: Path) -> None:
    ds = make_dataset([var("A", "A"), var("B", "B")], "XX", "Only Text")
    frame = pd.DataFrame({"A": ["x", "", "y", "", None], "B": ["", "", "", " ", None]})
    assert rules(check_xpt_frame(frame, ds)) == [("XPT-BLANKTAIL", 4, None, ""), ("XPT-BLANKTAIL", 5, None, "")]
    # why: written anyway, readstat (like SAS) takes them for padding and drops them
    raw = tmp_path / "raw.xpt"
    pyreadstat.write_xport(frame.fillna(""), str(raw), table_name="XX", file_format_version=5)
    assert len(pyreadstat.read_xport(str(raw))[0]) == 3
    # a blank record followed by data is kept by every reader
    assert check_xpt_frame(frame.iloc[:3], ds) == []


def test_every_violation_is_collected() -> None:
    ds = make_dataset([var("STUDYID", "S" * 41, length=3), var("aeterm", "Term", length=4),
                       var("AGE", "Age", "integer")], "dm", "Demographics")
    frame = pd.DataFrame({"STUDYID": ["S1", "é" * 3], "aeterm": ["x" * 201, "ok"], "AGE": ["a", 1]})
    found = {p.rule for p in check_xpt_frame(frame, ds)}
    assert found == {"XPT-NAME", "XPT-LABEL", "XPT-ASCII", "XPT-LENGTH", "XPT-LEN200", "XPT-TYPE"}


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


# ------------------------------------------------------------------ verification


def test_verify_finds_a_changed_value(tmp_path: Path) -> None:
    path = tmp_path / "dm.xpt"
    write_xpt(dm_frame(), DM, path, CREATED)
    data = bytearray(path.read_bytes())
    header = parse_xpt_header(bytes(data))
    pos = header.data_offset + header.record_length * 2 + 7  # record 3, USUBJID
    data[pos:pos + 3] = b"XYZ"
    path.write_bytes(bytes(data))
    found = [(p.rule, p.row, p.column) for p in errors(verify_xpt(path, dm_frame(), DM))]
    assert found == [("XPT-VERIFY", 3, "USUBJID"), ("XPT-VERIFY", 3, "USUBJID")]  # both readers
    other = dm_frame()
    other.loc[0, "WEIGHT"] = 70.25 * (1 + 4 * IBM_REL_TOL)
    assert [(p.row, p.column) for p in errors(verify_xpt(path, other, DM))][-1] == (1, "WEIGHT")


def test_verify_finds_wrong_labels_and_order(tmp_path: Path) -> None:
    path = tmp_path / "dm.xpt"
    write_xpt(dm_frame(), DM, path, CREATED)
    relabelled = make_dataset([var(v.name, v.label + "!", v.data_type, v.length) for v in DM.variables],
                              label="Other")
    found = errors(verify_xpt(path, dm_frame(), relabelled))
    assert len(found) == 3 * (1 + len(DM.variables))  # NAMESTR, pyreadstat, pandas
    reordered = make_dataset([DM.variables[1], DM.variables[0], *DM.variables[2:]])
    assert any("spec order" in p.message for p in verify_xpt(path, dm_frame()[list(reordered.variable_names)],
                                                             reordered))


def narrow_case() -> tuple[Dataset, pd.DataFrame]:
    """Record length 16 <= 80: record 3's blank B is an 8-byte blank word in the last card."""
    ds = make_dataset([var("A", "First", length=8), var("B", "Second", length=8)], "NW", "Narrow")
    return ds, pd.DataFrame({"A": ["ABCDEFGH", "IJKLMNOP", "QRS"], "B": ["12345678", "87654321", ""]})


def test_pandas_drops_a_record_ending_in_blanks(tmp_path: Path) -> None:
    ds, frame = narrow_case()
    path = tmp_path / "nw.xpt"
    write_xpt(frame, ds, path, CREATED)  # verify inside write_xpt tolerates it
    got, meta = read_xpt_both(path)
    # 3 records x 16 bytes = 48 bytes + 32 padding: 4 padding words + record 3's blank B = 5 blank words
    assert meta["header"].record_length == 16 and meta["header"].data_length == 80
    assert len(got) == 3 and meta["readstat_rows_expected"] == 3
    assert len(meta["pandas"]["frame"]) == meta["pandas_rows_expected"] == (80 - 5 * 8) // 16 == 2
    assert not pandas_reader_trustworthy(path) and not pandas_reader_trustworthy(meta)
    problems = verify_xpt(path, frame, ds)
    assert [(p.severity, p.rule) for p in problems] == [("Notice", "XPT-PANDAS-ROWS")]
    # only that case: a frame that really differs is still an error for both readers
    longer = pd.concat([frame, frame.iloc[:1]], ignore_index=True)
    found = errors(verify_xpt(path, longer, ds))
    assert any("pyreadstat reads 3 records, 4" in p.message for p in found)
    assert any("pandas.read_sas reads 2 records, 4" in p.message for p in found)
    # the same records with B filled in the last record: pandas is right again
    frame.loc[2, "B"] = "x"
    write_xpt(frame, ds, path, CREATED)
    assert pandas_reader_trustworthy(path) and verify_xpt(path, frame, ds) == []


def test_pandas_adds_blank_records_below_8_bytes(tmp_path: Path) -> None:
    ds = make_dataset([var("F", "Flag", length=1)], "FL", "Flags")
    frame = pd.DataFrame({"F": ["Y"] * 73})  # 73 bytes + 7 padding: no blank word, 80 // 1 records
    path = tmp_path / "fl.xpt"
    write_xpt(frame, ds, path, CREATED)
    got, meta = read_xpt_both(path)
    assert len(got) == 73 and len(meta["pandas"]["frame"]) == meta["pandas_rows_expected"] == 80
    assert meta["pandas"]["frame"]["F"].iloc[73:].eq("").all()
    assert [p.rule for p in verify_xpt(path, frame, ds)] == ["XPT-PANDAS-ROWS"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(widths=st.lists(st.integers(1, 12), min_size=1, max_size=3), n=st.integers(1, 25), data=st.data())
def test_pandas_record_count_rule(widths: list[int], n: int, data: st.DataObject) -> None:
    """The predicted pandas count is exactly what pandas reports, for narrow and wide records."""
    ds = make_dataset([var(f"V{i}", f"Var {i}") for i in range(len(widths))], "NW", "Narrow")
    cols = {}
    for i, w in enumerate(widths):
        values = data.draw(st.lists(st.sampled_from(["", " ", "A", "AB C", "X" * w, "Y" * (w + 1)]),
                                    min_size=n, max_size=n))
        values[0] = "Z" * w  # widths as drawn
        cols[f"V{i}"] = values
    frame = pd.DataFrame(cols)
    if not frame.iloc[-1, 0].strip():
        frame.iloc[-1, 0] = "E"  # no trailing blank record
    assert check_xpt_frame(frame, ds) == []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "nw.xpt"
        write_xpt(frame, ds, path, CREATED)
        got, meta = read_xpt_both(path)
        assert len(got) == n
        assert len(meta["pandas"]["frame"]) == meta["pandas_rows_expected"]
        assert pandas_reader_trustworthy(meta) == (meta["pandas_rows_expected"] == n)
        assert errors(verify_xpt(path, frame, ds)) == []


# ------------------------------------------------------------------ property: values round-trip


def relative_error(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    nan = np.isnan(expected)
    scale = np.where(expected == 0, 1.0, np.abs(expected))
    err = np.abs(got - expected) / scale
    return np.where(nan & np.isnan(got), 0.0, err)


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


def test_ibm_precision_bound_over_the_range(tmp_path: Path) -> None:
    rng = np.random.default_rng(20240305)
    values = rng.uniform(-1, 1, 20_000) * 10.0 ** rng.uniform(-70, 70, 20_000)
    top = np.nextafter(IBM_LIMIT, 0)
    edges = [IBM_MIN, -IBM_MIN, top, -top, 1 / 3, 0.1, 2.0 ** 53, 1e-70, -1e70]
    values = np.concatenate([values, edges])
    ds = make_dataset([var("AVAL", "Analysis Value", "float")], "AD", "Analysis")
    frame = pd.DataFrame({"AVAL": values})
    path = tmp_path / "ad.xpt"
    write_xpt(frame, ds, path, CREATED)
    got, meta = read_xpt_both(path)
    assert relative_error(got["AVAL"].to_numpy(), values).max() == 0.0
    assert relative_error(meta["pandas"]["frame"]["AVAL"].to_numpy(), values).max() == 0.0
