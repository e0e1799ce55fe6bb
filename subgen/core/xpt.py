"""SAS XPORT version 5 transport files: checked, deterministic, verified with two readers.

Writing goes through ``pyreadstat.write_xport(file_format_version=5)``; everything pyreadstat
does not check is checked first (:func:`check_xpt_frame`) and reported as
:class:`~subgen.core.problems.Problem` rows, so a bad frame is never written and nothing is ever
truncated silently.

Findings this module relies on (each one is asserted by ``tests/test_xpt.py``):

Character widths
    pyreadstat (1.3.7) gives every character variable the storage width of its longest value in
    UTF-8 bytes, at least 1 (``get_narwhals_str_series_max_length`` in its writer; missing values
    are skipped, a column that is empty everywhere gets width 1). ``variable_format`` (``"$12."``)
    only fills the NAMESTR format fields and never changes the width. The spec Length is therefore
    not what ends up in the file: this module strips trailing blanks (insignificant in SAS) before
    writing, so the width is the longest right-trimmed value in bytes, and the NAMESTR records are
    parsed back (:func:`parse_xpt_header`) to prove it.

Numbers
    Every numeric variable is an 8-byte IBM hexadecimal float. pyreadstat would insert an int64
    column through ``int32`` (overflow), so numerics are converted to float64 first. An IBM double
    has a 56-bit fraction normalised on hex digits, so it holds at least 53 significant bits,
    exactly an IEEE double's significand: every finite double with ``2**-260 <= |x| < 2**249``
    (about 5.4E-79 .. 9.05E74) round-trips *exactly* through readstat and pandas (relative error
    0; 0 itself is all zero bytes). The format reaches 16**63 (7.2E75), but readstat's converter
    (SAS TS-140 ``cnxptiee``) overflows from 2**249 and writes the IBM maximum, which reads back as
    infinity; below 16**-65 a value underflows to 0. :func:`check_xpt_frame` therefore rejects
    values outside that range (``XPT-NUMRANGE``), as well
    as integers beyond 2**53 that float64 cannot hold. :func:`verify_xpt` still compares with the
    relative tolerance :data:`IBM_REL_TOL` = 2**-52, the most a reader truncating an IBM fraction
    wider than 53 bits (a file written by SAS itself) can lose; the tests assert the error is 0.

Missing values
    A missing character value is written as blanks, a missing numeric (NaN) as the SAS missing
    value ``.`` (0x2E followed by seven zero bytes).

Timestamps
    The library header (bytes 144-160 and 160-176) and the member header (464-480 and 480-496)
    carry "created" and "modified" as ``ddMMMyy:hh:mm:ss`` from the wall clock. They are rewritten
    with the caller's ``created`` (the data-cut date or ``SOURCE_DATE_EPOCH``, see
    :func:`xpt_timestamp`), so two writes of the same frame are byte-identical.

Blank records look like padding
    Version 5 stores no record count: the data are padded with blanks to a multiple of 80 bytes.
    readstat (and SAS) therefore drop *trailing records that are blank in every byte*; such a
    record can only happen when every variable is character and empty, so the check rejects it
    (``XPT-BLANKTAIL``) instead of writing a file that loses records.

pandas.read_sas blind spots (pandas 3.1.1, ``pandas/io/sas/sas_xport.py``)
    1. Record count. When the record length ``L`` (sum of widths) is at most 80, pandas takes the
       last 80-byte card of the data, counts ``k`` = its 8-byte words (at card offsets 0, 8, ..,
       72) that are eight blanks, *wherever they are*, and reports ``(D - 8*k) // L`` records,
       ``D`` being the data bytes including padding (``_record_count``). The padding ``P = D - n*L``
       (< 80) holds ``P // 8`` such words, so pandas is right exactly when ``0 <= P - 8*k < L``.
       It reads too few records when blank character fields of the last card's records form
       aligned blank words (e.g. widths 8+8, three records, the last with a blank second
       variable: 48 data bytes, 4 padding words + 1 data word, (80-40)//16 = 2), and too many
       (extra blank records) when ``L < 8`` and ``P % 8 >= L`` (one 1-byte variable, 73 records:
       80 records read). For ``L > 80`` it uses ``D // L``, which is always right.
       :func:`pandas_row_count` reproduces the rule from the bytes; :func:`verify_xpt` tolerates a
       pandas record count that differs from the truth only when it equals that prediction, and
       says so with a Notice.
    2. Zero. pandas decodes the IBM zero (eight zero bytes) as 16**-65 = 5.397605346934028e-79
       (pandas-dev/pandas#50670); :func:`verify_xpt` accepts exactly that value for an expected 0
       and says so with a Notice.
    3. No records. ``read_sas`` raises ``StopIteration`` for a file with no records, so
       :func:`read_xpt_both` reads through the ``XportReader`` and builds the empty frame itself.
"""

from __future__ import annotations

import errno
import math
import os
import re
import secrets
import struct
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat

from subgen.core.problems import Problem, ProblemError
from subgen.core.spec.model import Dataset, Variable

#: Dataset and variable names: 1-8 characters, A-Z and 0-9, a letter first (SAS V5 transport, SDTMIG).
NAME_PATTERN = re.compile(r"[A-Z][A-Z0-9]{0,7}")
MAX_NAME = 8
MAX_LABEL = 40
MAX_CHAR_BYTES = 200
#: Printable ASCII: blank (0x20) to tilde (0x7E). Control characters are refused along with non-ASCII.
_NOT_PRINTABLE = r"[^\x20-\x7e]"
_FIRST_BAD = r"^([\x20-\x7e]*)([^\x20-\x7e])"

