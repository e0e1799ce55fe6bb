"""AE, CM and MH for the demo studies, against values worked out by hand from the raw CSVs."""

from __future__ import annotations

import pandas as pd
from conftest import read


def rows(frame: pd.DataFrame, usubjid: str) -> list[dict]:
    part = frame[frame["USUBJID"] == usubjid]
    return [{k: (None if v == "" or (isinstance(v, float) and pd.isna(v)) else v) for k, v in r.items()}
            for r in part.to_dict("records")]


def test_ae_subject_101001(built) -> None:
    # ae.csv: 1 Tiredness 01-JAN-2025..09-JAN-2025 Mild N "Unlikely related" "Not applicable" "Recovered/resolved",
    # coded PT Fatigue 10016256; 2 Leg spasticity worse 05-MAY-2025 (PT Muscle spasticity); 3 Nasopharyngitis.
    # RFSTDTC 2024-01-29: 2024-01-29 -> 2025-01-01 is 338 days (leap year), so AESTDY 339, AEENDY 347;
    # 2025-05-05 is 462 days after, AESTDY 463.
    ae = rows(read(built["ms_exo"], "ae"), "MSEXO01-101001")
    assert [r["AEDECOD"] for r in ae] == ["Fatigue", "Muscle spasticity", "Nasopharyngitis"]
    assert [r["AESEQ"] for r in ae] == [1, 2, 3]
    first = ae[0]
    assert (first["AETERM"], first["AELLT"], first["AEPTCD"], first["AESPID"]) == ("Tiredness", "Tiredness",
                                                                                  10016256, "1")
    assert (first["AESTDTC"], first["AEENDTC"], first["AESTDY"], first["AEENDY"]) == ("2025-01-01", "2025-01-09",
                                                                                     339, 347)
    assert (first["AESEV"], first["AESER"], first["AEREL"], first["AEACN"], first["AEOUT"]) == (
        "MILD", "N", "UNLIKELY RELATED", "NOT APPLICABLE", "RECOVERED/RESOLVED")
    assert first["AEBODSYS"] == first["AESOC"] == "General disorders and administration site conditions"
    assert ae[1]["AESTDY"] == 463 and ae[1]["AEENRF"] is None


def test_ae_after_data_cut_is_reported_not_mapped(built) -> None:
    # 101021's AE starts 05-NOV-2026, after the 2026-10-31 cut (ae.csv row 42); 201052's 06-JAN-2026 (row 95).
    for study, _subj, row, start in (("ms_exo", "MSEXO01-101021", 42, "2026-11-05"),
                                    ("t2dm_exo", "T2DMEXO01-201052", 95, "2026-01-06")):
        ae = read(built[study], "ae")
        assert not (ae["AESTDTC"] == start).any()
        problems = pd.read_csv(built[study] / "reports/problems.csv", dtype=str)
        hit = problems[problems["rule"] == "CUT-AFTER"]
        assert hit[["where", "row", "value"]].values.tolist() == [["ae.csv", str(row), start]]
        recon = pd.read_csv(built[study] / "reports/reconciliation.csv").set_index("form").loc["ae"]
        assert recon["excluded"] == 1 and recon["as_records"] == recon["rows_in"] - 1 and recon["not_mapped"] == 0


def test_cm_free_text_mapped_to_ct(built) -> None:
    # cm.csv 101002: 1 Lioresal 15 mg Oral "3 times a day" UN-UNK-2017 ongoing; 2 Vitamin D3 2000 IU Oral
    # "Once daily" UN-AUG-2017 ongoing.
    cm = rows(read(built["ms_exo"], "cm"), "MSEXO01-101002")
    assert [(r["CMSEQ"], r["CMTRT"], r["CMDOSE"], r["CMDOSU"], r["CMDOSFRQ"], r["CMROUTE"], r["CMSTDTC"],
             r["CMENRF"], r["CMSTDY"]) for r in cm] == [
        (1, "Lioresal", 15, "mg", "TID", "ORAL", "2017", "ONGOING", None),
        (2, "Vitamin D3", 2000, "IU", "QD", "ORAL", "2017-08", "ONGOING", None)]


def test_mh_partial_dates_stay_partial(built) -> None:
    # mh.csv 101001: Migraine 08-FEB-2011 ongoing; Primary progressive multiple sclerosis 06-JUN-2015 ongoing.
    # 101002: Secondary progressive multiple sclerosis UN-UNK-2015.
    mh = read(built["ms_exo"], "mh")
    # 'ongoing' is relative to the screening visit (visit.csv 08-JAN-2024): MHENRTPT/MHENTPT, not MHENRF.
    got = [(r["MHSEQ"], r["MHTERM"], r["MHSTDTC"], r["MHENRTPT"], r["MHENTPT"]) for r in rows(mh, "MSEXO01-101001")]
    assert got == [
        (1, "Migraine", "2011-02-08", "ONGOING", "2024-01-08"),
        (2, "Primary progressive multiple sclerosis", "2015-06-06", "ONGOING", "2024-01-08")]
    assert rows(mh, "MSEXO01-101002")[0]["MHSTDTC"] == "2015"


def test_every_ae_cm_mh_row_accounted_for(built, root) -> None:
    for study in ("ms_exo", "t2dm_exo"):
        recon = pd.read_csv(built[study] / "reports/reconciliation.csv").set_index("form")
        for form in ("ae", "cm", "mh"):
            raw = len(pd.read_csv(root / "studies" / study / "raw" / f"{form}.csv", dtype=str))
            r = recon.loc[form]
            assert r["rows_in"] == raw and r["not_mapped"] == 0 and r["as_records"] + r["excluded"] == raw
