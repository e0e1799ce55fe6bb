"""Great Expectations suites generated from the spec: one suite per dataset.

The suite is checked on a dataset's DataFrame just before it is written to XPT
(:func:`check_before_write`). Everything it checks comes from the spec (:class:`Dataset`,
:class:`Codelist`); nothing is declared a second time here.

Design for growth
-----------------
* :data:`RULES` is the rule catalogue: every rule has a stable id, a severity (Reject, Error,
  Warning, Notice), a title a data manager understands, a fix and a citation (SDTMIG section,
  Pinnacle 21 / FDA validator rule, CDISC conformance rule when one corresponds).
* :data:`CHECK_BUILDERS` is the ordered list of pure functions ``SuiteInputs -> Iterable[Check]``
  that turn the spec into :class:`Check` rows (plain data, no GX). A new rule is one new builder
  appended there plus its catalogue entry; :func:`value_level_checks` turns the numeric ranges
  declared in the ValueLevel sheet's Range column (:mod:`subgen.core.conformance.ranges`) into checks.
* :func:`build_suite` turns the checks into GX expectations. Each expectation's ``meta`` holds
  ``rule``, ``severity``, ``message``, ``fix``, ``citation``, ``check`` (a stable id unique in
  the suite, ``RULE:VARIABLE``, usable for waivers), ``dataset``, ``column`` and ``requires``
  (the columns the expectation reads) - :mod:`subgen.core.conformance.gx_runner` needs nothing else.

Conventions
-----------
* Blank character values ("" or blanks only) are null: the runner pre-normalises them to null
  before validation (see :func:`subgen.core.conformance.gx_runner.prepare_frame`), so "required" fires on
  ``""`` like on ``None`` and format checks skip blanks.
* All regexes are anchored with ``\\A``/``\\Z`` (GX's pandas engine uses ``str.contains``, i.e.
  ``re.search``, and ``$`` would accept a trailing newline).
* ISO 8601 dates (SDTMIG 4.4.1/4.4.2): complete or right-truncated values ``YYYY``, ``YYYY-MM``,
  ``YYYY-MM-DD``, ``YYYY-MM-DDThh``, ``YYYY-MM-DDThh:mm``, ``YYYY-MM-DDThh:mm:ss`` (decimal
  fractions of seconds allowed). Out of scope: intervals, durations, time-zone offsets and the
  hyphen notation for missing middle components (``2003---15``); they are reported as invalid.
  A regex of ranges (month 01-12, day 01-31) cannot see that 30 February does not exist, so a
  second expectation (``DTC-CALENDAR``) matches impossible days - 30/31 February, 31 of April,
  June, September, November, 29 February outside leap years - with a regex that encodes the
  Gregorian leap-year rule. It stays inside GX (vectorised, visible in the suite JSON).
* Character length: the XPT v5 limit is 200 bytes. ``CHAR-ASCII`` allows printable ASCII only
  (one byte per character), so ``CHAR-LENGTH`` counts characters; a non-ASCII value is reported
  by ``CHAR-ASCII`` whatever its byte length.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pandas as pd

from subgen.core.conformance import gx_runner
from subgen.core.conformance.ranges import RangeRule, numeric_variables
from subgen.core.expr import row_condition
from subgen.core.problems import SEVERITIES, Problem, ProblemError
from subgen.core.spec.model import Codelist, Dataset, ValueLevel, Variable

# --------------------------------------------------------------------------------------------
# Regular expressions (public: unit-tested directly)

_YEAR = r"[0-9]{4}"
_MONTH = r"(?:0[1-9]|1[0-2])"
_DAY = r"(?:0[1-9]|[12][0-9]|3[01])"
_HOUR = r"(?:[01][0-9]|2[0-3])"
_MINUTE = r"[0-5][0-9]"
_SECOND = r"[0-5][0-9](?:\.[0-9]+)?"

#: ISO 8601 date/time as SDTMIG 4.4 allows it: complete or right-truncated, no time zone.
ISO8601_DTC_REGEX = (rf"\A{_YEAR}(?:-{_MONTH}(?:-{_DAY}"
                     rf"(?:T{_HOUR}(?::{_MINUTE}(?::{_SECOND})?)?)?)?)?\Z")

#: Years divisible by 4 and not by 100, or by 400 (last two digits / first two digits).
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
#: Matches a value whose YYYY-MM-DD part is a day that does not exist in the calendar.
IMPOSSIBLE_DATE_REGEX = (rf"\A(?:{_YEAR}-(?:02-3[01]|(?:0[469]|11)-31)"
                         rf"|(?!{_LEAP_YEAR}-){_YEAR}-02-29)")

#: Printable ASCII only (space to tilde): no accents, symbols beyond ASCII, tabs or line breaks.
ASCII_REGEX = r"\A[ -~]*\Z"
#: Longest character value XPT v5 can hold, in bytes.
MAX_CHAR_BYTES = 200

# --------------------------------------------------------------------------------------------
# Rule catalogue

_GX_SEVERITY = {"Reject": "critical", "Error": "critical", "Warning": "warning", "Notice": "info"}


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue; the id never changes once published."""

    id: str
    severity: str
    title: str  # what is wrong, in a data manager's words
    fix: str  # what to do about it
    citation: str  # where the requirement comes from

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.id}: severity {self.severity!r} not in {SEVERITIES}")


