"""Waivers (validation.waivers): reading, validating, matching exactly the waived findings."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd

from subgen.core.conformance.outcomes import FINDING_COLUMNS
from validation.waivers import apply_waivers, load_waivers, unused_findings

KNOWN = {"XD-TS-FDA", "XD-DY-CALC", "REQ-NULL", "GX-EXECUTION-ERROR"}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def findings() -> pd.DataFrame:
    rows = [
        ("TS", None, None, "TSPARMCD", "TSPARMCD=REGID", "XD-TS-FDA", "XD-TS-FDA", "Warning"),
        ("TS", None, None, "TSPARMCD", "TSPARMCD=ACTSUB", "XD-TS-FDA", "XD-TS-FDA", "Warning"),
        ("LB", 3, "S-1", "LBDY, LBDTC, DM.RFSTDTC", "LBDY=30, LBDTC=2024-02-09, RFSTDTC=2024-01-10", "XD-DY-CALC",
         "XD-DY-CALC", "Error"),
        ("LB", 8, "S-2", "LBDY, LBDTC, DM.RFSTDTC", "LBDY=4, LBDTC=2024-02-05, RFSTDTC=2024-02-01", "XD-DY-CALC",
         "XD-DY-CALC", "Error"),
        ("*", None, None, None, None, "XD-DY-CALC", "XD-DY-CALC:execution-error", "Error"),
        ("DM", 2, "S-2", "SUBJID", None, "GX-EXECUTION-ERROR", "REQ-NULL:SUBJID", "Error"),
    ]
    frame = pd.DataFrame(rows, columns=["dataset", "record", "USUBJID", "variables", "values", "rule", "check",
                                        "severity"])
    frame["message"], frame["fix"], frame["count"] = "m", "f", 1
    frame = frame[list(FINDING_COLUMNS)]
    for col in FINDING_COLUMNS:
        frame[col] = frame[col].astype("Int64" if col in ("record", "count") else "string")
    return frame


VALID = """
    [[waiver]]
    rule = "XD-TS-FDA"
    dataset = "ts"
    value = "REGID"
    justification = "Investigator-initiated pilot, not registered before start"
    approved_by = "A. Reviewer"
    approved_on = 2026-11-05

    [[waiver]]
    rule = "XD-DY-CALC"
    dataset = "LB"
    usubjid = "S-2"
    variable = "LBDY"
    justification = "Site corrected the date after lock; agreed with the sponsor"
    approved_by = "B. Lead"
    approved_on = 2026-11-06

    [[waiver]]
    rule = "XD-DY-CALC"
    dataset = "AE"
    justification = "Stale waiver"
    approved_by = "B. Lead"
    approved_on = 2026-11-06
"""


def test_valid_waivers_apply_to_exactly_the_matching_findings(tmp_path):
    wf = load_waivers(_write(tmp_path, VALID), KNOWN)
    assert wf.problems.empty and [w.number for w in wf.waivers] == [1, 2, 3]
    assert len(wf.sha256) == 64
    out, unused = apply_waivers(findings(), wf.waivers)
    assert out["waived"].tolist() == [True, False, False, True, False, False]
    first = out.iloc[0]
    assert (first["waiver"], first["approved_by"], first["approved_on"]) == ("waivers.toml #1", "A. Reviewer",
                                                                             "2026-11-05")
    assert first["justification"].startswith("Investigator-initiated")
    assert out.iloc[3]["waiver"] == "waivers.toml #2"
    assert [w.number for w in unused] == [3]
    assert len(out) == len(findings())  # waived findings stay in the report
    u = unused_findings(unused)
    assert u[["dataset", "record", "values"]].values.tolist() == [["waivers.toml", 3, "rule=XD-DY-CALC, dataset=AE"]]


def test_value_matches_whole_text_a_part_or_a_value():
    base = dict(rule="XD-TS-FDA", dataset="TS", justification="j", approved_by="a", approved_on="2026-01-01")
    from validation.waivers import Waiver

    for value, expected in (("TSPARMCD=REGID", [True, False]), ("REGID", [True, False]),
                            ("TSPARMCD", [False, False]), ("REG", [False, False])):
        out, _ = apply_waivers(findings().iloc[:2], [Waiver(1, value=value, **base)])
        assert out["waived"].tolist() == expected, value


def test_checks_that_did_not_run_cannot_be_waived(tmp_path):
    path = _write(tmp_path, """
        [[waiver]]
        rule = "XD-DY-CALC"
        dataset = "*"
        justification = "try to hide a crash"
        approved_by = "x"
        approved_on = 2026-11-05

        [[waiver]]
        rule = "GX-EXECUTION-ERROR"
        dataset = "DM"
        justification = "try to hide a crash"
        approved_by = "x"
        approved_on = 2026-11-05
    """)
    wf = load_waivers(path, KNOWN)
    assert wf.problems[["record", "variables"]].values.tolist() == [[2, "rule"]]
    out, unused = apply_waivers(findings(), wf.waivers)
    assert not out["waived"].any() and [w.number for w in unused] == [1]


def test_malformed_waivers_are_reported_not_applied(tmp_path):
    path = _write(tmp_path, """
        [[waiver]]
        rule = "NO-SUCH-RULE"
        dataset = "TS"
        justification = "x"
        approved_by = "x"
        approved_on = 2026-11-05

        [[waiver]]
        rule = "XD-TS-FDA"
        dataset = "TS"
        justification = "   "
        approved_by = "x"
        approved_on = "yesterday"
        colour = "red"

        [[waiver]]
        rule = "XD-TS-FDA"
        dataset = 7
        approved_by = "x"
        approved_on = 2026-11-05
    """)
    wf = load_waivers(path, KNOWN)
    assert wf.waivers == ()
    got = sorted(zip(wf.problems["record"], wf.problems["variables"]))
    assert got == [(1, "rule"), (2, "approved_on"), (2, "colour"), (2, "justification"), (3, "dataset"),
                   (3, "justification")]
    assert set(wf.problems["rule"]) == {"WAIVER-INVALID"}


def test_unreadable_file_and_missing_file(tmp_path):
    wf = load_waivers(_write(tmp_path, "[[waiver]\nrule = "), KNOWN)
    assert wf.waivers == () and len(wf.problems) == 1
    assert wf.problems["message"][0].startswith("cannot read the waiver file")
    none = load_waivers(tmp_path / "absent.toml", KNOWN)
    assert none.waivers == () and none.problems.empty