#: Smallest magnitude of a normalised IBM double (16**-65); smaller non-zero values underflow to 0.
IBM_MIN = 2.0 ** -260
#: readstat's IEEE-to-IBM conversion (SAS TS-140 ``cnxptiee``) overflows from 2**249 (about 9.05E74),
#: below the format's own 16**63: it writes the IBM maximum, which reads back as infinity.
IBM_LIMIT = 2.0 ** 249
#: Relative tolerance verify_xpt allows for IBM-float precision (see the module docstring).
IBM_REL_TOL = 2.0 ** -52
#: What pandas.read_sas returns for an IBM zero (pandas-dev/pandas#50670).
PANDAS_IBM_ZERO = 16.0 ** -65
#: Largest integer float64 holds exactly.
MAX_EXACT_INT = 2 ** 53

CARD = 80
NAMESTR_LEN = 140
#: (start, end) of the created and modified stamps in the library and member headers.
TIMESTAMP_RANGES = ((144, 160), (160, 176), (464, 480), (480, 496))
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_STAMP = re.compile(rb"\d\d(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)\d\d:\d\d:\d\d:\d\d")
_NAMESTR = struct.Struct(">hhhh8s40s8shhh2s8shhl52s")
_HEADERS = {
    0: b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!",
    240: b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!",
    320: b"HEADER RECORD*******DSCRPTR HEADER RECORD!!!!!!!",
    560: b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!",
}
_OBS_HEADER = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"
_BLANK_WORD = b" " * 8


# --------------------------------------------------------------------------------------------
# Timestamps


def xpt_timestamp(data_cut: date) -> datetime:
    """The created/modified stamp for XPT headers.

    ``SOURCE_DATE_EPOCH`` (seconds since 1970-01-01 UTC, reproducible-builds convention) wins when
    set; otherwise the study's data-cut date at 00:00:00. Raises :class:`ProblemError` when
    ``SOURCE_DATE_EPOCH`` is set but not a whole number of seconds.
    """
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is not None and raw.strip() != "":
        try:
            seconds = int(raw.strip())
            return datetime.fromtimestamp(seconds, tz=timezone.utc).replace(tzinfo=None)
        except (ValueError, OverflowError, OSError):
            raise ProblemError([Problem(
                where="SOURCE_DATE_EPOCH", row=None, column=None, value=raw,
                message="is not a whole number of seconds since 1970-01-01 UTC",
                fix="unset SOURCE_DATE_EPOCH or set it to an integer such as 1709251200",
                rule="XPT-TIMESTAMP")]) from None
    return datetime(data_cut.year, data_cut.month, data_cut.day)


def format_xpt_timestamp(created: datetime) -> bytes:
    """``created`` as the 16-byte XPT stamp ``ddMMMyy:hh:mm:ss`` (English month, upper case)."""
    text = (f"{created.day:02d}{_MONTHS[created.month - 1]}{created.year % 100:02d}:"
            f"{created.hour:02d}:{created.minute:02d}:{created.second:02d}")
    return text.encode("ascii")


def patch_timestamps(data: bytes, created: datetime) -> bytes:
    """``data`` (a whole XPT file) with its four created/modified stamps set to ``created``.

    Raises RuntimeError when a range does not hold a stamp: the layout is not what pyreadstat
    writes, and patching blindly would corrupt the file.
    """
    stamp = format_xpt_timestamp(created)
    out = bytearray(data)
    for start, end in TIMESTAMP_RANGES:
        if not _STAMP.fullmatch(bytes(out[start:end])):
            raise RuntimeError(f"no XPT timestamp at bytes {start}-{end}: found {bytes(out[start:end])!r}")
        out[start:end] = stamp
    return bytes(out)


# --------------------------------------------------------------------------------------------
# Values as they are written


def _clip(value: str, limit: int = 60) -> str:
    """``value`` cut to ``limit`` characters for messages (``...`` marks the cut)."""
    return value if len(value) <= limit else value[:limit] + "..."


