"""The spec-generated Great Expectations suite and its runner (subgen.core.conformance.suite, gx_runner)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from subgen.core.conformance import gx_runner
from subgen.core.conformance.suite import (
    ASCII_REGEX,
    CHECK_BUILDERS,
    IMPOSSIBLE_DATE_REGEX,
    ISO8601_DTC_REGEX,
    RULES,
    build_suite,
    check_before_write,
    plan_checks,
    suite_to_json,
)
from subgen.core.problems import SEVERITIES, Problem, ProblemError
from subgen.core.spec.model import Codelist, CodelistTerm, Dataset, Variable

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------------
# Fixtures: a hand-made DM-like and AE-like dataset


def _var(ds: str, name: str, label: str, data_type: str = "text", core: str = "Perm",
         codelist: str | None = None, order: int = 0) -> Variable:
    return Variable(dataset=ds, name=name, label=label, data_type=data_type, length=200,
                    order=order, core=core, codelist=codelist)


CODELISTS = {
    "SEX": Codelist("SEX", "Sex", "C66731", "text", "CDISC/NCI", extensible=False,
                    terms=tuple(CodelistTerm(t) for t in ("F", "M", "U", "INTERSEX"))),
    "RACE": Codelist("RACE", "Race", "C74457", "text", "CDISC/NCI", extensible=True,
                     terms=tuple(CodelistTerm(t) for t in ("WHITE", "ASIAN",
                                                           "BLACK OR AFRICAN AMERICAN"))),
}

DM = Dataset(
    name="DM", label="Demographics", class_="SPECIAL PURPOSE", structure="One record per subject",
    keys=("STUDYID", "USUBJID"),
    variables=(
        _var("DM", "STUDYID", "Study Identifier", core="Req"),
        _var("DM", "DOMAIN", "Domain Abbreviation", core="Req"),
        _var("DM", "USUBJID", "Unique Subject Identifier", core="Req"),
        _var("DM", "SUBJID", "Subject Identifier for the Study", core="Req"),
        _var("DM", "RFSTDTC", "Subject Reference Start Date/Time", core="Exp"),
        _var("DM", "SEX", "Sex", core="Req", codelist="SEX"),
        _var("DM", "RACE", "Race", core="Exp", codelist="RACE"),
        _var("DM", "AGE", "Age", data_type="integer", core="Exp"),
        _var("DM", "DMDY", "Study Day of Collection", data_type="integer"),
    ),
)

AE = Dataset(
    name="AE", label="Adverse Events", class_="EVENTS", structure="One record per event",
    keys=("STUDYID", "USUBJID", "AETERM", "AESTDTC"),
    variables=(
        _var("AE", "STUDYID", "Study Identifier", core="Req"),
        _var("AE", "DOMAIN", "Domain Abbreviation", core="Req"),
        _var("AE", "USUBJID", "Unique Subject Identifier", core="Req"),
        _var("AE", "AESEQ", "Sequence Number", data_type="integer", core="Req"),
        _var("AE", "AETERM", "Reported Term for the Adverse Event", core="Req"),
        _var("AE", "AESTDTC", "Start Date/Time of Adverse Event", core="Exp"),
        _var("AE", "AESTDY", "Study Day of Start of Adverse Event", data_type="integer"),
    ),
)


def dm_frame() -> pd.DataFrame:
    """A clean DM frame: 4 subjects, partial dates, a blank permissible value."""
    return pd.DataFrame({
        "STUDYID": ["XYZ"] * 4,
        "DOMAIN": ["DM"] * 4,
        "USUBJID": ["XYZ-001", "XYZ-002", "XYZ-003", "XYZ-004"],
        "SUBJID": ["001", "002", "003", "004"],
        "RFSTDTC": ["2025", "2025-03", "2025-03-04T10:15", "2024-02-29"],
        "SEX": ["F", "M", "U", "INTERSEX"],
        "RACE": ["WHITE", "ASIAN", "", None],  # Exp: may be null ("" is null)
        "AGE": [34, 51, 47, 29],
        "DMDY": [1.0, -1.0, 15.0, None],
    })


def ae_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "STUDYID": ["XYZ"] * 4,
        "DOMAIN": ["AE"] * 4,
        "USUBJID": ["XYZ-001", "XYZ-001", "XYZ-002", "XYZ-002"],
        "AESEQ": [1, 2, 1, 2],
        "AETERM": ["HEADACHE", "NAUSEA", "HEADACHE", "RASH"],
        "AESTDTC": ["2025-03-05", "2025-03-06T08:00:00", "2025-04", "2025-04-02T09:30"],
        "AESTDY": [2, 3, None, -4],
    })


@pytest.fixture(scope="module")
def dm_suite():
    return build_suite(DM, CODELISTS)


@pytest.fixture(scope="module")
def ae_suite():
    return build_suite(AE, CODELISTS)


def _only(problems: list[Problem], rule: str) -> list[Problem]:
    return [p for p in problems if p.rule == rule]


def _with(frame: pd.DataFrame, row: int, column: str, value) -> pd.DataFrame:
    """``frame`` with the value at 1-based record ``row`` replaced (object dtype kept)."""
    out = frame.copy()
    out[column] = out[column].astype(object)
    out.loc[row - 1, column] = value
    return out


# --------------------------------------------------------------------------------------------
# Regular expressions

VALID_DTC = ["2025", "2025-03", "2025-03-04", "2025-03-04T10", "2025-03-04T10:15",
             "2025-03-04T10:15:30", "2025-03-04T23:59:59.123", "2024-02-29", "2000-02-29",
             "1999-12-31T00:00"]
INVALID_DTC = ["25-01-2025", "2025-13-01", "2025-00-10", "2025-01-32", "2025-01-00", "2025-1-5",
               "2025/03/04", "20250304", "2025-03-04 10:15", "2025-03-04T24:00", "2025-03-04T10:60",
               "2025-03-04T10:15:60", "2025-03-04T10:15Z", "2025-03-04T10:15+01:00",
               "2025-03T10:00", "2025-03-04T", "2025-", "2025-03-04/2025-03-05", "P3D",
               "2003---15", "UNK", "2025-03-04\n", " 2025", "２０２５", ""]


@pytest.mark.parametrize("value", VALID_DTC)
def test_iso8601_regex_accepts_complete_and_partial_values(value):
    assert re.search(ISO8601_DTC_REGEX, value)


@pytest.mark.parametrize("value", INVALID_DTC)
def test_iso8601_regex_rejects_malformed_values(value):
    assert not re.search(ISO8601_DTC_REGEX, value)


def test_impossible_date_regex_agrees_with_the_calendar():
    """Every YYYY-MM-DD with month 01-12 and day 01-31: regex verdict == datetime.date's."""
    for year in (1600, 1900, 1996, 2000, 2023, 2024, 2025, 2100, 2400):
        for month in range(1, 13):
            for day in range(1, 32):
                text = f"{year:04d}-{month:02d}-{day:02d}"
                try:
                    date(year, month, day)
                    exists = True
                except ValueError:
                    exists = False
                assert bool(re.search(IMPOSSIBLE_DATE_REGEX, text)) is not exists, text
                assert re.search(ISO8601_DTC_REGEX, text)  # the format check lets it through
    assert re.search(IMPOSSIBLE_DATE_REGEX, "2025-02-30T10:15")
    assert not re.search(IMPOSSIBLE_DATE_REGEX, "2025-02")


