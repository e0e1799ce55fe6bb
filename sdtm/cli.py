"""``subgen sdtm``: the command-line side of the SDTM stage (options and the run)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sdtm.stage import run_sdtm
from subgen.core.summary import print_summary

EXAMPLE = "subgen sdtm --study studies/ms_exo --out out"
HELP = "Build SDTM XPT files, lineage and reconciliation reports for one study."


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``subgen sdtm``."""
    p.add_argument("--study", required=True, type=Path, help="study folder holding study.toml (e.g. studies/ms_exo)")
    p.add_argument("--out", default=Path("out"), type=Path, help="output root; results go to OUT/<study>/sdtm")
    p.add_argument("--spec", type=Path, help="use this spec workbook instead of the one study.toml names")


def run_sdtm_command(args: argparse.Namespace) -> int:
    """Run ``subgen sdtm`` and print its summary (and the raw rows not mapped yet)."""
    result = run_sdtm(args.study, args.out, args.spec)
    print_summary(result, "SDTM", args.verbose)
    recon = result.reconciliation
    if recon is not None and (recon["not_mapped"] > 0).any():
        n = int(recon["not_mapped"].sum())
        print(f"  {n} raw row(s) are not mapped to any dataset yet: see reports/reconciliation.csv")
    return 0


__all__ = ["EXAMPLE", "HELP", "add_arguments", "run_sdtm_command"]
