"""The one XPT v5 reader: every stage reads an XPT file through :func:`read_xpt` (pyreadstat).

The SDTM, ADaM, validation, package and report stages all read with :func:`read_xpt`, so they see a
file the same way: the same frame, the same metadata and the same names for it (:class:`XptMeta`).
Read-back verification (:mod:`subgen.core.xpt.verify`) reads with it too, and keeps pandas'
``read_sas`` as the second, independent reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat


@dataclass(frozen=True)
class XptMeta:
    """What the reader reports about one file besides its records."""

    dataset_name: str  # the member name ("" when none)
    dataset_label: str  # "" when none
    column_names: tuple[str, ...]  # in file order
    column_labels: dict[str, str]  # name -> label, "" when none
    widths: dict[str, int]  # name -> storage width in bytes (8 for numerics)
    types: dict[str, str]  # name -> "char" or "num"
    created: datetime | None  # the header's created stamp
    rows: int | None  # records read; None with metadata_only (XPT v5 stores no record count)


def read_xpt(path: Path | str, *, convert_dates: bool = False, columns: Sequence[str] | None = None,
             metadata_only: bool = False, share_text: bool = False) -> tuple[pd.DataFrame, XptMeta]:
    """Read the XPT v5 file at ``path``: its records as a frame and its :class:`XptMeta`.

    ``convert_dates=False`` (the default) keeps every numeric as the number written (SAS dates
    are days since 1960-01-01); ``True`` turns variables with a date or datetime display format
    (``DATE9.``) into dates, as pyreadstat does by default (what validation and the report
    check). ``columns`` reads only those variables (file order is kept); ``metadata_only`` reads
    no records (an empty frame with the file's columns). ``share_text`` makes equal values of a
    text column one string object (:func:`shared_text`). Records keep pyreadstat's
    representation: text as ``str`` (missing as ``""``), numbers as float64 (missing as NaN).
    Errors of pyreadstat (a damaged file, not an XPT file) propagate.
    """
    frame, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=not convert_dates,
                                        usecols=list(columns) if columns is not None else None,
                                        metadataonly=metadata_only)
    if share_text:
        frame = shared_text(frame)
    return frame, _meta(meta, None if metadata_only else len(frame))


def _meta(meta: Any, rows: int | None) -> XptMeta:
    """pyreadstat's metadata container as an :class:`XptMeta`."""
    return XptMeta(
        dataset_name=str(meta.table_name or ""),
        dataset_label=str(meta.file_label or ""),
        column_names=tuple(meta.column_names),
        column_labels={str(k): str(v or "") for k, v in (meta.column_names_to_labels or {}).items()},
        widths={k: int(v) for k, v in meta.variable_storage_width.items()},
        types={k: "char" if v == "string" else "num" for k, v in meta.readstat_variable_types.items()},
        created=meta.creation_time if isinstance(meta.creation_time, datetime) else None,
        rows=rows,
    )


def shared_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each text column's equal values sharing one string object (same values, same dtypes).

    The XPT reader makes a new string for every cell; a million-record dataset repeats a few thousand
    values, so sharing them keeps the package in memory at a fraction of the size.
    """
    out = {}
    for col in frame.columns:
        s = frame[col]
        if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            codes, uniques = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=True)
            values = uniques.astype(object)[codes]
            values[codes < 0] = s.to_numpy(dtype=object)[codes < 0]  # nulls as they were
            s = pd.Series(values, index=s.index, dtype=s.dtype, name=s.name)
        out[col] = s
    return pd.DataFrame(out, index=frame.index)
