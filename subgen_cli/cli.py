"""The ``subgen`` command: a table of subcommands, each handled by the package that owns it.

Every entry of :data:`COMMANDS` is a subcommand: its name, help, example, argument builder and handler. The
handlers live with their stage (``sdtm/cli.py``, ``adam/cli.py``, ``validation/cli.py``, ``export/cli.py``,
``report/cli.py``) or, for the spec tools, ``init`` and ``bench``, in :mod:`subgen_cli.commands`; ``all`` runs the
stage commands in order. This module only parses the command line, turns errors into exit codes and messages,
and dispatches.

Exit codes: 0 success; 1 findings that block export; 2 bad input or spec (the message names
file, row, column and value); 3 an internal error (a bug: please report it with --debug output);
4 the output cannot be written, or did not read back as written (read-only folder, full disk):
the previous output is unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import adam.cli
import export.cli
import report.cli
import sdtm.cli
import validation.cli
from subgen.core import progress
from subgen.core.problems import ProblemError
from subgen.core.study import load_study
from subgen_cli import commands

#: Problems that mean the output could not be written (exit code 4), not that the input is bad.
WRITE_RULES = frozenset({"OUT-WRITE", "XPT-VERIFY"})

EXIT_CODES = """Exit codes:
  0  done; nothing blocks
  1  validation findings block export (unwaived Reject/Error): validate, package
  2  bad input or spec: the message names file, row, column and value, and what to do
  3  internal error (a bug): rerun with --debug and report the traceback
  4  the output cannot be written or did not read back (read-only folder, full disk); previous output unchanged"""


@dataclass(frozen=True)
class Command:
    """One subcommand: ``subgen <name>``, its help and example, its options and the function that runs it."""

    name: str
    help: str
    example: str
    arguments: Callable[[argparse.ArgumentParser], None] | None
    handler: Callable[[argparse.Namespace], int]
    #: Standard output is the command's product (never silenced by --quiet).
    product_on_stdout: bool = False


def _run_all(args: argparse.Namespace) -> int:
    """``subgen all``: every stage command in order, stopping at the first that fails (with its exit code)."""
    for stage in stages_for(args.study):
        step = _parser().parse_args([stage, "--study", str(args.study), "--out", str(args.out)])
        step.quiet, step.verbose, step.debug = args.quiet, args.verbose, args.debug
        code = _run(step)
        if code:
            print(f"subgen all: stopped at {stage} (exit {code})", file=sys.stderr)
            return code
    return 0


def _all_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``subgen all``."""
    p.add_argument("--study", required=True, type=Path, help="study folder holding study.toml (e.g. studies/ms_exo)")
    p.add_argument("--out", default=Path("out"), type=Path, help="output root; every stage writes under OUT/<study>/")


