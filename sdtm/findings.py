"""Findings derivations: baseline flag, standard results and units, reference ranges, NRIND.

Variables are named from the dataset's two-letter prefix (``LB`` -> LBORRES, LBORRESU, ...).
Unit conversions come from the spec's Units sheet: a row (test code or ``*``, from unit, to
unit, factor) says that a result in ``from unit`` times ``factor`` is the result in ``to unit``;
a row for the record's test code wins over a ``*`` row. Units are compared as written (trimmed):
``mg/dL`` and ``mg/dl`` are different spellings and need their own rows.

Standard numbers are rounded to 6 significant digits (:data:`SIG_DIGITS`): enough for any
collected lab value (instruments report 3-5 significant digits, and conversion factors in
the Units sheet have at most 4-6), while removing binary floating-point noise from the
multiplication (180 x 0.0555 = 9.990000000000002 -> 9.99), so STRESC is the text a reviewer
would write and the same number is in STRESN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sdtm import dates
from sdtm.context import MappingContext, report_records
from sdtm.registry import DatasetVariable, algorithm
from subgen.core.distinct import on_distinct
from subgen.core.raw import FILE_COL, ROW_COL
from subgen.core.spec.model import Mapping, UnitConversion

SIG_DIGITS = 6
NOT_DONE = "NOT DONE"
_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)$"
_LIMIT = r"^(?P<op><=|>=|<|>)\s*(?P<num>[+-]?(?:\d+\.?\d*|\.\d+))$"
_COMMA = r"^[<>]?=?\s*[+-]?\d+,\d+$"
_NON_FINITE = r"(?i)^[+-]?(?:inf|infinity|nan)$"  # what float() accepts but no measurement is


# --------------------------------------------------------------------------- baseline flag
def baseline_flag(frame: pd.DataFrame, prefix: str, groups: list[str], reference: pd.Series) -> pd.Series:
    """--LOBXFL: 'Y' on the last valid record on or before the reference date-time, per USUBJID and ``groups``.

    Valid: --ORRES not blank and --STAT (if present) not NOT DONE, with a complete --DTC date.
    On or before: date-times are compared when both the record and the reference have a time,
    else dates (a record on the first-dose day without a time counts as pre-dose). Last: by
    --DTC (an untimed record sorts before a timed one of the same day); ties broken by the
    higher --SEQ, then the later raw file/row, so exactly one record per group is flagged.
    Subjects without a reference (never dosed) get no flag.
    """
    dtc = frame[f"{prefix}DTC"].astype("string")
    ref = reference.astype("string")
    result = frame[f"{prefix}ORRES"].astype("string").str.strip()
    valid = result.notna() & result.ne("")
    if f"{prefix}STAT" in frame:
        valid &= ~frame[f"{prefix}STAT"].astype("string").str.upper().eq(NOT_DONE).fillna(False)
    day, ref_day = dates.complete_date(dtc), dates.complete_date(ref)
    timed = dtc.str.len().ge(16).fillna(False) & ref.str.len().ge(16).fillna(False)
    before = (day <= ref_day).fillna(False)
    before = before.where(~timed, (dtc.str.slice(0, 16) <= ref.str.slice(0, 16)).fillna(False))
    eligible = valid.fillna(False) & day.notna() & ref_day.notna() & before
    order = [c for c in (f"{prefix}SEQ", FILE_COL, ROW_COL) if c in frame]
    cand = frame.loc[eligible, ["USUBJID", *groups, *order]].assign(__dtc=dtc[eligible])
    cand = cand.sort_values(["__dtc", *order], kind="stable")
    last = cand.groupby(["USUBJID", *groups], dropna=False).tail(1).index
    out = pd.Series(pd.NA, index=frame.index, dtype="string")
    out.loc[last] = "Y"
    return out


@algorithm("derive_lobxfl", "dataset", needs=("DM",),
           value=DatasetVariable("the group variables, e.g. LBTESTCD,LBSPEC", many=True))
def derive_lobxfl(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """--LOBXFL 'Y' on the subject's last result on/before RFXSTDTC per Value's groups (e.g. LBTESTCD,LBSPEC).

    Ties on the same date-time go to the higher --SEQ (then later raw row); NOT DONE and blank
    results are skipped; subjects never dosed get no flag.
    """
    groups = [g.strip() for g in (mapping.value or "").split(",") if g.strip()]
    ref = frame["USUBJID"].map(ctx.finished("DM").set_index("USUBJID")["RFXSTDTC"])
    return baseline_flag(frame, _prefix(mapping), groups, ref)


# --------------------------------------------------------------------------- numbers and units
def sig_round(values: pd.Series, digits: int = SIG_DIGITS) -> pd.Series:
    """Round to ``digits`` significant digits (Float64, missing kept)."""
    x = pd.to_numeric(values, errors="coerce").astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.floor(np.log10(np.abs(x)))
    mag = np.where(np.isfinite(mag), mag, 0)
    scale = 10.0 ** (digits - 1 - mag)
    return pd.Series(np.round(x * scale) / scale, index=values.index).astype("Float64")


@on_distinct
def format_number(values: pd.Series) -> pd.Series:
    """Numbers as plain decimal text without exponent or trailing zeros (12.4, 9.99, 100, 0.0005)."""
    x = values.astype("Float64")
    text = x.dropna().astype(float).map(lambda v: np.format_float_positional(v, trim="-"))
    return text.reindex(values.index).astype("string")


@on_distinct
def parse_results(orres: pd.Series) -> pd.DataFrame:
    """Classify raw result text: NUMBER (float or NA), OP and LIMIT for '<0.5'-style results, COMMA flag."""
    text = orres.astype("string").str.strip()
    text = text.mask(text.eq(""))
    is_num = text.str.match(_NUMBER).fillna(False)
    lim = text.str.extract(_LIMIT)
    return pd.DataFrame({"TEXT": text,
                         "NUMBER": pd.to_numeric(text.where(is_num), errors="coerce").astype("Float64"),
                         "OP": lim["op"].astype("string"),
                         "LIMIT": pd.to_numeric(lim["num"], errors="coerce").astype("Float64"),
                         "COMMA": text.str.match(_COMMA).fillna(False)}, index=orres.index)


def unit_factors(testcd: pd.Series, unit: pd.Series, units: tuple[UnitConversion, ...] | list[UnitConversion]
                 ) -> pd.DataFrame:
    """Per record, the Units row that applies: FACTOR (float, NA when none) and TO unit."""
    specific = {f"{u.test}\x1f{u.from_unit.strip()}": u for u in units if u.test != "*"}
    generic = {u.from_unit.strip(): u for u in units if u.test == "*"}
    u = unit.astype("string").str.strip().fillna("")
    key = testcd.astype("string").fillna("") + "\x1f" + u
    factor = key.map({k: v.factor for k, v in specific.items()}).astype("Float64")
    to = key.map({k: v.to_unit for k, v in specific.items()}).astype("string")
    generic_hit = factor.isna()
    factor = factor.where(~generic_hit, u.map({k: v.factor for k, v in generic.items()}).astype("Float64"))
    to = to.where(~generic_hit, u.map({k: v.to_unit for k, v in generic.items()}).astype("string"))
    return pd.DataFrame({"FACTOR": factor, "TO": to}, index=unit.index)


def standard_results(orres: pd.Series, orresu: pd.Series, testcd: pd.Series,
                     units: tuple[UnitConversion, ...] | list[UnitConversion]) -> pd.DataFrame:
    """STRESC, STRESN, STRESU plus problem masks (BAD_UNIT, BAD_NUMBER, COMMA) for each record.

    * numeric result with a Units row: STRESN = ORRES x factor rounded to 6 significant digits,
      STRESC its text, STRESU the to-unit;
    * ``<x``/``>x`` (limit of quantification): STRESC = the operator + converted limit, STRESN
      missing, STRESU the to-unit;
    * text result (Positive, Negative, ...) in a test that is not numeric: STRESC upper-cased,
      STRESN and STRESU missing;
    * numeric or limit result whose unit has no Units row: all missing, BAD_UNIT;
    * decimal comma (5,6) or text in a numeric test (one with a unit, or with numeric results
      elsewhere in the frame): all missing, BAD_NUMBER (COMMA tells which).
    """
    p = parse_results(orres)
    conv = unit_factors(testcd, orresu, units)
    has_unit = orresu.astype("string").str.strip().fillna("").ne("")
    numeric_test = p["NUMBER"].notna().groupby(testcd.astype("string").fillna("")).transform("any")
    quantity = p["NUMBER"].notna() | p["LIMIT"].notna()
    text = p["TEXT"].notna() & ~quantity
    bad_number = text & (p["COMMA"] | has_unit | numeric_test)
    bad_unit = quantity & conv["FACTOR"].isna()
    stresn = sig_round(p["NUMBER"] * conv["FACTOR"])
    limit = format_number(sig_round(p["LIMIT"] * conv["FACTOR"]))
    stresc = format_number(stresn)
    stresc = stresc.where(p["LIMIT"].isna(), p["OP"] + limit)
    stresc = stresc.where(~(text & ~bad_number), p["TEXT"].str.upper())
    stresu = conv["TO"].where(quantity & ~bad_unit)
    return pd.DataFrame({"STRESC": stresc.astype("string"), "STRESN": stresn.astype("Float64"),
                         "STRESU": stresu.astype("string"), "BAD_UNIT": bad_unit.fillna(False),
                         "BAD_NUMBER": bad_number.fillna(False), "COMMA": p["COMMA"]}, index=orres.index)


def standard_range(ornr: pd.Series, orresu: pd.Series, testcd: pd.Series,
                   units: tuple[UnitConversion, ...] | list[UnitConversion]) -> tuple[pd.Series, pd.Series]:
    """--STNRLO/--STNRHI from --ORNRLO/--ORNRHI with the result's factor; returns (value, not_a_number mask)."""
    p = parse_results(ornr)
    conv = unit_factors(testcd, orresu, units)
    return sig_round(p["NUMBER"] * conv["FACTOR"]), p["TEXT"].notna() & p["NUMBER"].isna()


