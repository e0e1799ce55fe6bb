"""export/datasetjson.py: Dataset-JSON v1.1 documents on a hand-made frame, checked against the CDISC schema."""

from __future__ import annotations

import json
from datetime import datetime

import jsonschema
import numpy as np
import pandas as pd
import pytest

from export.datasetjson import (
    column_type,
    dataset_json_dict,
    dataset_json_header,
    read_dataset_json,
    write_dataset_json,
)
from subgen.core.spec.model import Dataset, Variable
from subgen.core.xpt.values import expected_widths, xpt_frame

CREATED = datetime(2026, 10, 31, 0, 0, 0)


def _adsl() -> Dataset:
    v = [Variable("ADSL", "STUDYID", "Study Identifier", "text", 12, 1),
         Variable("ADSL", "USUBJID", "Unique Subject Identifier", "text", 20, 2),
         Variable("ADSL", "AGE", "Age", "integer", 8, 3),
         Variable("ADSL", "BMIBL", "Baseline BMI (kg/m^2)", "float", 8, 4),
         Variable("ADSL", "TRTSDT", "Date of First Exposure to Treatment", "integer", 8, 5, display_format="DATE9."),
         Variable("ADSL", "RFSTDTC", "Subject Reference Start Date/Time", "datetime", 16, 6)]
    return Dataset("ADSL", "Subject-Level Analysis Dataset", "SUBJECT LEVEL ANALYSIS DATASET", "One record per subject",
                   ("STUDYID", "USUBJID"), tuple(v), purpose="Analysis")


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"STUDYID": ["S1", "S1", "S1"], "USUBJID": ["S1-001  ", "S1-002", "S1-003"],
                         "AGE": [64.0, np.nan, 30.0], "BMIBL": [22.5, 30.125, np.nan],
                         "TRTSDT": [23390.0, 0.0, np.nan], "RFSTDTC": ["2024-01-15T09:30", "", None]})


def _doc() -> dict:
    ds, frame = _adsl(), _frame()
    widths = expected_widths(xpt_frame(frame, ds), ds)
    return dataset_json_dict(frame, ds, name="ADSL", label=ds.label, widths=widths, study_oid="ST.S1",
                             mdv_oid="MDV.S1.ADaMIG.1.3", created=CREATED,
                             item_oid={v.name: f"IT.ADSL.{v.name}" for v in ds.variables})


def test_column_types_follow_the_dataset_json_table():
    ds = _adsl()
    assert [column_type(v) for v in ds.variables] == [("string", None), ("string", None), ("integer", None),
                                                     ("float", None), ("date", "integer"), ("datetime", None)]
    assert column_type(Variable("X", "ADTM", "x", "integer", 8, 1, display_format="DATETIME20.")) == ("datetime",
                                                                                                        "integer")
    assert column_type(Variable("X", "ATM", "x", "integer", 8, 1, display_format="TIME8.")) == ("time", "integer")
    assert column_type(Variable("X", "AESTDTC", "x", "partialDate", 10, 1)) == ("date", None)


def test_rows_hold_the_values_as_written_to_xpt():
    doc = _doc()
    # 2024-01-15 is 64 years (16 leap days) + 14 days after 1960-01-01: 64 * 365 + 16 + 14 = 23390
    assert doc["rows"] == [["S1", "S1-001", 64, 22.5, "2024-01-15", "2024-01-15T09:30"],
                           ["S1", "S1-002", None, 30.125, "1960-01-01", None],
                           ["S1", "S1-003", 30, None, None, None]]
    assert doc["records"] == 3 and doc["itemGroupOID"] == "IG.ADSL" and doc["metaDataRef"] == "define.xml"
    cols = {c["name"]: c for c in doc["columns"]}
    assert cols["USUBJID"] == {"itemOID": "IT.ADSL.USUBJID", "name": "USUBJID", "label": "Unique Subject Identifier",
                               "dataType": "string", "length": 6, "keySequence": 2}
    assert cols["TRTSDT"]["targetDataType"] == "integer" and cols["TRTSDT"]["displayFormat"] == "DATE9."
    assert "length" not in cols["AGE"] and "length" not in cols["RFSTDTC"]
    assert doc["datasetJSONCreationDateTime"] == "2026-10-31T00:00:00" and doc["datasetJSONVersion"] == "1.1.0"


def _write(path, chunk: int = 20_000) -> None:
    ds, frame = _adsl(), _frame()
    prepared = xpt_frame(frame, ds)
    header = dataset_json_header(ds, name="ADSL", label=ds.label, records=len(prepared),
                                 widths=expected_widths(prepared, ds), study_oid="ST.S1", mdv_oid="MDV.S1.ADaMIG.1.3",
                                 created=CREATED, item_oid={v.name: f"IT.ADSL.{v.name}" for v in ds.variables})
    write_dataset_json(path, header, prepared, ds, chunk=chunk)


