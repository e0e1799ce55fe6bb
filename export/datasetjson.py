"""CDISC Dataset-JSON v1.1 files: the same records and metadata as the XPT file beside them.

Built with odmlib's Dataset-JSON 1.1 model (``odmlib.dataset_json_1_1``). One file per dataset
(or per part of a split dataset), named like the XPT file (``dm.json``), carrying:

* ``itemGroupOID``/``itemOID`` equal to the OIDs in the define.xml beside it (``IG.DM``,
  ``IT.DM.USUBJID``), ``studyOID``/``metaDataVersionOID`` equal to define.xml's, and
  ``metaDataRef`` = ``define.xml``;
* per column the name, label, data type, length (character variables: the XPT width), display
  format and key sequence, as the spec and define.xml give them;
* the records in XPT order, values exactly as written to the XPT file: character values with
  trailing blanks removed and missing as ``null``; numbers as JSON numbers (integers for integer
  variables); ADaM numeric dates (a ``DATE9.``-style display format) as ISO 8601 strings with
  ``targetDataType`` ``integer``, as the Dataset-JSON 1.1 specification prescribes.

The creation time is the package's fixed stamp (data cut or ``SOURCE_DATE_EPOCH``), never the
clock, and the JSON text has a fixed layout (one line of metadata, one line per record), so rebuilds are
byte-identical. :func:`read_dataset_json` reads any Dataset-JSON file back as a frame;
:func:`read_written_blocks` reads a file this module wrote a block of records at a time, which is how
the package verifies it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from json import encoder as _enc
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from odmlib.dataset_json_1_1.model import Column, DatasetJSON, SourceSystem

from subgen import __version__
from subgen.core.spec.model import Dataset, Variable
from subgen.core.xpt.values import xpt_frame

DATASET_JSON_VERSION = "1.1.0"
_SAS_EPOCH = date(1960, 1, 1)
#: SAS display formats that show a number of days since 1960-01-01 as a date.
_DATE_FORMAT = re.compile(r"^(DATE|E8601DA|YYMMDD|MMDDYY|DDMMYY|IS8601DA|B8601DA|WORDDATE|MONYY)\d*\.?\d*$",
                          re.IGNORECASE)
_DATETIME_FORMAT = re.compile(r"^(DATETIME|E8601DT|IS8601DT|B8601DT)\d*\.?\d*$", re.IGNORECASE)
_TIME_FORMAT = re.compile(r"^(TIME|E8601TM|IS8601TM|B8601TM|TOD)\d*\.?\d*$", re.IGNORECASE)
#: Define-XML data type -> Dataset-JSON data type for character (ISO 8601) variables.
_CHAR_TYPES = {"text": "string", "date": "date", "partialDate": "date", "datetime": "datetime",
               "partialDatetime": "datetime", "incompleteDatetime": "datetime", "time": "time",
               "partialTime": "time", "durationDatetime": "string"}


def column_type(var: Variable) -> tuple[str, str | None]:
    """(dataType, targetDataType) of a variable in Dataset-JSON 1.1."""
    if not var.is_numeric:
        return _CHAR_TYPES.get(var.data_type, "string"), None
    fmt = (var.display_format or "").strip()
    if _DATE_FORMAT.match(fmt):
        return "date", "integer"
    if _DATETIME_FORMAT.match(fmt):
        return "datetime", "integer"
    if _TIME_FORMAT.match(fmt):
        return "time", "integer"
    return ("integer", None) if var.data_type == "integer" else ("float", None)


_EPOCH64 = np.datetime64("1960-01-01T00:00:00", "s")
#: Records converted and written per block: bounds memory for very large datasets.
CHUNK = 20_000


def _iso(kind: str, values: np.ndarray) -> np.ndarray:
    """SAS date (days), datetime (seconds) or time (seconds) numbers as ISO 8601 text (object array)."""
    if kind == "date":
        return (np.datetime64("1960-01-01", "D") + np.floor(values).astype("int64").astype("timedelta64[D]")).astype(str
                                                                                                       ).astype(object)
    if kind == "datetime":
        return (_EPOCH64 + np.round(values).astype("int64").astype("timedelta64[s]")).astype(str).astype(object)
    seconds = np.round(values).astype("int64")
    return np.array([f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}" for t in seconds.tolist()], dtype=object)


def column_values(var: Variable, values: pd.Series) -> list[Any]:
    """One column's JSON values as written to XPT (None for missing), vectorised."""
    if not var.is_numeric:
        text = values.astype(object).to_numpy()
        out_text = text.copy()
        out_text[text == ""] = None
        return out_text.tolist()
    kind, target = column_type(var)
    numbers = values.to_numpy(dtype="float64")
    missing = np.isnan(numbers)
    out = np.empty(len(numbers), dtype=object)
    filled = ~missing
    if target == "integer":
        out[filled] = _iso(kind, numbers[filled])
    elif kind == "integer":
        whole = filled & (np.floor(numbers) == numbers)
        out[whole] = np.array(numbers[whole].astype("int64").tolist(), dtype=object)
        rest = filled & ~whole
        out[rest] = np.array(numbers[rest].tolist(), dtype=object)
    else:
        out[filled] = np.array(numbers[filled].tolist(), dtype=object)
    out[missing] = None
    return out.tolist()