def test_ascii_regex():
    assert re.search(ASCII_REGEX, "Plain text, 100% (ok) ~")
    for bad in ("Müller", "naïve", "“quoted”", "en–dash", "tab\there", "line\nbreak", "µg"):
        assert not re.search(ASCII_REGEX, bad), bad


# --------------------------------------------------------------------------------------------
# Suite generation


def test_suite_is_named_after_the_dataset_and_every_expectation_carries_rule_meta(dm_suite):
    assert dm_suite.name == "DM"
    checks = set()
    for exp in dm_suite.expectations:
        meta = exp.meta
        rule = RULES[meta["rule"]]
        assert meta["severity"] == rule.severity in SEVERITIES
        assert meta["message"] and meta["fix"] and meta["citation"] == rule.citation
        assert meta["check"] not in checks
        checks.add(meta["check"])
    assert {"COLS-SPEC:*", "REQ-COLUMN:SEX", "REQ-NULL:SUBJID", "EXP-COLUMN:RACE",
            "CT-NONEXT:SEX", "CT-EXT:RACE", "DTC-FORMAT:RFSTDTC", "DTC-CALENDAR:RFSTDTC",
            "CHAR-ASCII:USUBJID", "CHAR-LENGTH:USUBJID", "KEY-UNIQUE:STUDYID, USUBJID",
            "DY-ZERO:DMDY"} <= checks
    assert not any(c.startswith(("CHAR-", "DTC-")) and c.endswith((":AGE", ":DMDY")) for c in checks)
    assert "REQ-NULL:RACE" not in checks  # Exp: may be null


