"""``subgen report``: the command-line side of the data review report (options and the run)."""

from __future__ import annotations

import argparse
from pathlib import Path

from report.review import write_review

EXAMPLE = "subgen report --study studies/ms_exo --out out   # then open out/ms_exo/review/review.html"
HELP = ("Write the data review report (one offline HTML page: disposition, completeness, plots by arm, "
        "validation summary) from the study's SDTM/ADaM/validation output.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``subgen report``."""
    p.add_argument("--study", required=True, type=Path, help="study folder holding study.toml (e.g. studies/ms_exo)")
    p.add_argument("--out", default=Path("out"), type=Path,
                   help="output root: reads OUT/<study>/{sdtm,adam,validation}, writes OUT/<study>/review/review.html")


def run_report_command(args: argparse.Namespace) -> int:
    """Run ``subgen report``; prints where the page is."""
    print(f"review report -> {write_review(args.study, args.out)}")
    return 0


__all__ = ["EXAMPLE", "HELP", "add_arguments", "run_report_command"]
