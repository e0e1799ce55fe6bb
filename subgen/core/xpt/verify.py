"""Read-back verification of XPT v5 files with two independent readers and the raw header.

:func:`verify_xpt` reads a written file back with pyreadstat (:func:`subgen.core.xpt.read.read_xpt`)
and with ``pandas.read_sas``, parses its NAMESTR records (:mod:`subgen.core.xpt.header`), and
compares names, labels, types, widths and every value with the frame as written
(:func:`subgen.core.xpt.values.xpt_frame`). :func:`header_problems` compares the headers alone,
from the bytes. Differences are :class:`~subgen.core.problems.Problem` rows (``XPT-VERIFY``).

Precision
    Every double in the range :mod:`subgen.core.xpt.checks` admits round-trips exactly; the
    comparison still allows the relative tolerance :data:`IBM_REL_TOL` = 2**-52, the most a
    reader truncating an IBM fraction wider than 53 bits (a file written by SAS itself) can lose;
    the tests assert the error is 0.

pandas.read_sas blind spots (pandas 3.1.1, ``pandas/io/sas/sas_xport.py``)
    1. Record count. With a record length of at most 80 bytes pandas counts blank 8-byte words of
       the last card as padding (:func:`subgen.core.xpt.header.pandas_row_count` reproduces the
       rule from the bytes); :func:`verify_xpt` tolerates a pandas record count that differs from
       the truth only when it equals that prediction, and says so with a Notice.
    2. Zero. pandas decodes the IBM zero (eight zero bytes) as 16**-65 = 5.397605346934028e-79
       (pandas-dev/pandas#50670); :func:`verify_xpt` accepts exactly that value for an expected 0
       and says so with a Notice.
    3. No records. ``read_sas`` raises ``StopIteration`` for a file with no records, so
       :func:`read_xpt_both` reads through the ``XportReader`` and builds the empty frame itself.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from subgen.core.problems import Problem
from subgen.core.spec.model import Dataset
from subgen.core.xpt.header import CARD, XptHeader, pandas_row_count, parse_xpt_header, readstat_row_count
from subgen.core.xpt.read import read_xpt
from subgen.core.xpt.timestamps import patch_timestamps
from subgen.core.xpt.values import clip, expected_widths, per_unique, xpt_frame

#: Relative tolerance verify_xpt allows for IBM-float precision (see the module docstring).
IBM_REL_TOL = 2.0 ** -52
#: What pandas.read_sas returns for an IBM zero (pandas-dev/pandas#50670).
PANDAS_IBM_ZERO = 16.0 ** -65


def _pandas_read(path: Path, header: XptHeader) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    """pandas.read_sas of ``path`` with its metadata and any warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pd.read_sas(path, format="xport", encoding="utf-8", iterator=True) as xport_reader:
            reader: Any = xport_reader  # pandas-stubs' XportReader omits nobs, fields and member_info
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
    frame, rmeta = read_xpt(path)
    frame = frame.reset_index(drop=True)
    meta = {
        "dataset_name": rmeta.dataset_name,
        "dataset_label": rmeta.dataset_label,
        "column_names": list(rmeta.column_names),
        "column_labels": dict(rmeta.column_labels),
        "widths": dict(rmeta.widths),
        "types": dict(rmeta.types),
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
            exp_text = prepared[name].iloc[:rows]
            col = got[name].iloc[:rows].reset_index(drop=True)
            act_text = pd.Series(per_unique(col, lambda v: str(v).rstrip(" "), ""), dtype=object)
            bad = (exp_text.to_numpy(dtype=object) != act_text.to_numpy(dtype=object))
            for pos in np.flatnonzero(bad):
                out.append(_verify_problem(ds, f"{reader} reads {clip(act_text.iloc[pos])!r}, written "
                                               f"{clip(exp_text.iloc[pos])!r}", row=int(pos) + 1, column=name,
                                           value=clip(act_text.iloc[pos])))
    if zero_notice:
        out.append(_verify_problem(
            ds, f"pandas.read_sas reads the IBM zero as 5.397605e-79 (pandas-dev/pandas#50670) in "
                f"{', '.join(zero_notice)}; pyreadstat reads 0 and the bytes are zero, so the file is right",
            severity="Notice", rule="XPT-PANDAS-ZERO"))
    return out



def header_problems(data: bytes, dataset: Dataset, widths: dict[str, int], created: datetime) -> list[Problem]:
    """How the headers ``data`` (:func:`~subgen.core.xpt.header.read_header_bytes`) differ from those
    :func:`~subgen.core.xpt.write.write_xpt` gives ``dataset``.

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