def dataset_json_header(dataset: Dataset, *, name: str, label: str, records: int, widths: dict[str, int],
                        study_oid: str, mdv_oid: str, created: datetime, item_oid: dict[str, str]) -> dict:
    """The Dataset-JSON 1.1 document without its rows, built with odmlib's model."""
    keys = {k: i for i, k in enumerate(dataset.keys, 1)}
    doc = DatasetJSON(datasetJSONCreationDateTime=created.isoformat(timespec="seconds"),
                      datasetJSONVersion=DATASET_JSON_VERSION, fileOID=f"{study_oid}.{name}",
                      sourceSystem=SourceSystem(name="subgen", version=__version__), studyOID=study_oid,
                      metaDataVersionOID=mdv_oid, metaDataRef="define.xml", itemGroupOID=f"IG.{name}",
                      records=records, name=name, label=label)
    for var in dataset.variables:
        kind, target = column_type(var)
        col = Column(itemOID=item_oid[var.name], name=var.name, label=var.label, dataType=kind)
        if target:
            col.targetDataType = target
        if kind == "string":
            col.length = int(widths[var.name])
        if var.display_format:
            col.displayFormat = var.display_format
        if var.name in keys:
            col.keySequence = keys[var.name]
        doc.add_column(col)
    return doc.to_dict()


def json_rows(prepared: pd.DataFrame, dataset: Dataset) -> list[list[Any]]:
    """The records of ``prepared`` (values as written to XPT, :func:`subgen.core.xpt.values.xpt_frame`) as JSON rows."""
    columns = [column_values(var, prepared[var.name]) for var in dataset.variables]
    return [list(r) for r in zip(*columns)] if columns and len(prepared) else []


