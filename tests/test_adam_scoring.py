"""adam.scoring: questionnaire scores with the missing-item rule, on hand-built item records."""

from __future__ import annotations

import pandas as pd
import pytest

from adam.engine import TRACE_COL
from adam.scoring import derive_param_score, expand_items
from subgen.core.spec.model import AnalysisParameter

PARAMS = (AnalysisParameter("ADQS", "SAT", "Satisfaction (4-20)", 101, "SCORES"),
          AnalysisParameter("ADQS", "TOT", "Total", 105, "SCORES"))


def items(subject: str, adt: float, values: list) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame({"USUBJID": [subject] * n, "PARAMCD": [f"Q{i:02d}" for i in range(1, n + 1)],
                         "PARAM": ["item"] * n, "PARAMN": list(range(1, n + 1)), "AVAL": values, "ADT": [adt] * n,
                         "VISIT": ["MONTH 3"] * n, "SRCDOM": ["QS"] * n, "SRCSEQ": list(range(1, n + 1)),
                         TRACE_COL: [[("QS", "QSSTRESN", f"QSSEQ={i}")] for i in range(1, n + 1)]})


def frame() -> pd.DataFrame:
    f = pd.concat([items("A", 100.0, [4, 3, 3, 4]),          # complete: 4 + 3 + 3 + 4 = 14
                   items("B", 100.0, [4, None, 2, 3]),       # 3 of 4 answered: mean 3 x 4 = 12
                   items("C", 100.0, [5, None, None, 1]),    # 2 of 4 = half answered: mean 3 x 4 = 12
                   items("D", 100.0, [5, None, None, None])],  # 1 of 4: below half -> no score
                  ignore_index=True)
    return f.astype({"USUBJID": "string", "PARAMCD": "string", "AVAL": "Float64", "ADT": "Float64",
                     "SRCSEQ": "Float64", "PARAMN": "Float64", "SRCDOM": "string"})


def test_prorated_sum_with_the_half_rule() -> None:
    out = derive_param_score(frame(), "SAT", ("Q01..Q04",), PARAMS, "ADQS", "sum", 0.5)
    sat = out[out["PARAMCD"] == "SAT"].set_index("USUBJID")
    assert sat.loc[["A", "B", "C"], "AVAL"].tolist() == [14, 12, 12]
    assert pd.isna(sat.loc["D", "AVAL"])
    assert sat.loc["A", "PARAM"] == "Satisfaction (4-20)" and sat.loc["A", "PARAMN"] == 101
    assert sat.loc["A", "ADT"] == 100 and sat.loc["A", "VISIT"] == "MONTH 3"
    assert pd.isna(sat.loc["A", "SRCSEQ"]) and pd.isna(sat.loc["A", "SRCDOM"])
    assert [t[2] for t in sat.loc["B", TRACE_COL]] == ["QSSEQ=1", "QSSEQ=2", "QSSEQ=3", "QSSEQ=4"]
    assert len(out) == 16 + 4


def test_stricter_rule_and_mean_method() -> None:
    out = derive_param_score(frame(), "SAT", ("Q01..Q04",), PARAMS, "ADQS", "sum", 0.75)
    sat = out[out["PARAMCD"] == "SAT"].set_index("USUBJID")["AVAL"]
    assert sat["A"] == 14 and sat["B"] == 12 and pd.isna(sat["C"]) and pd.isna(sat["D"])
    mean = derive_param_score(frame(), "SAT", ("Q01", "Q02", "Q03", "Q04"), PARAMS, "ADQS", "mean", 0.5)
    assert mean[mean["PARAMCD"] == "SAT"]["AVAL"].tolist()[:3] == [3.5, 3.0, 3.0]


def test_total_of_subscales_is_missing_when_one_is() -> None:
    f = derive_param_score(frame(), "SAT", ("Q01..Q02",), PARAMS, "ADQS", "sum", 0.5)
    f = derive_param_score(f, "TOT", ("SAT", "Q03"), PARAMS, "ADQS", "sum", 1.0)
    tot = f[f["PARAMCD"] == "TOT"].set_index("USUBJID")["AVAL"]
    # A: SAT = 4 + 3 = 7, plus Q03 = 3 -> 10; B: SAT = 4 x 2 = 8 (1 of 2 answered), Q03 = 2 -> 10;
    # C: SAT = 5 x 2 = 10 but Q03 is missing -> no total; D: likewise.
    assert tot["A"] == 10 and tot["B"] == 10 and pd.isna(tot["C"]) and pd.isna(tot["D"])


def test_item_ranges_and_bad_arguments() -> None:
    assert expand_items(("DQOL08..DQOL10", "X")) == ("DQOL08", "DQOL09", "DQOL10", "X")
    with pytest.raises(ValueError, match="item range"):
        expand_items(("DQOL10..DQOL08",))
    with pytest.raises(ValueError, match="method"):
        derive_param_score(frame(), "SAT", ("Q01",), PARAMS, "ADQS", "median")
    with pytest.raises(KeyError, match="not in the Parameters sheet"):
        derive_param_score(frame(), "XYZ", ("Q01",), PARAMS, "ADQS")