def reference_indicator(stresn: pd.Series, stresc: pd.Series, lo: pd.Series, hi: pd.Series) -> pd.Series:
    """--NRIND: LOW below STNRLO, HIGH above STNRHI, NORMAL within; one-sided ranges work on the limit given.

    A range with only an upper limit (CRP <= 5 mg/L) makes a result NORMAL up to it and HIGH above;
    only a lower limit, LOW below and NORMAL from it. No limit at all gives a missing indicator.
    A ``<x`` result (below the limit of quantification, STRESN missing) is LOW when x <= STNRLO
    (the true value is below x, so below the range), NORMAL when there is no lower limit and
    x <= STNRHI, and missing otherwise (it may be in range or not); a ``>x`` result mirrors this.
    """
    n = stresn.astype("Float64")
    lo, hi = lo.astype("Float64"), hi.astype("Float64")
    lim = parse_results(stresc)
    has_lo, has_hi = lo.notna(), hi.notna()
    ranged = has_lo | has_hi
    within = (~has_lo | (n >= lo)) & (~has_hi | (n <= hi))
    out = pd.Series(pd.NA, index=n.index, dtype="string")
    out = out.mask((ranged & n.notna() & within).fillna(False), "NORMAL")
    out = out.mask((has_lo & (n < lo)).fillna(False), "LOW")
    out = out.mask((has_hi & (n > hi)).fillna(False), "HIGH")
    censored = n.isna() & lim["LIMIT"].notna()
    below = censored & lim["OP"].isin(["<", "<="])
    above = censored & lim["OP"].isin([">", ">="])
    out = out.mask((below & has_lo & (lim["LIMIT"] <= lo)).fillna(False), "LOW")
    out = out.mask((below & ~has_lo & has_hi & (lim["LIMIT"] <= hi)).fillna(False), "NORMAL")
    out = out.mask((above & has_hi & (lim["LIMIT"] >= hi)).fillna(False), "HIGH")
    return out.mask((above & ~has_hi & has_lo & (lim["LIMIT"] >= lo)).fillna(False), "NORMAL")