#: Every subcommand, in the order ``subgen --help`` lists them.
COMMANDS: tuple[Command, ...] = (
    Command("sdtm", sdtm.cli.HELP, sdtm.cli.EXAMPLE, sdtm.cli.add_arguments, sdtm.cli.run_sdtm_command),
    Command("spec-text", "Print a spec workbook as text (one section per sheet), for review and diffs.",
            "subgen spec-text specs/ms_exo.xlsx > ms_exo.spec.txt",
            commands.spec_text_arguments, commands.run_spec_text, product_on_stdout=True),
    Command("spec-from-text", "Write a spec workbook from the text form made by spec-text.",
            "subgen spec-from-text ms_exo.spec.txt specs/ms_exo.xlsx",
            commands.spec_from_text_arguments, commands.run_spec_from_text),
    Command("diff-spec", "Show what changed between two spec workbooks as a unified text diff.",
            "subgen diff-spec old/ms_exo.xlsx specs/ms_exo.xlsx",
            commands.diff_spec_arguments, commands.run_diff_spec, product_on_stdout=True),
    Command("algorithms", "List the mapping algorithms the spec's Mappings sheet may name.", "subgen algorithms",
            None, commands.run_algorithms, product_on_stdout=True),
    Command("adam", adam.cli.HELP, adam.cli.EXAMPLE, adam.cli.add_arguments, adam.cli.run_adam_command),
    Command("adam-functions", adam.cli.FUNCTIONS_HELP, adam.cli.FUNCTIONS_EXAMPLE, None,
            adam.cli.run_functions_command, product_on_stdout=True),
    Command("validate", validation.cli.HELP, validation.cli.EXAMPLE, validation.cli.add_arguments,
            validation.cli.run_validate),
    Command("report", report.cli.HELP, report.cli.EXAMPLE, report.cli.add_arguments, report.cli.run_report_command),
    Command("init", "Create a new study folder from the template: study.toml, a spec workbook with the standard "
                    "domains pre-filled from SDTMIG 3.4, and raw/ with one example CSV per form.",
            "subgen init my_study --dir studies   # then: subgen sdtm --study studies/my_study --out out",
            commands.init_arguments, commands.run_init),
    Command("package", export.cli.HELP, export.cli.EXAMPLE, export.cli.add_arguments, export.cli.run_package_command),
    Command("all", "Run every stage for one study in order: sdtm, adam (when study.toml names an ADaM spec), "
                   "validate, package, report; stops at the first stage that fails, with that stage's exit code.",
            "subgen all --study studies/ms_exo --out out   # sdtm, adam, validate, package, report",
            _all_arguments, _run_all),
    Command("bench", "Benchmark the whole path on simulated MS studies (per stage: seconds, rows/s, peak memory, "
                     "ratio to its floor); options are those of python -m bench.run (see --sizes, --stages, --json).",
            "subgen bench --sizes 500 5000   # from the project folder; same as make bench SIZES=\"500 5000\"",
            commands.bench_arguments, commands.run_bench),
)
COMMAND_BY_NAME = {c.name: c for c in COMMANDS}


def _output_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """--quiet / --verbose / --debug on the main parser and (with SUPPRESS defaults) on every subcommand."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true", default=default,
                       help="print nothing but errors (no progress bars, no summary)")
    group.add_argument("-v", "--verbose", action="store_true", default=default,
                       help="also list every warning and notice in the summary")
    parser.add_argument("--debug", action="store_true", default=default, help="show a full traceback on errors")


def _parser() -> argparse.ArgumentParser:
    """The command-line parser: the main options and one subparser per entry of :data:`COMMANDS`."""
    p = argparse.ArgumentParser(
        prog="subgen", description="Spec-driven CDISC submission datasets: raw EDC exports -> SDTM -> ADaM (XPT v5), "
                                    "validation, the review report and the submission package.",
        epilog=EXIT_CODES + "\n\nExample:\n  subgen sdtm --study studies/ms_exo --out out\n"
               "  subgen <command> --help   (every command has an example)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _output_options(p, False)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sp = sub.add_parser(command.name, help=command.help, description=command.help,
                            epilog=f"Example:\n  {command.example}",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        _output_options(sp, argparse.SUPPRESS)  # also accepted after the command: subgen sdtm ... --quiet
        if command.arguments is not None:
            command.arguments(sp)
    return p


def stages_for(study: Path) -> list[str]:
    """The stages ``subgen all`` runs for ``study``, in order (adam only when the study has an ADaM spec)."""
    has_adam = load_study(study).adam_spec_path is not None
    return ["sdtm", *(["adam"] if has_adam else []), "validate", "package", "report"]


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"] and not {"-h", "--help"} & set(argv[1:]):
        argv = ["bench", "--", *argv[1:]]  # every option after 'bench' belongs to the benchmark
    args = _parser().parse_args(argv)
    previous = _exit_on_sigterm()
    progress.configure(sys.stderr.isatty() and not args.quiet)
    try:
        if args.quiet and not COMMAND_BY_NAME[args.command].product_on_stdout:
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


def _exit_on_sigterm() -> Any:
    """SIGTERM (a job scheduler stopping the run) unwinds like Ctrl-C, so staging folders are removed."""
    def stop(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        raise SystemExit(128 + signum)

    try:
        return signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        return None


def _run(args: argparse.Namespace) -> int:
    """Run the parsed command's handler; returns its exit code."""
    return COMMAND_BY_NAME[args.command].handler(args)


if __name__ == "__main__":
    sys.exit(main())
