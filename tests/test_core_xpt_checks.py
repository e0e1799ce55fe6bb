"""subgen/core/xpt/checks.py: every violation an XPT v5 file cannot hold, collected before anything is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from xpt_cases import CREATED, DM, dm_frame, make_dataset, rules, var

from subgen.core.problems import ProblemError
from subgen.core.spec.model import Variable
from subgen.core.xpt.checks import IBM_MIN, check_xpt_frame
from subgen.core.xpt.write import write_xpt


def one_var(v: Variable, values: list, name: str = "DM", label: str = "Demographics") -> tuple:
    ds = make_dataset([var("STUDYID", "Study Identifier", length=8, dataset=name), v], name, label)
    return ds, pd.DataFrame({"STUDYID": ["S1"] * len(values), v.name: values})


def test_clean_frame_has_no_problems() -> None:
    assert check_xpt_frame(dm_frame(), DM) == []


def test_label_of_41_characters() -> None:
    label = "L" * 41
    ds, frame = one_var(var("AETERM", label, length=20), ["HEADACHE"])
    assert rules(check_xpt_frame(frame, ds)) == [("XPT-LABEL", None, "AETERM", label)]
    p = check_xpt_frame(frame, ds)[0]
    assert "41 characters" in p.message and p.where == "DM"
    assert p.fix == "shorten the label in the spec's Variables sheet to 40 characters"
    ds40, frame40 = one_var(var("AETERM", "L" * 40, length=20), ["HEADACHE"])
    assert check_xpt_frame(frame40, ds40) == []
    ds_long, frame_long = one_var(var("AETERM", "Term", length=20), ["X"], label="D" * 41)
    assert rules(check_xpt_frame(frame_long, ds_long)) == [("XPT-LABEL", None, None, "D" * 41)]


def test_non_ascii_label() -> None:
    ds, frame = one_var(var("AETERM", "Terme rapporté", length=20), ["HEADACHE"])
    (p,) = check_xpt_frame(frame, ds)
    assert (p.rule, p.column, p.value) == ("XPT-LABEL", "AETERM", "Terme rapporté")
    assert "U+00E9" in p.message


def test_non_ascii_value() -> None:
    ds, frame = one_var(var("AETERM", "Reported Term", length=20), ["HEADACHE", "CAFÉ AU LAIT", "NAUSEA"])
    (p,) = check_xpt_frame(frame, ds)
    assert (p.rule, p.where, p.row, p.column, p.value) == ("XPT-ASCII", "DM", 2, "AETERM", "CAFÉ AU LAIT")
    assert "'É' (U+00C9) at character 4" in p.message and "13 bytes" in p.message
    ds, frame = one_var(var("AETERM", "Reported Term", length=20), ["é", "tab\there"])
    assert rules(check_xpt_frame(frame, ds)) == [("XPT-ASCII", 1, "AETERM", "é"),
                                                 ("XPT-ASCII", 2, "AETERM", "tab\there")]


def test_value_of_201_bytes() -> None:
    value = "A" * 150 + "B" * 51
    ds, frame = one_var(var("COVAL", "Comment", length=None), ["short", "x" * 200, value])
    (p,) = check_xpt_frame(frame, ds)
    assert (p.rule, p.row, p.column) == ("XPT-LEN200", 3, "COVAL")
    assert p.value == "A" * 60 + "..."
    assert "201 bytes" in p.message
    assert p.fix == "move text beyond 200 bytes to SUPP--/split per SDTMIG 4.5.3.2"
    # trailing blanks are insignificant in XPT: 200 bytes of text plus blanks is fine
    ds, frame = one_var(var("COVAL", "Comment"), ["y" * 200 + "   "])
    assert check_xpt_frame(frame, ds) == []


def test_variable_name_of_9_characters() -> None:
    ds, frame = one_var(var("AETERMXYZ", "Reported Term", length=20), ["HEADACHE"])
    (p,) = check_xpt_frame(frame, ds)
    assert (p.rule, p.row, p.column, p.value) == ("XPT-NAME", None, "AETERMXYZ", "AETERMXYZ")
    assert "9 characters" in p.message


def test_dataset_name_with_a_path(tmp_path: Path) -> None:
    ds, frame = one_var(var("AETERM", "Reported Term", length=20, dataset="../x"), ["HEADACHE"], name="../x")
    (p,) = check_xpt_frame(frame, ds)
    assert (p.rule, p.where, p.column, p.value) == ("XPT-NAME", "../x", None, "../x")
    target = tmp_path / "out" / "x.xpt"
    with pytest.raises(ProblemError):
        write_xpt(frame, ds, target, CREATED)
    assert list(tmp_path.iterdir()) == []


def test_lower_case_names() -> None:
    ds, frame = one_var(var("age", "Age", "integer"), [30], name="dm")
    found = rules(check_xpt_frame(frame, ds))
    assert ("XPT-NAME", None, None, "dm") in found
    assert ("XPT-NAME", None, "age", "age") in found
    assert len(found) == 2
    ds, frame = one_var(var("1AGE", "Age", "integer"), [30])
    assert rules(check_xpt_frame(frame, ds)) == [("XPT-NAME", None, "1AGE", "1AGE")]


def test_wrong_column_order() -> None:
    frame = dm_frame()[["STUDYID", "AGE", "USUBJID", "WEIGHT", "SEX", "COMMENT"]]
    (p,) = check_xpt_frame(frame, DM)
    assert (p.rule, p.row, p.column) == ("XPT-ORDER", None, "AGE")
    assert "STUDYID, USUBJID, AGE" in p.message


def test_missing_and_extra_columns() -> None:
    frame = dm_frame().drop(columns="SEX").assign(RACE="WHITE")
    found = rules(check_xpt_frame(frame, DM))
    assert found == [("XPT-ORDER", None, "SEX", None), ("XPT-ORDER", None, "RACE", None)]


def test_spec_length_too_short() -> None:
    ds, frame = one_var(var("AETERM", "Reported Term", length=8), ["HEADACHE", "NAUSEA", "DIZZINESS", "RASH"])
    (p,) = check_xpt_frame(frame, ds)
    assert (p.rule, p.row, p.column, p.value) == ("XPT-LENGTH", 3, "AETERM", "DIZZINESS")
    assert "9 bytes" in p.message and "Length is 8" in p.message


def test_numeric_variable_holding_text() -> None:
    ds, frame = one_var(var("AGE", "Age", "integer"), ["34", "unknown", None])
    found = rules(check_xpt_frame(frame, ds))
    assert found[0][0:3] == ("XPT-TYPE", None, "AGE")
    assert found[1:] == [("XPT-TYPE", 2, "AGE", "unknown")]
    ds, frame = one_var(var("AETERM", "Reported Term", length=8), ["A", 5])
    assert rules(check_xpt_frame(frame, ds)) == [("XPT-TYPE", 2, "AETERM", "5")]
    ds, frame = one_var(var("AGE", "Age", "integer"), pd.Series([30, None], dtype=object).tolist())
    assert check_xpt_frame(frame, ds) == []  # an object column of numbers is numbers


def test_numbers_beyond_ibm_range() -> None:
    below = np.nextafter(IBM_MIN, 0)
    values = [1.0, 1e-80, -1e76, np.inf, 2.0 ** 249, np.nextafter(2.0 ** 249, 0), IBM_MIN, below, 0.0]
    ds, frame = one_var(var("AVAL", "Analysis Value", "float"), values)
    found = [(p.rule, p.row) for p in check_xpt_frame(frame, ds)]
    assert found == [("XPT-NUMRANGE", 2), ("XPT-NUMRANGE", 3), ("XPT-NUMRANGE", 4), ("XPT-NUMRANGE", 5),
                     ("XPT-NUMRANGE", 8)]
    ds, frame = one_var(var("AVAL", "Analysis Value", "integer"), [2 ** 53, 2 ** 53 + 1])
    assert rules(check_xpt_frame(frame, ds)) == [("XPT-NUMRANGE", 2, "AVAL", str(2 ** 53 + 1))]


def test_trailing_blank_records_are_refused(tmp_path: Path) -> None:
    ds = make_dataset([var("A", "A"), var("B", "B")], "XX", "Only Text")
    frame = pd.DataFrame({"A": ["x", "", "y", "", None], "B": ["", "", "", " ", None]})
    assert rules(check_xpt_frame(frame, ds)) == [("XPT-BLANKTAIL", 4, None, ""), ("XPT-BLANKTAIL", 5, None, "")]
    # why: written anyway, readstat (like SAS) takes them for padding and drops them
    raw = tmp_path / "raw.xpt"
    pyreadstat.write_xport(frame.fillna(""), str(raw), table_name="XX", file_format_version=5)
    assert len(pyreadstat.read_xport(str(raw))[0]) == 3
    # a blank record followed by data is kept by every reader
    assert check_xpt_frame(frame.iloc[:3], ds) == []


def test_every_violation_is_collected() -> None:
    ds = make_dataset([var("STUDYID", "S" * 41, length=3), var("aeterm", "Term", length=4),
                       var("AGE", "Age", "integer")], "dm", "Demographics")
    frame = pd.DataFrame({"STUDYID": ["S1", "é" * 3], "aeterm": ["x" * 201, "ok"], "AGE": ["a", 1]})
    found = {p.rule for p in check_xpt_frame(frame, ds)}
    assert found == {"XPT-NAME", "XPT-LABEL", "XPT-ASCII", "XPT-LENGTH", "XPT-LEN200", "XPT-TYPE"}
