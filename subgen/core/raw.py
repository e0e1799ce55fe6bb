"""Reading raw EDC exports (one CSV per CRF form) exactly as the site entered them.

Every cell is read as text (nothing is guessed or converted on the way in) and every row keeps
its origin: ``__file`` and ``__row`` (the CSV line number, header = line 1, as a spreadsheet
shows it). Problems (missing file, wrong encoding, empty file, missing columns, rows with more or fewer
fields than the header, rows without a subject) name the file, row and column and say what
to do. Rows are numbered as a spreadsheet shows them, so a blank line or a value holding a
line break does not shift the numbers.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from subgen.core.problems import Problem, ProblemError
from subgen.core.spec.model import Form

FILE_COL = "__file"
ROW_COL = "__row"
LINEAGE_COLS = (FILE_COL, ROW_COL)
#: FILE_COL of records the spec itself declares (trial design datasets, TS): ``spec:<dataset>``
SPEC_LINEAGE = "spec:"


def read_form(raw_dir: Path, form: Form, required_columns: set[str] | frozenset[str] = frozenset()) -> pd.DataFrame:
    """Read ``form``'s CSV from ``raw_dir`` as text with lineage columns; raise ProblemError on bad input."""
    path = raw_dir / form.file
    shown = f"{raw_dir.name}/{form.file}"
    if not path.is_file():
        raise ProblemError([Problem(shown, None, None, None, f"raw file for form {form.name} not found",
                                    f"export form {form.name} as {form.file} into {raw_dir} or fix the Forms sheet",
                                    rule="RAW-FILE")])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProblemError([Problem(shown, None, None, None, f"cannot be read ({exc.strerror})",
                                    "check the file's permissions (and that it is not open in another program)",
                                    rule="RAW-FILE")]) from exc
    text = _decode(data, shown)
    if not text.strip():
        raise ProblemError([Problem(shown, None, None, None, "the file is empty (not even a header row)",
                                    "re-export the form from the EDC", rule="RAW-EMPTY")])
    try:
        records = list(map(len, csv.reader(io.StringIO(text))))  # fields per CSV record (0 = blank line)
    except csv.Error as exc:  # e.g. a field longer than the csv module allows (an unclosed quote)
        raise ProblemError([Problem(shown, None, None, None, f"cannot be read as CSV ({exc})",
                                    "re-export the form as comma-separated UTF-8 CSV; look for an unclosed quote",
                                    rule="RAW-CSV")]) from exc
    header = next(csv.reader(io.StringIO(text)))
    problems = _check_header(header, form, required_columns, shown)
    if problems:
        raise ProblemError(problems, f"{shown}: columns do not match the spec")
    lengths = np.array(records, dtype=np.int64)
    rows = np.flatnonzero(lengths > 0)[1:] + 1  # spreadsheet row of each data record (header = row 1)
    ragged = lengths[rows - 1] != len(header)
    if ragged.any():
        raise ProblemError([Problem(shown, int(r), None, f"{n} fields", f"the row has {n} fields but the header has "
                                    f"{len(header)}", "re-export the form; a value probably holds an unquoted comma, "
                                    "quote or line break", rule="RAW-CSV")
                            for r, n in zip(rows[ragged], lengths[rows[ragged] - 1])],
                           f"{shown}: rows do not match the header")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise ProblemError([Problem(shown, None, None, None, f"cannot be read as CSV ({exc})",
                                    "re-export the form as comma-separated UTF-8 CSV", rule="RAW-CSV")]) from exc
    if frame.empty:
        raise ProblemError([Problem(shown, None, None, None, "the file has a header but no data rows",
                                    "re-export the form; if the form truly has no data, remove it from the "
                                    "Sources sheet", rule="RAW-EMPTY")])
    if len(frame) != len(rows):  # the csv module and pandas disagree about the records: do not guess
        raise ProblemError([Problem(shown, None, None, None, f"{len(rows)} rows by one CSV reading, {len(frame)} by "
                                    "another (unbalanced quotes?)", "re-export the form as plain CSV",
                                    rule="RAW-CSV")])
    frame[FILE_COL] = form.file
    frame[ROW_COL] = rows
    blank = frame[form.subject_column].str.strip().eq("")
    if blank.any():
        raise ProblemError([Problem(shown, int(r), form.subject_column, "", "the subject identifier is empty",
                                    "fill in the subject in the EDC and re-export (every row must name its "
                                    "subject)", rule="RAW-SUBJECT") for r in frame.loc[blank, ROW_COL]],
                           f"{shown}: rows without a subject")
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
