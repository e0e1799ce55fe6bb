"""Waivers: a reviewed, justified decision that a finding is acceptable, applied to the findings.

A study keeps its waivers in ``studies/<study>/waivers.toml`` (an optional file)::

    [[waiver]]
    rule = "XD-TS-FDA"                 # rule id (required)
    dataset = "TS"                     # dataset the finding is in (required)
    usubjid = "MSEXO01-101001"         # optional: only this subject's findings
    variable = "TSPARMCD"              # optional: only findings about this variable
    value = "TSPARMCD=REGID"           # optional: the finding's Values text, one VAR=value part of it,
                                       #           or the value alone ("REGID")
    justification = "No registry number: an investigator-initiated pilot not registered before start"
    approved_by = "A. Reviewer (QA)"
    approved_on = 2026-11-05           # a TOML date

A waiver applies to every finding that matches all the fields it gives. Waived findings stay in
every report, marked ``waived`` with the justification, approver and date; they no longer block
export. Waivers that are malformed (missing or unknown fields, unknown rule, empty justification,
bad date) are not applied and are reported as ``WAIVER-INVALID``; waivers that match nothing as
``WAIVER-UNUSED``. A check that could not run (execution error, checks not run) cannot be waived.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from validation.rulebase import finding_frame

#: Waiver fields: required, then optional.
REQUIRED = ("rule", "dataset", "justification", "approved_by", "approved_on")
OPTIONAL = ("usubjid", "variable", "value")
#: Rules whose findings say a check did not run: never waivable.
UNWAIVABLE = ("GX-EXECUTION-ERROR", "GX-NOT-RUN")
INVALID_RULE = "WAIVER-INVALID"
UNUSED_RULE = "WAIVER-UNUSED"


@dataclass(frozen=True)
class Waiver:
    """One valid waiver (``number`` is its 1-based position in the file)."""

    number: int
    rule: str
    dataset: str
    justification: str
    approved_by: str
    approved_on: str
    usubjid: str | None = None
    variable: str | None = None
    value: str | None = None

    @property
    def label(self) -> str:
        """How reports name the waiver: ``waivers.toml #n``."""
        return f"waivers.toml #{self.number}"


@dataclass(frozen=True)
class WaiverFile:
    """The valid waivers of a file, the problems with the others, and the file's hash."""

    path: Path | None
    waivers: tuple[Waiver, ...]
    problems: pd.DataFrame  # findings without rule/severity (rule id in column "rule")
    sha256: str = ""


def _invalid(number: int | None, field: str | None, value: object, message: str) -> dict:
    return {"number": number, "field": field, "value": None if value is None else str(value), "message": message}


def load_waivers(path: Path | str | None, known_rules: Iterable[str]) -> WaiverFile:
    """Read a waiver file; a missing file is no waivers. Malformed entries are collected, not raised."""
    if path is None or not Path(path).is_file():
        return WaiverFile(None if path is None else Path(path), (), _problem_frame([]))
    path = Path(path)
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return WaiverFile(path, (), _problem_frame([_invalid(None, None, None, f"cannot read the waiver file: {exc}")]),
                          sha)
    known = set(known_rules)
    entries = data.get("waiver", [])
    problems = []
    extra = sorted(set(data) - {"waiver"})
    if extra:
        problems.append(_invalid(None, ", ".join(extra), None,
                                 "unknown top-level entries (waivers are [[waiver]] tables)"))
    if not isinstance(entries, list):
        entries = []
        problems.append(_invalid(None, "waiver", None, "write each waiver as a [[waiver]] table"))
    waivers = []
    for number, entry in enumerate(entries, 1):
        bad = []
        if not isinstance(entry, dict):
            problems.append(_invalid(number, None, entry, "not a table of fields"))
            continue
        for field in REQUIRED:
            value = entry.get(field)
            if value is None or (isinstance(value, str) and not value.strip()):
                bad.append(_invalid(number, field, None, f"{field} is missing or empty"))
        for field in sorted(set(entry) - set(REQUIRED) - set(OPTIONAL)):
            bad.append(_invalid(number, field, entry[field], f"unknown field {field!r} (allowed: "
                                                             f"{', '.join(REQUIRED + OPTIONAL)})"))
        for field in ("rule", "dataset", "justification", "approved_by", *OPTIONAL):
            if field in entry and not isinstance(entry[field], str):
                bad.append(_invalid(number, field, entry[field], f"{field} must be text"))
        rule = entry.get("rule")
        if isinstance(rule, str) and rule and rule not in known:
            bad.append(_invalid(number, "rule", rule, "no such rule id (see the Rules sheet)"))
        if rule in UNWAIVABLE:
            bad.append(_invalid(number, "rule", rule, "a check that could not run cannot be waived; fix the cause"))
        approved = entry.get("approved_on")
        if approved is not None and not (isinstance(approved, dt.date) and not isinstance(approved, dt.datetime)):
            bad.append(_invalid(number, "approved_on", approved, "approved_on must be a TOML date (2026-11-05)"))
        if bad:
            problems.extend(bad)
            continue
        waivers.append(Waiver(number, entry["rule"], entry["dataset"].upper(), entry["justification"].strip(),
                              entry["approved_by"].strip(), entry["approved_on"].isoformat(),
                              entry.get("usubjid"), entry.get("variable"), entry.get("value")))
    return WaiverFile(path, tuple(waivers), _problem_frame(problems), sha)