_CATALOGUE = (
    Rule("COLS-SPEC", "Error", "the dataset's columns differ from the spec (names or order)",
         "Produce exactly the variables of the spec's Variables sheet, in its Order",
         "SDTMIG v3.4 section 4.1.4 (order of the variables); define.xml ItemRef OrderNumber; "
         "CDISC CORE-000852"),
    Rule("REQ-COLUMN", "Error", "a required variable is missing from the dataset",
         "Add the variable; Core = Req variables must always be present",
         "SDTMIG v3.4 section 4.1.5 (SDTM core designations); FDA validator rule SD0056; "
         "CDISC CORE-000355 (CG0014)"),
    Rule("REQ-NULL", "Error", "a required variable is empty on this record",
         "Populate the value in the source data or the mapping; required values may never be null",
         "SDTMIG v3.4 section 4.1.5 (SDTM core designations); FDA validator rule SD0002; "
         "CDISC CORE-000356 (CG0014)"),
    Rule("EXP-COLUMN", "Warning", "an expected variable is missing from the dataset",
         "Add the variable (it may be null on every record, but the column must be present)",
         "SDTMIG v3.4 section 4.1.5 (SDTM core designations); FDA validator rule SD0057; "
         "CDISC CORE-000334 (CG0016)"),
    Rule("CT-NONEXT", "Error", "value not in the codelist (the codelist is not extensible)",
         "Map the raw value to a submission value of the codelist (add the raw text as a synonym "
         "in the spec's Codelists sheet when it is a known variant)",
         "SDTMIG v3.4 section 4.3 (controlled terminology); Pinnacle 21 CT2001"),
    Rule("CT-EXT", "Warning", "sponsor term not declared in the spec (extensible codelist)",
         "If the term is intended, declare it in the spec's Codelists sheet as an extended term; "
         "otherwise map the raw value to an existing term",
         "SDTMIG v3.4 section 4.3 (controlled terminology); Pinnacle 21 CT2002"),
    Rule("DTC-FORMAT", "Error", "not an ISO 8601 date/time",
         "Write dates as YYYY-MM-DD or YYYY-MM-DDThh:mm(:ss); leave unknown parts off the end "
         "(2025-03 for an unknown day), never write them as 00 or UN",
         "SDTMIG v3.4 section 4.4.1 (formats for date/time variables); FDA validator rule SD0003"),
    Rule("DTC-CALENDAR", "Error", "the date does not exist in the calendar",
         "Query the site for the correct date (e.g. 30 February or 31 April is impossible)",
         "SDTMIG v3.4 section 4.4.1 (ISO 8601 dates); FDA validator rule SD0003 (invalid ISO 8601 value)"),
    Rule("CHAR-ASCII", "Error", "value contains a character outside printable ASCII",
         "Replace accented letters, typographic quotes/dashes, symbols, tabs and line breaks with "
         "plain ASCII in the source data or the mapping",
         "FDA Study Data Technical Conformance Guide (SAS XPORT v5, ASCII character data)"),
    Rule("CHAR-LENGTH", "Error", f"value is longer than {MAX_CHAR_BYTES} characters",
         f"Shorten the value or split it over several variables (SUPPQUAL for text above "
         f"{MAX_CHAR_BYTES} characters, SDTMIG section 4.5.3.2)",
         f"FDA Study Data Technical Conformance Guide (XPORT v5: {MAX_CHAR_BYTES}-byte limit)"),
    Rule("KEY-UNIQUE", "Error", "key variables do not identify one record (duplicate key)",
         "Remove the duplicate records or correct the spec's Key Variables",
         "SDTMIG v3.4 section 3.2.1.1 (primary keys); define.xml KeySequence"),
    Rule("SEQ-UNIQUE", "Error", "sequence number is used more than once for the same subject",
         "Derive --SEQ so that it is unique within USUBJID",
         "SDTM v2.0 identifier variables (--SEQ unique within a domain per USUBJID); FDA validator rule SD0005; "
         "CDISC CORE-000544 (CG0028)"),
    Rule("DY-ZERO", "Error", "study day is 0 (there is no day 0)",
         "Derive study days as date - RFSTDTC + 1 on or after the reference date and "
         "date - RFSTDTC before it",
         "SDTMIG v3.4 section 4.4.4 (study day variables); FDA validator rule SD0038; "
         "CDISC CORE-000529 (CG0006)"),
    Rule("RANGE-VALUE", "Error", "value outside the range the spec declares for it",
         "Check the value against the source (CRF, instrument scoring rules); correct the data or, if the "
         "range is wrong, the Range in the spec's ValueLevel sheet",
         "Study spec ValueLevel sheet, Range column (sponsor-defined value-level range, as define.xml "
         "value-level metadata)"),
    Rule("RANGE-STEP", "Error", "value is not one of the steps the spec declares (e.g. EDSS in steps of 0.5)",
         "Check the value against the instrument's scoring rules (e.g. EDSS scores move in steps of 0.5) and "
         "correct the data or the step in the spec's ValueLevel Range",
         "Study spec ValueLevel sheet, Range column (sponsor-defined value-level range)"),
    Rule(gx_runner.EXECUTION_ERROR_RULE, "Error", "an expectation raised an error and did not run",
         "Fix the data or the suite so the check can run; it is not counted as passed",
         "subgen validation runner"),
    Rule(gx_runner.NOT_RUN_RULE, "Error", "checks not run because a column they read is absent",
         "Add the column declared in the spec, then re-run the checks",
         "subgen validation runner"),
)

