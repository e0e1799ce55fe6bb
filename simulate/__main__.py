"""Command line entry point: ``python -m simulate --study ms_exo --out DIR``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import STUDIES, simulate_study


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, simulate the study, print per-form row counts; returns the exit code."""
    ap = argparse.ArgumentParser(prog="python -m simulate", description=__doc__)
    ap.add_argument("--study", required=True, choices=sorted(STUDIES))
    ap.add_argument("--out", required=True, type=Path, help="output directory for <form>.csv files")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: the study's seed)")
    ap.add_argument("--subjects", type=int, default=None,
                    help="number of randomised subjects (default: the demo study size)")
    ap.add_argument("--safety-labs", action="store_true",
                    help="ms_exo: add the 30-test haematology/chemistry panel at every visit (benchmark volume)")
    args = ap.parse_args(argv)
    if args.subjects is not None and args.subjects < 1:
        ap.error("--subjects must be >= 1")
    if args.safety_labs and args.study != "ms_exo":
        ap.error("--safety-labs is available for --study ms_exo only")
    frames = simulate_study(args.study, args.out, seed=args.seed, subjects=args.subjects,
                            safety_labs=args.safety_labs)
    for name, df in frames.items():
        print(f"{name:10s} {len(df):8d} rows -> {args.out / (name + '.csv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
