"""Everything pyreadstat does not check before a frame becomes an XPT v5 file, every violation collected.

:func:`check_xpt_frame` reports names (``XPT-NAME``), labels (``XPT-LABEL``), column set and order
(``XPT-ORDER``), types (``XPT-TYPE``), text an XPT v5 file cannot hold (``XPT-ASCII``, ``XPT-LEN200``),
the spec Length (``XPT-LENGTH``), numbers an IBM double cannot hold (``XPT-NUMRANGE``) and trailing
blank records (``XPT-BLANKTAIL``) as :class:`~subgen.core.problems.Problem` rows, so a bad frame is
never written and nothing is ever truncated silently.

Numbers
    An IBM double has a 56-bit fraction normalised on hex digits, so it holds at least 53
    significant bits, exactly an IEEE double's significand: every finite double with
    ``2**-260 <= |x| < 2**249`` (about 5.4E-79 .. 9.05E74) round-trips *exactly* through readstat
    and pandas (relative error 0; 0 itself is all zero bytes). The format reaches 16**63 (7.2E75),
    but readstat's converter (SAS TS-140 ``cnxptiee``) overflows from 2**249 and writes the IBM
    maximum, which reads back as infinity; below 16**-65 a value underflows to 0. Values outside
    that range are rejected (``XPT-NUMRANGE``), as well as integers beyond 2**53 that float64
    cannot hold.

Blank records look like padding
    Version 5 stores no record count, and readers drop trailing records that are blank in every
    byte (:mod:`subgen.core.xpt.header`). Such a record can only happen when every variable is
    character and empty, so it is rejected (``XPT-BLANKTAIL``) instead of writing a file that loses
    records.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from subgen.core.problems import Problem
from subgen.core.spec.model import Dataset, Variable
from subgen.core.xpt.values import (
    byte_lengths,
    char_values,
    clip,
    is_text_column,
    numeric_kind,
    numeric_values,
    per_unique,
)

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
#: Largest integer float64 holds exactly.
MAX_EXACT_INT = 2 ** 53


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
    is_text = is_text_column(s)
    wrong = ~is_text & s.notna().to_numpy()
    for pos in np.flatnonzero(wrong):
        value = s.iloc[pos]
        out.append(Problem(where=ds, row=int(pos) + 1, column=var.name, value=clip(str(value)),
                           message=f"character variable ({var.data_type}) holds a {type(value).__name__} value",
                           fix="convert the value to text in the mapping, or change Data Type in the spec's "
                               "Variables sheet", rule="XPT-TYPE"))
    text = char_values(s)
    lengths = byte_lengths(text)
    not_printable = re.compile(_NOT_PRINTABLE)
    bad_ascii = per_unique(text, lambda v: not_printable.search(v) is not None, False).astype(bool)
    if bad_ascii.any():
        found = text[bad_ascii].str.extract(_FIRST_BAD)
        for pos, prefix, ch in zip(np.flatnonzero(bad_ascii), found[0], found[1]):
            value = text.iloc[pos]
            out.append(Problem(where=ds, row=int(pos) + 1, column=var.name, value=clip(value),
                               message=f"value ({lengths[pos]} bytes) contains {ch!r} (U+{ord(ch):04X}) at "
                                       f"character {len(prefix) + 1}; XPT v5 holds printable ASCII only",
                               fix="replace it with its ASCII equivalent in the raw data or the mapping "
                                   "(FDA Technical Conformance Guide: XPT text is ASCII)", rule="XPT-ASCII"))
    for pos in np.flatnonzero(lengths > MAX_CHAR_BYTES):
        out.append(Problem(where=ds, row=int(pos) + 1, column=var.name, value=clip(text.iloc[pos]),
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
        longest = int(np.argmax(lengths))
        out.append(Problem(where=ds, row=longest + 1, column=var.name, value=clip(text.iloc[longest]),
                           message=f"longest value is {lengths[longest]} bytes but the spec Length is {var.length}",
                           fix=f"raise Length of {var.name} in the spec's Variables sheet to at least "
                               f"{lengths[longest]}", rule="XPT-LENGTH"))
    return out, text


def _numeric_problems(series: pd.Series, var: Variable, ds: str) -> list[Problem]:
    """Problems of one numeric column: not numbers, or beyond what an IBM double holds."""
    s = series.reset_index(drop=True)
    kind = numeric_kind(s)
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
            out.append(Problem(where=ds, row=int(pos) + 1, column=var.name, value=clip(str(s.iloc[pos])),
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