#: The rule catalogue: rule id -> :class:`Rule`.
RULES: Mapping[str, Rule] = MappingProxyType({r.id: r for r in _CATALOGUE})

# --------------------------------------------------------------------------------------------
# Checks: what the spec asks for, as plain data


@dataclass(frozen=True)
class SuiteInputs:
    """Everything a check builder may read: one dataset of the spec and its metadata."""

    dataset: Dataset
    codelists: Mapping[str, Codelist]
    value_level: tuple[ValueLevel, ...] = ()
    ranges: tuple[RangeRule, ...] = ()  # numeric ranges from the ValueLevel sheet's Range column


@dataclass(frozen=True)
class Check:
    """One expectation to generate, independent of GX.

    ``expectation`` is the class name in :mod:`great_expectations.expectations`, ``kwargs`` its
    arguments, ``column`` the variable the check is about, ``requires`` the columns it reads.
    """

    rule: str
    expectation: str
    kwargs: Mapping[str, Any]
    column: str | None
    message: str
    requires: tuple[str, ...] = ()
    fix: str | None = None  # overrides the rule's fix when set
    qualifier: str = ""  # distinguishes two checks of the same rule on the same column

    @property
    def check_id(self) -> str:
        """Stable id of the check inside its suite: ``RULE:COLUMN[:QUALIFIER]``."""
        parts = [self.rule, self.column or "*"] + ([self.qualifier] if self.qualifier else [])
        return ":".join(parts)


