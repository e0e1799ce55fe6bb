"""Helpers for the bad-input, fault and data-protection tests: corrupted copies of a demo study.

A :class:`StudyCopy` is a demo study (raw CSVs, its spec workbook, a ``study.toml`` pointing at
both) copied into a temporary folder, with an output root that already holds a *previous*
output, so every test can check that a failed run leaves that output byte-identical and no
staging folder behind. Corruptions edit the copy only; the committed demo data never changes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from spec_edit import load_tables, save

from subgen.core.spec.workbook import SheetTable

ROOT = Path(__file__).resolve().parents[1]
_TABLES: dict[str, dict[str, SheetTable]] = {}


@dataclass(frozen=True)
class StudyCopy:
    """A demo study copied into ``folder``: raw CSVs in ``raw``, workbook ``spec``, outputs under ``out``."""

    name: str
    folder: Path
    raw: Path
    spec: Path
    out: Path

    @property
    def final(self) -> Path:
        """Where ``subgen sdtm`` writes this study's SDTM output."""
        return self.out / self.name / "sdtm"

    def argv(self, *extra: str) -> list[str]:
        """Arguments of ``subgen sdtm`` for this copy."""
        return ["sdtm", "--study", str(self.folder), "--out", str(self.out), *extra]


def copy_study(tmp: Path, study: str = "ms_exo", previous_output: bool = True) -> StudyCopy:
    """Copy ``studies/<study>`` and its spec into ``tmp``; plant a previous output unless told not to."""
    folder = tmp / study
    shutil.copytree(ROOT / "studies" / study / "raw", folder / "raw")
    shutil.copy2(ROOT / "specs" / f"{study}.xlsx", folder / "spec.xlsx")
    toml = f'[study]\nname = "{study}"\nspec = "spec.xlsx"\nraw = "raw"\n'
    adam = ROOT / "specs" / f"{study}_adam.xlsx"
    if adam.is_file():
        shutil.copy2(adam, folder / "adam_spec.xlsx")
        toml += 'adam_spec = "adam_spec.xlsx"\n'
    (folder / "study.toml").write_text(toml, encoding="utf-8")
    copy = StudyCopy(study, folder, folder / "raw", folder / "spec.xlsx", tmp / "out")
    if previous_output:
        plant_previous_output(copy)
    return copy