def dataset_json_dict(frame: pd.DataFrame, dataset: Dataset, *, name: str, label: str, widths: dict[str, int],
                      study_oid: str, mdv_oid: str, created: datetime, item_oid: dict[str, str]) -> dict:
    """The whole Dataset-JSON 1.1 document of ``frame`` (as written to XPT), rows included (small datasets)."""
    prepared = xpt_frame(frame, dataset)
    doc = dataset_json_header(dataset, name=name, label=label, records=len(prepared), widths=widths,
                              study_oid=study_oid, mdv_oid=mdv_oid, created=created, item_oid=item_oid)
    rows = json_rows(prepared, dataset)
    if rows:
        doc["rows"] = rows
    return doc


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def _no_default(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _record_encoder() -> Callable[[list[Any]], str]:
    """One record (a flat list) as compact ASCII JSON text, exactly as :func:`_dumps` writes it.

    The C encoder is made once (``json.dumps`` with non-default arguments builds a new encoder
    for every call, which dominated writing millions of records); pure-Python builds without it
    fall back to one reused :class:`json.JSONEncoder`.
    """
    c_make_encoder = getattr(_enc, "c_make_encoder", None)  # CPython's C encoder: not in typeshed's json.encoder
    if c_make_encoder is not None:
        make = c_make_encoder(None, _no_default, _enc.encode_basestring_ascii, None, ":", ",",
                                   False, False, False)
        return lambda record: "".join(make(record, 0))
    return json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode


encode_record = _record_encoder()


def write_dataset_json(path: Path, header: dict, prepared: pd.DataFrame, dataset: Dataset, chunk: int = CHUNK) -> None:
    """Write a Dataset-JSON file: one line of metadata, then one record per line (stable bytes).

    The records are converted and written :data:`CHUNK` at a time, so memory stays bounded by the
    frame itself however large the dataset.
    """
    head = _dumps({k: v for k, v in header.items() if k != "rows"})
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        if len(prepared) == 0:
            fh.write(head + "\n")
            return
        fh.write(head[:-1] + ',"rows":[\n')
        for start in range(0, len(prepared), chunk):
            rows = json_rows(prepared.iloc[start:start + chunk], dataset)
            fh.write(("" if start == 0 else ",\n") + ",\n".join(map(encode_record, rows)))
        fh.write("\n]}\n")


_ROWS_OPEN = ',"rows":['


def read_written_blocks(path: Path, chunk: int = CHUNK) -> Iterator[dict | list[list[Any]]]:
    """A file :func:`write_dataset_json` wrote, parsed a block of records at a time (memory stays bounded).

    Yields the document without its rows first, then lists of up to ``chunk`` records as JSON
    gives them (ISO text stays text). Raises ValueError when the file is not valid JSON in the
    layout written (one line of metadata, one record per line, ``]}`` last).
    """
    with open(path, encoding="utf-8", newline="\n") as fh:
        first = fh.readline()
        if not first.endswith("\n"):
            raise ValueError("the metadata line is not complete")
        first = first[:-1]
        if not first.endswith(_ROWS_OPEN):
            yield json.loads(first)
            if fh.read():
                raise ValueError("text after a document without records")
            return
        yield json.loads(first[:-len(_ROWS_OPEN)] + "}")
        lines: list[str] = []
        for line in fh:
            if line == "]}\n":
                if not lines or not lines[-1].endswith("]\n"):
                    raise ValueError("the records do not end with a record")
                yield json.loads("[" + "".join(lines)[:-1] + "]")
                if fh.read():
                    raise ValueError("text after the end of the document")
                return
            if len(lines) == chunk:  # a full block, and more follows: it ends with a comma
                text = "".join(lines)
                if not text.endswith(",\n"):
                    raise ValueError(f"a record line does not end with a comma: {lines[-1][:60]!r}")
                yield json.loads("[" + text[:-2] + "]")
                lines = []
            lines.append(line)
        raise ValueError("the document does not end with ]}")


def read_dataset_json(path: Path) -> tuple[pd.DataFrame, dict]:
    """A Dataset-JSON file as (frame, document without rows); ISO dates of numeric columns become SAS numbers."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    columns = doc.get("columns", [])
    names = [c["name"] for c in columns]
    rows = doc.get("rows", [])
    data = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    out = {}
    for col in columns:
        values = data[col["name"]]
        if col.get("targetDataType") == "integer":
            out[col["name"]] = pd.Series([np.nan if v is None else _sas_number(col["dataType"], v) for v in values],
                                         dtype="float64")
        elif col["dataType"] in ("integer", "float", "double", "decimal"):
            out[col["name"]] = pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
        else:
            out[col["name"]] = pd.Series(["" if v is None else v for v in values], dtype=object)
    meta = {k: v for k, v in doc.items() if k != "rows"}
    return pd.DataFrame(out, columns=names), meta


def _sas_number(kind: str, text: str) -> float:
    if kind == "date":
        return float((date.fromisoformat(text) - _SAS_EPOCH).days)
    if kind == "datetime":
        return (datetime.fromisoformat(text) - datetime(1960, 1, 1)).total_seconds()
    h, m, s = (int(x) for x in text.split(":"))
    return float(h * 3600 + m * 60 + s)


__all__ = ["CHUNK", "DATASET_JSON_VERSION", "column_type", "column_values", "dataset_json_dict", "dataset_json_header",
           "encode_record", "json_rows", "read_dataset_json", "read_written_blocks", "write_dataset_json"]