CheckBuilder = Callable[[SuiteInputs], Iterable[Check]]


def _named(v: Variable) -> str:
    """``NAME (Label)`` for messages; just the name when the label adds nothing."""
    return f"{v.name} ({v.label})" if v.label and v.label != v.name else v.name


def _character(variables: Iterable[Variable]) -> list[Variable]:
    return [v for v in variables if not v.is_numeric]


def columns_match_spec(inputs: SuiteInputs) -> Iterable[Check]:
    """The column set and order equal the spec's variables in order."""
    ds = inputs.dataset
    yield Check("COLS-SPEC", "ExpectTableColumnsToMatchOrderedList",
                {"column_list": list(ds.variable_names)}, None,
                f"{ds.name}: {RULES['COLS-SPEC'].title}")


def required_present(inputs: SuiteInputs) -> Iterable[Check]:
    """Required (Core = Req) variables exist as columns."""
    for v in inputs.dataset.variables:
        if v.core == "Req":
            yield Check("REQ-COLUMN", "ExpectColumnToExist", {"column": v.name}, v.name,
                        f"required variable {_named(v)} is missing from the dataset")


def required_not_null(inputs: SuiteInputs) -> Iterable[Check]:
    """Required (Core = Req) or spec-mandatory variables are never null ("" counts as null)."""
    for v in inputs.dataset.variables:
        if v.core == "Req" or v.mandatory:
            why = "required (Core = Req)" if v.core == "Req" else "mandatory in the spec"
            yield Check("REQ-NULL", "ExpectColumnValuesToNotBeNull", {"column": v.name}, v.name,
                        f"{_named(v)} is {why} but is empty on this record",
                        requires=(v.name,))


def expected_present(inputs: SuiteInputs) -> Iterable[Check]:
    """Expected (Core = Exp) variables exist as columns (they may be null)."""
    for v in inputs.dataset.variables:
        if v.core == "Exp":
            yield Check("EXP-COLUMN", "ExpectColumnToExist", {"column": v.name}, v.name,
                        f"expected variable {_named(v)} is missing from the dataset")


def _codelist_values(variable: Variable, codelist: Codelist) -> list[Any]:
    values: list[Any] = list(codelist.submission_values)
    if variable.is_numeric:
        converted = []
        for value in values:
            try:
                converted.append(float(value))
            except ValueError:
                converted.append(value)
        values = converted
    return values


def codelist_values(inputs: SuiteInputs) -> Iterable[Check]:
    """Values are submission values of the variable's codelist.

    Non-extensible codelist -> ``CT-NONEXT`` (Error); extensible -> ``CT-EXT`` (Warning).
    A codelist with no terms in the spec (an external dictionary such as MedDRA) gives no check.
    """
    ds = inputs.dataset
    unknown = [v for v in ds.variables if v.codelist and v.codelist not in inputs.codelists]
    if unknown:
        raise ProblemError([Problem(where=ds.name, row=v.row or None, column=v.name,
                                    value=v.codelist, rule="SUITE-CODELIST",
                                    message=f"{v.name} refers to codelist {v.codelist}, "
                                            "which the spec does not declare",
                                    fix="Declare the codelist in the Codelists sheet or correct "
                                        "the variable's Codelist column")
                            for v in unknown], headline=f"cannot build the {ds.name} checks")
    for v in ds.variables:
        if not v.codelist:
            continue
        cl = inputs.codelists[v.codelist]
        if not cl.terms:
            continue
        values = _codelist_values(v, cl)
        shown = ", ".join(str(t) for t in cl.submission_values[:12])
        shown += ", ..." if len(cl.terms) > 12 else ""
        if cl.extensible:
            yield Check("CT-EXT", "ExpectColumnValuesToBeInSet", {"column": v.name,
                                                                  "value_set": values}, v.name,
                        f"{v.name} value is a sponsor term not declared in the spec "
                        f"(extensible codelist {cl.id} '{cl.name}')", requires=(v.name,),
                        fix=f"If the term is intended, add it to codelist {cl.id} in the spec as "
                            f"an extended term; otherwise map it to one of: {shown}")
        else:
            yield Check("CT-NONEXT", "ExpectColumnValuesToBeInSet", {"column": v.name,
                                                                     "value_set": values}, v.name,
                        f"{v.name} value is not in codelist {cl.id} '{cl.name}', which does not "
                        "allow other terms", requires=(v.name,),
                        fix=f"Map the raw value to one of: {shown} (add the raw text as a synonym "
                            f"of the right term in the spec's Codelists sheet)")


