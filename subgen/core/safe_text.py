"""Text that stays text in every report a spreadsheet may open (CSV and Excel formula injection).

A raw value such as ``=HYPERLINK("http://x.invalid","y")`` or ``@SUM(1+1)`` must reach a reviewer as
the characters the site typed, never as a live formula (OWASP "CSV injection"). Every report writer
goes through this module:

* **CSV** (:func:`write_csv`, :func:`csv_text`): a *text* cell whose first character is one of
  ``= + - @``, TAB or CR gets a single quote ``'`` in front (``'=1+1``), the way spreadsheet users
  expect; a cell that is a plain number (``-5``, ``+1.5``, ``-1e3``) is left as it is, because a
  spreadsheet reads it as that number and nothing else, and numeric columns are never touched.
* **Excel** (:func:`append_text_row`): every text cell is written as a string cell (never a formula
  ``<f>`` or an error value), so the cell holds exactly the text; a text cell that starts like a
  formula also gets Excel's own "quote prefix" style, so editing the cell keeps it text. Characters
  XML 1.0 cannot carry (control characters other than TAB, LF and CR) become U+FFFD.

A CSV whose text holds a carriage return (CR) quotes every text cell, so the CR stays inside its
cell for every reader (the csv module would otherwise leave it bare and end the row there).

The rule is "neutralise only what a spreadsheet would evaluate": a frame with no such cell is
written exactly as before (same bytes).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: First characters that make a spreadsheet evaluate a cell (OWASP CSV injection list).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: What is put in front of a formula-like CSV text cell.
CSV_PREFIX = "'"
_PLAIN_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
REPLACEMENT = "\ufffd"
#: Texts Excel would otherwise show as an error value.
_ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})


def formula_like(text: str) -> bool:
    """True when a spreadsheet would evaluate ``text`` (it starts with = + - @ TAB or CR and is no plain number)."""
    return text.startswith(FORMULA_PREFIXES) and _PLAIN_NUMBER_RE.fullmatch(text) is None


def neutralise(value: Any) -> Any:
    """One CSV cell: a formula-like string gets ``'`` in front; anything else is returned unchanged."""
    return CSV_PREFIX + value if isinstance(value, str) and formula_like(value) else value


def _str_test(series: pd.Series, test: Callable[[Any], pd.Series]) -> np.ndarray:
    """``test`` (a ``Series.str`` method call) over a column's text cells: a bool array, False for non-text."""
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return np.zeros(len(series), dtype=bool)
    try:
        result = test(series.str)
    except AttributeError:  # an object column without text (numbers only)
        return np.zeros(len(series), dtype=bool)
    return result.fillna(False).to_numpy(dtype=bool)


def neutralise_series(series: pd.Series) -> pd.Series:
    """A column with its formula-like text cells prefixed by ``'`` (numeric columns are returned as they are)."""
    starts = np.flatnonzero(_str_test(series, lambda s: s.startswith(FORMULA_PREFIXES)))
    if not len(starts):
        return series
    values = series.to_numpy(dtype=object).copy()
    where = [i for i in starts if isinstance(values[i], str) and formula_like(values[i])]
    if not where:
        return series
    for i in where:
        values[i] = CSV_PREFIX + values[i]
    return pd.Series(values, index=series.index, name=series.name, dtype=series.dtype)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every formula-like text cell neutralised; the same object when nothing needs it."""
    columns = {}
    for name in frame.columns.unique():
        column = frame[name]
        if isinstance(column, pd.DataFrame):  # repeated column name: leave the frame's layout alone
            return frame.apply(neutralise_series)
        safe = neutralise_series(column)
        if safe is not column:
            columns[name] = safe
    if not columns:
        return frame
    out = frame.copy()
    for name, safe in columns.items():
        out[name] = safe
    return out


def _has_cr(frame: pd.DataFrame) -> bool:
    return any(_str_test(column, lambda s: s.contains("\r", regex=False)).any() for _, column in frame.items())


def _csv_options(frame: pd.DataFrame) -> dict:
    # Python's csv module quotes a field holding the line terminator (LF) but not a lone CR, which a
    # reader then takes for the end of the row; a frame with such text quotes every text cell instead.
    return {"index": False, "lineterminator": "\n", "quoting": csv.QUOTE_NONNUMERIC if _has_cr(frame) else
            csv.QUOTE_MINIMAL}


def csv_text(frame: pd.DataFrame) -> str:
    """The frame as deterministic CSV text (LF, no index), formula-like text cells neutralised."""
    safe = neutralise_frame(frame)
    return safe.to_csv(**_csv_options(safe))


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write the frame as deterministic CSV (UTF-8, LF, no index), formula-like text cells neutralised."""
    safe = neutralise_frame(frame)
    safe.to_csv(path, encoding="utf-8", **_csv_options(safe))


def xml_text(text: str) -> str:
    """``text`` as XML 1.0 (an Excel cell, define.xml) can hold it: the characters XML forbids become U+FFFD."""
    return _XML_ILLEGAL.sub(REPLACEMENT, text)


def append_text_row(ws: Any, values: Iterable[Any]) -> None:
    """Append one row to an openpyxl worksheet, every text value as a string cell (never a formula or error)."""
    values = [xml_text(v) if isinstance(v, str) else v for v in values]
    ws.append(values)
    row = ws.max_row
    for col, value in enumerate(values, 1):
        if isinstance(value, str):
            cell = ws.cell(row, col)
            cell.data_type = "s"
            if formula_like(value) or value in _ERROR_CODES:
                cell.quotePrefix = True


__all__ = ["CSV_PREFIX", "FORMULA_PREFIXES", "REPLACEMENT", "append_text_row", "csv_text", "formula_like",
           "neutralise", "neutralise_frame", "neutralise_series", "write_csv", "xml_text"]
