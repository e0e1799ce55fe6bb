"""The command line: help with examples and exit codes, summary table, --quiet/--verbose, progress bars,
short errors."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from subgen.core import progress
from subgen_cli import cli
from subgen_cli.newstudy import init_study


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse --help / usage errors
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def small_study(tmp_path_factory) -> Path:
    return init_study("cli_x", tmp_path_factory.mktemp("cli"))


def test_every_command_has_help_with_an_example():
    code, text, _ = _run(["--help"])
    assert code == 0
    for n in range(5):
        assert re.search(rf"^  {n}  \S", text, re.M), n  # documented exit codes 0..4
    import argparse

    commands = next(a for a in cli._parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert {"sdtm", "adam", "validate", "report", "init", "diff-spec"} <= set(commands)
    for command in commands:
        code, text, _ = _run([command, "--help"])
        assert code == 0 and "Example:\n  subgen " + command in text, command
        assert "--quiet" in text and "--verbose" in text


def test_summary_table_counts_every_dataset(small_study, tmp_path):
    code, text, err = _run(["sdtm", "--study", str(small_study), "--out", str(tmp_path)])
    assert code == 0, err
    rows = dict(re.findall(r"^  ([A-Z]{2,8})\s+(\d+)$", text, re.M))
    # the example rows: one subject; DS = consent + randomization + end of study; VS = 5 tests; TS = 6 parameters
    assert rows["DM"] == "1" and rows["DS"] == "3" and rows["VS"] == "5" and rows["TS"] == "6" and len(rows) == 14
    assert re.search(r"findings: 0 Reject, 0 Error, 0 Warning, 0 Notice; reports in .*cli_x/sdtm/reports", text)
    assert err == ""  # no progress bar when stderr is not a terminal


def test_quiet_prints_nothing_and_verbose_lists_problems(small_study, tmp_path):
    code, text, err = _run(["sdtm", "--study", str(small_study), "--out", str(tmp_path), "--quiet"])
    assert (code, text, err) == (0, "", "")
    code, text, _ = _run(["-q", "spec-text", str(small_study / "cli_x.xlsx")])
    assert code == 0 and text.startswith("=== Study ===")  # a command's product is never silenced
    ae = small_study / "raw" / "ae.csv"
    original = ae.read_text(encoding="utf-8")
    try:  # an adverse event after the data cut (2026-12-31) is left out with a notice
        ae.write_text(original.replace("15-JAN-2026,16-JAN-2026", "15-JAN-2027,16-JAN-2027"), encoding="utf-8")
        code, text, _ = _run(["sdtm", "--study", str(small_study), "--out", str(tmp_path), "-v"])
    finally:
        ae.write_text(original, encoding="utf-8")
    assert code == 0
    listed = [line for line in text.splitlines() if line.startswith("  - ")]
    assert listed and all(re.match(r"  - (Warning|Notice): \[", line) for line in listed)
    assert any("[CUT-AFTER] ae.csv, row 2" in line for line in listed)


def test_errors_are_short_and_debug_adds_the_traceback(tmp_path):
    code, text, err = _run(["sdtm", "--study", str(tmp_path / "missing")])
    assert code == 2 and "study.toml not found" in err and "Traceback" not in err
    code, _, err = _run(["--debug", "sdtm", "--study", str(tmp_path / "missing")])
    assert code == 2 and "Traceback" in err
    code, _, err = _run(["sdtm", "--study", str(tmp_path / "missing"), "--debug"])
    assert code == 2 and "Traceback" in err


def test_progress_bars_only_when_turned_on(capsys):
    assert list(progress.track(["DM", "AE"], "x: SDTM")) == ["DM", "AE"]
    assert capsys.readouterr().err == ""
    progress.configure(True)
    try:
        assert list(progress.track(["DM", "AE"], "x: SDTM")) == ["DM", "AE"]
    finally:
        progress.configure(False)
    err = capsys.readouterr().err
    assert "x: SDTM" in err and "0/2" in err


def test_all_runs_every_stage_in_order_and_skips_adam_without_an_adam_spec(root) -> None:
    from subgen_cli.cli import _parser, stages_for

    assert stages_for(root / "studies" / "ms_exo") == ["sdtm", "adam", "validate", "package", "report"]
    assert stages_for(root / "studies" / "ms_exo_card") == ["sdtm", "validate", "package", "report"]
    args = _parser().parse_args(["all", "--study", "studies/ms_exo", "--out", "o"])
    assert (args.command, str(args.study), str(args.out)) == ("all", "studies/ms_exo", "o")


def test_bench_subcommand_passes_its_options_to_the_benchmark(monkeypatch) -> None:
    import bench.run
    from subgen_cli.cli import main

    seen = []
    monkeypatch.setattr(bench.run, "main", lambda argv: seen.append(argv) or 0)
    assert main(["bench", "--sizes", "20", "--no-floors"]) == 0
    assert seen == [["--sizes", "20", "--no-floors"]]
