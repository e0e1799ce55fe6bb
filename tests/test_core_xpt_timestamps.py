"""subgen/core/xpt/timestamps.py: the reproducible created/modified stamp."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from xpt_cases import DM, dm_frame

from subgen.core.problems import ProblemError
from subgen.core.xpt.timestamps import TIMESTAMP_RANGES, xpt_timestamp
from subgen.core.xpt.verify import read_xpt_both
from subgen.core.xpt.write import write_xpt


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
