"""Reading raw EDC exports (one CSV per CRF form) exactly as the site entered them.

Every cell is read as text (nothing is guessed or converted on the way in) and every row keeps
its origin: ``__file`` and ``__row`` (the CSV line number, header = line 1, as a spreadsheet
shows it). Problems (missing file, wrong encoding, empty file, missing columns) name the file,
row and column and say what to do.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from subgen.problems import Problem, ProblemError
from subgen.spec.model import Form

FILE_COL = "__file"
ROW_COL = "__row"
LINEAGE_COLS = (FILE_COL, ROW_COL)


def read_form(raw_dir: Path, form: Form, required_columns: set[str] | frozenset[str] = frozenset()) -> pd.DataFrame:
    """Read ``form``'s CSV from ``raw_dir`` as text with lineage columns; raise ProblemError on bad input."""
    path = raw_dir / form.file
    shown = f"{raw_dir.name}/{form.file}"
    if not path.is_file():
        raise ProblemError([Problem(shown, None, None, None, f"raw file for form {form.name} not found",
                                    f"export form {form.name} as {form.file} into {raw_dir} or fix the Forms sheet",
                                    rule="RAW-FILE")])
    data = path.read_bytes()
    text = _decode(data, shown)
    if not text.strip():
        raise ProblemError([Problem(shown, None, None, None, "the file is empty (not even a header row)",
                                    "re-export the form from the EDC", rule="RAW-EMPTY")])
    header = next(csv.reader(io.StringIO(text)))
    problems = _check_header(header, form, required_columns, shown)
    if problems:
        raise ProblemError(problems, f"{shown}: columns do not match the spec")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    if frame.empty:
        raise ProblemError([Problem(shown, None, None, None, "the file has a header but no data rows",
                                    "re-export the form; if the form truly has no data, remove it from the "
                                    "Sources sheet", rule="RAW-EMPTY")])
    frame[FILE_COL] = form.file
    frame[ROW_COL] = range(2, len(frame) + 2)
    return frame


def _decode(data: bytes, shown: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        raise ProblemError([Problem(shown, 1, None, "UTF-8 byte-order mark",
                                    "the file starts with a UTF-8 byte-order mark (BOM)",
                                    "save it as 'CSV UTF-8' without BOM (or strip the first 3 bytes)",
                                    rule="RAW-ENCODING")])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        snippet = data[max(0, exc.start - 20):exc.end + 20].decode("latin-1", "replace")
        raise ProblemError([Problem(shown, line, None, snippet,
                                    f"the file is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); it "
                                    "looks like Latin-1/Windows-1252", "re-export the form as UTF-8 CSV",
                                    rule="RAW-ENCODING")]) from exc


def _check_header(header: list[str], form: Form, required: set[str] | frozenset[str], shown: str) -> list[Problem]:
    import difflib

    problems = []
    present = set(header)
    for col in sorted(set(required) | {form.subject_column}):
        if col not in present:
            near = difflib.get_close_matches(col, header, n=1, cutoff=0.6)
            hint = f"; column {near[0]!r} may be it renamed" if near else ""
            problems.append(Problem(shown, 1, col, None, f"column {col} is missing{hint}",
                                    "restore the column in the export, or update the spec's Mappings/Forms sheets "
                                    "if the form changed", rule="RAW-COLUMN"))
    dupes = sorted({h for h in header if header.count(h) > 1})
    for d in dupes:
        problems.append(Problem(shown, 1, d, d, "column header appears twice", "rename or remove one",
                                rule="RAW-COLUMN"))
    return problems
