"""The bad-input catalogue for the SDTM stage: one corrupted copy of a demo study per case.

Every case copies ``studies/ms_exo`` and its spec into a temporary folder (with an earlier
output already in place), corrupts one thing, runs the real ``subgen sdtm`` entry point and
checks:

* the exit code (2: bad input or spec);
* the exact problem line: rule, file or spec sheet, row (as a spreadsheet shows it), column,
  the offending value, what is wrong and what to do;
* that nothing was written: the earlier output is byte-identical and no staging folder is left.

``CASES`` below is the catalogue, one line per case, readable as a list. Cases whose right
behaviour is to map and report (not to stop) are at the end of the file, with the report
entries they must produce; so are the value ranges that no check enforces yet.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bad_input_kit import (
    ANY,
    ROOT,
    Expect,
    StudyCopy,
    append_raw,
    copy_study,
    drop_raw_column,
    duplicate_line,
    leftovers,
    matching_lines,
    problem_lines,
    rename_header,
    rename_raw_column,
    rewrite_bytes,
    run_cli,
    save_spec,
    set_raw,
    spec_row,
    spec_tables,
    tree_digest,
)
from spec_edit import append_row, set_cell

from subgen.core.spec.workbook import SheetTable

Corrupt = Callable[[StudyCopy], "dict | None"]


@dataclass(frozen=True)
class Case:
    """One catalogue entry: what is corrupted, how, and the problem lines the run must print."""

    id: str
    what: str
    corrupt: Corrupt
    expect: tuple[Expect, ...]
    exit_code: int = 2
    subprocess: bool = False  # run ``python -m subgen_cli.cli`` instead of calling main() in-process
    study: str = "ms_exo"
    extra: dict = field(default_factory=dict)  # "errors": exactly this many Error lines (not one per column)


# ------------------------------------------------------------------------------ corruptions
def cell(file: str, line: int, column: str, value: str) -> Corrupt:
    """Set one raw cell (line as a spreadsheet shows it, header = 1)."""
    return lambda c: set_raw(c, file, line, column, value)


def raw_text(file: str, edit: Callable[[list[str]], list[str]]) -> Corrupt:
    """Edit a raw file's lines as text (for damage pandas would not write)."""
    def run(c: StudyCopy) -> None:
        path = c.raw / file
        path.write_text("\n".join(edit(path.read_text(encoding="utf-8").split("\n"))), encoding="utf-8")
    return run


def latin1(c: StudyCopy) -> None:
    set_raw(c, "ae.csv", 3, "AETERM", "Müdigkeit")
    rewrite_bytes(c, "ae.csv", (c.raw / "ae.csv").read_text(encoding="utf-8").encode("latin-1"))


def bom(c: StudyCopy) -> None:
    rewrite_bytes(c, "ae.csv", b"\xef\xbb\xbf" + (c.raw / "ae.csv").read_bytes())


def header_only(c: StudyCopy) -> None:
    rewrite_bytes(c, "ae.csv", (c.raw / "ae.csv").read_bytes().split(b"\n")[0] + b"\n")


def two_files_broken(c: StudyCopy) -> None:
    rewrite_bytes(c, "cm.csv", b"")
    (c.raw / "mri.csv").unlink()


def blank_line_then_bad_date(c: StudyCopy) -> None:
    set_raw(c, "ae.csv", 5, "AESTDAT", "30-FEB-2025")  # the record on line 5 ...
    raw_text("ae.csv", lambda lines: lines[:3] + [""] + lines[3:])(c)  # ... is on line 6 after a blank line 4


def ragged(lines: list[str]) -> list[str]:
    lines[3] += ",extra"  # line 4 gets a 30th field
    return lines


def short(lines: list[str]) -> list[str]:
    lines[5] = lines[5].rsplit(",", 2)[0]  # line 6 loses its last two fields
    return lines


def unclosed_quote(lines: list[str]) -> list[str]:
    lines[5] = lines[5].replace(",Mild,", ',"Mild,', 1)  # line 6: the quote runs to the end of the file
    return lines


def spec(edit: Callable[[dict[str, SheetTable]], int | None]) -> Corrupt:
    """Edit the copy's spec workbook through its text tables; the edit may return the Excel row it changed."""
    def run(c: StudyCopy) -> dict:
        tables = spec_tables(c)
        row = edit(tables)
        save_spec(c, tables)
        return {"row": row}
    return run


def rename_everywhere(tables: dict[str, SheetTable], column: str, old: str, new: str,
                      sheets: tuple[str, ...]) -> None:
    """Rename a dataset or variable in every sheet that names it (so only the new name is wrong)."""
    for sheet in sheets:
        t = tables[sheet]
        i = t.header.index(column)
        tables[sheet] = SheetTable(t.header, tuple((n, tuple(new if (j == i and v == old) else v
                                                              for j, v in enumerate(cells))) for n, cells in t.rows))


def long_variable_name(tables: dict[str, SheetTable]) -> int:
    rename_everywhere(tables, "Variable", "AETERM", "AETERMXYZ", ("Variables", "Mappings"))
    return spec_row(tables, "Variables", Dataset="AE", Variable="AETERMXYZ")