# --------------------------------------------------------------------------- algorithm wrappers
def _prefix(mapping: Mapping) -> str:
    return mapping.dataset[:2]


def _std(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.DataFrame:
    p = _prefix(mapping)
    return standard_results(frame[f"{p}ORRES"], _col(frame, f"{p}ORRESU"), frame[f"{p}TESTCD"], ctx.spec.units)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(pd.NA, index=frame.index, dtype="string")


@algorithm("derive_stresn", "dataset")
def derive_stresn(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """--STRESN = numeric --ORRES x the Units sheet factor for (--TESTCD or *, --ORRESU), 6 significant digits."""
    return _std(frame, mapping, ctx)["STRESN"]


@algorithm("derive_stresc", "dataset")
def derive_stresc(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """--STRESC: the standard number as text, '<' + converted limit for '<x' results, text results upper-cased.

    Files the result problems of the standardisation (once, here): a numeric result in a unit
    the Units sheet does not convert (MAP-UNIT), a decimal comma or text in a numeric test
    (MAP-NUMBER); those records get no standard result.
    """
    p = _prefix(mapping)
    std = _std(frame, mapping, ctx)
    units = _col(frame, f"{p}ORRESU").astype("string").fillna("")
    msg = (f"{mapping.dataset}: result unit '" + units + "' of test " + frame[f"{p}TESTCD"].astype("string")
           .fillna("") + " has no row in the Units sheet; standard result left missing")
    no_unit = std["BAD_UNIT"] & units.str.strip().eq("")
    orres = frame[f"{p}ORRES"].astype("string").str.strip()
    non_finite = std["BAD_NUMBER"] & orres.str.match(_NON_FINITE).fillna(False)
    for mask, message, fix, rule in (
            (std["BAD_UNIT"] & ~no_unit, msg, "add a Units row (test or *, from unit, to unit, factor)", "MAP-UNIT"),
            (no_unit, f"{mapping.dataset}: numeric result without a unit; standard result left missing",
             "enter the result's unit in the EDC and re-export", "MAP-UNIT"),
            (std["BAD_NUMBER"] & std["COMMA"], f"{mapping.dataset}: decimal comma in a numeric result",
             "use a decimal point (5.6, not 5,6) in the export", "MAP-NUMBER"),
            (non_finite, f"{mapping.dataset}: the result is not a finite number",
             "enter the measured number (or <limit) or record the test as NOT DONE (inf, -inf and nan are not "
             "results)", "MAP-NUMBER"),
            (std["BAD_NUMBER"] & ~std["COMMA"] & ~non_finite, f"{mapping.dataset}: text result in a numeric test",
             "enter a number (or <limit) or record the test as NOT DONE", "MAP-NUMBER")):
        column = f"{p}ORRESU" if rule == "MAP-UNIT" else f"{p}ORRES"
        _report_by_record(ctx, frame, mask, column, message, fix, rule)
    return std["STRESC"]


@algorithm("derive_stresu", "dataset")
def derive_stresu(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """--STRESU: the Units sheet's to-unit for records with a standard numeric result or limit."""
    return _std(frame, mapping, ctx)["STRESU"]


@algorithm("derive_strnr", "dataset")
def derive_strnr(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """--STNRLO/--STNRHI from --ORNRLO/--ORNRHI (named after the target variable) with the result's unit factor."""
    p = _prefix(mapping)
    source = mapping.variable.replace("STNR", "ORNR")
    value, bad = standard_range(_col(frame, source), _col(frame, f"{p}ORRESU"), frame[f"{p}TESTCD"],
                                ctx.spec.units)
    _report_by_record(ctx, frame, bad, source, f"{mapping.dataset}: reference limit is not a number",
                      "enter the limit as a plain number with a decimal point", "MAP-NUMBER")
    return value


@algorithm("derive_nrind", "dataset")
def derive_nrind(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """--NRIND: LOW/HIGH/NORMAL from --STRESN against --STNRLO/--STNRHI; '<x' is LOW only when x <= STNRLO."""
    p = _prefix(mapping)
    return reference_indicator(frame[f"{p}STRESN"], frame[f"{p}STRESC"], frame[f"{p}STNRLO"], frame[f"{p}STNRHI"])


def _report_by_record(ctx: MappingContext, frame: pd.DataFrame, mask: pd.Series, column: str,
                      message: str | pd.Series, fix: str, rule: str) -> None:
    if isinstance(message, str):
        report_records(ctx, frame, mask, column, message, fix, rule)
        return
    for text in message[mask].unique():
        report_records(ctx, frame, mask & message.eq(text), column, text, fix, rule)