def _problem_frame(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        frame = finding_frame("waivers.toml", None, None, None, None, "", index=pd.RangeIndex(0))
        frame["rule"] = pd.Series(dtype="string")
        return frame
    table = pd.DataFrame(rows)
    frame = finding_frame("waivers.toml", table["number"], None, table["field"], table["value"], table["message"])
    frame["rule"] = INVALID_RULE
    return frame


def _value_matches(values: pd.Series, wanted: str) -> pd.Series:
    """True where ``wanted`` is the whole Values text, one ``VAR=value`` part, or one part's value."""
    text = values.fillna("").astype(str)
    parts = text.str.split(", ")
    return pd.Series([wanted == whole or wanted in ps or any(p.split("=", 1)[-1] == wanted for p in ps)
                      for whole, ps in zip(text, parts)], index=values.index)


def apply_waivers(findings: pd.DataFrame, waivers: Iterable[Waiver]) -> tuple[pd.DataFrame, list[Waiver]]:
    """``findings`` with waived, waiver, justification, approved_by, approved_on columns; and unused waivers.

    The first matching waiver (file order) is the one recorded on a finding.
    """
    out = findings.copy()
    out["waived"] = False
    for col in ("waiver", "justification", "approved_by", "approved_on"):
        out[col] = pd.Series(pd.NA, index=out.index, dtype="string")
    unwaivable = out["rule"].isin(UNWAIVABLE) | out["check"].fillna("").str.endswith(":execution-error")
    unused = []
    for waiver in waivers:
        mask = (out["rule"].eq(waiver.rule) & out["dataset"].str.upper().eq(waiver.dataset) & ~unwaivable)
        if waiver.usubjid is not None:
            mask &= out["USUBJID"].eq(waiver.usubjid)
        if waiver.variable is not None:
            mask &= out["variables"].fillna("").str.split(", ").map(lambda vs, v=waiver.variable: v in vs)
        if waiver.value is not None:
            mask &= _value_matches(out["values"], waiver.value)
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            unused.append(waiver)
            continue
        fresh = mask & ~out["waived"]
        out.loc[fresh, "waived"] = True
        out.loc[fresh, "waiver"] = waiver.label
        out.loc[fresh, "justification"] = waiver.justification
        out.loc[fresh, "approved_by"] = waiver.approved_by
        out.loc[fresh, "approved_on"] = waiver.approved_on
    return out, unused


def unused_findings(unused: list[Waiver]) -> pd.DataFrame:
    """``WAIVER-UNUSED`` findings (without the rule stamp) for waivers that matched nothing."""
    if not unused:
        return _problem_frame([])
    table = pd.DataFrame({"number": [w.number for w in unused],
                          "value": [f"rule={w.rule}, dataset={w.dataset}" for w in unused],
                          "message": ["the waiver matches no finding (the issue may be fixed): remove it or correct "
                                      "its fields" for _ in unused]})
    frame = finding_frame("waivers.toml", table["number"], None, "rule, dataset", table["value"], table["message"])
    frame["rule"] = UNUSED_RULE
    return frame


__all__ = ["INVALID_RULE", "OPTIONAL", "REQUIRED", "UNUSED_RULE", "UNWAIVABLE", "Waiver", "WaiverFile",
           "apply_waivers", "load_waivers", "unused_findings"]