def _is_text_column(series: pd.Series) -> np.ndarray:
    """Boolean array: the value is a Python/pandas string (nulls are False)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    null = series.isna().to_numpy()
    if isinstance(series.dtype, pd.StringDtype):
        return ~null
    if series.dtype != object:
        return np.zeros(len(series), dtype=bool)
    if pd.api.types.infer_dtype(series, skipna=True) == "string":
        return ~null
    return series.map(lambda v: isinstance(v, str), na_action="ignore").eq(True).to_numpy() & ~null


def char_values(series: pd.Series) -> pd.Series:
    """Character values as written: missing and non-text become "", trailing blanks removed.

    The index is reset (positions are record numbers - 1).
    """
    s = series.reset_index(drop=True)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    is_text = _is_text_column(s)
    # each distinct value is trimmed once (clinical columns repeat few values many times)
    text = pd.Series(_per_unique(s, lambda v: v.rstrip(" ") if isinstance(v, str) else "", ""), dtype=object)
    return text.where(is_text, "").astype(str)


def _per_unique(series: pd.Series, func, missing: Any) -> np.ndarray:
    """``func`` of every value as an object array, computed once per distinct value (``missing`` for nulls)."""
    codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
    values = np.empty(len(uniques) + 1, dtype=object)
    values[:-1] = [func(v) for v in uniques]
    values[-1] = missing
    return values[codes]


def byte_lengths(text: pd.Series) -> np.ndarray:
    """UTF-8 byte length of each string of ``text`` as an int64 array."""
    if len(text) == 0:
        return np.zeros(0, dtype=np.int64)
    return _per_unique(text, lambda v: len(v.encode("utf-8")), 0).astype(np.int64)


def char_width(text: pd.Series) -> int:
    """Storage width pyreadstat gives a character column: longest value in bytes, at least 1."""
    lengths = byte_lengths(text)
    return int(max(1, lengths.max(initial=0)))


def _numeric_kind(series: pd.Series) -> str:
    """"numeric", "empty" (all missing), "numbers" (object column of numbers) or "other"."""
    if pd.api.types.is_bool_dtype(series):
        return "other"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    if series.isna().all():
        return "empty"
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) in (
            "integer", "floating", "mixed-integer-float", "decimal"):
        return "numbers"
    return "other"


def numeric_values(series: pd.Series) -> np.ndarray:
    """Numeric values as written: float64, missing as NaN (non-numbers also become NaN)."""
    s = series.reset_index(drop=True)
    kind = _numeric_kind(s)
    if kind == "numeric":
        return s.to_numpy(dtype="float64", na_value=np.nan)
    if kind == "numbers":
        return pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return np.full(len(s), np.nan)


def xpt_frame(frame: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """The frame exactly as handed to pyreadstat: spec variables in spec order, character
    values right-trimmed with missing as "", numerics as float64 with NaN for missing."""
    columns: dict[str, Any] = {}
    for var in dataset.variables:
        if var.is_numeric:
            columns[var.name] = pd.Series(numeric_values(frame[var.name]), dtype="float64")
        else:
            columns[var.name] = char_values(frame[var.name])
    return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))


def expected_widths(prepared: pd.DataFrame, dataset: Dataset) -> dict[str, int]:
    """Storage width of every variable of a :func:`xpt_frame` frame (8 for numerics)."""
    return {v.name: 8 if v.is_numeric else char_width(prepared[v.name]) for v in dataset.variables}


# --------------------------------------------------------------------------------------------
# Checks


def _name_problems(where: str, name: str, column: str | None, what: str, sheet: str) -> list[Problem]:
    """XPT-NAME problems of one dataset or variable name."""
    if NAME_PATTERN.fullmatch(name or ""):
        return []
    reasons = []
    if len(name or "") > MAX_NAME:
        reasons.append(f"is {len(name)} characters long (at most {MAX_NAME})")
    if not name or not ("A" <= name[0] <= "Z"):
        reasons.append("does not start with an upper-case letter A-Z")
    if name and re.search(r"[^A-Z0-9]", name):
        reasons.append("contains characters other than A-Z and 0-9")
    return [Problem(where=where, row=None, column=column, value=name,
                    message=f"{what} name {'; '.join(reasons)}",
                    fix=f"rename it in the spec's {sheet} sheet: 1-{MAX_NAME} characters, A-Z and 0-9, "
                        "starting with a letter (SAS V5 transport rules)",
                    rule="XPT-NAME")]


def _label_problems(where: str, label: str, column: str | None, what: str, sheet: str) -> list[Problem]:
    """XPT-LABEL problems of one dataset or variable label."""
    out = []
    label = label or ""
    if not label.strip():
        out.append(Problem(where=where, row=None, column=column, value=label,
                           message=f"{what} has no label",
                           fix=f"give it a label in the spec's {sheet} sheet", rule="XPT-LABEL"))
    if len(label) > MAX_LABEL:
        out.append(Problem(where=where, row=None, column=column, value=label,
                           message=f"{what} label is {len(label)} characters long (at most {MAX_LABEL})",
                           fix=f"shorten the label in the spec's {sheet} sheet to {MAX_LABEL} characters",
                           rule="XPT-LABEL"))
    bad = re.search(_NOT_PRINTABLE, label)
    if bad:
        ch = bad.group(0)
        out.append(Problem(where=where, row=None, column=column, value=label,
                           message=f"{what} label contains {ch!r} (U+{ord(ch):04X}) at character "
                                   f"{bad.start() + 1}; XPT v5 labels hold printable ASCII only",
                           fix=f"replace it with ASCII in the label in the spec's {sheet} sheet",
                           rule="XPT-LABEL"))
    return out


def _order_problems(frame: pd.DataFrame, dataset: Dataset) -> list[Problem]:
    """XPT-ORDER: frame columns must be the spec's variables, each once, in spec order."""
    ds = dataset.name
    expected = list(dataset.variable_names)
    actual = [str(c) for c in frame.columns]
    fix = "make the mapping output exactly the spec's variables in the Variables sheet's Order"
    out = []
    if not expected:
        out.append(Problem(where=ds, row=None, column=None, value=None,
                           message="the spec declares no variables for this dataset",
                           fix="add the dataset's variables to the spec's Variables sheet", rule="XPT-ORDER"))
    for name in sorted({n for n in actual if actual.count(n) > 1}):
        out.append(Problem(where=ds, row=None, column=name, value=None,
                           message=f"column {name} appears {actual.count(name)} times in the frame",
                           fix=fix, rule="XPT-ORDER"))
    for name in (n for n in expected if n not in actual):
        out.append(Problem(where=ds, row=None, column=name, value=None,
                           message=f"spec variable {name} is missing from the frame", fix=fix, rule="XPT-ORDER"))
    for name in (n for n in dict.fromkeys(actual) if n not in expected):
        out.append(Problem(where=ds, row=None, column=name, value=None,
                           message=f"frame column {name} is not a variable of {ds} in the spec",
                           fix=fix + " (or add the variable to the spec)", rule="XPT-ORDER"))
    common_actual = [n for n in dict.fromkeys(actual) if n in expected]
    common_expected = [n for n in expected if n in common_actual]
    if common_actual != common_expected:
        first = next(a for a, e in zip(common_actual, common_expected) if a != e)
        out.append(Problem(where=ds, row=None, column=first, value=None,
                           message=("columns are out of spec order: frame has "
                                    f"{', '.join(common_actual)}; spec order is {', '.join(common_expected)}"),
                           fix=fix, rule="XPT-ORDER"))
    return out


