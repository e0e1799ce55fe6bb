"""export/split.py: exact XPT sizes and splits by category, then by subject, worked out by hand.

The hand-made LB below has 4 variables (STUDYID 3 bytes, USUBJID 1, LBCAT 4, LBSTRESN 8: a record
is 16 bytes). Headers: 640 + ceil(4 * 140 / 80) * 80 = 560 NAMESTR bytes + 80 (OBS) = 1280 bytes;
records fill 80-byte cards. So 25 records (400 bytes) make 1680 bytes, 10 records (160) 1440,
5 records (80) 1360, 4 or 3 records (64/48 -> one card) 1360, 7 records (112 -> two cards) 1440.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from export.split import part_frames, plan_split, split_variable, xpt_file_size
from subgen.core.problems import ProblemError
from subgen.core.spec.model import Dataset, Variable
from subgen.core.xpt.values import expected_widths, xpt_frame
from subgen.core.xpt.write import write_xpt

CREATED = datetime(2024, 1, 1)


def _lb(name: str = "LB", extra: list[Variable] | None = None) -> Dataset:
    cat = "PARCAT1" if name.startswith("AD") else "LBCAT"
    variables = [Variable(name, "STUDYID", "Study Identifier", "text", 3, 1),
                 Variable(name, "USUBJID", "Unique Subject Identifier", "text", 1, 2),
                 Variable(name, cat, "Category", "text", 4, 3),
                 Variable(name, "LBSTRESN", "Numeric Result", "float", 8, 4)] + (extra or [])
    return Dataset(name, "Laboratory Test Results", "FINDINGS", "One record per test per subject",
                   ("STUDYID", "USUBJID"), tuple(variables))


def _frame(cat: str = "LBCAT") -> pd.DataFrame:
    rows = []
    for category, subjects in (("HEMA", "AAAABBBCCC"), ("CHEM", "AAAABBBCCC"), ("URIN", "ABCAB")):
        rows += [("ST1", s, category, float(i)) for i, s in enumerate(subjects)]
    return pd.DataFrame(rows, columns=["STUDYID", "USUBJID", cat, "LBSTRESN"])


def test_xpt_file_size_is_the_size_pyreadstat_writes(tmp_path):
    frame, ds = _frame(), _lb()
    assert xpt_file_size(4, 16, 25) == 1680
    write_xpt(frame, ds, tmp_path / "lb.xpt", CREATED)
    assert (tmp_path / "lb.xpt").stat().st_size == 1680
    write_xpt(frame.iloc[:10], ds, tmp_path / "lb10.xpt", CREATED)
    assert (tmp_path / "lb10.xpt").stat().st_size == xpt_file_size(4, 16, 10) == 1440


def test_no_split_when_the_file_fits():
    assert plan_split(_frame(), _lb(), 1680) is None


def test_widths_given_decide_without_measuring_and_give_the_same_plan():
    frame, ds = _frame(), _lb()
    widths = expected_widths(xpt_frame(frame, ds), ds)
    assert widths == {"STUDYID": 3, "USUBJID": 1, "LBCAT": 4, "LBSTRESN": 8}  # 16 bytes a record: 1680 bytes
    assert plan_split(frame, ds, 1680, widths) is None
    given, measured = plan_split(frame, ds, 1500, widths), plan_split(frame, ds, 1500)
    assert [(p.name, p.values, p.rows.tolist(), p.size) for p in given.parts] == \
        [(p.name, p.values, p.rows.tolist(), p.size) for p in measured.parts]
    assert len(given.parts) == 3


def test_split_by_category_one_file_per_category():
    frame = _frame()
    plan = plan_split(frame, _lb(), 1500)
    assert plan.variable == "LBCAT" and plan.whole_size == 1680
    # sorted categories; CHEM+HEMA (20 records, 1600 bytes) and HEMA+URIN (15, 1520) exceed 1500
    assert [(p.name, p.values, len(p.rows), p.size, p.subjects) for p in plan.parts] == [
        ("LB1", ("CHEM",), 10, 1440, False), ("LB2", ("HEMA",), 10, 1440, False), ("LB3", ("URIN",), 5, 1360, False)]
    assert [p.label for p in plan.parts] == ["Laboratory Test Results - CHEM", "Laboratory Test Results - HEMA",
                                              "Laboratory Test Results - URIN"]
    parts = part_frames(frame, plan)
    assert parts[0]["LBCAT"].eq("CHEM").all() and parts[0]["LBSTRESN"].tolist() == list(map(float, range(10)))
    # every record is in exactly one part, and the parts append back into the dataset
    together = pd.concat(parts).sort_index(kind="stable")
    assert sorted(np.concatenate([p.rows for p in plan.parts]).tolist()) == list(range(25))
    assert len(together) == 25


def test_small_categories_share_a_file():
    plan = plan_split(_frame(), _lb(), 1520)
    assert [(p.values, len(p.rows), p.size) for p in plan.parts] == [(("CHEM",), 10, 1440),
                                                                   (("HEMA", "URIN"), 15, 1520)]
    assert plan.parts[1].label == "Laboratory Test Results (2 of 2)"


def test_a_category_too_large_is_divided_by_subject(tmp_path):
    frame, ds = _frame(), _lb()
    plan = plan_split(frame, ds, 1400)
    # CHEM and HEMA (1440 bytes each) exceed 1400: their subjects A (4 records), B (3), C (3) each fit
    # (1360) but two of them do not (7 records: 1440); URIN (1360) stays whole
    assert [(p.name, p.values, len(p.rows), p.subjects, p.subject_range) for p in plan.parts] == [
        ("LB1", ("CHEM",), 4, True, ("A", "A")), ("LB2", ("CHEM",), 3, True, ("B", "B")),
        ("LB3", ("CHEM",), 3, True, ("C", "C")), ("LB4", ("HEMA",), 4, True, ("A", "A")),
        ("LB5", ("HEMA",), 3, True, ("B", "B")), ("LB6", ("HEMA",), 3, True, ("C", "C")),
        ("LB7", ("URIN",), 5, False, None)]
    assert "further by subject" in plan.describe and "lb7.xpt: URIN" in plan.describe
    # the planned size of every part is the size of the file actually written
    for part, sub in zip(plan.parts, part_frames(frame, plan)):
        write_xpt(sub, dataclasses.replace(ds, name=part.name, label=part.label), tmp_path / "p.xpt", CREATED)
        assert (tmp_path / "p.xpt").stat().st_size == part.size <= 1400


def test_narrow_values_make_a_part_smaller():
    frame = _frame()
    frame.loc[frame["LBCAT"].eq("HEMA"), "STUDYID"] = "S"  # HEMA records 14 bytes: 140 -> two cards
    plan = plan_split(frame, _lb(), 1500)
    sizes = {p.values: p.size for p in plan.parts}
    assert sizes[("HEMA",)] == 1280 + 160 and sizes[("CHEM",)] == 1440


def test_null_category_splits_by_subject_only():
    frame = _frame()
    frame.loc[3, "LBCAT"] = ""
    plan = plan_split(frame, _lb(), 1500)
    assert plan.variable is None and all(p.subjects for p in plan.parts)
    # subjects in order of first record: A (10 records: 160 bytes -> 1440), B (8: 128 -> 1440), C (7: 112 ->
    # 1440); two subjects together (15 or more records: 240 bytes -> 1520) exceed 1500
    assert [p.subject_range for p in plan.parts] == [("A", "A"), ("B", "B"), ("C", "C")]
    assert "by subject (USUBJID)" in plan.describe


def test_one_subject_larger_than_the_limit_is_a_problem():
    with pytest.raises(ProblemError) as err:
        plan_split(_frame(), _lb(), 1300)
    problem = err.value.problems[0]
    assert problem.rule == "PKG-SPLIT" and problem.column == "USUBJID" and "1,360-byte" in problem.message


def test_part_names_longer_than_8_characters_are_a_problem():
    ds = _lb("ADLBHEMA")
    with pytest.raises(ProblemError) as err:
        plan_split(_frame("PARCAT1"), ds, 1500)
    assert err.value.problems[0].value == "ADLBHEMA1"


def test_split_variable():
    assert split_variable(_lb()) == "LBCAT"
    assert split_variable(_lb("ADLB")) == "PARCAT1"
    supp = Dataset("SUPPLB", "Supplemental", "RELATIONSHIP", "x", (), (Variable("SUPPLB", "QNAM", "Q", "text", 8, 1),))
    assert split_variable(supp) is None