def test_written_file_is_schema_valid_and_reads_back(tmp_path, reference):
    schema = json.loads((reference / "dataset-json-1.1" / "schema" / "dataset.schema.json").read_text())
    path = tmp_path / "adsl.json"
    _write(path)
    assert json.loads(path.read_text()) == _doc()  # the streamed file is the whole document
    jsonschema.validate(json.loads(path.read_text()), schema)
    frame, meta = read_dataset_json(path)
    assert meta["name"] == "ADSL" and "rows" not in meta
    expected = xpt_frame(_frame(), _adsl())
    assert frame["USUBJID"].tolist() == expected["USUBJID"].tolist()
    assert frame["TRTSDT"].tolist()[:2] == [23390.0, 0.0] and np.isnan(frame["TRTSDT"].iloc[2])
    assert frame["RFSTDTC"].tolist() == ["2024-01-15T09:30", "", ""]
    # one metadata line, then one line per record: stable, diff-friendly bytes
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 3 + 1 and lines[-1] == "]}"
    _write(tmp_path / "again.json", chunk=2)  # written two records at a time: the same bytes
    assert (tmp_path / "again.json").read_bytes() == path.read_bytes()


def test_an_empty_dataset_has_no_rows(tmp_path, reference):
    ds = _adsl()
    empty = _frame().iloc[0:0]
    doc = dataset_json_dict(empty, ds, name="ADSL", label=ds.label, widths={v.name: 1 for v in ds.variables},
                            study_oid="ST.S1", mdv_oid="MDV", created=CREATED,
                            item_oid={v.name: f"IT.ADSL.{v.name}" for v in ds.variables})
    assert doc["records"] == 0 and "rows" not in doc
    write_dataset_json(tmp_path / "e.json", doc, xpt_frame(empty, ds), ds)
    schema = json.loads((reference / "dataset-json-1.1" / "schema" / "dataset.schema.json").read_text())
    jsonschema.validate(json.loads((tmp_path / "e.json").read_text()), schema)
    frame, _ = read_dataset_json(tmp_path / "e.json")
    assert list(frame.columns) == list(ds.variable_names) and len(frame) == 0


def test_encode_record_writes_what_json_dumps_writes():
    from export.datasetjson import _dumps, encode_record

    records = [["é ü", "tab\there", 'quote " and \\', None, 0, -3, 1.5, 1e-300, 12345678901234567890, True, ""],
               [], ["\u2028", 2.0 ** 60]]
    assert [encode_record(r) for r in records] == [_dumps(r) for r in records]
    for bad in ([float("nan")], [float("inf")]):
        with pytest.raises(ValueError):
            encode_record(bad)
    with pytest.raises(TypeError):
        encode_record([object()])


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 20_000])
def test_read_written_blocks_gives_the_records_in_blocks(tmp_path, chunk):
    from export.datasetjson import read_written_blocks

    path = tmp_path / "adsl.json"
    _write(path)
    blocks = list(read_written_blocks(path, chunk=chunk))
    meta, rows = blocks[0], [r for b in blocks[1:] for r in b]
    assert all(1 <= len(b) <= chunk for b in blocks[1:]) and len(blocks) - 1 == -(-3 // chunk)
    assert meta == {k: v for k, v in _doc().items() if k != "rows"}
    assert rows == _doc()["rows"]


def test_read_written_blocks_refuses_a_file_not_as_written(tmp_path):
    from export.datasetjson import read_written_blocks

    path = tmp_path / "adsl.json"
    _write(path)
    text = path.read_text()
    first, *records, last = text.splitlines(keepends=True)
    broken = {
        "no end": first + "".join(records),
        "text after the end": text + "{}\n",
        "a missing comma": first + records[0].replace("],", "]") + "".join(records[1:]) + last,
        "a comma after the last record": first + "".join(records[:-1]) + records[-1].replace("]\n", "],\n") + last,
        "a half line": text[:-1],
        "a value cut": first + records[0][:20] + "\n" + "".join(records[1:]) + last,
    }
    for what, body in broken.items():
        path.write_text(body)
        with pytest.raises(ValueError):
            list(read_written_blocks(path, chunk=2)), what


def test_package_json_verification_names_record_variable_and_value(tmp_path):
    from export.define import DefineGroup
    from export.package import _json_problems

    ds, path = _adsl(), tmp_path / "adsl.json"
    _write(path)
    prepared = xpt_frame(_frame(), ds)
    group = DefineGroup("ADSL", ds, ds.label, "adsl.json", prepared, expected_widths(prepared, ds))
    assert _json_problems(path, ds, group) == []
    path.write_text(path.read_text().replace('"S1-003",30', '"S1-003",31'))
    problems = _json_problems(path, ds, group)
    assert [(p.row, p.column, p.value, p.rule) for p in problems] == [(3, "AGE", "31", "JSON-VERIFY")]
    path.write_text(path.read_text().replace('"S1-003",31', '"S1-003",30').replace('"2024-01-15",', '"2024-01-16",'))
    assert [(p.row, p.column) for p in _json_problems(path, ds, group)] == [(1, "TRTSDT")]
    _write(path)
    head, first, second, _third, end = path.read_text().splitlines()
    path.write_text("\n".join([head, first, second.rstrip(","), end]) + "\n")  # the last record lost
    assert [p.message for p in _json_problems(path, ds, group)] == ["2 records read back, 3 written"]
    path.write_text("\n".join([head, first, second, end]) + "\n")  # ... and the file no longer valid
    assert [p.message for p in _json_problems(path, ds, group)] == [
        "cannot be read back: the records do not end with a record"]