def dtc_format(inputs: SuiteInputs) -> Iterable[Check]:
    """Every character variable named ``*DTC`` holds an ISO 8601 date/time (SDTMIG 4.4)."""
    for v in _character(inputs.dataset.variables):
        if v.name.endswith("DTC"):
            yield Check("DTC-FORMAT", "ExpectColumnValuesToMatchRegex",
                        {"column": v.name, "regex": ISO8601_DTC_REGEX}, v.name,
                        f"{v.name} is not an ISO 8601 date/time (allowed: YYYY, YYYY-MM, "
                        "YYYY-MM-DD, YYYY-MM-DDThh, YYYY-MM-DDThh:mm, YYYY-MM-DDThh:mm:ss)",
                        requires=(v.name,))


def dtc_calendar(inputs: SuiteInputs) -> Iterable[Check]:
    """Every ``*DTC`` date is a day that exists (no 30 February; leap years respected)."""
    for v in _character(inputs.dataset.variables):
        if v.name.endswith("DTC"):
            yield Check("DTC-CALENDAR", "ExpectColumnValuesToNotMatchRegex",
                        {"column": v.name, "regex": IMPOSSIBLE_DATE_REGEX}, v.name,
                        f"{v.name} is a day that does not exist in the calendar",
                        requires=(v.name,))


def char_ascii(inputs: SuiteInputs) -> Iterable[Check]:
    """Character values are printable ASCII."""
    for v in _character(inputs.dataset.variables):
        yield Check("CHAR-ASCII", "ExpectColumnValuesToMatchRegex",
                    {"column": v.name, "regex": ASCII_REGEX}, v.name,
                    f"{v.name} contains a character outside printable ASCII (accented letter, "
                    "typographic quote or dash, symbol, tab or line break)", requires=(v.name,))


def char_length(inputs: SuiteInputs) -> Iterable[Check]:
    """Character values fit XPT v5 (200 bytes; with ASCII-only values bytes = characters)."""
    for v in _character(inputs.dataset.variables):
        yield Check("CHAR-LENGTH", "ExpectColumnValueLengthsToBeBetween",
                    {"column": v.name, "max_value": MAX_CHAR_BYTES}, v.name,
                    f"{v.name} is longer than {MAX_CHAR_BYTES} characters", requires=(v.name,))


def key_unique(inputs: SuiteInputs) -> Iterable[Check]:
    """The spec's key variables identify one record (null key parts compare equal)."""
    keys = list(inputs.dataset.keys)
    label = ", ".join(keys)
    message = f"duplicate key: another record has the same {label}"
    if len(keys) == 1:
        yield Check("KEY-UNIQUE", "ExpectColumnValuesToBeUnique", {"column": keys[0]}, keys[0],
                    message, requires=tuple(keys))
    elif keys:
        yield Check("KEY-UNIQUE", "ExpectCompoundColumnsToBeUnique",
                    {"column_list": keys, "ignore_row_if": "never"}, label, message,
                    requires=tuple(keys))


def _is_seq(name: str) -> bool:
    """--SEQ (two-letter domain prefix) or ADaM ASEQ."""
    return len(name) in (4, 5) and name.endswith("SEQ") and name[:-3].isalpha() and \
        name[:-3].isupper()