def duplicate_variable(tables: dict[str, SheetTable]) -> int:
    t = tables["Variables"]
    rec = dict(zip(t.header, t.rows[spec_row(tables, "Variables", Dataset="AE", Variable="AETERM") - 2][1]))
    return append_row(tables, "Variables", rec)


def dataset_name_escape(tables: dict[str, SheetTable]) -> int:
    rename_everywhere(tables, "Dataset", "AE", "../x", ("Datasets", "Variables", "Sources", "Mappings"))
    return spec_row(tables, "Datasets", Dataset="../x")


def circular_variables(tables: dict[str, SheetTable]) -> int:
    # IEORRES <- IESTRESC while IESTRESC <- IEORRES (a later row): neither can be derived first.
    row = set_cell(tables, "Mappings", {"Dataset": "IE", "Variable": "IEORRES", "Value": "N"}, "Algorithm",
                   "derive_copy")
    set_cell(tables, "Mappings", {"Dataset": "IE", "Variable": "IEORRES", "Algorithm": "derive_copy"}, "Value",
             "IESTRESC")
    return row


def formula_cell(c: StudyCopy) -> dict:
    from openpyxl import load_workbook

    wb = load_workbook(c.spec)
    ws = wb["Variables"]
    col = [cl.value for cl in ws[1]].index("Length") + 1
    ws.cell(row=5, column=col, value="=1+1")
    wb.save(c.spec)
    return {"row": 5}


def personal_columns(value: str, map_initials: bool = False) -> Corrupt:
    """Forms sheet: enrol's Personal Data Columns set to ``value``; optionally SUPPDM SUBJINIT mapped from INITIALS."""
    def edit(tables: dict[str, SheetTable]) -> int:
        from test_data_protection import _supp_initials

        if map_initials:
            _supp_initials(tables, declared_personal=True)
        row = set_cell(tables, "Forms", {"Form": "enrol"}, "Personal Data Columns", value)
        if map_initials:
            t = tables["Mappings"]
            return next(n for n, c in t.rows if dict(zip(t.header, c))["Raw Column"] == "INITIALS")
        return row
    return spec(edit)


def study_toml(text: str) -> Corrupt:
    return lambda c: (c.folder / "study.toml").write_text(text, encoding="utf-8")


def study_toml_bom(c: StudyCopy) -> None:
    path = c.folder / "study.toml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def semicolons(c: StudyCopy) -> None:
    """ae.csv as a decimal-comma locale's Excel saves it: fields separated by ';'."""
    rows = list(csv.reader(io.StringIO((c.raw / "ae.csv").read_text(encoding="utf-8"))))
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\n").writerows(rows)
    (c.raw / "ae.csv").write_text(buf.getvalue(), encoding="utf-8")


def utf16(encoding: str) -> Corrupt:
    return lambda c: rewrite_bytes(c, "ae.csv", (c.raw / "ae.csv").read_text(encoding="utf-8").encode(encoding))


def cr_only(c: StudyCopy) -> None:
    rewrite_bytes(c, "ae.csv", (c.raw / "ae.csv").read_bytes().replace(b"\n", b"\r"))


def stray_cr(lines: list[str]) -> list[str]:
    lines[4] = lines[4].replace(",Mild,", ",Mi\rld,", 1)  # line 5: a lone CR inside an unquoted value
    return lines


def unclosed_quote_in_a_large_file(c: StudyCopy) -> None:
    """The unclosed quote of line 6, in a file big enough that the rest of it exceeds the csv field limit."""
    lines = (c.raw / "ae.csv").read_text(encoding="utf-8").split("\n")
    plain = [line for line in lines[1:] if ",Mild," in line and '"' not in line]
    lines = [lines[0], *plain * 400, ""]
    lines[5] = lines[5].replace(",Mild,", ',"Mild,', 1)
    (c.raw / "ae.csv").write_text("\n".join(lines), encoding="utf-8")


SPEC = "{spec}"
DATE_FIX = "correct the date in the EDC (DD-MON-YYYY; UN/UNK for unknown day/month) and re-export"
AE_ROWS = 41  # ae.csv holds 41 data rows (lines 2-42)

