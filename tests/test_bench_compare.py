"""bench/compare.py: two results files side by side; growth beyond the tolerance is a regression."""

from __future__ import annotations

import json
from pathlib import Path

from bench.compare import change, compare, main


def _results(commit: str, sdtm_wall: float, sdtm_peak: float, package_wall: float) -> dict:
    stages = {"sdtm": {"wall_s": sdtm_wall, "peak_rss_mb": sdtm_peak, "ratio": round(sdtm_wall / 100.0, 2)},
              "package": {"wall_s": package_wall, "peak_rss_mb": 1000.0}}
    total = {"wall_s": sdtm_wall + package_wall, "peak_rss_mb": max(sdtm_peak, 1000.0)}
    return {"commit": commit, "sizes": {"5000": {"stages": stages, "total": total}}}


def test_change_in_per_cent():
    assert change(200.0, 150.0) == -25.0 and change(100.0, 111.0) == 11.0
    assert change(0.0, 5.0) is None and change(None, 5.0) is None


def test_faster_and_smaller_is_no_regression():
    lines, regressions = compare(_results("a", 120.0, 4000.0, 280.0), _results("b", 117.0, 4000.0, 100.0))
    assert regressions == []
    assert lines[0] == "before a  after b" and lines[1] == "== 5,000 subjects"
    # package: 280 -> 100 s is -64% (180/280 = 0.643); total 400 -> 217 s is -46% (183/400 = 0.4575)
    assert "wall s 280.00 -> 100.00 (-64%)" in lines[3]
    assert lines[4].startswith("  total") and "wall s 400.00 -> 217.00 (-46%)" in lines[4]


def test_growth_beyond_the_tolerance_is_named(tmp_path: Path, capsys):
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    before.write_text(json.dumps(_results("a", 100.0, 4000.0, 100.0)))
    after.write_text(json.dumps(_results("b", 115.0, 4300.0, 100.0)))  # +15% wall, +7.5% memory
    assert main([str(before), str(after)]) == 1
    out = capsys.readouterr().out
    assert "regression: 5,000 subjects, sdtm: wall s +15% (SLOWER)" in out and "BIGGER" not in out
    assert main([str(before), str(after), "--tolerance", "20"]) == 0
    assert main([str(before), str(tmp_path / "missing.json")]) == 2
