"""SUPP-- records from a hand-built AE frame."""

from __future__ import annotations

import pandas as pd

from sdtm.supp import build_supp, value_text
from subgen.core.spec.model import Dataset

AE = Dataset("AE", "Adverse Events", "EVENTS", "One record per event per subject", ("USUBJID", "AESEQ"), ())
QUALIFIERS = [
    {"qnam": "AETRTEM", "qlabel": "Treatment Emergent Flag", "column": "AETRTEM", "qorig": "Derived", "qeval": ""},
    {"qnam": "AEINFUS", "qlabel": "Infusion Related", "column": "AEINFUS", "qorig": "CRF", "qeval": "INVESTIGATOR"},
]


def ae_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "STUDYID": ["S1"] * 4, "USUBJID": ["S1-2", "S1-1", "S1-1", "S1-1"], "AESEQ": [1.0, 10.0, 2.0, 1.0],
        "AETRTEM": ["Y", "Y", "", "Y"], "AEINFUS": ["N", "x" * 201, "Y", " "],
        "__file": "ae.csv", "__row": [5, 4, 3, 2]})


def test_build_supp_records() -> None:
    supp, problems = build_supp(ae_frame(), AE, QUALIFIERS)
    got = [tuple(r) for r in supp[["USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QVAL", "QORIG"]].itertuples(index=False)]
    # Blank AETRTEM (S1-1 seq 2) and blank AEINFUS (S1-1 seq 1) make no record; IDVARVAL order 1, 2, 10.
    assert got == [
        ("S1-1", "AESEQ", "1", "AETRTEM", "Y", "Derived"),
        ("S1-1", "AESEQ", "2", "AEINFUS", "Y", "CRF"),
        ("S1-1", "AESEQ", "10", "AEINFUS", "x" * 201, "CRF"),
        ("S1-1", "AESEQ", "10", "AETRTEM", "Y", "Derived"),
        ("S1-2", "AESEQ", "1", "AEINFUS", "N", "CRF"),
        ("S1-2", "AESEQ", "1", "AETRTEM", "Y", "Derived"),
    ]
    assert list(supp.columns) == ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL",
                                  "QORIG", "QEVAL", "__file", "__row"]
    assert supp["__row"].tolist() == [2, 3, 4, 4, 5, 5]  # each record keeps its parent's raw row
    assert set(supp["RDOMAIN"]) == {"AE"} and set(supp["STUDYID"]) == {"S1"}
    assert supp.loc[1, "QLABEL"] == "Infusion Related" and supp.loc[1, "QEVAL"] == "INVESTIGATOR"
    assert pd.isna(supp.loc[0, "QEVAL"])  # blank QEVAL is missing, not ""
    # The 201-byte value is kept whole and reported as an error at its raw row.
    [p] = problems
    assert (p.severity, p.where, p.row, p.column, p.rule) == ("Error", "ae.csv", 4, "AEINFUS", "SUPP-QVAL-LENGTH")
    assert "201 bytes" in p.message


def test_multibyte_length_counts_bytes() -> None:
    frame = ae_frame().iloc[[0]].assign(AEINFUS="é" * 101)  # 202 bytes, 101 characters
    _, problems = build_supp(frame, AE, QUALIFIERS[1:])
    assert len(problems) == 1 and "202 bytes" in problems[0].message


def test_dm_has_no_idvar_and_numbers_have_no_trailing_zero() -> None:
    dm = pd.DataFrame({"STUDYID": ["S1"], "USUBJID": ["S1-1"], "HEIGHT": [172.0]})
    supp, problems = build_supp(dm, Dataset("DM", "Demographics", "SPECIAL PURPOSE", "", ("USUBJID",), ()),
                                [{"qnam": "HEIGHT", "qlabel": "Height", "column": "HEIGHT", "qorig": "CRF"}])
    assert supp.loc[0, "QVAL"] == "172" and pd.isna(supp.loc[0, "IDVAR"]) and pd.isna(supp.loc[0, "IDVARVAL"])
    assert not problems
    assert value_text(pd.Series([1.5, 2.0, None])).tolist() == ["1.5", "2", pd.NA]
