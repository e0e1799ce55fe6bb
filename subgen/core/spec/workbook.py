"""Reading and writing spec workbooks as plain tables of text.

A workbook becomes ``{sheet: (header, rows)}`` where every cell is text ("" when empty) and
each row remembers its Excel row number. Formula cells are refused: the spec is data, and a
formula's cached value may be stale or missing. The same tables are written back to .xlsx,
and to/from a folder of tab-separated files so a spec change can be read as a text diff.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from subgen.core.problems import Problem, ProblemError
from subgen.core.safe_text import append_text_row


@dataclass(frozen=True)
class SheetTable:
    """One sheet as text: header cells and data rows (each with its 1-based Excel row number)."""

    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]

    def records(self) -> list[tuple[int, dict[str, str]]]:
        """Rows as dicts keyed by header, skipping rows where every cell is empty."""
        out = []
        for rownum, cells in self.rows:
            if any(c for c in cells):
                out.append((rownum, dict(zip(self.header, cells))))
        return out


def cell_text(value: object) -> str:
    """Canonical text for a cell value: integers without ".0", dates ISO, blanks stripped at the ends."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_workbook(path: Path) -> dict[str, SheetTable]:
    """Read every sheet of ``path`` as text; raise ProblemError listing every formula cell."""
    # openpyxl (~0.2 s to import) only when a workbook is read or written: `subgen --help` starts fast.
    from openpyxl import load_workbook

    if not path.exists():
        raise ProblemError([Problem(str(path), None, None, None, "spec workbook not found",
                                    "check the spec path in study.toml or --spec", rule="SPEC-FILE")])
    try:
        wb = load_workbook(path, read_only=False, data_only=False)
    except Exception as exc:  # openpyxl raises several types for a non-xlsx file
        raise ProblemError([Problem(str(path), None, None, None,
                                    f"cannot be read as an .xlsx workbook ({type(exc).__name__}: {exc})",
                                    "save the spec from Excel as .xlsx (Excel Workbook)",
                                    rule="SPEC-FILE")]) from exc
    tables: dict[str, SheetTable] = {}
    problems: list[Problem] = []
    for ws in wb.worksheets:
        grid = list(ws.iter_rows())
        if not grid:
            tables[ws.title] = SheetTable((), ())
            continue
        header = tuple(cell_text(c.value) for c in grid[0])
        while header and header[-1] == "":
            header = header[:-1]
        rows = []
        for r in grid[1:]:
            cells = []
            for c in r[:len(header)]:
                if c.data_type == "f":
                    problems.append(Problem(f"{path} [{ws.title}]", c.row, header[c.column - 1] or c.coordinate,
                                            str(c.value), "formula cell: the spec must hold values, not formulas",
                                            "replace the formula by its value (Copy, Paste Special > Values)",
                                            rule="SPEC-FORMULA"))
                cells.append(cell_text(c.value))
            cells += [""] * (len(header) - len(cells))
            rows.append((r[0].row, tuple(cells)))
        tables[ws.title] = SheetTable(header, tuple(rows))
    if problems:
        raise ProblemError(problems, f"{path}: the spec contains formulas")
    return tables


def write_workbook(tables: dict[str, SheetTable], path: Path) -> None:
    """Write text tables to an .xlsx workbook (numbers stay text so nothing is reinterpreted)."""
    # openpyxl (~0.2 s to import) only when a workbook is read or written: `subgen --help` starts fast.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for name, table in tables.items():
        ws = wb.create_sheet(name)
        append_text_row(ws, list(table.header))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for _, cells in table.rows:
            append_text_row(ws, [_typed(c) for c in cells])  # text such as "=1+1" stays text, never a formula
        ws.freeze_panes = "A2"
    # A fixed creation time keeps rebuilt workbooks comparable.
    wb.properties.created = dt.datetime(2000, 1, 1)
    wb.properties.modified = dt.datetime(2000, 1, 1)
    wb.properties.creator = "subgen"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def _typed(text: str) -> object:
    """Integers go back to Excel as numbers (Order, Length); everything else stays text."""
    if text.isdigit() and (len(text) == 1 or not text.startswith("0")):
        return int(text)
    return text


def tables_to_text(tables: dict[str, SheetTable]) -> str:
    """The whole workbook as one text document (one section per sheet, tab-separated rows)."""
    buf = io.StringIO()
    for name, table in tables.items():
        buf.write(f"=== {name} ===\n")
        buf.write("\t".join(table.header) + "\n")
        for _, cells in table.rows:
            if any(cells):
                buf.write("\t".join(_escape(c) for c in cells).rstrip("\t") + "\n")
    return buf.getvalue()


def text_to_tables(text: str) -> dict[str, SheetTable]:
    """Inverse of :func:`tables_to_text`."""
    tables: dict[str, SheetTable] = {}
    name: str | None = None
    header: tuple[str, ...] = ()
    rows: list[tuple[int, tuple[str, ...]]] = []
    for line in text.splitlines():
        if line.startswith("=== ") and line.endswith(" ==="):
            if name is not None:
                tables[name] = SheetTable(header, tuple(rows))
            name, header, rows = line[4:-4], (), []
            continue
        if name is None:
            continue
        cells = tuple(_unescape(c) for c in line.split("\t"))
        if not header:
            header = cells
        else:
            cells = cells + ("",) * (len(header) - len(cells))
            rows.append((len(rows) + 2, cells[:len(header)]))
    if name is not None:
        tables[name] = SheetTable(header, tuple(rows))
    return tables


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append({"t": "\t", "n": "\n", "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)
