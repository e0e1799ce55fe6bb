"""Reading raw EDC exports (one CSV per CRF form) exactly as the site entered them.

Every cell is read as text (nothing is guessed or converted on the way in) and every row keeps
its origin: ``__file`` and ``__row`` (the CSV line number, header = line 1, as a spreadsheet
shows it). Problems (missing file, wrong encoding (Latin-1, UTF-16, a byte-order mark), empty file,
another separator than the comma, CR-only line ends, a value too long for a CSV field or a quote
never closed, missing columns, rows with more or fewer fields than the header, rows without a
subject) name the file, row and column and say what to do. Rows are numbered as a spreadsheet
shows them, so a blank line or a value holding a line break does not shift the numbers.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from subgen.core.problems import Problem, ProblemError
from subgen.core.spec.model import Form

FILE_COL = "__file"
ROW_COL = "__row"
LINEAGE_COLS = (FILE_COL, ROW_COL)
#: FILE_COL of records the spec itself declares (trial design datasets, TS): ``spec:<dataset>``
SPEC_LINEAGE = "spec:"


def raw_row(frame: pd.DataFrame, index: Hashable) -> int:
    """The raw row number (lineage column ``ROW_COL``) of the record labelled ``index``."""
    row: Any = frame.at[index, ROW_COL]  # pandas-stubs types a cell as any scalar; ROW_COL holds row numbers
    return int(row)


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
    if "\r" in text and "\n" not in text:
        raise ProblemError([Problem(shown, 1, None, None, "the lines end with a carriage return only (CR, the old "
                                    "Mac OS line end), so the whole file reads as one line",
                                    "re-export the form with Windows (CRLF) or Unix (LF) line ends, e.g. as "
                                    "'CSV UTF-8' from Excel", rule="RAW-CSV")])
    try:
        records = list(map(len, csv.reader(io.StringIO(text))))  # fields per CSV record (0 = blank line)
    except csv.Error as exc:  # a field longer than the csv module allows, a stray CR, ...: say where and why
        raise ProblemError([csv_failure(text, exc, shown)]) from exc
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


def csv_failure(text: str, exc: csv.Error, shown: str) -> Problem:
    """The problem behind a csv.Error: which row (as a spreadsheet shows it) and column, and the real cause.

    Runs only after the fast reading failed: the file is read again record by record to find the
    failing one. A field over the csv module's limit is either a huge value (the row and column are
    named, with its length) or a quote that is never closed (the value runs to the end of the file).
    """
    lines = io.StringIO(text).readlines()
    reader = csv.reader(lines)
    row, start = 0, 0  # records read; physical line where the failing record starts
    try:
        for _ in reader:
            row, start = row + 1, reader.line_num
    except csv.Error:
        pass
    row += 1
    header = next(csv.reader(lines[:1]), []) if row > 1 else []
    if "field larger than field limit" in str(exc):
        return _oversized_field(lines[start:], row, header, shown)
    if "new-line character seen in unquoted field" in str(exc):
        return Problem(shown, row, None, None, "a value holds a carriage return (CR) without a line feed outside "
                       "quotes, so the row cannot be told from the next one", "remove the stray line break from the "
                       "value in the EDC (or quote the value) and re-export", rule="RAW-CSV")
    return Problem(shown, row, None, None, f"cannot be read as CSV ({exc})",
                   "re-export the form as comma-separated UTF-8 CSV", rule="RAW-CSV")


def _oversized_field(rest: list[str], row: int, header: list[str], shown: str) -> Problem:
    """A field over ``csv.field_size_limit()``: a huge value, or an unclosed quote running to the end of the file."""
    limit = csv.field_size_limit()
    csv.field_size_limit(sum(map(len, rest)) + 1)  # this one record, read whole (the limit is process-wide)
    try:
        reader = csv.reader(rest)
        fields = next(reader, [])
        spans_to_end = reader.line_num >= len(rest) > 1
    except csv.Error:
        fields, spans_to_end = [], False
    finally:
        csv.field_size_limit(limit)
    if not fields:
        return Problem(shown, row, None, None, f"a value is longer than the {limit:,} characters the CSV reader "
                       "allows", "re-export the form; check the row's values in the EDC", rule="RAW-CSV")
    i = max(range(len(fields)), key=lambda j: len(fields[j]))
    column = header[i] if i < len(header) else f"field {i + 1}"
    if spans_to_end and "\n" in fields[i]:
        return Problem(shown, row, column, None, "a quote opened in this value is never closed, so the value runs "
                       f"to the end of the file ({len(fields[i]):,} characters)",
                       "close the quote (or remove it) in the EDC and re-export", rule="RAW-CSV")
    return Problem(shown, row, column, None, f"the value is {len(fields[i]):,} characters long; the CSV reader "
                   f"allows at most {limit:,} (no EDC field holds this much: a pasted document or a damaged export?)",
                   "correct the value in the EDC and re-export", rule="RAW-CSV")


def _utf16(data: bytes) -> str | None:
    """How ``data`` shows it is UTF-16 (a byte-order mark, or NUL bytes in every other place), or None."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return f"byte-order mark {data[0]:02X} {data[1]:02X}"
    head = data[:4096]
    if len(head) >= 4 and head.count(0) * 4 >= len(head):  # ASCII text as UTF-16: every second byte is NUL
        return "NUL bytes in every other place"
    return None


def _decode(data: bytes, shown: str) -> str:
    utf16 = _utf16(data)
    if utf16:
        raise ProblemError([Problem(shown, 1, None, None, f"the file is UTF-16 ({utf16}), not UTF-8 (Excel's "
                                    "'Unicode Text' or an EDC's 'Unicode' export)", "re-export the form as UTF-8 CSV "
                                    "(in Excel: Save As 'CSV UTF-8 (Comma delimited)')", rule="RAW-ENCODING")])
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
    delimiter = _delimiter_problem(header, form, required, shown)
    if delimiter:
        return [delimiter]
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


#: separators an export may use instead of the comma, by the name a data manager knows them by
OTHER_DELIMITERS = ((";", "semicolons (;)"), ("\t", "tabs"), ("|", "vertical bars (|)"))


def _delimiter_problem(header: list[str], form: Form, required: set[str] | frozenset[str],
                       shown: str) -> Problem | None:
    """One problem when the header is a single column that splits into the expected names on another separator."""
    if len(header) != 1:
        return None
    expected = set(required) | {form.subject_column}
    for sep, name in OTHER_DELIMITERS:
        if sep in header[0] and expected & {h.strip() for h in header[0].split(sep)}:
            shown_header = header[0] if len(header[0]) <= 60 else header[0][:57] + "..."
            locale = "; a semicolon export comes from a decimal-comma locale setting" if sep == ";" else ""
            return Problem(shown, 1, None, shown_header, f"the file is separated by {name}, not commas (the header "
                           "reads as one column)", "re-export the form as comma-separated CSV (in Excel: Save As "
                           f"'CSV UTF-8 (Comma delimited)'{locale})", rule="RAW-CSV")
    return None