def _char_problems(series: pd.Series, var: Variable, ds: str) -> tuple[list[Problem], pd.Series]:
    """Problems of one character column, and its values as written."""
    s = series.reset_index(drop=True)
    out: list[Problem] = []
    is_text = _is_text_column(s)
    wrong = ~is_text & s.notna().to_numpy()
    for pos in np.flatnonzero(wrong):
        value = s.iloc[pos]
        out.append(Problem(where=ds, row=int(pos) + 1, column=var.name, value=_clip(str(value)),
                           message=f"character variable ({var.data_type}) holds a {type(value).__name__} value",
                           fix="convert the value to text in the mapping, or change Data Type in the spec's "
                               "Variables sheet", rule="XPT-TYPE"))
    text = char_values(s)
    lengths = byte_lengths(text)
    not_printable = re.compile(_NOT_PRINTABLE)
    bad_ascii = _per_unique(text, lambda v: not_printable.search(v) is not None, False).astype(bool)
    if bad_ascii.any():
        found = text[bad_ascii].str.extract(_FIRST_BAD)
        for pos, prefix, ch in zip(np.flatnonzero(bad_ascii), found[0], found[1]):
            value = text.iloc[pos]
            out.append(Problem(where=ds, row=int(pos) + 1, column=var.name, value=_clip(value),
                               message=f"value ({lengths[pos]} bytes) contains {ch!r} (U+{ord(ch):04X}) at "
                                       f"character {len(prefix) + 1}; XPT v5 holds printable ASCII only",
                               fix="replace it with its ASCII equivalent in the raw data or the mapping "
                                   "(FDA Technical Conformance Guide: XPT text is ASCII)", rule="XPT-ASCII"))
    for pos in np.flatnonzero(lengths > MAX_CHAR_BYTES):
        out.append(Problem(where=ds, row=int(pos) + 1, column=var.name, value=_clip(text.iloc[pos]),
                           message=f"value is {lengths[pos]} bytes long; XPT v5 holds at most "
                                   f"{MAX_CHAR_BYTES} bytes per character value",
                           fix="move text beyond 200 bytes to SUPP--/split per SDTMIG 4.5.3.2",
                           rule="XPT-LEN200"))
    if var.length is not None and var.length > MAX_CHAR_BYTES:
        out.append(Problem(where=ds, row=None, column=var.name, value=str(var.length),
                           message=f"spec Length {var.length} exceeds the XPT v5 maximum of {MAX_CHAR_BYTES}",
                           fix=f"set Length to at most {MAX_CHAR_BYTES} in the spec's Variables sheet "
                               "(split longer text per SDTMIG 4.5.3.2)", rule="XPT-LEN200"))
    if var.length is not None and len(lengths) and var.length < lengths.max() <= MAX_CHAR_BYTES:  # > 200: XPT-LEN200
        pos = int(np.argmax(lengths))
        out.append(Problem(where=ds, row=pos + 1, column=var.name, value=_clip(text.iloc[pos]),
                           message=f"longest value is {lengths[pos]} bytes but the spec Length is {var.length}",
                           fix=f"raise Length of {var.name} in the spec's Variables sheet to at least "
                               f"{lengths[pos]}", rule="XPT-LENGTH"))
    return out, text


def _numeric_problems(series: pd.Series, var: Variable, ds: str) -> list[Problem]:
    """Problems of one numeric column: not numbers, or beyond what an IBM double holds."""
    s = series.reset_index(drop=True)
    kind = _numeric_kind(s)
    out: list[Problem] = []
    fix_type = ("convert the values to numbers in the mapping (pd.to_numeric), or change Data Type "
                "in the spec's Variables sheet")
    if kind == "other":
        out.append(Problem(where=ds, row=None, column=var.name, value=str(s.dtype),
                           message=f"numeric variable ({var.data_type}) is stored as {s.dtype}, not numbers",
                           fix=fix_type, rule="XPT-TYPE"))
        try:
            unparsed = pd.to_numeric(s, errors="coerce").isna().to_numpy(dtype=bool)
        except (TypeError, ValueError):
            unparsed = np.ones(len(s), dtype=bool)
        for pos in np.flatnonzero(s.notna().to_numpy(dtype=bool) & unparsed):
            out.append(Problem(where=ds, row=int(pos) + 1, column=var.name, value=_clip(str(s.iloc[pos])),
                               message=f"numeric variable ({var.data_type}) holds a value that is not a number",
                               fix=fix_type, rule="XPT-TYPE"))
        return out
    values = numeric_values(s)
    magnitude = np.abs(values)
    with np.errstate(invalid="ignore"):
        out_of_range = np.isinf(values) | ((magnitude != 0) & ((magnitude < IBM_MIN) | (magnitude >= IBM_LIMIT)))
    for pos in np.flatnonzero(out_of_range):
        out.append(Problem(where=ds, row=int(pos) + 1, column=var.name, value=repr(float(values[pos])),
                           message="value is outside what an IBM double (XPT v5) holds: "
                                   "5.4E-79 <= |x| < 9.0E74 (readstat's converter), or 0",
                           fix="check the derivation; round tiny values to 0 or rescale the unit",
                           rule="XPT-NUMRANGE"))
    if pd.api.types.is_integer_dtype(s):
        too_big = (s.abs() > MAX_EXACT_INT).fillna(False).to_numpy(dtype=bool)
        for pos in np.flatnonzero(too_big):
            out.append(Problem(where=ds, row=int(pos) + 1, column=var.name, value=str(s.iloc[pos]),
                               message="integer beyond 2**53 cannot be stored exactly as a double",
                               fix="store it as text, or check the derivation", rule="XPT-NUMRANGE"))
    return out


def _blank_tail_problems(texts: dict[str, pd.Series], dataset: Dataset, nrows: int) -> list[Problem]:
    """XPT-BLANKTAIL: trailing records blank in every variable read back as padding (dropped)."""
    if nrows == 0 or any(v.is_numeric for v in dataset.variables) or not texts:
        return []
    if len(texts) != len(dataset.variables):
        return []
    blank = np.logical_and.reduce([t.eq("").to_numpy(dtype=bool) for t in texts.values()])
    tail = np.logical_and.accumulate(blank[::-1])[::-1]
    return [Problem(where=dataset.name, row=int(pos) + 1, column=None, value="",
                    message="record is blank in every variable and is among the last records; XPT v5 "
                            "readers (SAS, readstat) take trailing blank records for padding and drop them",
                    fix="drop records with no data in the mapping (every SDTM/ADaM record carries STUDYID)",
                    rule="XPT-BLANKTAIL")
            for pos in np.flatnonzero(tail)]


