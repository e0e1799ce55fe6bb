"""The design-card layout MS spec (EDSS/FS/SDMT in QS, MRI in the custom MR domain) runs on the same raw data
with the same code and gives the same results as the SDTMIG 3.4 spec's RS, FT and NV: domain placement is spec
data, not code."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import read

from sdtm.stage import run_sdtm

COMMON = ["USUBJID", "VISITNUM", "VISIT", "EPOCH"]


@pytest.fixture(scope="module")
def card(root: Path, tmp_path_factory) -> Path:
    return run_sdtm(root / "studies" / "ms_exo_card", tmp_path_factory.mktemp("card")).out_dir


def _pick(frame: pd.DataFrame, prefix: str, new: str, cols: list[str]) -> pd.DataFrame:
    renamed = frame.rename(columns={f"{prefix}{c}": f"{new}{c}" for c in cols})
    keep = COMMON + [f"{new}{c}" for c in cols]
    return renamed[keep].sort_values(COMMON + [f"{new}TESTCD"]).reset_index(drop=True)


def test_card_layout_has_qs_and_mr_instead_of_rs_ft_nv(card: Path, built) -> None:
    names = {p.stem for p in card.glob("*.xpt")}
    assert {"qs", "mr"} <= names and not names & {"rs", "ft", "nv"}
    assert names - {"qs", "mr"} == {p.stem for p in built["ms_exo"].glob("*.xpt")} - {"qs", "rs", "ft", "nv"}
    assert set(read(card, "mr")["DOMAIN"]) == {"MR"}


def test_edss_and_sdmt_in_qs_equal_rs_and_ft(card: Path, built) -> None:
    qs = read(card, "qs")
    cols = ["TESTCD", "TEST", "ORRES", "STRESC", "STRESN", "LOBXFL", "DTC", "DY"]
    rs = read(built["ms_exo"], "rs")
    from_rs = _pick(rs, "RS", "QS", cols).assign(QSCAT=rs.sort_values(COMMON + ["RSTESTCD"])["RSCAT"].values)
    edss = qs[qs["QSCAT"].isin(["EDSS", "KFSS"])]
    pd.testing.assert_frame_equal(_pick(edss, "QS", "QS", cols).assign(
        QSCAT=edss.sort_values(COMMON + ["QSTESTCD"])["QSCAT"].values), from_rs)
    ft = read(built["ms_exo"], "ft")
    sdmt = qs[qs["QSCAT"] == "SDMT"]
    pd.testing.assert_frame_equal(_pick(sdmt, "QS", "QS", cols + ["STAT", "REASND"]),
                                  _pick(ft, "FT", "QS", cols + ["STAT", "REASND"]))
    assert len(edss) == len(rs) and len(sdmt) == len(ft) > 0
    # the questionnaire itself is unchanged
    qol = qs[qs["QSCAT"] == "MSQOL-54"].drop(columns=["QSSEQ", "QSREASND"]).reset_index(drop=True)
    default = read(built["ms_exo"], "qs").drop(columns=["QSSEQ"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(qol, default)


def test_mri_in_mr_equals_nv(card: Path, built) -> None:
    cols = ["TESTCD", "TEST", "CAT", "ORRES", "ORRESU", "STRESC", "STRESN", "STRESU", "LOC", "METHOD", "LOBXFL",
            "DTC", "DY", "SEQ"]
    nv = read(built["ms_exo"], "nv")
    mr = read(card, "mr")
    pd.testing.assert_frame_equal(_pick(mr, "MR", "X", cols), _pick(nv, "NV", "X", cols))
