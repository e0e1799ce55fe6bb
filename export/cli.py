"""``subgen package``: the command-line side of the submission package (options and the run)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from export.package import ExportBlocked, run_package
from export.split import FDA_MAX_BYTES

EXAMPLE = ("subgen package --study studies/ms_exo --out out\n"
           "  subgen package --study studies/ms_exo --out out --split-threshold-bytes 100000 --format xpt")
HELP = ("Assemble the eCTD module 5 dataset folders of a validated study (XPT v5, Dataset-JSON, define.xml 2.1, "
        "manifest) into OUT/<study>/m5; refuses while validation has unwaived Reject/Error findings.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``subgen package``."""
    p.add_argument("--study", required=True, type=Path, help="study folder holding study.toml (e.g. studies/ms_exo)")
    p.add_argument("--out", default=Path("out"), type=Path,
                   help="output root: reads OUT/<study>/sdtm, adam and validation; writes OUT/<study>/m5")
    p.add_argument("--split-threshold-bytes", type=int, default=FDA_MAX_BYTES, metavar="N",
                   help=f"split a dataset whose XPT file would be larger than N bytes (default {FDA_MAX_BYTES:,}, "
                        "the FDA Technical Conformance Guide's 5 GB)")
    p.add_argument("--format", choices=("both", "xpt", "json"), default="both",
                   help="dataset files to write: XPT v5 and Dataset-JSON v1.1 side by side (default), or only one")
    p.add_argument("--revalidate", action="store_true",
                   help="validate again even when OUT/<study>/validation already covers the current files")


def run_package_command(args: argparse.Namespace) -> int:
    """Run ``subgen package``; exit code 1 when validation blocks export."""
    formats = ("xpt", "json") if args.format == "both" else (args.format,)
    try:
        result = run_package(args.study, args.out, split_threshold=args.split_threshold_bytes, formats=formats,
                             revalidate=args.revalidate)
    except ExportBlocked as exc:
        print(str(exc), file=sys.stderr)
        return 1
    m = result.manifest
    splits = [d["dataset"] for d in m["datasets"] if d["split"]]
    print(f"{result.study.name}: {len(m['datasets'])} datasets in {len(m['files'])} files -> {result.out_dir}"
          + (f" (split: {', '.join(splits)})" if splits else "")
          + (" [validation reports reused]" if result.validation_reused else ""))
    if result.warnings:
        print(f"  {len(result.warnings)} warning(s) about the define.xml content: see manifest.json 'warnings'")
    return 0


__all__ = ["EXAMPLE", "HELP", "add_arguments", "run_package_command"]