def check_xpt_frame(frame: pd.DataFrame, dataset: Dataset) -> list[Problem]:
    """Everything pyreadstat does not check before a frame becomes an XPT v5 file.

    Names (``XPT-NAME``), labels (``XPT-LABEL``), column set and order (``XPT-ORDER``), types
    (``XPT-TYPE``), printable ASCII (``XPT-ASCII``), 200-byte values (``XPT-LEN200``), spec Length
    (``XPT-LENGTH``), IBM range (``XPT-NUMRANGE``) and trailing blank records (``XPT-BLANKTAIL``).
    Every violation is reported, not just the first; ``Problem.where`` is the dataset name,
    ``row`` the 1-based record number and ``column`` the variable.
    """
    ds = dataset.name
    out = _name_problems(ds, ds, None, "dataset", "Datasets")
    out += _label_problems(ds, dataset.label, None, "dataset", "Datasets")
    names = [v.name for v in dataset.variables]
    for var in dataset.variables:
        out += _name_problems(ds, var.name, var.name, "variable", "Variables")
        out += _label_problems(ds, var.label, var.name, f"variable {var.name}", "Variables")
    for name in sorted({n for n in names if names.count(n) > 1}):
        out.append(Problem(where=ds, row=None, column=name, value=name,
                           message=f"variable {name} is declared {names.count(name)} times",
                           fix="keep one row per variable in the spec's Variables sheet", rule="XPT-NAME"))
    out += _order_problems(frame, dataset)
    columns = [str(c) for c in frame.columns]
    texts: dict[str, pd.Series] = {}
    for var in dataset.variables:
        if columns.count(var.name) != 1 or names.count(var.name) != 1:
            continue
        if var.is_numeric:
            out += _numeric_problems(frame[var.name], var, ds)
        else:
            found, texts[var.name] = _char_problems(frame[var.name], var, ds)
            out += found
    out += _blank_tail_problems(texts, dataset, len(frame))
    return out


# --------------------------------------------------------------------------------------------
# Writing


def write_xpt(frame: pd.DataFrame, dataset: Dataset, path: Path, created: datetime,
              verify: bool = True, checked: bool = False) -> pd.DataFrame:
    """Write ``frame`` as the XPT v5 file of ``dataset`` at ``path``, atomically.

    Raises :class:`ProblemError` when :func:`check_xpt_frame` finds anything (nothing is written,
    an existing file at ``path`` is left alone). Otherwise writes a temporary file in the same
    folder with pyreadstat (table name, dataset label and variable labels from the spec, character
    widths = longest value in bytes), stamps ``created`` into the headers, and - when ``verify``
    - reads it back with both readers (:func:`verify_xpt`, errors raise :class:`ProblemError`)
    before ``os.replace`` puts it at ``path``. Returns the frame as written (:func:`xpt_frame`).
    ``checked=True`` says the caller has just run :func:`check_xpt_frame` on this frame and stopped
    on any problem, so it is not run a second time.
    """
    problems = [] if checked else check_xpt_frame(frame, dataset)
    if problems:
        raise ProblemError(problems, f"{dataset.name}: {len(problems)} problem(s) stop the XPT file")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prepared = xpt_frame(frame, dataset)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        # Display formats from the spec (e.g. DATE9. on ADaM dates) go into the NAMESTR format fields;
        # they never change a value or a width. Variables without one get none (the SDTM default).
        formats = {v.name: v.display_format for v in dataset.variables if v.display_format}
        # pyreadstat iterates the values one by one: a plain object column is much faster to walk than a
        # pandas string array (same values, same bytes written)
        plain = prepared.astype({v.name: object for v in dataset.variables if not v.is_numeric})
        try:
            pyreadstat.write_xport(plain, str(tmp), file_label=dataset.label,
                                   column_labels=[v.label for v in dataset.variables],
                                   table_name=dataset.name, file_format_version=5,
                                   variable_format=formats or None)
        except pyreadstat.ReadstatError as exc:  # the C writer's I/O failure (disk full, size limit)
            raise OSError(errno.EIO, f"the XPT writer could not write {path.name} ({exc}; is the disk full?)",
                          str(path)) from exc
        del plain
        data = patch_timestamps(tmp.read_bytes(), created)
        with open(tmp, "r+b") as fh:
            for start, end in TIMESTAMP_RANGES:
                fh.seek(start)
                fh.write(data[start:end])
            fh.flush()
            os.fsync(fh.fileno())
        if tmp.read_bytes() != data:
            raise RuntimeError(f"{tmp}: timestamps were not rewritten")
        if verify:
            errors = [p for p in verify_xpt(tmp, frame, dataset, prepared) if p.severity != "Notice"]
            if errors:
                raise ProblemError(errors, f"{dataset.name}: the written XPT file does not read back as written")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return prepared


