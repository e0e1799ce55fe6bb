"""subgen/core/xpt/verify.py: read-back verification with pyreadstat, pandas.read_sas and the raw header."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from xpt_cases import CREATED, DM, dm_frame, errors, make_dataset, relative_error, var

from subgen.core.spec.model import Dataset
from subgen.core.xpt.checks import IBM_LIMIT, IBM_MIN
from subgen.core.xpt.header import parse_xpt_header
from subgen.core.xpt.verify import IBM_REL_TOL, pandas_reader_trustworthy, read_xpt_both, verify_xpt
from subgen.core.xpt.write import write_xpt


def test_verify_finds_a_changed_value(tmp_path: Path) -> None:
    path = tmp_path / "dm.xpt"
    write_xpt(dm_frame(), DM, path, CREATED)
    data = bytearray(path.read_bytes())
    header = parse_xpt_header(bytes(data))
    pos = header.data_offset + header.record_length * 2 + 7  # record 3, USUBJID
    data[pos:pos + 3] = b"XYZ"
    path.write_bytes(bytes(data))
    found = [(p.rule, p.row, p.column) for p in errors(verify_xpt(path, dm_frame(), DM))]
    assert found == [("XPT-VERIFY", 3, "USUBJID"), ("XPT-VERIFY", 3, "USUBJID")]  # both readers
    other = dm_frame()
    other.loc[0, "WEIGHT"] = 70.25 * (1 + 4 * IBM_REL_TOL)
    assert [(p.row, p.column) for p in errors(verify_xpt(path, other, DM))][-1] == (1, "WEIGHT")


def test_verify_finds_wrong_labels_and_order(tmp_path: Path) -> None:
    path = tmp_path / "dm.xpt"
    write_xpt(dm_frame(), DM, path, CREATED)
    relabelled = make_dataset([var(v.name, v.label + "!", v.data_type, v.length) for v in DM.variables],
                              label="Other")
    found = errors(verify_xpt(path, dm_frame(), relabelled))
    assert len(found) == 3 * (1 + len(DM.variables))  # NAMESTR, pyreadstat, pandas
    reordered = make_dataset([DM.variables[1], DM.variables[0], *DM.variables[2:]])
    assert any("spec order" in p.message for p in verify_xpt(path, dm_frame()[list(reordered.variable_names)],
                                                             reordered))


def narrow_case() -> tuple[Dataset, pd.DataFrame]:
    """Record length 16 <= 80: record 3's blank B is an 8-byte blank word in the last card."""
    ds = make_dataset([var("A", "First", length=8), var("B", "Second", length=8)], "NW", "Narrow")
    return ds, pd.DataFrame({"A": ["ABCDEFGH", "IJKLMNOP", "QRS"], "B": ["12345678", "87654321", ""]})


def test_pandas_drops_a_record_ending_in_blanks(tmp_path: Path) -> None:
    ds, frame = narrow_case()
    path = tmp_path / "nw.xpt"
    write_xpt(frame, ds, path, CREATED)  # verify inside write_xpt tolerates it
    got, meta = read_xpt_both(path)
    # 3 records x 16 bytes = 48 bytes + 32 padding: 4 padding words + record 3's blank B = 5 blank words
    assert meta["header"].record_length == 16 and meta["header"].data_length == 80
    assert len(got) == 3 and meta["readstat_rows_expected"] == 3
    assert len(meta["pandas"]["frame"]) == meta["pandas_rows_expected"] == (80 - 5 * 8) // 16 == 2
    assert not pandas_reader_trustworthy(path) and not pandas_reader_trustworthy(meta)
    problems = verify_xpt(path, frame, ds)
    assert [(p.severity, p.rule) for p in problems] == [("Notice", "XPT-PANDAS-ROWS")]
    # only that case: a frame that really differs is still an error for both readers
    longer = pd.concat([frame, frame.iloc[:1]], ignore_index=True)
    found = errors(verify_xpt(path, longer, ds))
    assert any("pyreadstat reads 3 records, 4" in p.message for p in found)
    assert any("pandas.read_sas reads 2 records, 4" in p.message for p in found)
    # the same records with B filled in the last record: pandas is right again
    frame.loc[2, "B"] = "x"
    write_xpt(frame, ds, path, CREATED)
    assert pandas_reader_trustworthy(path) and verify_xpt(path, frame, ds) == []


def test_pandas_adds_blank_records_below_8_bytes(tmp_path: Path) -> None:
    ds = make_dataset([var("F", "Flag", length=1)], "FL", "Flags")
    frame = pd.DataFrame({"F": ["Y"] * 73})  # 73 bytes + 7 padding: no blank word, 80 // 1 records
    path = tmp_path / "fl.xpt"
    write_xpt(frame, ds, path, CREATED)
    got, meta = read_xpt_both(path)
    assert len(got) == 73 and len(meta["pandas"]["frame"]) == meta["pandas_rows_expected"] == 80
    assert meta["pandas"]["frame"]["F"].iloc[73:].eq("").all()
    assert [p.rule for p in verify_xpt(path, frame, ds)] == ["XPT-PANDAS-ROWS"]


def test_ibm_precision_bound_over_the_range(tmp_path: Path) -> None:
    rng = np.random.default_rng(20240305)
    values = rng.uniform(-1, 1, 20_000) * 10.0 ** rng.uniform(-70, 70, 20_000)
    top = np.nextafter(IBM_LIMIT, 0)
    edges = [IBM_MIN, -IBM_MIN, top, -top, 1 / 3, 0.1, 2.0 ** 53, 1e-70, -1e70]
    values = np.concatenate([values, edges])
    ds = make_dataset([var("AVAL", "Analysis Value", "float")], "AD", "Analysis")
    frame = pd.DataFrame({"AVAL": values})
    path = tmp_path / "ad.xpt"
    write_xpt(frame, ds, path, CREATED)
    got, meta = read_xpt_both(path)
    assert relative_error(got["AVAL"].to_numpy(), values).max() == 0.0
    assert relative_error(meta["pandas"]["frame"]["AVAL"].to_numpy(), values).max() == 0.0
