"""``subgen adam`` and ``subgen adam-functions``: the command-line side of the ADaM stage."""

from __future__ import annotations

import argparse
from pathlib import Path

from adam.functions import describe
from adam.stage import run_adam
from subgen.core.summary import print_summary

EXAMPLE = "subgen adam --study studies/ms_exo --out out"
HELP = "Build ADaM XPT files and reports from the study's SDTM output (run 'subgen sdtm' first)."
FUNCTIONS_EXAMPLE = "subgen adam-functions"
FUNCTIONS_HELP = "List the derivation functions the ADaM spec's Derivations sheet may name."


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``subgen adam``."""
    p.add_argument("--study", required=True, type=Path, help="study folder holding study.toml (e.g. studies/ms_exo)")
    p.add_argument("--out", default=Path("out"), type=Path,
                   help="output root: reads OUT/<study>/sdtm, writes OUT/<study>/adam")
    p.add_argument("--spec", type=Path, help="use this ADaM spec workbook instead of study.toml's adam_spec")


def run_adam_command(args: argparse.Namespace) -> int:
    """Run ``subgen adam`` and print its summary."""
    result = run_adam(args.study, args.out, args.spec)
    print_summary(result, "ADaM", args.verbose)
    return 0


def run_functions_command(args: argparse.Namespace) -> int:
    """``subgen adam-functions``: one entry per derivation function with its arguments."""
    for name, kind, arguments, summary in describe():
        print(f"{name:26} {kind:8} {summary}\n{'':36}arguments: {arguments or '-'}")
    return 0


__all__ = ["EXAMPLE", "FUNCTIONS_EXAMPLE", "FUNCTIONS_HELP", "HELP", "add_arguments", "run_adam_command",
           "run_functions_command"]