# ------------------------------------------------------------------------------- the catalogue
CASES: tuple[Case, ...] = (
    # --- raw files: structure and encoding
    Case("raw-column-missing", "ae.csv lost its AESTDAT column", lambda c: drop_raw_column(c, "ae.csv", "AESTDAT"),
         (Expect("RAW-COLUMN", "raw/ae.csv", 1, "AESTDAT", None, "column AESTDAT is missing",
                 "restore the column in the export"),)),
    Case("raw-column-renamed", "ae.csv column AETERM renamed AE_TERM",
         lambda c: rename_raw_column(c, "ae.csv", "AETERM", "AE_TERM"),
         (Expect("RAW-COLUMN", "raw/ae.csv", 1, "AETERM", None,
                 "column AETERM is missing; column 'AE_TERM' may be it renamed", "update the spec's Mappings"),)),
    Case("raw-empty", "ae.csv is 0 bytes", lambda c: rewrite_bytes(c, "ae.csv", b""),
         (Expect("RAW-EMPTY", "raw/ae.csv", None, None, None, "the file is empty (not even a header row)",
                 "re-export the form from the EDC"),)),
    Case("raw-header-only", "ae.csv has its header and no rows", header_only,
         (Expect("RAW-EMPTY", "raw/ae.csv", None, None, None, "the file has a header but no data rows",
                 "remove it from the Sources sheet"),)),
    Case("raw-latin1", "ae.csv saved as Latin-1 (Müdigkeit on line 3)", latin1,
         (Expect("RAW-ENCODING", "raw/ae.csv", 3, None, ANY, "the file is not UTF-8 (byte 0xfc",
                 "re-export the form as UTF-8 CSV"),), subprocess=True),
    Case("raw-bom", "ae.csv starts with a UTF-8 byte-order mark", bom,
         (Expect("RAW-ENCODING", "raw/ae.csv", 1, None, "UTF-8 byte-order mark",
                 "starts with a UTF-8 byte-order mark", "without BOM"),)),
    Case("raw-file-missing", "mri.csv was not exported", lambda c: (c.raw / "mri.csv").unlink(),
         (Expect("RAW-FILE", "raw/mri.csv", None, None, None, "raw file for form mri not found",
                 "export form mri as mri.csv"),)),
    Case("raw-two-files-broken", "cm.csv empty and mri.csv missing: both reported in one run", two_files_broken,
         (Expect("RAW-EMPTY", "raw/cm.csv", None, None, None, "the file is empty", "re-export the form"),
          Expect("RAW-FILE", "raw/mri.csv", None, None, None, "raw file for form mri not found",
                 "export form mri"))),
    Case("raw-header-twice", "ae.csv header names AETERM twice (AELLT overwritten)",
         raw_text("ae.csv", lambda ls: [ls[0].replace("AELLT,", "AETERM,", 1)] + ls[1:]),
         (Expect("RAW-COLUMN", "raw/ae.csv", 1, "AETERM", "AETERM", "column header appears twice",
                 "rename or remove one"),)),
    Case("raw-row-too-long", "ae.csv line 4 has an extra field", raw_text("ae.csv", ragged),
         (Expect("RAW-CSV", "raw/ae.csv", 4, None, "30 fields", "the row has 30 fields but the header has 29",
                 "a value probably holds an unquoted comma"),)),
    Case("raw-row-too-short", "ae.csv line 6 lost two fields", raw_text("ae.csv", short),
         (Expect("RAW-CSV", "raw/ae.csv", 6, None, "27 fields", "the row has 27 fields but the header has 29",
                 "re-export the form"),)),
    Case("raw-unclosed-quote", "ae.csv line 6 opens a quote it never closes (the rest of the file is one value)",
         raw_text("ae.csv", unclosed_quote),
         (Expect("RAW-CSV", "raw/ae.csv", 6, None, "11 fields", "the row has 11 fields but the header has 29",
                 "a value probably holds an unquoted comma, quote or line break"),)),
    Case("raw-semicolons", "ae.csv separated by semicolons (a decimal-comma locale's CSV): one problem, not 21",
         semicolons,
         (Expect("RAW-CSV", "raw/ae.csv", 1, None, ANY, "the file is separated by semicolons (;), not commas",
                 "re-export the form as comma-separated CSV"),), extra={"errors": 1}),
    Case("raw-utf16", "ae.csv saved as UTF-16 with a byte-order mark (Excel's 'Unicode Text')", utf16("utf-16"),
         (Expect("RAW-ENCODING", "raw/ae.csv", 1, None, None, "the file is UTF-16 (byte-order mark FF FE), not UTF-8",
                 "re-export the form as UTF-8 CSV"),)),
    Case("raw-utf16-no-bom", "ae.csv saved as UTF-16 big-endian without a byte-order mark", utf16("utf-16-be"),
         (Expect("RAW-ENCODING", "raw/ae.csv", 1, None, None,
                 "the file is UTF-16 (NUL bytes in every other place), not UTF-8",
                 "re-export the form as UTF-8 CSV"),)),
    Case("raw-huge-cell", "ae.csv line 5: a 20 MB AETERM (over the csv module's field limit)",
         cell("ae.csv", 5, "AETERM", "x" * (20 * 1024 * 1024)),
         (Expect("RAW-CSV", "raw/ae.csv", 5, "AETERM", None, "the value is 20,971,520 characters long; the CSV reader "
                 "allows at most 131,072", "correct the value in the EDC and re-export"),)),
    Case("raw-unclosed-quote-large", "an unclosed quote on line 6 of a 2.5 MB ae.csv (the rest is one huge value)",
         unclosed_quote_in_a_large_file,
         (Expect("RAW-CSV", "raw/ae.csv", 6, "AESEV", None, "a quote opened in this value is never closed, so the "
                 "value runs to the end of the file", "close the quote (or remove it) in the EDC"),)),
    Case("raw-cr-only", "ae.csv with CR-only line ends (classic Mac OS)", cr_only,
         (Expect("RAW-CSV", "raw/ae.csv", 1, None, None, "the lines end with a carriage return only (CR",
                 "re-export the form with Windows (CRLF) or Unix (LF) line ends"),)),
    Case("raw-stray-cr", "ae.csv line 5: a lone CR inside an unquoted value", raw_text("ae.csv", stray_cr),
         (Expect("RAW-CSV", "raw/ae.csv", 5, None, None, "a value holds a carriage return (CR) without a line feed",
                 "remove the stray line break from the value in the EDC"),)),
    Case("raw-subject-blank", "ae.csv line 2 has no SUBJID", cell("ae.csv", 2, "SUBJID", ""),
         (Expect("RAW-SUBJECT", "raw/ae.csv", 2, "SUBJID", "", "the subject identifier is empty",
                 "fill in the subject in the EDC"),)),
    Case("raw-blank-line", "a blank line 4 does not shift the row numbers of later problems",
         blank_line_then_bad_date,
         (Expect("MAP-DATE", "ae.csv", 6, "AESTDAT", "30-FEB-2025", "impossible calendar date", DATE_FIX),)),
    # --- dates and times
    Case("date-impossible", "AESTDAT 30-FEB-2025", cell("ae.csv", 2, "AESTDAT", "30-FEB-2025"),
         (Expect("MAP-DATE", "ae.csv", 2, "AESTDAT", "30-FEB-2025", "AE.AESTDTC: impossible calendar date",
                 DATE_FIX),)),
    Case("date-impossible-iso", "AESTDAT 2025-02-30 (ISO form)", cell("ae.csv", 2, "AESTDAT", "2025-02-30"),
         (Expect("MAP-DATE", "ae.csv", 2, "AESTDAT", "2025-02-30", "impossible calendar date", DATE_FIX),)),
    Case("date-dmy", "AESTDAT 31/12/2025", cell("ae.csv", 2, "AESTDAT", "31/12/2025"),
         (Expect("MAP-DATE", "ae.csv", 2, "AESTDAT", "31/12/2025",
                 "all-numeric day/month order is ambiguous (31/12/2025 or 12/31/2025?)", DATE_FIX),)),
    Case("date-mdy", "AESTDAT 12/31/2025 (same ambiguity the other way)", cell("ae.csv", 2, "AESTDAT", "12/31/2025"),
         (Expect("MAP-DATE", "ae.csv", 2, "AESTDAT", "12/31/2025", "day/month order is ambiguous", DATE_FIX),)),
    Case("date-year-1899", "MHSTDAT UN-UNK-1899", cell("mh.csv", 2, "MHSTDAT", "UN-UNK-1899"),
         (Expect("MAP-DATE", "mh.csv", 2, "MHSTDAT", "UN-UNK-1899", "MH.MHSTDTC: year before 1900", DATE_FIX),)),
    Case("date-unknown-month", "AESTDAT 01-FOO-2025", cell("ae.csv", 2, "AESTDAT", "01-FOO-2025"),
         (Expect("MAP-DATE", "ae.csv", 2, "AESTDAT", "01-FOO-2025", "unknown month abbreviation", DATE_FIX),)),
    Case("time-without-date", "lab.csv line 2: LBTIM 09:55, LBDAT blank", cell("lab.csv", 2, "LBDAT", ""),
         (Expect("MAP-DATE", "lab.csv", 2, "LBDAT+LBTIM", "09:55", "LB.LBDTC: time given without a date",
                 DATE_FIX),)),
    Case("time-out-of-range", "LBTIM 25:70", cell("lab.csv", 2, "LBTIM", "25:70"),
         (Expect("MAP-DATE", "lab.csv", 2, "LBDAT+LBTIM", "29-JAN-2024 25:70", "LB.LBDTC: time out of range",
                 DATE_FIX),)),
    # --- subjects and duplicates
    Case("subject-not-enrolled", "ae.csv gets a row for subject 101099, who is not in enrol.csv",
         lambda c: {"row": append_raw(c, "ae.csv", {"SUBJID": "101099"})},
         (Expect("MAP-SUBJECT", "ae.csv", AE_ROWS + 2, "SUBJID", "101099",
                 "AE: subject MSEXO01-101099 is not in DM (no row in enrol.csv)",
                 "add the subject's enrolment row to enrol.csv"),), subprocess=True),
    Case("subject-duplicated", "enrol.csv line 4 (101003) repeated as line 5",
         lambda c: duplicate_line(c, "enrol.csv", 4),
         (Expect("MAP-DUPLICATE-KEY", "enrol.csv", 5, "STUDYID, USUBJID", "STUDYID=MSEXO01, USUBJID=MSEXO01-101003",
                 "DM: records from enrol.csv row 4, enrol.csv row 5 have the same key",
                 "remove the duplicate row in the EDC"),)),
    Case("visit-duplicated", "visit.csv line 4 (101001 Month 3) repeated as line 5",
         lambda c: duplicate_line(c, "visit.csv", 4),
         (Expect("MAP-DUPLICATE-KEY", "visit.csv", 4, "STUDYID, USUBJID, VISITNUM",
                 "STUDYID=MSEXO01, USUBJID=MSEXO01-101001, VISITNUM=3",
                 "SV: records from visit.csv row 4, visit.csv row 5 have the same key",
                 "remove the duplicate row in the EDC"),)),
    Case("lookup-duplicated", "rand.csv line 2 (101001) repeated: DM.ARMCD is ambiguous",
         lambda c: duplicate_line(c, "rand.csv", 2),
         (Expect("MAP-DUPLICATE", "rand.csv", 3, "ARM", "Placebo",
                 "subject 101001 has more than one row in form rand", "remove the duplicate row in the EDC"),)),
    # --- numbers, units, terminology
    Case("lab-decimal-comma", "LBORRES 5,6", cell("lab.csv", 2, "LBORRES", "5,6"),
         (Expect("MAP-NUMBER", "lab.csv", 2, "LBORRES", "5,6", "LB: decimal comma in a numeric result",
                 "use a decimal point (5.6, not 5,6)"),)),
    Case("lab-text-result", "LBORRES 'high' in a numeric test", cell("lab.csv", 2, "LBORRES", "high"),
         (Expect("MAP-NUMBER", "lab.csv", 2, "LBORRES", "high", "LB: text result in a numeric test",
                 "enter a number (or <limit) or record the test as NOT DONE"),)),
    Case("number-text", "AGE 'sixty'", cell("enrol.csv", 2, "AGE", "sixty"),
         (Expect("MAP-NUMBER", "enrol.csv", 2, "AGE", "sixty", "DM.AGE: not a number",
                 "enter a number or leave it blank"),)),
    Case("number-decimal-comma", "AGE '64,5'", cell("enrol.csv", 2, "AGE", "64,5"),
         (Expect("MAP-NUMBER", "enrol.csv", 2, "AGE", "64,5", "DM.AGE: decimal comma in a numeric field",
                 "use a decimal point"),)),
    Case("number-inf", "AGE 'inf' (float() reads it, no dataset can hold it)", cell("enrol.csv", 2, "AGE", "inf"),
         (Expect("MAP-NUMBER", "enrol.csv", 2, "AGE", "inf", "DM.AGE: the value is not a finite number",
                 "enter a finite number in the EDC or leave it blank"),)),
    Case("number-minus-inf", "AGE '-inf'", cell("enrol.csv", 2, "AGE", "-inf"),
         (Expect("MAP-NUMBER", "enrol.csv", 2, "AGE", "-inf", "DM.AGE: the value is not a finite number",
                 "enter a finite number in the EDC or leave it blank"),)),
    Case("number-overflow", "AGE '1e999' (a number too big for a double: inf)", cell("enrol.csv", 2, "AGE", "1e999"),
         (Expect("MAP-NUMBER", "enrol.csv", 2, "AGE", "inf", "DM.AGE: the value is not a finite number",
                 "enter a finite number in the EDC or leave it blank"),)),
    Case("number-nan", "AGE 'nan'", cell("enrol.csv", 2, "AGE", "nan"),
         (Expect("MAP-NUMBER", "enrol.csv", 2, "AGE", "nan", "DM.AGE: not a number",
                 "enter a number or leave it blank"),)),
    Case("score-inf", "EDSS 'Infinity' (a numeric score copied to RSSTRESN)", cell("edss.csv", 2, "EDSS", "Infinity"),
         (Expect("MAP-NUMBER", "edss.csv", 2, "RSSTRESN", "inf", "RS.RSSTRESN: the value is not a finite number",
                 "enter a finite number in the EDC or leave it blank"),)),
    Case("lab-inf", "LBORRES 'inf' in a numeric test", cell("lab.csv", 2, "LBORRES", "inf"),
         (Expect("MAP-NUMBER", "lab.csv", 2, "LBORRES", "inf", "LB: the result is not a finite number",
                 "enter the measured number (or <limit) or record the test as NOT DONE"),)),
    Case("lab-nan", "LBORRES 'NaN' in a numeric test", cell("lab.csv", 2, "LBORRES", "NaN"),
         (Expect("MAP-NUMBER", "lab.csv", 2, "LBORRES", "NaN", "LB: the result is not a finite number",
                 "enter the measured number (or <limit) or record the test as NOT DONE"),)),
    Case("score-text", "EDSS 'abc' (a numeric score copied to RSSTRESN)", cell("edss.csv", 2, "EDSS", "abc"),
         (Expect("MAP-NUMBER", "edss.csv", 2, "RSSTRESN", "abc", "RS.RSSTRESN is numeric but the value is not a "
                 "number", "correct the value in the EDC"),)),
    Case("unit-missing", "LBORRESU blank for a numeric result", cell("lab.csv", 2, "LBORRESU", ""),
         (Expect("MAP-UNIT", "lab.csv", 2, "LBORRESU", None, "LB: numeric result without a unit",
                 "enter the result's unit in the EDC"),)),
    Case("unit-not-convertible", "LBORRESU mmol/L for serum NfL (no Units row)",
         cell("lab.csv", 2, "LBORRESU", "mmol/L"),
         (Expect("MAP-UNIT", "lab.csv", 2, "LBORRESU", "mmol/L",
                 "result unit 'mmol/L' of test NFLP has no row in the Units sheet", "add a Units row"),
          Expect("MAP-CT", "lab.csv", 2, "LBORRESU", "mmol/L", "does not map to codelist UNIT",
                 "add the spelling as a synonym", severity="Warning"))),
    Case("ct-unmapped", "SEX 'X' (SEX is not extensible)", cell("enrol.csv", 2, "SEX", "X"),
         (Expect("MAP-CT", "enrol.csv", 2, "SEX", "X", "DM.SEX: does not map to codelist SEX (F, INTERSEX, M, U)",
                 "add the spelling as a synonym of the right term in the Codelists sheet (SEX)"),)),
    # --- the spec workbook
    Case("spec-sheet-missing", "the Sources sheet was deleted", spec(lambda t: t.pop("Sources") and None),
         (Expect("SPEC-SHEET", SPEC + " [Sources]", None, None, None, "required sheet 'Sources' is missing",
                 "add (or rename) a sheet called Sources"),)),
    Case("spec-column-misspelt", "Variables header 'Label' typed 'Lable'",
         spec(lambda t: rename_header(t, "Variables", "Label", "Lable")),
         (Expect("SPEC-COLUMN", SPEC + " [Variables]", 1, "Label", "Lable",
                 "Column 'Lable' looks like a misspelling of it", "name the header cell exactly 'Label'"),)),
    Case("spec-name-too-long", "AE.AETERM renamed AETERMXYZ (9 characters)", spec(long_variable_name),
         (Expect("SPEC-NAME", SPEC + " [Variables]", "{row}", "Variable", "AETERMXYZ",
                 "XPT v5 names are 1-8 characters", "rename it"),)),
    Case("spec-label-too-long", "AE.AETERM label of 66 characters",
         spec(lambda t: set_cell(t, "Variables", {"Dataset": "AE", "Variable": "AETERM"}, "Label",
                                 "Reported Term for the Adverse Event as written by the investigator")),
         (Expect("SPEC-LABEL", SPEC + " [Variables]", "{row}", "Label", ANY, "label is 66 characters; XPT v5 allows 40",
                 "shorten it to 40 characters or fewer"),)),
    Case("spec-variable-twice", "AE.AETERM declared twice", spec(duplicate_variable),
         (Expect("SPEC-DUPLICATE", SPEC + " [Variables]", "{row}", "Variable", "AETERM", "AE.AETERM is declared twice",
                 "delete the duplicate row"),)),
    Case("spec-codelist-undefined", "AE.AESEV refers to codelist AESEVX, which is not defined",
         spec(lambda t: set_cell(t, "Variables", {"Dataset": "AE", "Variable": "AESEV"}, "Codelist", "AESEVX")),
         (Expect("SPEC-REFERENCE", SPEC + " [Variables]", "{row}", "Codelist", "AESEVX",
                 "codelist 'AESEVX' is referenced but not defined in the Codelists sheet. Did you mean 'AESEV'?",
                 "add AESEVX to the Codelists sheet or correct the reference"),)),
    Case("spec-circular-datasets", "DM reads AE (derive_lookup) while AE reads DM (study days)",
         spec(lambda t: append_row(t, "Mappings", {"Dataset": "DM", "Source": "*", "Variable": "ARMNRS",
                                                   "Algorithm": "derive_lookup", "Value": "AE.AETERM@USUBJID"})),
         (Expect("SPEC-CYCLE", SPEC + " [Mappings]", None, "Algorithm", "AE -> DM -> AE",
                 "circular derivation between datasets", "break the cycle"),)),
    Case("spec-circular-variables", "IE.IEORRES copied from IESTRESC, which is copied from IEORRES",
         spec(circular_variables),
         (Expect("SPEC-MAPPING", SPEC + " [Mappings]", "{row}", "Value", "IESTRESC",
                 "IE.IEORRES is derived from IESTRESC, which has no value yet at this row",
                 "put the row deriving IESTRESC above this one"),)),
    Case("spec-derivation-unknown", "AE.AETERM uses algorithm 'assign_no_cta'",
         spec(lambda t: set_cell(t, "Mappings", {"Dataset": "AE", "Variable": "AETERM"}, "Algorithm",
                                 "assign_no_cta")),
         (Expect("SPEC-ALGORITHM", SPEC + " [Mappings]", "{row}", "Algorithm", "assign_no_cta",
                 "unknown algorithm. Did you mean 'assign_no_ct'?", "use one of: "),)),
    Case("spec-key-not-in-dataset", "AE Key Variables name AEDECODE",
         spec(lambda t: set_cell(t, "Datasets", {"Dataset": "AE"}, "Key Variables",
                                 "STUDYID, USUBJID, AEDECODE, AESTDTC, AESEQ")),
         (Expect("SPEC-KEY", SPEC + " [Datasets]", "{row}", "Key Variables", "AEDECODE",
                 "key variable AEDECODE is not a variable of AE. Did you mean 'AEDECOD'?",
                 "add it to the Variables sheet or fix the key list"),)),
    Case("spec-formula", "a Length cell holds the formula =1+1", formula_cell,
         (Expect("SPEC-FORMULA", SPEC + " [Variables]", "{row}", "Length", "=1+1",
                 "formula cell: the spec must hold values, not formulas", "Paste Special > Values"),),
         subprocess=True),
    Case("spec-dataset-path", "dataset AE renamed '../x' everywhere (it would write outside the output folder)",
         spec(dataset_name_escape),
         (Expect("SPEC-NAME", SPEC + " [Datasets]", "{row}", "Dataset", "../x", "dataset name '../x' is not valid",
                 "rename it"),)),
    Case("spec-form-path", "Forms sheet: ae form File '../../secret.csv'",
         spec(lambda t: set_cell(t, "Forms", {"Form": "ae"}, "File", "../../secret.csv")),
         (Expect("SPEC-PATH", SPEC + " [Forms]", "{row}", "File", "../../secret.csv",
                 "a form file must be a plain file name inside the study's raw folder", "give the file name only"),)),
    Case("spec-raw-column-unknown", "Mappings read raw column AETERMS, which ae.csv does not have",
         spec(lambda t: set_cell(t, "Mappings", {"Dataset": "AE", "Variable": "AETERM"}, "Raw Column", "AETERMS")),
         (Expect("RAW-COLUMN", "raw/ae.csv", 1, "AETERMS", None, "column 'AETERM' may be it renamed",
                 "update the spec's Mappings/Forms sheets"),)),
    Case("spec-condition", "a Condition written AEONGO == 'Y'",
         spec(lambda t: set_cell(t, "Mappings", {"Dataset": "AE", "Variable": "AEENRF"}, "Condition",
                                 "AEONGO == 'Y'")),
         # the one expression language (subgen.core.expr) says where it stops and what to write there
         (Expect("SPEC-CONDITION", SPEC + " [Mappings]", "{row}", "Condition", "AEONGO == 'Y'",
                 "cannot read condition \"AEONGO == 'Y'\" at character 9: expected a quoted value, a number or a "
                 "column (the comparators are =, !=, <, <=, >, >=)", "write e.g. AEONGO = 'Y' or AEONGO <= 4"),)),
    Case("spec-constant-not-in-codelist", "AEENRF hard-coded as ONGOINGX",
         spec(lambda t: set_cell(t, "Mappings", {"Dataset": "AE", "Variable": "AEENRF"}, "Value", "ONGOINGX")),
         (Expect("SPEC-CT", SPEC + " [Mappings]", "{row}", "Value", "ONGOINGX", "not a term of codelist STENRF",
                 "use one of: ONGOING"),)),
    Case("spec-data-cut", "DataCutDate written 31-10-2026",
         spec(lambda t: set_cell(t, "Study", {"Attribute": "DataCutDate"}, "Value", "31-10-2026")),
         (Expect("SPEC-STUDY", SPEC + " [Study]", "{row}", "Value", "31-10-2026", "DataCutDate is not a date",
                 "write it as YYYY-MM-DD"),)),
    Case("spec-length-over-200", "AE.AETERM Length 300",
         spec(lambda t: set_cell(t, "Variables", {"Dataset": "AE", "Variable": "AETERM"}, "Length", "300")),
         (Expect("SPEC-VALUE", SPEC + " [Variables]", "{row}", "Length", "300",
                 "character length must be 1 to 200 (XPT v5)", "split longer text"),)),
    Case("spec-not-xlsx", "the spec file is a CSV named .xlsx",
         lambda c: c.spec.write_text("a,b\n1,2\n", encoding="utf-8"),
         (Expect("SPEC-FILE", SPEC, None, None, None, "cannot be read as an .xlsx workbook",
                 "save the spec from Excel as .xlsx"),)),
    Case("study-name-path", "study.toml name '../../escaped' (the output would leave --out)",
         study_toml('[study]\nname = "../../escaped"\nspec = "spec.xlsx"\nraw = "raw"\n'),
         (Expect("STUDY-CONFIG", "{folder}/study.toml", None, "name", "../../escaped",
                 "the study name becomes an output folder name", 'write e.g. name = "ms_exo"'),)),
    Case("study-spec-not-text", "study.toml spec = 5 (a number, not a path)",
         study_toml('[study]\nname = "ms_exo"\nspec = 5\nraw = "raw"\n'),
         (Expect("STUDY-CONFIG", "{folder}/study.toml", None, "spec", "5", "spec must be text in quotes (the path of "
                 "the spec workbook, relative to the study folder), not a number",
                 'write e.g. spec = "../../specs/ms_exo.xlsx"'),)),
    Case("study-raw-not-text", "study.toml raw = true",
         study_toml('[study]\nname = "ms_exo"\nspec = "spec.xlsx"\nraw = true\n'),
         (Expect("STUDY-CONFIG", "{folder}/study.toml", None, "raw", "true", "raw must be text in quotes",
                 'write e.g. raw = "raw"'),)),
    Case("study-not-a-section", "study.toml study = 5 instead of a [study] section", study_toml("study = 5\n"),
         (Expect("STUDY-CONFIG", "{folder}/study.toml", None, "study", "5",
                 "study must be a section ([study]), not a number", "write a section: a line [study]"),)),
    Case("study-toml-bom", "study.toml starts with a UTF-8 byte-order mark", study_toml_bom,
         (Expect("STUDY-CONFIG", "{folder}/study.toml", 1, None, "UTF-8 byte-order mark",
                 "study.toml starts with a UTF-8 byte-order mark (BOM)", "save it as UTF-8 without BOM"),)),
    Case("study-spec-empty", 'study.toml spec = "" (was read as the study folder)',
         study_toml('[study]\nname = "ms_exo"\nspec = ""\nraw = "raw"\n'),
         (Expect("STUDY-CONFIG", "{folder}/study.toml", None, "spec", "", "spec is empty",
                 'write e.g. spec = "../../specs/ms_exo.xlsx"'),)),
    Case("study-spec-folder", 'study.toml spec = "raw" (a folder)',
         study_toml('[study]\nname = "ms_exo"\nspec = "raw"\nraw = "raw"\n'),
         (Expect("STUDY-CONFIG", "{folder}/study.toml", None, "spec", "raw", "spec names a folder",
                 "the .xlsx file, relative to the study folder"),)),
    Case("study-raw-file", 'study.toml raw = "spec.xlsx" (a file, not the folder of CSV exports)',
         study_toml('[study]\nname = "ms_exo"\nspec = "spec.xlsx"\nraw = "spec.xlsx"\n'),
         (Expect("STUDY-CONFIG", "{folder}/study.toml", None, "raw", "spec.xlsx", "raw names a file",
                 'write raw = "raw": raw names the folder holding one CSV per form'),)),
    Case("study-toml-missing", "the study folder has no study.toml", lambda c: (c.folder / "study.toml").unlink(),
         (Expect("STUDY-CONFIG", "{folder}/study.toml", None, None, None, "study.toml not found",
                 "point --study at a study folder"),)),
    Case("study-private-not-bool", "study.toml private = \"yes\" (true or false expected)",
         study_toml('[study]\nname = "ms_exo"\nspec = "spec.xlsx"\nraw = "raw"\nprivate = "yes"\n'),
         (Expect("STUDY-CONFIG", "{folder}/study.toml", None, "private", "yes", "private must be true or false",
                 "write private = true"),)),
    # --- personal data: the protection must not switch itself off (issue 21)
    Case("spec-personal-column-misspelt", "Personal Data Columns names INITALS (enrol.csv has INITIALS)",
         personal_columns("INITALS, SITE_CONTACT, BRTHDAT"),
         (Expect("SPEC-PII", SPEC + " [Forms]", "{row}", "Personal Data Columns", "INITALS",
                 "form enrol: enrol.csv has no column INITALS; did you mean INITIALS? (a personal-data column that "
                 "is not found is not protected)", "write the raw column's name as the file's header spells it"),)),
    Case("spec-personal-column-lower-case", "Personal Data Columns names initials in lower case, and SUPPDM maps "
         "INITIALS: still personal data", personal_columns("initials, SITE_CONTACT, BRTHDAT", map_initials=True),
         (Expect("SPEC-PII", SPEC + " [Mappings]", "{row}", "Raw Column", "INITIALS",
                 "enrol.INITIALS is declared personal data in the Forms sheet and must not reach SDTM",
                 "remove the mapping"),)),
    # ds.csv line 3: 101002's end-of-study comment (DSSPEC -> DSTERM) holds 101001's site contact
    # (enrol.csv line 2: +48 22 555 0101) typed without its spaces.
    Case("raw-contact-without-spaces", "a comment holds the site contact typed as +48225550101",
         cell("ds.csv", 3, "DSSPEC", "Moved; call +48225550101"),
         (Expect("PII-LEAK", "DS", ANY, "DSTERM", "Moved; call +48225550101",
                 "personal data from enrol.csv column SITE_CONTACT reached SDTM (record from ds.csv row 3)",
                 "remove the mapping that copies it"),)),
    # ae.csv line 2: 101001's AE term mentions the initials of 101001 (enrol.csv line 2: HBS) as a word.
    Case("raw-initials-in-free-text", "an AE term says 'Headache reported by HBS' (HBS: 101001's initials)",
         cell("ae.csv", 2, "AETERM", "Headache reported by HBS"),
         (Expect("PII-LEAK", "AE", ANY, "AETERM", "Headache reported by HBS",
                 "personal data from enrol.csv column INITIALS reached SDTM (record from ae.csv row 2)",
                 "remove the mapping that copies it"),)),
)