def test_suite_json_is_deterministic_and_free_of_ids(dm_suite):
    first = suite_to_json(build_suite(DM, CODELISTS))
    assert first == suite_to_json(build_suite(DM, CODELISTS)) == suite_to_json(dm_suite)
    data = json.loads(first)
    assert "id" not in data and all("id" not in e for e in data["expectations"])
    assert data["name"] == "DM"
    gx_runner.run_suite(dm_frame(), dm_suite)
    assert suite_to_json(dm_suite) == first  # running does not alter the suite


def test_codelist_severity_follows_extensibility(dm_suite):
    by_check = {e.meta["check"]: e for e in dm_suite.expectations}
    assert by_check["CT-NONEXT:SEX"].meta["severity"] == "Error"
    assert by_check["CT-NONEXT:SEX"].value_set == ["F", "M", "U", "INTERSEX"]
    assert by_check["CT-EXT:RACE"].meta["severity"] == "Warning"
    assert "sponsor term not declared in the spec" in by_check["CT-EXT:RACE"].meta["message"]


def test_undeclared_codelist_is_a_problem_not_a_crash():
    with pytest.raises(ProblemError) as err:
        build_suite(DM, {"SEX": CODELISTS["SEX"]})
    assert [p.column for p in err.value.problems] == ["RACE"]


def test_single_key_uses_column_uniqueness_and_seq_needs_usubjid():
    ts = Dataset("TS", "Trial Summary", "TRIAL DESIGN", "One record per parameter", ("TSSEQ",),
                 (_var("TS", "STUDYID", "Study Identifier", core="Req"),
                  _var("TS", "TSSEQ", "Sequence Number", data_type="integer", core="Req")))
    checks = {c.check_id: c for c in plan_checks(ts, {})}
    assert checks["KEY-UNIQUE:TSSEQ"].expectation == "ExpectColumnValuesToBeUnique"
    assert not any(cid.startswith("SEQ-UNIQUE") for cid in checks)
    ae_checks = {c.check_id: c for c in plan_checks(AE, {})}
    assert ae_checks["SEQ-UNIQUE:AESEQ"].kwargs["column_list"] == ["USUBJID", "AESEQ"]
    assert "DY-ZERO:AESTDY" in ae_checks


def test_value_level_builder_is_registered_and_silent_without_ranges():
    from subgen.core.conformance.suite import SuiteInputs, value_level_checks
    assert CHECK_BUILDERS[-1] is value_level_checks
    assert list(value_level_checks(SuiteInputs(DM, CODELISTS))) == []


# --------------------------------------------------------------------------------------------
# Running


def test_clean_frames_have_no_problems(dm_suite, ae_suite):
    assert gx_runner.run_suite(dm_frame(), dm_suite) == []
    assert gx_runner.run_suite(ae_frame(), ae_suite) == []
    assert check_before_write(dm_frame(), DM, CODELISTS) == []


def test_valid_partial_dates_pass(dm_suite):
    frame = dm_frame()
    frame["RFSTDTC"] = ["2025", "2025-03", "2025-03-04T10:15", "2025-03-04T10:15:30"]
    assert gx_runner.run_suite(frame, dm_suite) == []


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_missing_required_value(dm_suite, blank):
    problems = gx_runner.run_suite(_with(dm_frame(), 2, "SUBJID", blank), dm_suite)
    assert [(p.rule, p.severity, p.row, p.column, p.value) for p in problems] == [
        ("REQ-NULL", "Error", 2, "SUBJID", blank)]
    assert "required" in problems[0].message and problems[0].where == "DM"


def test_unknown_term_in_non_extensible_codelist_is_an_error(dm_suite):
    problems = gx_runner.run_suite(_with(dm_frame(), 3, "SEX", "X"), dm_suite)
    assert [(p.rule, p.severity, p.row, p.column, p.value) for p in problems] == [
        ("CT-NONEXT", "Error", 3, "SEX", "X")]