def plant_previous_output(copy: StudyCopy) -> None:
    """An earlier run's output (a dataset and a report) that a failed run must leave alone."""
    (copy.final / "reports").mkdir(parents=True)
    (copy.final / "dm.xpt").write_bytes(b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!" + bytes(range(256)))
    (copy.final / "reports" / "problems.csv").write_text("where,row\nprevious,1\n", encoding="utf-8")


def tree_digest(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folder`` (the whole tree, hidden files too)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(copy: StudyCopy) -> list[str]:
    """Anything in the study's output folder other than ``sdtm`` (staging or backup folders)."""
    parent = copy.out / copy.name
    return sorted(p.name for p in parent.iterdir() if p.name != "sdtm") if parent.exists() else []


# ------------------------------------------------------------------------------------- raw edits
def read_raw(copy: StudyCopy, file: str) -> pd.DataFrame:
    """A raw CSV of the copy as text, exactly as the reader sees it."""
    return pd.read_csv(copy.raw / file, dtype=str, keep_default_na=False)


def write_raw(copy: StudyCopy, file: str, frame: pd.DataFrame) -> None:
    """Write a raw CSV the way the EDC simulator does (UTF-8, LF, no index)."""
    frame.to_csv(copy.raw / file, index=False, lineterminator="\n", encoding="utf-8")


def set_raw(copy: StudyCopy, file: str, line: int, column: str, value: str) -> None:
    """Set one cell; ``line`` is the CSV line number as a spreadsheet shows it (header = 1)."""
    frame = read_raw(copy, file)
    assert column in frame.columns, f"{file} has no column {column}"
    frame.loc[line - 2, column] = value
    write_raw(copy, file, frame)


def raw_line(copy: StudyCopy, file: str, line: int) -> dict[str, str]:
    """One raw row as a dict (``line`` as a spreadsheet shows it)."""
    return read_raw(copy, file).iloc[line - 2].to_dict()


def find_line(copy: StudyCopy, file: str, **match: str) -> int:
    """The CSV line number of the first row whose cells equal ``match``."""
    frame = read_raw(copy, file)
    hit = pd.Series(True, index=frame.index)
    for col, value in match.items():
        hit &= frame[col].eq(value)
    assert hit.any(), f"no row of {file} matches {match}"
    return int(hit.idxmax()) + 2


def duplicate_line(copy: StudyCopy, file: str, line: int) -> int:
    """Insert a copy of ``line`` right after it; returns the duplicate's line number."""
    frame = read_raw(copy, file)
    i = line - 2
    frame = pd.concat([frame.iloc[:i + 1], frame.iloc[[i]], frame.iloc[i + 1:]], ignore_index=True)
    write_raw(copy, file, frame)
    return line + 1


def append_raw(copy: StudyCopy, file: str, values: dict[str, str], like_line: int = 2) -> int:
    """Append a row copied from ``like_line`` with ``values`` changed; returns its line number."""
    frame = read_raw(copy, file)
    row = frame.iloc[[like_line - 2]].copy()
    for col, value in values.items():
        row[col] = value
    frame = pd.concat([frame, row], ignore_index=True)
    write_raw(copy, file, frame)
    return len(frame) + 1


def drop_raw_column(copy: StudyCopy, file: str, column: str) -> None:
    """Remove a column from a raw CSV."""
    write_raw(copy, file, read_raw(copy, file).drop(columns=[column]))


def rename_raw_column(copy: StudyCopy, file: str, old: str, new: str) -> None:
    """Rename a raw CSV column (as an EDC form change would)."""
    write_raw(copy, file, read_raw(copy, file).rename(columns={old: new}))


def rewrite_bytes(copy: StudyCopy, file: str, data: bytes) -> None:
    """Replace a raw file's bytes."""
    (copy.raw / file).write_bytes(data)


# ------------------------------------------------------------------------------------ spec edits
def spec_tables(copy: StudyCopy) -> dict[str, SheetTable]:
    """The copy's workbook as text tables (the committed spec is read once per session)."""
    if copy.name not in _TABLES:
        _TABLES[copy.name] = load_tables(ROOT / "specs" / f"{copy.name}.xlsx")
    return dict(_TABLES[copy.name])


def save_spec(copy: StudyCopy, tables: dict[str, SheetTable]) -> None:
    """Write edited tables over the copy's workbook."""
    save(tables, copy.spec)


def spec_row(tables: dict[str, SheetTable], sheet: str, **match: str) -> int:
    """The Excel row number of the first row of ``sheet`` whose cells equal ``match``."""
    t = tables[sheet]
    for rownum, cells in t.rows:
        rec = dict(zip(t.header, cells))
        if all(rec.get(k) == v for k, v in match.items()):
            return rownum
    raise KeyError(f"no row in {sheet} matches {match}")


def delete_rows(tables: dict[str, SheetTable], sheet: str, **match: str) -> list[int]:
    """Delete every row of ``sheet`` matching ``match`` (later rows keep their numbers); returns the rows."""
    t = tables[sheet]
    keep, gone = [], []
    for rownum, cells in t.rows:
        rec = dict(zip(t.header, cells))
        (gone if all(rec.get(k) == v for k, v in match.items()) else keep).append((rownum, cells))
    assert gone, f"no row in {sheet} matches {match}"
    tables[sheet] = SheetTable(t.header, tuple(keep))
    return [r for r, _ in gone]


def rename_header(tables: dict[str, SheetTable], sheet: str, old: str, new: str) -> None:
    """Rename a header cell of ``sheet``."""
    t = tables[sheet]
    tables[sheet] = SheetTable(tuple(new if h == old else h for h in t.header), t.rows)


# ------------------------------------------------------------------------------- reading results
PROBLEM_LINE = re.compile(r"^  - (?P<sev>\w+): \[(?P<rule>[A-Z0-9-]+)\] (?P<rest>.*)$")


def problem_lines(stderr: str) -> list[str]:
    """The problem lines of a failed run's message (``  - Error: [RULE] where, row ...``)."""
    return [line for line in stderr.splitlines() if PROBLEM_LINE.match(line)]


def location(where: str, row: int | None = None, column: str | None = None, value: str | None = None) -> str:
    """The location part of a rendered Problem, as :class:`subgen.core.problems.Problem` writes it."""
    loc = where
    if row is not None:
        loc += f", row {row}"
    if column:
        loc += f", column {column}"
    if value is not None:
        loc += f" (value {value!r})"
    return loc


def csv_text(rows: list[list[str]]) -> str:
    """Rows as CSV text (LF line ends)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


# --------------------------------------------------------------------------------- expectations
ANY = "<any>"  # an expected row or value that the test does not pin down


@dataclass(frozen=True)
class Expect:
    """One problem line a failed run must print: rule, location (file/sheet, row, column, value), message, fix.

    ``where`` may use ``{spec}`` (the copy's workbook path); ``row`` may be ``"{row}"`` (the row the
    corruption reported), an int, None (no row) or :data:`ANY`; ``value`` None means no value is shown.
    ``message`` and ``fix`` are fragments that must appear in the message and in the text after ``->``.
    """

    rule: str
    where: str
    row: int | str | None
    column: str | None
    value: str | None
    message: str
    fix: str
    severity: str = "Error"

    def pattern(self, fill: dict[str, object]) -> re.Pattern:
        """The regular expression of the rendered problem line."""
        where = self.where.format(**fill)
        row = fill.get("row") if self.row == "{row}" else self.row
        rx = rf"^  - {self.severity}: \[{re.escape(self.rule)}\] {re.escape(where)}"
        rx += r"(?:, row \d+)?" if row == ANY else ("" if row is None else rf", row {row}")
        rx += "" if not self.column else rf", column {re.escape(self.column)}"
        if self.value == ANY:
            rx += r"(?: \(value .*?\))?"
        elif self.value is not None:
            rx += rf" \(value {re.escape(repr(self.value))}\)"
        return re.compile(rx + rf": .*{re.escape(self.message)}.* -> .*{re.escape(self.fix)}")


def matching_lines(stderr: str, expect: Expect, fill: dict[str, object]) -> list[str]:
    """Problem lines of ``stderr`` that match ``expect``."""
    rx = expect.pattern(fill)
    return [line for line in stderr.splitlines() if rx.search(line)]


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``subgen`` in-process: (exit code, stdout, stderr)."""
    import contextlib

    from subgen_cli.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def keep_datasets(tables: dict[str, SheetTable], keep: set[str]) -> None:
    """Drop every dataset but ``keep`` from the spec tables (a smaller, faster study for fault tests)."""
    for sheet in ("Datasets", "Variables", "ValueLevel", "Sources", "Mappings"):
        t = tables[sheet]
        i = t.header.index("Dataset")
        tables[sheet] = SheetTable(t.header, tuple(r for r in t.rows if r[1][i] in keep))
    declared = {(dict(zip(tables["Variables"].header, c))["Dataset"], dict(zip(tables["Variables"].header, c))
                 ["Variable"]) for _, c in tables["Variables"].rows}
    t = tables["Mappings"]
    dataset_at, variable_at = t.header.index("Dataset"), t.header.index("Variable")
    tables["Mappings"] = SheetTable(t.header, tuple(r for r in t.rows
                                                    if (r[1][dataset_at], r[1][variable_at]) in declared))
    for name in [n for n in tables if n.isupper() and len(n) <= 8 and n not in keep and n not in ("TA",)]:
        if name in ("TE", "TV", "TI", "TS"):
            del tables[name]
    if "TA" not in keep:
        tables.pop("TA", None)


def small_study(tmp: Path, keep: frozenset[str] = frozenset({"DM", "TS"})) -> StudyCopy:
    """The MS demo study with a spec reduced to ``keep`` (DM and TS by default): a real run in about a second."""
    copy = copy_study(tmp)
    tables = spec_tables(copy)
    keep_datasets(tables, set(keep))
    save_spec(copy, tables)
    return copy
