"""QS (MSQOL-54 for MSEXO01, DQoL for T2DMEXO01) against values worked out by hand from the raw CSVs,
and the primitives that make one record per questionnaire item (column ranges, item topics, form.COL
conditions)."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import read

from sdtm.engine import repeat_items
from subgen.core.spec.model import Source, expand_columns


def test_expand_columns_ranges_lists_and_padding() -> None:
    assert expand_columns("EDSS") == (("EDSS", ""),)
    assert expand_columns("DQOL08..DQOL10") == (("DQOL08", "08"), ("DQOL09", "09"), ("DQOL10", "10"))
    assert [c for c, _ in expand_columns("Q1..Q2, Q5")] == ["Q1", "Q2", "Q5"]
    for bad in ("A01..B03", "Q05..Q01", "Q 1", "Q1..", ""):
        with pytest.raises(ValueError):
            expand_columns(bad)


def test_repeat_items_one_row_per_item_with_lineage() -> None:
    rows = pd.DataFrame({"SUBJID": ["1", "2"], "Q01": ["3", ""], "Q02": ["4", "5"],
                         "__file": "q.csv", "__row": [2, 3]})
    src = Source("QS", "Q", "q", topic_value="QX{n}", result_column="Q01..Q02")
    out = repeat_items(rows, src)
    assert list(zip(out["SUBJID"], out["__topic"], out["__result"], out["__row"])) == [
        ("1", "QX01", "3", 2), ("2", "QX01", "", 3), ("1", "QX02", "4", 2), ("2", "QX02", "5", 3)]


def test_spec_rejects_item_range_without_topic_template(tmp_path) -> None:
    from conftest import ROOT
    from spec_edit import load_tables, save, set_cell

    from subgen.core.problems import ProblemError
    from subgen.core.spec.loader import load_spec

    tables = load_tables(ROOT / "specs" / "t2dm_exo.xlsx")
    row = set_cell(tables, "Sources", {"Source": "DQOLSAT"}, "Topic Value", "DQOL")
    with pytest.raises(ProblemError) as exc:
        load_spec(save(tables, tmp_path / "spec.xlsx"))
    hits = [p for p in exc.value.problems if p.column == "Topic Value" and p.row == row]
    assert hits and "{n}" in hits[0].message and hits[0].value == "DQOL"


def _subject(frame: pd.DataFrame, usubjid: str) -> pd.DataFrame:
    return frame[frame["USUBJID"] == usubjid]


def test_msqol54_101016(built) -> None:
    # msqol54.csv rows 42-44: 101016 Baseline 21-JUN-2024, Month 12 20-JUN-2025, Month 24 18-JUN-2026, 54 items
    # each; Month 12 leaves MSQOL46 and MSQOL50 blank. enrol.csv: SEX 'F', so item 47 is MSQL147W.
    qs = _subject(read(built["ms_exo"], "qs"), "MSEXO01-101016")
    assert len(qs) == 3 * 54
    assert set(qs["QSCAT"]) == {"MSQOL-54"}
    assert "MSQL147M" not in set(qs["QSTESTCD"]) and (qs["QSTESTCD"] == "MSQL147W").sum() == 3
    m12 = qs[qs["VISIT"] == "MONTH 12"].set_index("QSTESTCD")
    assert m12.loc["MSQL101", ["QSORRES", "QSSTRESC", "QSSTRESN"]].tolist() == ["1", "1", 1.0]
    assert m12.loc["MSQL101", "QSTEST"] == "MSQL1-Would You Say Your Health Is"
    assert m12.loc["MSQL153", "QSSTRESN"] == 5.0 and m12.loc["MSQL154", "QSSTRESN"] == 2.0
    not_done = m12[m12["QSSTAT"] == "NOT DONE"]
    assert sorted(not_done.index) == ["MSQL146", "MSQL150"]
    assert (not_done["QSORRES"].fillna("") == "").all() and not_done["QSSTRESN"].isna().all()
    # RFSTDTC 2024-06-21 (first infusion): Month 12 on 2025-06-20 is day 365; baseline items carry QSLOBXFL.
    assert set(m12["QSDTC"]) == {"2025-06-20"} and set(m12["QSDY"]) == {365}
    base = qs[qs["VISIT"] == "BASELINE"]
    assert (base["QSLOBXFL"] == "Y").sum() == 54
    assert (qs.loc[qs["VISIT"] != "BASELINE", "QSLOBXFL"].fillna("") == "").all()
    assert sorted(qs["QSSEQ"]) == list(range(1, 163))


def test_msqol54_item47_follows_sex_spelling_variants(built) -> None:
    # enrol.csv writes sex as 'M', 'F ', 'f', 'Female'...: 101002 is 'M' -> MSQL147M; 101014 is 'f' -> MSQL147W.
    qs = read(built["ms_exo"], "qs")
    assert set(_subject(qs, "MSEXO01-101002")["QSTESTCD"]) >= {"MSQL147M"}
    assert set(_subject(qs, "MSEXO01-101014")["QSTESTCD"]) >= {"MSQL147W"}
    assert qs["QSTESTCD"].notna().all()


def test_dqol_201019_and_201021(built) -> None:
    # dqol.csv row 35: 201019 Month 3 (25-SEP-2025) leaves DQOL09 and DQOL27 blank; DQOL01 = 3, DQOL16 = 3.
    qs = read(built["t2dm_exo"], "qs")
    s19 = _subject(qs, "T2DMEXO01-201019")
    assert len(s19) == 2 * 46 and set(s19["QSCAT"]) == {"DQOL"}
    m3 = s19[s19["VISIT"] == "MONTH 3"].set_index("QSTESTCD")
    assert sorted(m3.index[m3["QSSTAT"] == "NOT DONE"]) == ["DQOL09", "DQOL27"]
    assert m3.loc["DQOL01", ["QSSCAT", "QSORRES", "QSSTRESN"]].tolist() == ["SATISFACTION", "3", 3.0]
    assert m3.loc["DQOL16", ["QSSCAT", "QSTEST"]].tolist() == ["IMPACT", "DQOL-Impact Item 16"]
    assert m3.loc["DQOL36", "QSSCAT"] == "DIABETES-RELATED WORRY"
    assert m3.loc["DQOL46", "QSSCAT"] == "SOCIAL/VOCATIONAL WORRY"
    # 201021 (withdrew): Baseline 19-JUN-2025 and Month 3 16-SEP-2025 questionnaires, 46 items each.
    s21 = _subject(qs, "T2DMEXO01-201021")
    assert s21.groupby("VISIT").size().to_dict() == {"BASELINE": 46, "MONTH 3": 46}
    assert s21.loc[(s21["VISIT"] == "BASELINE") & (s21["QSTESTCD"] == "DQOL03"), "QSSTRESN"].tolist() == [4.0]
