"""subgen/core/xpt/header.py: the raw header parser and the record counts each reader reports, from the bytes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from xpt_cases import CREATED, DM, dm_frame, errors, make_dataset, var

from subgen.core.xpt.checks import check_xpt_frame
from subgen.core.xpt.header import CARD, pandas_row_count, parse_xpt_header, read_header_bytes, readstat_row_count
from subgen.core.xpt.verify import pandas_reader_trustworthy, read_xpt_both, verify_xpt
from subgen.core.xpt.write import write_xpt


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


def test_header_of_a_written_file(tmp_path: Path) -> None:
    path = tmp_path / "dm.xpt"
    write_xpt(dm_frame(), DM, path, CREATED)
    data = path.read_bytes()
    header = parse_xpt_header(data)
    assert (header.dataset_name, header.dataset_label) == ("DM", "Demographics")
    assert header.created == header.modified == header.member_created == header.member_modified == "05MAR24:00:00:00"
    assert [v.name for v in header.variables] == list(DM.variable_names)
    assert [v.label for v in header.variables] == [v.label for v in DM.variables]
    assert [v.type for v in header.variables] == ["char", "char", "num", "num", "char", "char"]
    assert [v.varnum for v in header.variables] == [1, 2, 3, 4, 5, 6]
    assert {v.format for v in header.variables} == {""}  # no display formats in the spec
    assert header.data_offset + header.data_length == len(data)
    assert header.data_length % CARD == 0 and header.data_length >= 4 * header.record_length
    assert readstat_row_count(header, data) == pandas_row_count(header, data) == 4


def test_read_header_bytes_holds_the_headers_only(tmp_path: Path) -> None:
    path = tmp_path / "dm.xpt"
    write_xpt(dm_frame(), DM, path, CREATED)
    head = read_header_bytes(path)
    full = parse_xpt_header(path.read_bytes())
    only = parse_xpt_header(head)
    assert head == path.read_bytes()[:full.data_offset]
    assert only.variables == full.variables and only.data_offset == full.data_offset and only.data_length == 0


def test_not_an_xpt_file(tmp_path: Path) -> None:
    path = tmp_path / "dm.xpt"
    path.write_bytes(b"not a transport file" * 50)
    with pytest.raises(ValueError, match="not an XPT v5 file"):
        parse_xpt_header(read_header_bytes(path))


def test_readstat_count_drops_trailing_blank_records(tmp_path: Path) -> None:
    """Written directly with pyreadstat (write_xpt refuses this frame): the last two records are blank."""
    path = tmp_path / "xx.xpt"
    frame = pd.DataFrame({"A": ["x", "", "y", "", ""], "B": ["", "", "", "", ""]})
    pyreadstat.write_xport(frame, str(path), table_name="XX", file_format_version=5)
    data = path.read_bytes()
    assert readstat_row_count(parse_xpt_header(data), data) == len(pyreadstat.read_xport(str(path))[0]) == 3
