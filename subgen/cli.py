"""The ``subgen`` command.

Exit codes: 0 success; 1 findings that block export; 2 bad input or spec (the message names
file, row, column and value); 3 an internal error (a bug: please report it with --debug output);
4 the output cannot be written, or did not read back as written (read-only folder, full disk):
the previous output is unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import signal
import sys
import traceback
from pathlib import Path

from subgen.core.problems import ProblemError

#: Problems that mean the output could not be written (exit code 4), not that the input is bad.
WRITE_RULES = frozenset({"OUT-WRITE", "XPT-VERIFY"})

EXAMPLES = {
    "sdtm": "subgen sdtm --study studies/ms_exo --out out",
    "spec-text": "subgen spec-text specs/ms_exo.xlsx > ms_exo.spec.txt",
    "spec-from-text": "subgen spec-from-text ms_exo.spec.txt specs/ms_exo.xlsx",
    "diff-spec": "subgen diff-spec old/ms_exo.xlsx specs/ms_exo.xlsx",
    "algorithms": "subgen algorithms",
    "adam": "subgen adam --study studies/ms_exo --out out",
    "adam-functions": "subgen adam-functions",
    "validate": "subgen validate --study studies/ms_exo --out out\n"
                "  subgen validate --package vendor/sdtm --define vendor/define.xml --out out",
    "package": "subgen package --study studies/ms_exo --out out\n"
               "  subgen package --study studies/ms_exo --out out --split-threshold-bytes 100000 --format xpt",
    "report": "subgen report --study studies/ms_exo --out out   # then open out/ms_exo/review/review.html",
    "init": "subgen init my_study --dir studies   # then: subgen sdtm --study studies/my_study --out out",
    "all": "subgen all --study studies/ms_exo --out out   # sdtm, adam, validate, package, report",
    "bench": "subgen bench --sizes 500 5000   # from the project folder; same as make bench SIZES=\"500 5000\"",
}


EXIT_CODES = """Exit codes:
  0  done; nothing blocks
  1  validation findings block export (unwaived Reject/Error): validate, package
  2  bad input or spec: the message names file, row, column and value, and what to do
  3  internal error (a bug): rerun with --debug and report the traceback
  4  the output cannot be written or did not read back (read-only folder, full disk); previous output unchanged"""

#: Commands whose standard output is their product (never silenced by --quiet).
OUTPUT_COMMANDS = frozenset({"spec-text", "diff-spec", "algorithms", "adam-functions"})


def _output_options(parser: argparse.ArgumentParser, default) -> None:
    """--quiet / --verbose / --debug on the main parser and (with SUPPRESS defaults) on every subcommand."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true", default=default,
                       help="print nothing but errors (no progress bars, no summary)")
    group.add_argument("-v", "--verbose", action="store_true", default=default,
                       help="also list every warning and notice in the summary")
    parser.add_argument("--debug", action="store_true", default=default, help="show a full traceback on errors")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="subgen", description="Spec-driven CDISC submission datasets: raw EDC exports -> SDTM -> ADaM (XPT v5), "
                                    "validation, the review report and the submission package.",
        epilog=EXIT_CODES + "\n\nExample:\n  subgen sdtm --study studies/ms_exo --out out\n"
               "  subgen <command> --help   (every command has an example)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _output_options(p, False)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=help_, epilog=f"Example:\n  {EXAMPLES[name]}",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        _output_options(sp, argparse.SUPPRESS)  # also accepted after the command: subgen sdtm ... --quiet
        return sp

    s = add("sdtm", "Build SDTM XPT files, lineage and reconciliation reports for one study.")
    s.add_argument("--study", required=True, type=Path, help="study folder holding study.toml (e.g. studies/ms_exo)")
    s.add_argument("--out", default=Path("out"), type=Path, help="output root; results go to OUT/<study>/sdtm")
    s.add_argument("--spec", type=Path, help="use this spec workbook instead of the one study.toml names")

    t = add("spec-text", "Print a spec workbook as text (one section per sheet), for review and diffs.")
    t.add_argument("workbook", type=Path)

    f = add("spec-from-text", "Write a spec workbook from the text form made by spec-text.")
    f.add_argument("text", type=Path)
    f.add_argument("workbook", type=Path)

    d = add("diff-spec", "Show what changed between two spec workbooks as a unified text diff.")
    d.add_argument("old", type=Path)
    d.add_argument("new", type=Path)

    add("algorithms", "List the mapping algorithms the spec's Mappings sheet may name.")

    a = add("adam", "Build ADaM XPT files and reports from the study's SDTM output (run 'subgen sdtm' first).")
    a.add_argument("--study", required=True, type=Path, help="study folder holding study.toml (e.g. studies/ms_exo)")
    a.add_argument("--out", default=Path("out"), type=Path,
                   help="output root: reads OUT/<study>/sdtm, writes OUT/<study>/adam")
    a.add_argument("--spec", type=Path, help="use this ADaM spec workbook instead of study.toml's adam_spec")

    add("adam-functions", "List the derivation functions the ADaM spec's Derivations sheet may name.")

    from validation.cli import HELP as validate_help, add_arguments as validate_arguments

    validate_arguments(add("validate", validate_help))

    r = add("report", "Write the data review report (one offline HTML page: disposition, completeness, plots by arm, "
                      "validation summary) from the study's SDTM/ADaM/validation output.")
    r.add_argument("--study", required=True, type=Path, help="study folder holding study.toml (e.g. studies/ms_exo)")
    r.add_argument("--out", default=Path("out"), type=Path,
                   help="output root: reads OUT/<study>/{sdtm,adam,validation}, writes OUT/<study>/review/review.html")

    i = add("init", "Create a new study folder from the template: study.toml, a spec workbook with the standard "
                    "domains pre-filled from SDTMIG 3.4, and raw/ with one example CSV per form.")
    i.add_argument("name", help="the study's folder name (also its output folder name)")
    i.add_argument("--dir", default=Path("studies"), type=Path, help="where to create the folder (default studies)")
    i.add_argument("--from-sdtmig", action="store_true",
                   help="list every SDTMIG 3.4 variable of the domains, Permissible ones included (else Req, Exp "
                        "and the mapped Perm ones)")
    i.add_argument("--study-id", help="STUDYID (default: the name upper-cased, letters and digits only)")

    from export.cli import HELP as package_help, add_arguments as package_arguments

    package_arguments(add("package", package_help))

    w = add("all", "Run every stage for one study in order: sdtm, adam (when study.toml names an ADaM spec), "
                   "validate, package, report; stops at the first stage that fails, with that stage's exit code.")
    w.add_argument("--study", required=True, type=Path, help="study folder holding study.toml (e.g. studies/ms_exo)")
    w.add_argument("--out", default=Path("out"), type=Path, help="output root; every stage writes under OUT/<study>/")

    b = add("bench", "Benchmark the whole path on simulated MS studies (per stage: seconds, rows/s, peak memory, "
                     "ratio to its floor); options are those of python -m bench.run (see --sizes, --stages, --json).")
    b.add_argument("bench_args", nargs=argparse.REMAINDER, help="passed to the benchmark, e.g. --sizes 500 5000")
    return p


