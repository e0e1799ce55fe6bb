"""adam.generic and adam.adsl on small hand-built frames with hand-worked results."""

from __future__ import annotations

import pandas as pd
import pytest

from adam.adsl import derive_var_eosstt
from adam.engine import TRACE_COL
from adam.generic import (
    derive_records_sdtm,
    derive_var_aseq,
    derive_var_cat,
    derive_var_code,
    derive_var_codelist,
    derive_var_duration,
    derive_var_dy,
    derive_var_exist_flag,
    derive_vars_merged,
    derive_vars_merged_dt,
)
from subgen.core.spec.model import Codelist, CodelistTerm


def s(values, dtype="string") -> pd.Series:
    return pd.Series(values, dtype=dtype)


def named(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    frame.attrs["name"] = name
    return frame


@pytest.fixture()
def dm() -> pd.DataFrame:
    return named(pd.DataFrame({"STUDYID": s(["X"] * 3), "USUBJID": s(["X-1", "X-2", "X-3"]),
                               "AGE": s([49, 50, 64], "Float64"), "ARM": s(["Placebo", "Active", None]),
                               "RFXSTDTC": s(["2024-01-29T11:20", "2024-02", None])}), "DM")


@pytest.fixture()
def ds() -> pd.DataFrame:
    return named(pd.DataFrame({
        "USUBJID": s(["X-1", "X-1", "X-2", "X-2", "X-3"]),
        "DSSEQ": s([1, 2, 1, 2, 1], "Float64"),
        "DSCAT": s(["PROTOCOL MILESTONE", "DISPOSITION EVENT", "PROTOCOL MILESTONE", "DISPOSITION EVENT",
                    "DISPOSITION EVENT"]),
        "DSDECOD": s(["RANDOMIZED", "COMPLETED", "RANDOMIZED", "ADVERSE EVENT", "SCREEN FAILURE"]),
        "DSSTDTC": s(["2024-01-29", "2026-01-28", "2024-02-05", "2024-12-20", "2024-01-10"])}), "DS")


def test_records_from_sdtm_copy_variables_and_trace(dm: pd.DataFrame, ds: pd.DataFrame) -> None:
    adsl = derive_records_sdtm(pd.DataFrame(), dm, ("STUDYID", "USUBJID", "AGE"))
    assert list(adsl.columns) == ["STUDYID", "USUBJID", "AGE", TRACE_COL]
    assert adsl[TRACE_COL][1] == [("DM", "USUBJID", "USUBJID=X-2")]
    events = derive_records_sdtm(pd.DataFrame(), ds, ("USUBJID", "DSDECOD"), filter="DSCAT = 'DISPOSITION EVENT'")
    assert list(events["DSDECOD"]) == ["COMPLETED", "ADVERSE EVENT", "SCREEN FAILURE"]
    assert events[TRACE_COL][1] == [("DS", "DSSEQ", "DSSEQ=2")]
    with pytest.raises(KeyError, match="no variable"):
        derive_records_sdtm(pd.DataFrame(), dm, ("USUBJID", "RACE"))


def test_merge_with_filter_and_renaming(dm: pd.DataFrame, ds: pd.DataFrame) -> None:
    problems: list = []
    out = derive_vars_merged(dm, ds, ("DCSREAS",), problems, source_vars=("DSDECOD",),
                             filter="DSCAT = 'DISPOSITION EVENT' and DSDECOD != 'COMPLETED'")
    assert out["DCSREAS"].tolist()[1:] == ["ADVERSE EVENT", "SCREEN FAILURE"] and pd.isna(out["DCSREAS"][0])
    assert problems == [] and out.index.equals(dm.index)


def test_ambiguous_merge_is_an_error_unless_mode_says_which(dm: pd.DataFrame, ds: pd.DataFrame) -> None:
    problems: list = []
    derive_vars_merged(dm, ds, ("DSDECOD",), problems)
    assert {p.value for p in problems} == {"X-1", "X-2"} and all(p.rule == "ADAM-MERGE" for p in problems)
    problems = []
    out = derive_vars_merged(dm, ds, ("LASTDS",), problems, source_vars=("DSDECOD",), order=("DSSEQ",),
                             mode="last")
    assert problems == [] and out["LASTDS"].tolist() == ["COMPLETED", "ADVERSE EVENT", "SCREEN FAILURE"]


def test_merged_dates_are_sas_dates_and_partial_ones_are_reported(dm: pd.DataFrame) -> None:
    problems: list = []
    out = derive_vars_merged_dt(dm, dm, ("TRTSDT",), ("RFXSTDTC",), problems)
    # 2024-01-29: 64 years after 1960 with 16 leap days = 23376, plus 28 days.
    assert out["TRTSDT"][0] == 23376 + 28
    assert out["TRTSDT"][1:].isna().all()
    (p,) = problems
    assert p.severity == "Warning" and p.value == "2024-02" and "X-2" in p.message


def test_exist_flag(dm: pd.DataFrame, ds: pd.DataFrame) -> None:
    out = derive_var_exist_flag(dm, "RANDFL", ds, "DSDECOD = 'RANDOMIZED'")
    assert out["RANDFL"].tolist() == ["Y", "Y", "N"]


def test_end_of_study_status(dm: pd.DataFrame, ds: pd.DataFrame) -> None:
    extra = pd.concat([dm, named(pd.DataFrame({"USUBJID": s(["X-4"])}), "DM")], ignore_index=True)
    out = derive_var_eosstt(extra, "EOSSTT", ds, "DSCAT = 'DISPOSITION EVENT'")
    assert out["EOSSTT"].tolist() == ["COMPLETED", "DISCONTINUED", "DISCONTINUED", "ONGOING"]


AGEGR = Codelist("AGEGR1", "Age group", None, "text", None, False,
                 (CodelistTerm("<50", order=1), CodelistTerm(">=50", order=2)))
AGEGRN = Codelist("AGEGR1N", "Age group (N)", None, "integer", None, False,
                  (CodelistTerm("1", decode="<50"), CodelistTerm("2", decode=">=50")))


def test_category_and_its_code(dm: pd.DataFrame) -> None:
    frame = pd.concat([dm, pd.DataFrame({"USUBJID": s(["X-4"]), "AGE": s([None], "Float64")})], ignore_index=True)
    out = derive_var_cat(frame, "AGEGR1", "AGE", (50.0,), AGEGR)
    assert out["AGEGR1"].tolist()[:3] == ["<50", ">=50", ">=50"] and pd.isna(out["AGEGR1"][3])
    problems: list = []
    coded = derive_var_code(out, "AGEGR1N", "AGEGR1", AGEGRN, problems, "ADSL")
    assert coded["AGEGR1N"].tolist()[:3] == [1, 2, 2] and problems == []
    with pytest.raises(ValueError, match="needs 3"):
        derive_var_cat(frame, "AGEGR1", "AGE", (50.0, 65.0), AGEGR)


def test_code_of_an_unknown_value_is_an_error(dm: pd.DataFrame) -> None:
    problems: list = []
    out = derive_var_code(dm, "TRT01PN", "ARM", AGEGRN, problems, "ADSL")
    assert out["TRT01PN"].isna().all()
    assert {p.value for p in problems} == {"Placebo", "Active"} and problems[0].rule == "ADAM-CODELIST"


def test_codelist_mapping_through_synonyms() -> None:
    cl = Codelist("ARELGR1", "Causality group", None, "text", None, False,
                  (CodelistTerm("RELATED", synonyms=("POSSIBLY RELATED",)),
                   CodelistTerm("NOT RELATED", synonyms=("UNLIKELY RELATED",))))
    frame = pd.DataFrame({"AREL": s(["POSSIBLY RELATED", "UNLIKELY RELATED", "RELATED", None, "MAYBE"])})
    problems: list = []
    out = derive_var_codelist(frame, "ARELGR1", "AREL", cl, problems, "ADAE")
    assert out["ARELGR1"].tolist()[:3] == ["RELATED", "NOT RELATED", "RELATED"]
    assert out["ARELGR1"][3:].isna().all() and [p.value for p in problems] == ["MAYBE"]


def test_duration_day_and_sequence() -> None:
    frame = pd.DataFrame({"USUBJID": s(["A", "A", "B"]), "START": s([100, 100, None], "Float64"),
                          "END": s([100, 130, 5], "Float64"), "ORD": s([2, 1, 1], "Float64")})
    assert derive_var_duration(frame, "DUR", "START", "END")["DUR"].tolist()[:2] == [1, 31]
    assert derive_var_dy(frame, "DY", "END", "START")["DY"].tolist()[:2] == [1, 31]
    assert pd.isna(derive_var_dy(frame, "DY", "END", "START")["DY"][2])
    assert derive_var_aseq(frame, "ASEQ", ("ORD",))["ASEQ"].tolist() == [2, 1, 1]
