"""Values and widths exactly as they go into an XPT v5 file (shared by checks, write and verify).

Character widths
    pyreadstat (1.3.7) gives every character variable the storage width of its longest value in
    UTF-8 bytes, at least 1 (``get_narwhals_str_series_max_length`` in its writer; missing values
    are skipped, a column that is empty everywhere gets width 1). ``variable_format`` (``"$12."``)
    only fills the NAMESTR format fields and never changes the width. The spec Length is therefore
    not what ends up in the file: trailing blanks (insignificant in SAS) are stripped before
    writing (:func:`char_values`), so the width is the longest right-trimmed value in bytes
    (:func:`char_width`), and verification parses the NAMESTR records back to prove it.

Numbers
    Every numeric variable is an 8-byte IBM hexadecimal float. pyreadstat would insert an int64
    column through ``int32`` (overflow), so numerics are converted to float64 first
    (:func:`numeric_values`).

Missing values
    A missing character value is written as blanks (``""`` here), a missing numeric (NaN) as the
    SAS missing value ``.`` (0x2E followed by seven zero bytes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from subgen.core.spec.model import Dataset


def clip(value: str, limit: int = 60) -> str:
    """``value`` cut to ``limit`` characters for messages (``...`` marks the cut)."""
    return value if len(value) <= limit else value[:limit] + "..."


def is_text_column(series: pd.Series) -> np.ndarray:
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
    is_text = is_text_column(s)
    # each distinct value is trimmed once (clinical columns repeat few values many times)
    text = pd.Series(per_unique(s, lambda v: v.rstrip(" ") if isinstance(v, str) else "", ""), dtype=object)
    return text.where(is_text, "").astype(str)


def per_unique(series: pd.Series, func: Callable[[Any], Any], missing: Any) -> np.ndarray:
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
    return per_unique(text, lambda v: len(v.encode("utf-8")), 0).astype(np.int64)


def char_width(text: pd.Series) -> int:
    """Storage width pyreadstat gives a character column: longest value in bytes, at least 1."""
    lengths = byte_lengths(text)
    return int(max(1, lengths.max(initial=0)))


def numeric_kind(series: pd.Series) -> str:
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
    kind = numeric_kind(s)
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