def test_sponsor_term_in_extensible_codelist_is_a_warning(dm_suite):
    problems = gx_runner.run_suite(_with(dm_frame(), 1, "RACE", "MAORI"), dm_suite)
    assert [(p.rule, p.severity, p.row, p.column, p.value) for p in problems] == [
        ("CT-EXT", "Warning", 1, "RACE", "MAORI")]
    assert "sponsor term not declared in the spec" in problems[0].message


@pytest.mark.parametrize("value, rule", [("2025-13-01", "DTC-FORMAT"), ("25-01-2025", "DTC-FORMAT"),
                                         ("2025-02-30", "DTC-CALENDAR"),
                                         ("2023-02-29T10:00", "DTC-CALENDAR")])
def test_bad_dates(dm_suite, value, rule):
    problems = gx_runner.run_suite(_with(dm_frame(), 4, "RFSTDTC", value), dm_suite)
    assert [(p.rule, p.severity, p.row, p.column, p.value) for p in problems] == [
        (rule, "Error", 4, "RFSTDTC", value)]


def test_duplicate_key_reports_every_record_of_the_group(dm_suite):
    problems = gx_runner.run_suite(_with(dm_frame(), 3, "USUBJID", "XYZ-001"), dm_suite)
    assert [(p.rule, p.severity, p.row, p.column, p.value) for p in problems] == [
        ("KEY-UNIQUE", "Error", 1, "STUDYID, USUBJID", "STUDYID=XYZ, USUBJID=XYZ-001"),
        ("KEY-UNIQUE", "Error", 3, "STUDYID, USUBJID", "STUDYID=XYZ, USUBJID=XYZ-001")]


def test_duplicate_seq_within_subject(ae_suite):
    frame = ae_frame()
    frame.loc[1, "AESEQ"] = 1  # subject XYZ-001 now has AESEQ 1 twice; XYZ-002 also has 1: fine
    problems = gx_runner.run_suite(frame, ae_suite)
    assert [(p.rule, p.severity, p.row, p.column, p.value) for p in problems] == [
        ("SEQ-UNIQUE", "Error", 1, "AESEQ", "USUBJID=XYZ-001, AESEQ=1"),
        ("SEQ-UNIQUE", "Error", 2, "AESEQ", "USUBJID=XYZ-001, AESEQ=1")]


def test_study_day_zero(dm_suite, ae_suite):
    problems = gx_runner.run_suite(_with(dm_frame(), 2, "DMDY", 0.0), dm_suite)
    assert [(p.rule, p.severity, p.row, p.column, p.value) for p in problems] == [
        ("DY-ZERO", "Error", 2, "DMDY", "0")]
    frame = ae_frame()
    frame.loc[3, "AESTDY"] = 0
    assert [(p.rule, p.row, p.column) for p in gx_runner.run_suite(frame, ae_suite)] == [
        ("DY-ZERO", 4, "AESTDY")]


def test_non_ascii_value(dm_suite):
    problems = gx_runner.run_suite(_with(dm_frame(), 2, "SUBJID", "Zoë"), dm_suite)
    assert [(p.rule, p.severity, p.row, p.column, p.value) for p in problems] == [
        ("CHAR-ASCII", "Error", 2, "SUBJID", "Zoë")]


def test_value_longer_than_200_bytes(dm_suite):
    long_value = "A" * 201
    problems = gx_runner.run_suite(_with(dm_frame(), 1, "SUBJID", long_value), dm_suite)
    assert [(p.rule, p.severity, p.row, p.column, p.value) for p in problems] == [
        ("CHAR-LENGTH", "Error", 1, "SUBJID", long_value)]
    assert gx_runner.run_suite(_with(dm_frame(), 1, "SUBJID", "A" * 200), dm_suite) == []


def test_wrong_column_order(dm_suite):
    frame = dm_frame()
    cols = list(frame.columns)
    cols[0], cols[1] = cols[1], cols[0]
    problems = gx_runner.run_suite(frame[cols], dm_suite)
    assert [(p.rule, p.severity, p.row, p.column) for p in problems] == [
        ("COLS-SPEC", "Error", None, None)]
    assert problems[0].value.startswith("DOMAIN, STUDYID")
    assert "not in spec order" in problems[0].message