def _fsync_dir(folder: Path) -> None:
    """Best-effort fsync of a folder so a rename survives a crash (no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------------
# Reading the raw layout


@dataclass(frozen=True)
class XptVariable:
    """One NAMESTR record."""

    name: str
    label: str
    type: str  # "char" or "num"
    length: int  # storage width in bytes
    varnum: int
    position: int  # offset within the record
    format: str


@dataclass(frozen=True)
class XptHeader:
    """The header of a single-member XPT v5 file, parsed from its bytes."""

    dataset_name: str
    dataset_label: str
    created: str
    modified: str
    member_created: str
    member_modified: str
    variables: tuple[XptVariable, ...]
    record_length: int
    data_offset: int
    data_length: int  # bytes after the OBS header, padding included

    @property
    def widths(self) -> dict[str, int]:
        """Storage width by variable name."""
        return {v.name: v.length for v in self.variables}


def _text(raw: bytes) -> str:
    return raw.decode("latin-1").rstrip(" \x00")


def parse_xpt_header(data: bytes) -> XptHeader:
    """Parse library, member and NAMESTR headers of a one-member XPT v5 file (ValueError if not)."""
    for offset, expected in _HEADERS.items():
        if data[offset:offset + len(expected)] != expected:
            raise ValueError(f"not an XPT v5 file: expected {expected!r} at byte {offset}")
    if data[80:88] != b"SAS     " or data[400:408] != b"SAS     ":
        raise ValueError("not an XPT v5 file: no SAS header records")
    count = int(data[614:618])
    variables = []
    for i in range(count):
        start = 640 + i * NAMESTR_LEN
        (ntype, _hfun, length, varnum, name, label, form, flen, fdec, _fj, _fill, _iform, _ifl, _ifd,
         pos, _rest) = _NAMESTR.unpack(data[start:start + NAMESTR_LEN])
        fmt = f"{_text(form)}{flen or ''}.{fdec or ''}" if (_text(form) or flen) else ""
        variables.append(XptVariable(name=_text(name), label=_text(label), type="num" if ntype == 1 else "char",
                                     length=length, varnum=varnum, position=pos, format=fmt))
    obs = 640 + math.ceil(count * NAMESTR_LEN / CARD) * CARD
    if data[obs:obs + len(_OBS_HEADER)] != _OBS_HEADER:
        raise ValueError(f"not a one-member XPT v5 file: no OBS header at byte {obs}")
    return XptHeader(dataset_name=_text(data[408:416]), dataset_label=_text(data[512:552]),
                     created=_text(data[144:160]), modified=_text(data[160:176]),
                     member_created=_text(data[464:480]), member_modified=_text(data[480:496]),
                     variables=tuple(variables), record_length=sum(v.length for v in variables),
                     data_offset=obs + CARD, data_length=len(data) - obs - CARD)


def readstat_row_count(header: XptHeader, data: bytes) -> int:
    """Records readstat (like SAS) finds: whole records, less the trailing ones blank in every byte."""
    length = header.record_length
    if length == 0:
        return 0
    n = header.data_length // length
    if n == 0:
        return 0
    body = np.frombuffer(data, dtype=np.uint8, count=n * length, offset=header.data_offset).reshape(n, length)
    blank = (body == 0x20).all(axis=1)
    return int(n - np.logical_and.accumulate(blank[::-1]).sum())


def pandas_row_count(header: XptHeader, data: bytes) -> int:
    """Records ``pandas.read_sas`` reports (its ``_record_count``, see the module docstring)."""
    length, total = header.record_length, header.data_length
    if length == 0:
        return 0
    if length > CARD:
        return total // length
    last = np.frombuffer(data[len(data) - CARD:], dtype=np.uint64)
    blank_words = int((last == np.frombuffer(_BLANK_WORD, dtype=np.uint64)[0]).sum())
    return (total - 8 * blank_words) // length


# --------------------------------------------------------------------------------------------
# Reading back


def _pandas_read(path: Path, header: XptHeader) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    """pandas.read_sas of ``path`` with its metadata and any warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pd.read_sas(path, format="xport", encoding="utf-8", iterator=True) as reader:
            if reader.nobs > 0:
                frame = reader.read()
            else:  # read_sas raises StopIteration for a file without records
                frame = pd.DataFrame({f["name"].decode("latin-1"): pd.Series(
                    [], dtype="float64" if f["ntype"] == "numeric" else "str") for f in reader.fields})
            fields = reader.fields
            member = reader.member_info
    meta = {
        "dataset_name": str(member["set_name"]).strip(),
        "dataset_label": str(member["label"]).strip(),
        "column_names": [f["name"].decode("latin-1").strip() for f in fields],
        "column_labels": {f["name"].decode("latin-1").strip(): f["label"].decode("latin-1").strip()
                          for f in fields},
        "widths": {f["name"].decode("latin-1").strip(): int(f["field_length"]) for f in fields},
        "types": {f["name"].decode("latin-1").strip(): "num" if f["ntype"] == "numeric" else "char"
                  for f in fields},
        "rows": len(frame),
    }
    return frame.reset_index(drop=True), meta, [str(w.message) for w in caught]