def seq_unique(inputs: SuiteInputs) -> Iterable[Check]:
    """--SEQ is unique within USUBJID (datasets without USUBJID have no subject sequence)."""
    names = inputs.dataset.variable_names
    if "USUBJID" not in names:
        return
    for name in names:
        if _is_seq(name):
            yield Check("SEQ-UNIQUE", "ExpectCompoundColumnsToBeUnique",
                        {"column_list": ["USUBJID", name], "ignore_row_if": "never"}, name,
                        f"{name} is used more than once for the same USUBJID",
                        requires=("USUBJID", name))


def _is_study_day(variable: Variable) -> bool:
    """Numeric study-day variables: --DY, --STDY, --ENDY, VISITDY, ADaM ADY/ASTDY/AENDY."""
    name = variable.name
    if not variable.is_numeric or not name.endswith("DY"):
        return False
    stem = name[:-2]
    for suffix in ("ST", "EN"):
        if stem.endswith(suffix) and len(stem) in (3, 4):
            stem = stem[:-2]
            break
    return name == "VISITDY" or stem == "A" or (len(stem) == 2 and stem.isalpha())


def study_day_nonzero(inputs: SuiteInputs) -> Iterable[Check]:
    """Study-day variables are never 0."""
    for v in inputs.dataset.variables:
        if _is_study_day(v):
            yield Check("DY-ZERO", "ExpectColumnValuesToNotBeInSet",
                        {"column": v.name, "value_set": [0]}, v.name,
                        f"{v.name} is 0; study days skip day 0 (day -1 is followed by day 1)",
                        requires=(v.name,))


def value_level_checks(inputs: SuiteInputs) -> Iterable[Check]:
    """Numeric ranges declared per where clause in the ValueLevel sheet (see :mod:`subgen.core.conformance.ranges`).

    ``RANGE-VALUE``: the value lies within [MIN, MAX] on records matching the where clause;
    ``RANGE-STEP`` (when a step is declared): a value within [MIN, MAX] is one of MIN, MIN + STEP, ...,
    MAX (a value outside the range is reported once, by RANGE-VALUE). Both are
    GX expectations with a pandas ``row_condition``; null values are not checked (required-ness is
    the REQ-NULL check's job).
    """
    for rule in inputs.ranges:
        if rule.dataset != inputs.dataset.name:
            continue
        condition = row_condition(rule.expression, numeric_variables(inputs.dataset))
        common = {"column": rule.variable, "row_condition": condition, "condition_parser": "pandas"}
        yield Check("RANGE-VALUE", "ExpectColumnValuesToBeBetween",
                    {**common, "min_value": rule.minimum, "max_value": rule.maximum}, rule.variable,
                    f"{rule.variable} is outside {_num(rule.minimum)} to {_num(rule.maximum)} declared for "
                    f"{rule.where}", requires=rule.variables, qualifier=rule.where)
        if rule.step is not None:  # only values inside [MIN, MAX]: one defect, one finding
            within = (f"({condition}) and {rule.variable} >= {rule.minimum!r} and "
                      f"{rule.variable} <= {rule.maximum!r}")
            yield Check("RANGE-STEP", "ExpectColumnValuesToBeInSet",
                        {**common, "row_condition": within, "value_set": rule.allowed_values}, rule.variable,
                        f"{rule.variable} is not in steps of {_num(rule.step)} from {_num(rule.minimum)} "
                        f"({rule.text}) declared for {rule.where}", requires=rule.variables,
                        qualifier=rule.where)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


#: The ordered check builders; a new rule is a new function appended here.
CHECK_BUILDERS: tuple[CheckBuilder, ...] = (
    columns_match_spec,
    required_present,
    expected_present,
    required_not_null,
    codelist_values,
    dtc_format,
    dtc_calendar,
    char_ascii,
    char_length,
    key_unique,
    seq_unique,
    study_day_nonzero,
    value_level_checks,
)