def run(copy: StudyCopy, as_subprocess: bool = False) -> tuple[int, str, str]:
    """Run ``subgen sdtm`` on the copy, in-process or as ``python -m subgen_cli.cli``."""
    if not as_subprocess:
        return run_cli(copy.argv())
    proc = subprocess.run([sys.executable, "-m", "subgen_cli.cli", *copy.argv()], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_catalogue_size() -> None:
    """Issue 7 asks for at least 40 cases; this module holds the blocking ones, the rest are below."""
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    copy = copy_study(tmp_path, case.study)
    before = tree_digest(copy.final)
    made = case.corrupt(copy)
    fill = {"spec": str(copy.spec), "folder": str(copy.folder),
            **(made if isinstance(made, dict) else {"row": made} if isinstance(made, int) else {})}
    code, out, err = run(copy, case.subprocess)
    assert code == case.exit_code, f"{case.what}: exit {code}\n{out}\n{err}"
    for expect in case.expect:
        assert matching_lines(err, expect, fill), (f"{case.what}: no line like\n  {expect.pattern(fill).pattern}\n"
                                                   f"in:\n{err}")
    if "errors" in case.extra:
        errors = [line for line in problem_lines(err) if line.startswith("  - Error:")]
        assert len(errors) == case.extra["errors"], f"{case.what}: {len(errors)} error lines\n{err}"
    assert "Traceback" not in err and "internal error" not in err
    assert tree_digest(copy.final) == before, "the previous output changed"
    assert leftovers(copy) == [], "a staging folder was left behind"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ms_exo", "out"], "something was written outside --out"