def read_xpt_both(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read ``path`` with pyreadstat and with ``pandas.read_sas``; also parse its raw header.

    Returns pyreadstat's frame and a metadata dict: ``dataset_name``, ``dataset_label``,
    ``column_names``, ``column_labels`` (name -> label), ``widths`` (name -> storage width),
    ``types`` (name -> "char"/"num") and ``rows`` as pyreadstat reports them; ``pandas`` (the same
    keys from pandas, plus ``frame`` and ``warnings``); ``header`` (:class:`XptHeader` from the
    bytes); ``readstat_rows_expected`` and ``pandas_rows_expected`` (record counts the two readers
    must report, from the bytes).
    """
    path = Path(path)
    frame, meta = _pyreadstat_read(path, _byte_facts(path))
    pframe, pmeta, pwarnings = _pandas_read(path, meta["header"])
    pmeta["frame"] = pframe
    pmeta["warnings"] = pwarnings
    meta["pandas"] = pmeta
    return frame, meta


def _byte_facts(path: Path) -> dict[str, Any]:
    """The raw header and the record counts each reader must report, from the file's bytes."""
    data = path.read_bytes()
    header = parse_xpt_header(data)
    return {"header": header, "readstat_rows_expected": readstat_row_count(header, data),
            "pandas_rows_expected": pandas_row_count(header, data)}


def _pyreadstat_read(path: Path, facts: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """pyreadstat's frame and metadata (keys as in :func:`read_xpt_both`, plus ``facts``)."""
    frame, rmeta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
    frame = frame.reset_index(drop=True)
    meta = {
        "dataset_name": rmeta.table_name or "",
        "dataset_label": rmeta.file_label or "",
        "column_names": list(rmeta.column_names),
        "column_labels": {k: (v or "") for k, v in rmeta.column_names_to_labels.items()},
        "widths": {k: int(v) for k, v in rmeta.variable_storage_width.items()},
        "types": {k: "char" if v == "string" else "num" for k, v in rmeta.readstat_variable_types.items()},
        "rows": len(frame),
        **facts,
    }
    return frame, meta


def pandas_reader_trustworthy(path_or_meta: Path | str | Mapping[str, Any]) -> bool:
    """True when ``pandas.read_sas`` reports the file's true record count.

    Accepts a path or the metadata dict of :func:`read_xpt_both`. The true count is readstat's
    (the count SAS finds); pandas' count is predicted from the bytes (:func:`pandas_row_count`).
    """
    if isinstance(path_or_meta, Mapping):
        return path_or_meta["pandas_rows_expected"] == path_or_meta["readstat_rows_expected"]
    data = Path(path_or_meta).read_bytes()
    header = parse_xpt_header(data)
    return pandas_row_count(header, data) == readstat_row_count(header, data)


# --------------------------------------------------------------------------------------------
# Verification


def _verify_problem(ds: str, message: str, row: int | None = None, column: str | None = None,
                    value: str | None = None, severity: str = "Error", rule: str = "XPT-VERIFY") -> Problem:
    fix = ("" if severity == "Notice" else
           "the file does not hold what was written (a full disk or a file-size limit cuts a file short without an "
           "error): free disk space and run again; if it persists, keep the file out of the submission and report it")
    return Problem(where=ds, row=row, column=column, value=value, message=message, fix=fix,
                   severity=severity, rule=rule)


def _namestr_meta(header: XptHeader) -> dict[str, Any]:
    """The raw headers' metadata in the keys :func:`_compare_metadata` reads."""
    return {"dataset_name": header.dataset_name, "dataset_label": header.dataset_label,
            "column_names": [v.name for v in header.variables],
            "column_labels": {v.name: v.label for v in header.variables},
            "types": {v.name: v.type for v in header.variables},
            "widths": {v.name: v.length for v in header.variables}}


def _compare_metadata(ds: str, reader: str, meta: Mapping[str, Any], dataset: Dataset,
                      widths: dict[str, int]) -> list[Problem]:
    """Dataset name/label, variable order, labels, types and widths as one reader reports them."""
    out = []
    if meta["dataset_name"] != dataset.name:
        out.append(_verify_problem(ds, f"{reader} reads dataset name {meta['dataset_name']!r}, expected "
                                       f"{dataset.name!r}", value=meta["dataset_name"]))
    if meta["dataset_label"] != dataset.label.rstrip(" "):
        out.append(_verify_problem(ds, f"{reader} reads dataset label {meta['dataset_label']!r}, expected "
                                       f"{dataset.label!r}", value=meta["dataset_label"]))
    if list(meta["column_names"]) != list(dataset.variable_names):
        out.append(_verify_problem(ds, f"{reader} reads variables {', '.join(meta['column_names'])}; spec "
                                       f"order is {', '.join(dataset.variable_names)}"))
        return out
    for var in dataset.variables:
        name = var.name
        if meta["column_labels"].get(name, "") != var.label.rstrip(" "):
            out.append(_verify_problem(ds, f"{reader} reads label {meta['column_labels'].get(name)!r}, "
                                           f"expected {var.label!r}", column=name,
                                       value=meta["column_labels"].get(name)))
        kind = "num" if var.is_numeric else "char"
        if meta["types"].get(name) != kind:
            out.append(_verify_problem(ds, f"{reader} reads type {meta['types'].get(name)}, expected {kind}",
                                       column=name))
        if meta["widths"].get(name) != widths[name]:
            out.append(_verify_problem(ds, f"{reader} reads width {meta['widths'].get(name)}, expected "
                                           f"{widths[name]} (longest value in bytes)", column=name,
                                       value=str(meta["widths"].get(name))))
    return out


def _compare_values(ds: str, reader: str, got: pd.DataFrame, prepared: pd.DataFrame, dataset: Dataset,
                    rows: int) -> list[Problem]:
    """Compare the first ``rows`` records of ``got`` with the frame as written, value by value."""
    out = []
    zero_notice = []
    for var in dataset.variables:
        name = var.name
        if name not in got.columns:
            continue
        if var.is_numeric:
            exp = prepared[name].to_numpy(dtype="float64")[:rows]
            act = pd.to_numeric(got[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)[:rows]
            both_nan = np.isnan(exp) & np.isnan(act)
            with np.errstate(invalid="ignore"):
                close = np.abs(act - exp) <= IBM_REL_TOL * np.abs(exp)
            pandas_zero = (exp == 0) & (act == PANDAS_IBM_ZERO) if reader == "pandas" else np.zeros(rows, bool)
            if pandas_zero.any():
                zero_notice.append(name)
            bad = ~(both_nan | close | pandas_zero)
            for pos in np.flatnonzero(bad):
                out.append(_verify_problem(ds, f"{reader} reads {act[pos]!r}, written {exp[pos]!r} "
                                               f"(beyond IBM precision {IBM_REL_TOL:.3g} relative)",
                                           row=int(pos) + 1, column=name, value=repr(float(act[pos]))))
        else:
            exp = prepared[name].iloc[:rows]
            col = got[name].iloc[:rows].reset_index(drop=True)
            act = pd.Series(_per_unique(col, lambda v: str(v).rstrip(" "), ""), dtype=object)
            bad = (exp.to_numpy(dtype=object) != act.to_numpy(dtype=object))
            for pos in np.flatnonzero(bad):
                out.append(_verify_problem(ds, f"{reader} reads {_clip(act.iloc[pos])!r}, written "
                                               f"{_clip(exp.iloc[pos])!r}", row=int(pos) + 1, column=name,
                                           value=_clip(act.iloc[pos])))
    if zero_notice:
        out.append(_verify_problem(
            ds, f"pandas.read_sas reads the IBM zero as 5.397605e-79 (pandas-dev/pandas#50670) in "
                f"{', '.join(zero_notice)}; pyreadstat reads 0 and the bytes are zero, so the file is right",
            severity="Notice", rule="XPT-PANDAS-ZERO"))
    return out


def read_header_bytes(path: Path) -> bytes:
    """The library, member and NAMESTR headers of an XPT v5 file and its OBS header (not the records)."""
    with open(path, "rb") as fh:
        head = fh.read(640)
        try:
            count = int(head[614:618])
        except ValueError:
            return head  # not an XPT file: parse_xpt_header says why
        return head + fh.read(math.ceil(count * NAMESTR_LEN / CARD) * CARD + CARD)


def header_problems(data: bytes, dataset: Dataset, widths: dict[str, int], created: datetime) -> list[Problem]:
    """How the headers ``data`` (:func:`read_header_bytes`) differ from those :func:`write_xpt` gives ``dataset``.

    Compares, from the raw bytes alone (no reader): dataset name and label, variable order,
    labels, types and widths (``widths``: :func:`expected_widths` of the frame), the display
    formats the spec declares, and the four created/modified stamps (``created``). An empty list
    means a file written by :func:`write_xpt` from the same records would have the same headers;
    the package uses it to take a verified file as it is instead of writing it again.
    """
    ds = dataset.name
    try:
        header = parse_xpt_header(data)
        stamped = patch_timestamps(data[:CARD * 8], created)
    except (ValueError, RuntimeError) as exc:
        return [_verify_problem(ds, f"not an XPT file as written: {exc}")]
    out = _compare_metadata(ds, "NAMESTR", _namestr_meta(header), dataset, widths)
    if out:
        return out
    for var, got in zip(dataset.variables, header.variables):
        if (var.display_format or "").strip().upper() != got.format.upper():
            out.append(_verify_problem(ds, f"the file has display format {got.format!r}, the spec "
                                           f"{var.display_format or ''!r}", column=var.name, value=got.format))
    if stamped != data[:CARD * 8]:
        out.append(_verify_problem(ds, f"the file's created/modified stamps are not {created.isoformat()}"))
    return out


def verify_xpt(path: Path, frame: pd.DataFrame, dataset: Dataset,
               prepared: pd.DataFrame | None = None) -> list[Problem]:
    """Read ``path`` back with pyreadstat and pandas and compare with ``frame`` as written.

    Compares dataset name and label, variable order, labels, types, widths (longest value in
    bytes, also from the raw NAMESTR records) and every value: characters after removing trailing
    blanks, numerics within :data:`IBM_REL_TOL` relative (NaN matches NaN). pandas' record-count
    blind spot (module docstring) is tolerated only when its count equals
    :func:`pandas_row_count`'s prediction, with a Notice; any other difference is an Error.
    ``prepared`` is ``xpt_frame(frame, dataset)`` when the caller has it already.
    """
    ds = dataset.name
    path = Path(path)

    def unreadable(exc: Exception) -> list[Problem]:
        return [_verify_problem(ds, f"the file cannot be read back: {type(exc).__name__}: {exc}", value=str(path))]

    # One reader at a time, each frame released after its comparison: the peak memory is the frame
    # written plus one copy read back, not two.
    try:
        meta = _byte_facts(path)
        got, meta = _pyreadstat_read(path, meta)
    except Exception as exc:  # any reader failing is a finding, not a crash
        return unreadable(exc)
    if prepared is None:
        prepared = xpt_frame(frame, dataset)
    n = len(prepared)
    widths = expected_widths(prepared, dataset)
    header: XptHeader = meta["header"]
    out = _compare_metadata(ds, "NAMESTR", _namestr_meta(header), dataset, widths)
    out += _compare_metadata(ds, "pyreadstat", meta, dataset, widths)
    if meta["rows"] != n:
        out.append(_verify_problem(ds, f"pyreadstat reads {meta['rows']} records, {n} were written"))
    out += _compare_values(ds, "pyreadstat", got, prepared, dataset, min(n, meta["rows"]))
    del got

    try:
        pframe, pmeta, pwarnings = _pandas_read(path, header)
    except Exception as exc:
        return out + unreadable(exc)
    out += _compare_metadata(ds, "pandas", pmeta, dataset, widths)
    for text in pwarnings:
        out.append(_verify_problem(ds, f"pandas warns: {text}"))
    m = len(pframe)
    if m != n:
        if m == meta["pandas_rows_expected"] and n == meta["readstat_rows_expected"]:
            out.append(_verify_problem(
                ds, f"pandas.read_sas reads {m} records, {n} were written: with a record length of "
                    f"{header.record_length} bytes (<= 80) it counts the 8-byte blank words of the last "
                    "80-byte card as padding, and blank values there look like padding; pyreadstat reads "
                    "all records and the file is right", severity="Notice", rule="XPT-PANDAS-ROWS"))
            if m > n:
                extra = pframe.iloc[n:]
                filled = [c for c in extra.columns
                          if not extra[c].isna().all()
                          and not extra[c].astype(object).astype(str).str.strip().eq("").all()]
                if filled:
                    out.append(_verify_problem(ds, f"pandas reads {m - n} extra records that are not blank "
                                                   f"(in {', '.join(filled)})"))
        else:
            out.append(_verify_problem(ds, f"pandas.read_sas reads {m} records, {n} were written "
                                           f"(predicted {meta['pandas_rows_expected']})"))
    out += _compare_values(ds, "pandas", pframe, prepared, dataset, min(n, m))
    return out
