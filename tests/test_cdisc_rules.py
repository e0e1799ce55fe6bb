"""Our SDTM rule table against CDISC's own test cases (the CORE rules' negative/01 and positive/01).

Each implemented rule must report exactly the records CDISC's results.csv lists on the negative case
and nothing on the positive case (see tests/cdisc_cases.py for how a case is judged). A rule whose
``differs`` field explains why our judgement departs from CDISC's expected result is expected to
fail that case and is reported as such, not hidden.

The coverage test runs every rule on every case, writes ``validation/cdisc_coverage.csv`` (CORE id,
status, reason) and fails when the number of CORE rules right on both cases drops below the figure
recorded in ``tests/cdisc_coverage_floor.txt``. Needs ``../shared/reference/cdisc-open-rules``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests import cdisc_cases
from validation.rulebook import load_rules

pytestmark = pytest.mark.skipif(not cdisc_cases.available(), reason="../shared/reference/cdisc-open-rules absent")

REPO = Path(__file__).resolve().parents[1]
COVERAGE = REPO / "validation" / "cdisc_coverage.csv"
FLOOR = Path(__file__).with_name("cdisc_coverage_floor.txt")
RULES = [r for r in load_rules() if r.core]


def _case(core: str, kind: str) -> Path:
    return cdisc_cases.ROOT / core / kind / "01"


@pytest.mark.parametrize("rule", [r for r in RULES if not r.differs], ids=lambda r: f"{r.core}:{r.id}")
def test_rule_on_cdisc_cases(rule) -> None:
    """Negative case: exactly the records CDISC lists; positive case: nothing."""
    for kind in ("negative", "positive"):
        case = _case(rule.core, kind)
        if not case.is_dir():
            continue
        verdict = cdisc_cases.judge(rule, case, negative=kind == "negative")
        assert verdict.right, f"{rule.id} ({rule.core}) on {kind}/01: {verdict.reason}"


def _status(core: str) -> tuple[str, str]:
    rules = [r for r in RULES if r.core == core]
    if not rules:
        return "not implemented", ""
    rule = rules[0]
    reasons = []
    for kind in ("negative", "positive"):
        case = _case(core, kind)
        if not case.is_dir():
            reasons.append(f"no {kind} case")
            continue
        verdict = cdisc_cases.judge(rule, case, negative=kind == "negative")
        if not verdict.right:
            reasons.append(f"{kind}: {verdict.reason}")
    if not reasons:
        return "right on both cases", ""
    if rule.differs:
        return "differs (by judgement)", rule.differs + " | " + "; ".join(reasons)
    return "wrong", "; ".join(reasons)


def test_coverage_never_drops() -> None:
    """Rules right on both cases / all CORE rules of the reference; the table is written for the README."""
    rows = [(core, *_status(core)) for core in cdisc_cases.core_ids()]
    right = sum(1 for r in rows if r[1] == "right on both cases")
    with COVERAGE.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["core_id", "status", "reason"])
        out.writerows(rows)
    floor = int(FLOOR.read_text().split()[0])
    assert right >= floor, f"{right}/{len(rows)} CORE rules right on both cases, below the recorded {floor}"
    wrong = [r for r in rows if r[1] == "wrong"]
    assert not wrong, f"rules wrong without a recorded reason: {wrong[:5]}"
