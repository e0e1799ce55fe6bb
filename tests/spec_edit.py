"""Helpers for tests that corrupt a copy of a spec workbook through its text tables."""

from __future__ import annotations

from pathlib import Path

from subgen.core.spec.workbook import SheetTable, read_workbook, write_workbook


def load_tables(path: Path) -> dict[str, SheetTable]:
    """The workbook's sheets as text tables."""
    return read_workbook(path)


def set_cell(tables: dict[str, SheetTable], sheet: str, match: dict[str, str], column: str, value: str) -> int:
    """Set ``column`` to ``value`` on the first row of ``sheet`` whose cells equal ``match``; return its Excel row."""
    t = tables[sheet]
    idx = t.header.index(column)
    rows = list(t.rows)
    for i, (rownum, cells) in enumerate(rows):
        rec = dict(zip(t.header, cells))
        if all(rec.get(k) == v for k, v in match.items()):
            cells = list(cells)
            cells[idx] = value
            rows[i] = (rownum, tuple(cells))
            tables[sheet] = SheetTable(t.header, tuple(rows))
            return rownum
    raise KeyError(f"no row in {sheet} matches {match}")


def append_row(tables: dict[str, SheetTable], sheet: str, values: dict[str, str]) -> int:
    """Append a row; return its Excel row number."""
    t = tables[sheet]
    rownum = (t.rows[-1][0] + 1) if t.rows else 2
    tables[sheet] = SheetTable(t.header, t.rows + ((rownum, tuple(values.get(h, "") for h in t.header)),))
    return rownum


def save(tables: dict[str, SheetTable], path: Path) -> Path:
    """Write the tables as a workbook at ``path``."""
    write_workbook(tables, path)
    return path
