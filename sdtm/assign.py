"""Record algorithms: the raw rows of one source become one variable.

Named after sdtm.oak's algorithms so the spec reads as the code: ``assign_*`` take a raw column
(with or without controlled terminology), ``hardcode_*`` a constant, ``first_*``/``last_*`` and
``flag_any`` summarise another form per subject; ``study_id``, ``domain`` and ``usubjid`` need no
cell at all. Each function gets the source's rows (``rows.attrs`` names the form and source) and
returns a Series aligned to ``rows.index``.
"""

from __future__ import annotations

import pandas as pd

from sdtm import dates
from sdtm.context import RESULT_COL, TOPIC_COL, MappingContext
from sdtm.registry import RawColumn, TargetCodelist, Term, Text, algorithm
from subgen.core.distinct import map_distinct
from subgen.core.spec.model import Mapping, RawPart, normalise_term

OTHER_FORM_DATE = "another form's DATE or DATE+TIME, e.g. dosing.EXDAT+EXSTTIM"


@algorithm("study_id", "record")
def study_id(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """STUDYID from the Study sheet's StudyID."""
    return pd.Series(ctx.spec.study.study_id, index=rows.index, dtype="string")


@algorithm("domain", "record")
def domain(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """The two-letter domain code, i.e. the dataset name (RELREC/SUPP-- excepted by their own specs)."""
    return pd.Series(mapping.dataset[:2] if not mapping.dataset.startswith("SUPP") else mapping.dataset[4:],
                     index=rows.index, dtype="string")


@algorithm("usubjid", "record")
def usubjid(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """USUBJID = StudyID-<subject column of the form> (unique across all studies of the sponsor)."""
    subj = rows[ctx.form_of(rows).subject_column].astype("string").str.strip()
    return (ctx.spec.study.study_id + "-" + subj).astype("string")


@algorithm("no_data", "record")
def no_data(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """Always missing: the variable is in the dataset but nothing in this study populates it (say why in a Comment)."""
    return pd.Series(pd.NA, index=rows.index, dtype="string")


@algorithm("assign_no_ct", "record", raw=RawColumn("the raw column"))
def assign_no_ct(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """The raw value as entered (blanks trimmed, empty -> missing), no controlled terminology."""
    return _blank_to_na(ctx.column(rows, mapping.raw, mapping))


@algorithm("assign_ct", "record", raw=RawColumn("the raw column"),
           codelist=TargetCodelist("use assign_no_ct, or give the variable a codelist"))
def assign_ct(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """The raw value mapped to the variable's codelist through its terms, decodes and synonyms.

    Raw values that match no term are reported (file, row, column, value): for a non-extensible
    codelist as an Error (the value is left missing and the run stops); for an extensible one as
    a Warning, and the value is kept as entered, so nothing collected is lost.
    """
    raw = _blank_to_na(ctx.column(rows, mapping.raw, mapping))
    codelist = ctx.codelist_of(mapping)
    table = codelist.lookup_table()
    mapped = map_distinct(raw, lambda v: table.get(normalise_term(v)) if isinstance(v, str) else None, "string")
    bad = raw.notna() & mapped.isna()
    if bad.any():
        kept = "; kept as entered (the codelist is extensible)" if codelist.extensible else ""
        ctx.report_rows(rows, bad, mapping, raw,
                        f"does not map to codelist {codelist.id} ({', '.join(codelist.submission_values[:8])}"
                        f"{', ...' if len(codelist.terms) > 8 else ''}){kept}",
                        f"add the spelling as a synonym of the right term in the Codelists sheet ({codelist.id})"
                        + (", or add it as a sponsor term (Extended Value = Yes)" if kept else ""),
                        "MAP-CT", severity="Error" if not codelist.extensible else "Warning")
        if codelist.extensible:
            mapped = mapped.where(~bad, raw)
    return mapped


@algorithm("hardcode_no_ct", "record", value=Text("the constant"))
def hardcode_no_ct(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """The constant in the Value column."""
    return pd.Series(mapping.value, index=rows.index, dtype="string")


@algorithm("hardcode_ct", "record", value=Term("the constant, a term of the variable's codelist"))
def hardcode_ct(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """The constant in the Value column, which must be a term of the variable's codelist."""
    return pd.Series(mapping.value, index=rows.index, dtype="string")


@algorithm("assign_datetime", "record", raw=RawColumn("the raw date column, or DATE+TIME columns"))
def assign_datetime(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """ISO 8601 from a raw date column, or DATE+TIME columns; partial dates stay partial."""
    parts = mapping.raw.parts if mapping.raw else ()
    date_raw = ctx.column(rows, parts[0] if parts else None, mapping)
    time_raw = ctx.column(rows, parts[1], mapping) if len(parts) > 1 else None
    iso, reason = dates.iso_datetime(date_raw, time_raw)
    bad = reason.notna()
    if bad.any():
        shown = date_raw if time_raw is None else date_raw.fillna("") + " " + time_raw.fillna("")
        dropped_time = reason.fillna("").str.contains("time dropped")
        for mask, sev, fix in ((bad & ~dropped_time, "Error", ("correct the date in the EDC (DD-MON-YYYY; UN/UNK "
                                                              "for unknown day/month) and re-export")),
                               (dropped_time, "Warning", "no action needed unless the full date is known")):
            if mask.any():
                ctx.report_rows(rows, mask, mapping, shown.str.strip(), reason, fix, "MAP-DATE", severity=sev)
    return iso


@algorithm("assign_number", "record", raw=RawColumn("the raw column"))
def assign_number(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """A numeric variable from raw text; text that is not a plain number is reported and left missing."""
    raw = _blank_to_na(ctx.column(rows, mapping.raw, mapping))
    number = pd.to_numeric(raw, errors="coerce")
    bad = raw.notna() & number.isna()
    if bad.any():
        comma = raw.fillna("").str.match(r"^-?\d+,\d+$")
        ctx.report_rows(rows, bad & comma, mapping, raw, "decimal comma in a numeric field",
                        "use a decimal point (5.6, not 5,6) in the export", "MAP-NUMBER")
        ctx.report_rows(rows, bad & ~comma, mapping, raw, "not a number", "enter a number or leave it blank",
                        "MAP-NUMBER")
    return number.astype("Float64")


@algorithm("assign_result", "record")
def assign_result(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """The raw result column named by the source's Result Column (or the item's column, for a range of items)."""
    if RESULT_COL in rows.columns:
        return _blank_to_na(rows[RESULT_COL])
    source = ctx.source_of(rows)
    part = RawPart(None, source.result_column.strip()) if source.result_column else None
    return _blank_to_na(ctx.column(rows, part, mapping))


@algorithm("assign_topic", "record")
def assign_topic(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """The source's Topic Value (the test code its raw column holds; ``DQOL{n}`` names each item of a range)."""
    if TOPIC_COL in rows.columns:
        return rows[TOPIC_COL].astype("string")
    return pd.Series(ctx.source_of(rows).topic_value, index=rows.index, dtype="string")


@algorithm("first_datetime", "record", raw=RawColumn(OTHER_FORM_DATE), own_condition=True)
def first_datetime(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """Earliest complete ISO date/time per subject from another form's DATE[+TIME] (rows meeting Condition)."""
    return ctx.subject_aggregate(rows, mapping, "min")


@algorithm("last_datetime", "record", raw=RawColumn(OTHER_FORM_DATE), own_condition=True)
def last_datetime(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """Latest complete ISO date/time per subject from another form's DATE[+TIME] (rows meeting Condition)."""
    return ctx.subject_aggregate(rows, mapping, "max")


@algorithm("flag_any", "record", raw=RawColumn("a column of the other form, e.g. ds.DSSTATUS"),
           own_condition=True)
def flag_any(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """'Y' when the subject has any row in the form named by Raw Column meeting Condition, else missing."""
    return ctx.subject_aggregate(rows, mapping, "any")


def _blank_to_na(series: pd.Series) -> pd.Series:
    s = series.astype("string").str.strip()
    return s.mask(s.eq(""))