def test_missing_and_extra_columns_are_reported_and_dependent_checks_not_silently_skipped(dm_suite):
    frame = dm_frame().drop(columns=["SEX"]).assign(EXTRA="x")
    problems = gx_runner.run_suite(frame, dm_suite)
    found = {(p.rule, p.column) for p in problems}
    assert {("COLS-SPEC", "SEX"), ("COLS-SPEC", "EXTRA"), ("REQ-COLUMN", "SEX"),
            (gx_runner.NOT_RUN_RULE, "SEX")} == found
    not_run = _only(problems, gx_runner.NOT_RUN_RULE)[0]
    assert not_run.severity == "Error" and "REQ-NULL" in not_run.message \
        and "CT-NONEXT" in not_run.message


def test_rows_are_record_numbers_whatever_the_index(dm_suite):
    frame = _with(dm_frame(), 3, "SEX", "X")
    frame.index = [100, 7, 42, 3]
    assert [p.row for p in gx_runner.run_suite(frame, dm_suite)] == [3]


def test_caller_frame_is_not_modified(dm_suite):
    frame = _with(dm_frame(), 2, "SUBJID", "")
    before = frame.copy()
    gx_runner.run_suite(frame, dm_suite)
    pd.testing.assert_frame_equal(frame, before)


def test_failures_are_capped_per_check_with_a_summary(dm_suite):
    n = 120
    frame = pd.concat([dm_frame()] * (n // 4), ignore_index=True)
    frame["USUBJID"] = [f"XYZ-{i:03d}" for i in range(n)]
    frame["SEX"] = "X"
    problems = gx_runner.run_suite(frame, dm_suite, max_records=10)
    ct = _only(problems, "CT-NONEXT")
    assert [p.row for p in ct[:10]] == list(range(1, 11))
    assert len(ct) == 11 and ct[10].row is None and "120 records in total" in ct[10].message


def test_expectation_that_raises_is_an_execution_error_not_a_pass(dm_suite, monkeypatch):
    import great_expectations as gx
    import great_expectations.expectations as gxe

    broken = gxe.ExpectColumnValuesToMatchRegex(
        column="SUBJID", regex="([unclosed", meta={"rule": "X-BROKEN", "check": "X-BROKEN:SUBJID"})
    suite = gx.ExpectationSuite(name="DM", expectations=[
        *(e.configuration.to_domain_obj() for e in dm_suite.expectations), broken])
    problems = gx_runner.run_suite(dm_frame(), suite)
    assert [(p.rule, p.severity, p.column) for p in problems] == [
        ("GX-EXECUTION-ERROR", "Error", "SUBJID")]
    assert "expect_column_values_to_match_regex" in problems[0].message
    assert "X-BROKEN:SUBJID" in problems[0].message

    def explode(*args, **kwargs):
        raise RuntimeError("metric engine exploded")

    monkeypatch.setattr(gx_runner, "_validate", explode)
    problems = gx_runner.run_suite(dm_frame(), dm_suite)
    assert len(problems) == len(dm_suite.expectations)
    assert {p.rule for p in problems} == {"GX-EXECUTION-ERROR"}
    assert all("metric engine exploded" in p.message for p in problems)


def test_context_is_cached_and_ephemeral(dm_suite):
    gx_runner.run_suite(dm_frame(), dm_suite)
    context = gx_runner.gx_context()
    assert context is gx_runner.gx_context()
    assert context.mode == "ephemeral"
    assert context.config.analytics_enabled is False


def test_results_are_deterministic(dm_suite):
    frame = _with(_with(dm_frame(), 2, "SEX", "X"), 4, "RFSTDTC", "2025-02-30")
    assert gx_runner.run_suite(frame, dm_suite) == gx_runner.run_suite(frame, dm_suite)


def test_fresh_process_makes_no_network_request_and_prints_nothing():
    """Import, build and run in a new interpreter with sockets disabled; stdout/stderr stay empty."""
    script = textwrap.dedent("""
        import socket
        attempts = []
        def refuse(*args, **kwargs):
            attempts.append(args)
            raise OSError("network disabled in test")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        import tests.test_validation_suite as t
        from subgen.core.conformance import gx_runner
        problems = gx_runner.run_suite(t._with(t.dm_frame(), 2, "SEX", "X"),
                                       t.build_suite(t.DM, t.CODELISTS))
        assert [p.rule for p in problems] == ["CT-NONEXT"], problems
        assert not attempts, attempts
        import os
        assert os.environ["GX_ANALYTICS_ENABLED"] == "false"
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
