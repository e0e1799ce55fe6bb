"""The spec tools and project commands of ``subgen`` that belong to no one stage.

``spec-text``, ``spec-from-text`` and ``diff-spec`` (the spec workbook as text), ``algorithms`` (the mapping
algorithms a Mappings sheet may name), ``init`` (a new study folder) and ``bench`` (the benchmark, which lives
outside the product in ``bench/``). Each has an argument builder and a handler; :mod:`subgen_cli.cli` lists them.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from sdtm.algorithms import REGISTRY
from subgen.core.spec.loader import spec_from_tables
from subgen.core.spec.workbook import read_workbook, tables_to_text, text_to_tables, write_workbook
from subgen_cli.newstudy import init_study


def spec_text_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``subgen spec-text``."""
    p.add_argument("workbook", type=Path)


def run_spec_text(args: argparse.Namespace) -> int:
    """``subgen spec-text``: the workbook as text on standard output."""
    sys.stdout.write(tables_to_text(read_workbook(args.workbook)))
    return 0


def spec_from_text_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``subgen spec-from-text``."""
    p.add_argument("text", type=Path)
    p.add_argument("workbook", type=Path)


def run_spec_from_text(args: argparse.Namespace) -> int:
    """``subgen spec-from-text``: validate the text form as a spec, then write it as a workbook."""
    tables = text_to_tables(args.text.read_text(encoding="utf-8"))
    spec_from_tables(tables, args.text)  # validate before writing
    write_workbook(tables, args.workbook)
    print(f"wrote {args.workbook}")
    return 0


def diff_spec_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``subgen diff-spec``."""
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)


def run_diff_spec(args: argparse.Namespace) -> int:
    """``subgen diff-spec``: a unified diff of the two workbooks' text forms."""
    old = tables_to_text(read_workbook(args.old)).splitlines(keepends=True)
    new = tables_to_text(read_workbook(args.new)).splitlines(keepends=True)
    sys.stdout.writelines(difflib.unified_diff(old, new, str(args.old), str(args.new)))
    return 0


def run_algorithms(args: argparse.Namespace) -> int:
    """``subgen algorithms``: one line per mapping algorithm (name, level, first line of its doc)."""
    for name, alg in sorted(REGISTRY.items()):
        print(f"{name:18} {alg.level:8} {alg.doc.splitlines()[0] if alg.doc else ''}")
    return 0


def init_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``subgen init``."""
    p.add_argument("name", help="the study's folder name (also its output folder name)")
    p.add_argument("--dir", default=Path("studies"), type=Path, help="where to create the folder (default studies)")
    p.add_argument("--from-sdtmig", action="store_true",
                   help="list every SDTMIG 3.4 variable of the domains, Permissible ones included (else Req, Exp "
                        "and the mapped Perm ones)")
    p.add_argument("--study-id", help="STUDYID (default: the name upper-cased, letters and digits only)")


def run_init(args: argparse.Namespace) -> int:
    """``subgen init``: create the study folder and say what to run next."""
    folder = init_study(args.name, args.dir, args.from_sdtmig, args.study_id)
    print(f"created {folder}: study.toml, {args.name}.xlsx, raw/ (one example row per form)\n"
          f"next: subgen sdtm --study {folder} --out out   (README: Mapping your own study)")
    return 0


def bench_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``subgen bench``: everything after the command goes to the benchmark."""
    p.add_argument("bench_args", nargs=argparse.REMAINDER, help="passed to the benchmark, e.g. --sizes 500 5000")


def run_bench(args: argparse.Namespace) -> int:
    """``subgen bench``: run ``bench.run`` with the remaining options."""
    # Local on purpose: bench/ is not part of the installed product (it runs from the project folder only), so
    # importing it at module level would break every command of an installed subgen.
    try:
        from bench.run import main as bench_main
    except ImportError as exc:
        raise SystemExit("subgen bench runs from the project folder (it needs bench/): cd there and run it "
                         f"again, or use make bench ({exc})") from exc
    return bench_main([a for a in args.bench_args if a != "--"])


__all__ = ["bench_arguments", "diff_spec_arguments", "init_arguments", "run_algorithms", "run_bench", "run_diff_spec",
           "run_init", "run_spec_from_text", "run_spec_text", "spec_from_text_arguments", "spec_text_arguments"]