def plan_checks(dataset: Dataset, codelists: Mapping[str, Codelist],
                value_level: Sequence[ValueLevel] = (), ranges: Sequence[RangeRule] = (),
                exclude: Iterable[str] = ()) -> list[Check]:
    """All checks for ``dataset``, in builder order (pure: no GX involved).

    ``ranges`` are the ValueLevel Range rules (:func:`subgen.core.conformance.ranges.declared_ranges`);
    ``exclude`` names rule ids not to generate (e.g. COLS-SPEC when no spec or define.xml gives
    the variable order).
    """
    inputs = SuiteInputs(dataset, codelists,
                         tuple(vl for vl in value_level if vl.dataset == dataset.name),
                         tuple(r for r in ranges if r.dataset == dataset.name))
    skip = set(exclude)
    checks = [check for builder in CHECK_BUILDERS for check in builder(inputs) if check.rule not in skip]
    seen: set[str] = set()
    for check in checks:
        if check.rule not in RULES:
            raise ValueError(f"check {check.check_id}: rule {check.rule} is not in the catalogue")
        if check.check_id in seen:
            raise ValueError(f"two checks share the id {check.check_id}; set a qualifier")
        seen.add(check.check_id)
    return checks


def _meta(dataset: Dataset, check: Check) -> dict[str, Any]:
    rule = RULES[check.rule]
    return {"rule": rule.id, "severity": rule.severity, "message": check.message,
            "fix": check.fix or rule.fix, "citation": rule.citation, "check": check.check_id,
            "dataset": dataset.name, "column": check.column, "requires": list(check.requires)}


def build_suite(dataset: Dataset, codelists: Mapping[str, Codelist],
                value_level: Sequence[ValueLevel] = (), ranges: Sequence[RangeRule] = (),
                exclude: Iterable[str] = ()) -> Any:
    """The GX ``ExpectationSuite`` named after ``dataset``, generated from the spec only.

    Every expectation carries the rule metadata in ``meta`` (see the module docstring) and the
    GX failure severity matching the rule (Reject/Error -> critical, Warning -> warning,
    Notice -> info). Building needs no GX context.
    """
    gx = gx_runner.import_gx()  # GX takes seconds to import: only when a suite is built
    gxe = gx.expectations

    expectations = []
    for check in plan_checks(dataset, codelists, value_level, ranges, exclude):
        cls = getattr(gxe, check.expectation)
        expectations.append(cls(**dict(check.kwargs), meta=_meta(dataset, check),
                                severity=_GX_SEVERITY[RULES[check.rule].severity]))
    return gx.ExpectationSuite(name=dataset.name, expectations=expectations)


def _without_ids(suite_dict: dict[str, Any]) -> dict[str, Any]:
    """Drop the ids GX assigns (suite, expectations) and rendered content, which vary per run."""
    volatile = ("id", "rendered_content")
    clean = {k: v for k, v in suite_dict.items() if k not in volatile}
    clean["expectations"] = [{k: v for k, v in e.items() if k not in volatile}
                             for e in suite_dict.get("expectations", [])]
    return clean


def suite_to_json(suite: Any) -> str:
    """The suite as deterministic JSON: sorted keys, expectations in suite order, no GX ids."""
    return json.dumps(_without_ids(suite.to_json_dict()), sort_keys=True, indent=2,
                      ensure_ascii=True) + "\n"


def check_before_write(frame: pd.DataFrame, dataset: Dataset, codelists: Mapping[str, Codelist],
                       value_level: Sequence[ValueLevel] = (),
                       ranges: Sequence[RangeRule] = ()) -> list[Problem]:
    """Build the dataset's suite and run it on ``frame``: the Problems, empty when clean."""
    return gx_runner.run_suite(frame, build_suite(dataset, codelists, value_level, ranges))


__all__ = [
    "ASCII_REGEX", "CHECK_BUILDERS", "Check", "IMPOSSIBLE_DATE_REGEX", "ISO8601_DTC_REGEX",
    "MAX_CHAR_BYTES", "RULES", "Rule", "SuiteInputs", "build_suite", "check_before_write",
    "plan_checks", "suite_to_json", "value_level_checks",
]