def stages_for(study: Path) -> list[str]:
    """The stages ``subgen all`` runs for ``study``, in order (adam only when the study has an ADaM spec)."""
    from subgen.core.study import load_study

    has_adam = load_study(study).adam_spec_path is not None
    return ["sdtm", *(["adam"] if has_adam else []), "validate", "package", "report"]


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"] and not {"-h", "--help"} & set(argv[1:]):
        argv = ["bench", "--", *argv[1:]]  # every option after 'bench' belongs to the benchmark
    args = _parser().parse_args(argv)
    previous = _exit_on_sigterm()
    from subgen.core import progress

    progress.configure(sys.stderr.isatty() and not args.quiet)
    try:
        if args.quiet and args.command not in OUTPUT_COMMANDS:
            with contextlib.redirect_stdout(io.StringIO()):
                return _run(args)
        return _run(args)
    except ProblemError as exc:
        print(exc.render(limit=1000 if args.debug else 40), file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return 4 if exc.problems and all(p.rule in WRITE_RULES for p in exc.problems) else 2
    except KeyboardInterrupt:
        print("interrupted; previous outputs are unchanged", file=sys.stderr)
        return 130
    except OSError as exc:  # the file system refused (permissions, full disk): not a bug in subgen
        print(f"cannot use {exc.filename or 'a file'}: {exc.strerror or exc} -> check the path, its permissions and "
              "the free disk space, then run again (previous outputs are unchanged)", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return 4
    except Exception as exc:  # a bug, not bad input: say so plainly
        print(f"internal error: {type(exc).__name__}: {exc}\nrerun with --debug and report the traceback",
              file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return 3
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm():
    """SIGTERM (a job scheduler stopping the run) unwinds like Ctrl-C, so staging folders are removed."""
    def stop(signum, frame):  # noqa: ARG001
        raise SystemExit(128 + signum)

    try:
        return signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        return None


def _summary(result, layer: str, verbose: bool) -> None:
    """The end-of-run table: records per dataset, findings by severity, where the outputs are."""
    from subgen.core.problems import SEVERITIES

    warn = sum(p.severity == "Warning" for p in result.problems)
    print(f"{result.study.name}: {len(result.datasets)} {layer} datasets, "
          f"{sum(len(f) for f in result.datasets.values())} records -> {result.out_dir}"
          + (f" ({warn} warning(s): see reports/problems.csv)" if warn else ""))
    names = sorted(result.datasets)
    width = max([7, *map(len, names)])
    print(f"  {'dataset':<{width}}  records")
    for name in names:
        print(f"  {name:<{width}}  {len(result.datasets[name]):>7}")
    counts = {s: sum(p.severity == s for p in result.problems) for s in SEVERITIES}
    print("  findings: " + ", ".join(f"{n} {s}" for s, n in counts.items())
          + f"; reports in {result.out_dir / 'reports'}")
    if verbose:
        for problem in result.problems:
            print(f"  - {problem}")


def _run(args: argparse.Namespace) -> int:
    from subgen.core.spec.workbook import read_workbook, tables_to_text, text_to_tables, write_workbook

    if args.command == "sdtm":
        from sdtm.stage import run_sdtm

        result = run_sdtm(args.study, args.out, args.spec)
        _summary(result, "SDTM", args.verbose)
        recon = result.reconciliation
        if recon is not None and (recon["not_mapped"] > 0).any():
            n = int(recon["not_mapped"].sum())
            print(f"  {n} raw row(s) are not mapped to any dataset yet: see reports/reconciliation.csv")
        return 0
    if args.command == "spec-text":
        sys.stdout.write(tables_to_text(read_workbook(args.workbook)))
        return 0
    if args.command == "spec-from-text":
        from subgen.core.spec.loader import spec_from_tables

        tables = text_to_tables(args.text.read_text(encoding="utf-8"))
        spec_from_tables(tables, args.text)  # validate before writing
        write_workbook(tables, args.workbook)
        print(f"wrote {args.workbook}")
        return 0
    if args.command == "diff-spec":
        old = tables_to_text(read_workbook(args.old)).splitlines(keepends=True)
        new = tables_to_text(read_workbook(args.new)).splitlines(keepends=True)
        sys.stdout.writelines(difflib.unified_diff(old, new, str(args.old), str(args.new)))
        return 0
    if args.command == "algorithms":
        from sdtm.algorithms import REGISTRY

        for name, alg in sorted(REGISTRY.items()):
            print(f"{name:18} {alg.level:8} {alg.doc.splitlines()[0] if alg.doc else ''}")
        return 0
    if args.command == "adam":
        from adam.stage import run_adam

        result = run_adam(args.study, args.out, args.spec)
        _summary(result, "ADaM", args.verbose)
        return 0
    if args.command == "adam-functions":
        from adam.functions import describe

        for name, kind, arguments, summary in describe():
            print(f"{name:26} {kind:8} {summary}\n{'':36}arguments: {arguments or '-'}")
        return 0
    if args.command == "validate":
        from validation.cli import run_validate

        return run_validate(args)
    if args.command == "init":
        from subgen.newstudy import init_study

        folder = init_study(args.name, args.dir, args.from_sdtmig, args.study_id)
        print(f"created {folder}: study.toml, {args.name}.xlsx, raw/ (one example row per form)\n"
              f"next: subgen sdtm --study {folder} --out out   (README: Mapping your own study)")
        return 0
    if args.command == "report":
        from report.review import write_review

        print(f"review report -> {write_review(args.study, args.out)}")
        return 0
    if args.command == "package":
        from export.cli import run_package_command

        return run_package_command(args)
    if args.command == "bench":
        try:
            from bench.run import main as bench_main
        except ImportError as exc:
            raise SystemExit("subgen bench runs from the project folder (it needs bench/): cd there and run it "
                             f"again, or use make bench ({exc})") from exc
        return bench_main([a for a in args.bench_args if a != "--"])
    if args.command == "all":
        for stage in stages_for(args.study):
            step = _parser().parse_args([stage, "--study", str(args.study), "--out", str(args.out)])
            step.quiet, step.verbose, step.debug = args.quiet, args.verbose, args.debug
            code = _run(step)
            if code:
                print(f"subgen all: stopped at {stage} (exit {code})", file=sys.stderr)
                return code
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
