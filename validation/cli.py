"""``subgen validate``: the command-line side of validation (parser options and the run)."""

from __future__ import annotations

import argparse
from pathlib import Path

from subgen.core.problems import Problem, ProblemError
from validation.report import XLSX_NAME, write_reports
from validation.run import validate_folder, validate_study

EXAMPLE = ("subgen validate --study studies/ms_exo --out out\n"
           "  subgen validate --package vendor/sdtm --define vendor/define.xml --out out")
HELP = ("Validate a study's SDTM/ADaM output, or any folder of XPT files, and write the QA reports "
        "(Excel, CSV, JSON) into OUT/<name>/validation.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``subgen validate``."""
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--study", type=Path, help="study folder holding study.toml; validates OUT/<study>/sdtm and "
                                                 "OUT/<study>/adam")
    what.add_argument("--package", type=Path, help="any folder of .xpt files (a legacy or vendor package)")
    p.add_argument("--out", default=Path("out"), type=Path,
                   help="output root; reports go to OUT/<study or package folder name>/validation")
    p.add_argument("--spec", type=Path, help="spec workbook (study: instead of study.toml's; package: the metadata)")
    p.add_argument("--define", type=Path, help="package only: the package's define.xml (else SDTMIG 3.4 / ADaMIG 1.3)")
    p.add_argument("--waivers", type=Path,
                   help="package only: a waivers.toml (a study uses studies/<study>/waivers.toml)")


def run_validate(args: argparse.Namespace) -> int:
    """Run ``subgen validate``; exit code 1 when unwaived Reject/Error findings block export."""
    if args.study is not None:
        if args.define is not None or args.waivers is not None:
            raise ProblemError([Problem("--define/--waivers", None, None, None, "only for --package",
                                        "a study is validated against its spec and studies/<study>/waivers.toml",
                                        rule="VALIDATE-INPUT")])
        result = validate_study(args.study, args.out, args.spec)
    else:
        result = validate_folder(args.package, define=args.define, spec_path=args.spec, waivers=args.waivers)
    folder = write_reports(result, Path(args.out) / result.name / "validation")
    f = result.findings
    open_ = f[~f["waived"].astype(bool)]
    counts = {s: int(open_.loc[open_["severity"] == s, "count"].fillna(1).sum()) for s in
              ("Reject", "Error", "Warning", "Notice")}
    waived = int(f.loc[f["waived"].astype(bool), "count"].fillna(1).sum()) if len(f) else 0
    print(f"{result.name}: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + f", {waived} waived -> "
          f"{folder / XLSX_NAME}")
    if not result.may_export:
        print("  export is blocked until every Reject/Error finding is fixed or waived (see the Details sheet)")
        return 1
    return 0


__all__ = ["EXAMPLE", "HELP", "add_arguments", "run_validate"]
