"""The mapping algorithms named in the spec's Mappings sheet (its Algorithm column).

Two families, one vocabulary:

* record algorithms (``assign_*``, ``hardcode_*``, ``first_*``/``last_*``, ``study_id``, ``domain``,
  ``usubjid``) turn the raw rows of one source into one variable, named after sdtm.oak's
  algorithms so the spec reads as the code;
* dataset algorithms (``derive_*``) run after every source of the dataset is stacked, on the
  SDTM records, in the manner of admiral's derivations.

Every algorithm is a small function registered with :func:`algorithm`; the docstring is what
``subgen algorithms`` prints and what the README's algorithm table is built from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import pandas as pd

from sdtm import dates
from sdtm.distinct import map_distinct
from subgen.core.problems import Problem
from subgen.core.raw import FILE_COL, ROW_COL
from subgen.core.spec.model import Mapping, normalise_term

Level = Literal["record", "dataset"]


@dataclass(frozen=True)
class Algorithm:
    """A registered mapping algorithm."""

    name: str
    level: Level
    fn: Callable
    needs: tuple[str, ...] = ()  # datasets that must be finished first
    needs_raw: bool = False  # reads the Raw Column cell
    needs_value: bool = False  # reads the Value cell
    own_condition: bool = False  # applies the Condition to the form it reads (not to the source rows)
    doc: str = ""
    generates: bool = False  # a dataset algorithm that makes the records themselves (e.g. SE from DM/SV/TA)


REGISTRY: dict[str, Algorithm] = {}


def algorithm(name: str, level: Level, *, needs: tuple[str, ...] = (), raw: bool = False,
              value: bool = False, own_condition: bool = False, generates: bool = False) -> Callable:
    """Register ``fn`` as the algorithm ``name``."""

    def wrap(fn: Callable) -> Callable:
        REGISTRY[name] = Algorithm(name, level, fn, needs, raw, value, own_condition, (fn.__doc__ or "").strip(),
                                   generates)
        return fn

    return wrap


# --------------------------------------------------------------------------- record algorithms
# Signature: fn(rows, mapping, ctx) -> Series aligned to rows.index. ``ctx`` is the engine's
# RecordContext: ctx.column(rows, ref) resolves a raw column reference, ctx.report(...) files a problem.


@algorithm("study_id", "record")
def study_id(rows: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """STUDYID from the Study sheet's StudyID."""
    return pd.Series(ctx.spec.study.study_id, index=rows.index, dtype="string")


@algorithm("domain", "record")
def domain(rows: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """The two-letter domain code, i.e. the dataset name (RELREC/SUPP-- excepted by their own specs)."""
    return pd.Series(mapping.dataset[:2] if not mapping.dataset.startswith("SUPP") else mapping.dataset[4:],
                     index=rows.index, dtype="string")


@algorithm("usubjid", "record")
def usubjid(rows: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """USUBJID = StudyID-<subject column of the form> (unique across all studies of the sponsor)."""
    subj = rows[ctx.form_of(rows).subject_column].astype("string").str.strip()
    return (ctx.spec.study.study_id + "-" + subj).astype("string")


@algorithm("no_data", "record")
def no_data(rows: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """Always missing: the variable is in the dataset but nothing in this study populates it (say why in a Comment)."""
    return pd.Series(pd.NA, index=rows.index, dtype="string")


@algorithm("assign_no_ct", "record", raw=True)
def assign_no_ct(rows: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """The raw value as entered (blanks trimmed, empty -> missing), no controlled terminology."""
    return _blank_to_na(ctx.column(rows, mapping.raw_column, mapping))


@algorithm("assign_ct", "record", raw=True)
def assign_ct(rows: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """The raw value mapped to the variable's codelist through its terms, decodes and synonyms.

    Raw values that match no term are reported (file, row, column, value): for a non-extensible
    codelist as an Error (the value is left missing and the run stops); for an extensible one as
    a Warning, and the value is kept as entered, so nothing collected is lost.
    """
    raw = _blank_to_na(ctx.column(rows, mapping.raw_column, mapping))
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


@algorithm("hardcode_no_ct", "record", value=True)
def hardcode_no_ct(rows: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """The constant in the Value column."""
    return pd.Series(mapping.value, index=rows.index, dtype="string")


@algorithm("hardcode_ct", "record", value=True)
def hardcode_ct(rows: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """The constant in the Value column, which must be a term of the variable's codelist."""
    return pd.Series(mapping.value, index=rows.index, dtype="string")


@algorithm("assign_datetime", "record", raw=True)
def assign_datetime(rows: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """ISO 8601 from a raw date column, or DATE+TIME columns; partial dates stay partial."""
    parts = [p.strip() for p in (mapping.raw_column or "").split("+")]
    date_raw = ctx.column(rows, parts[0], mapping)
    time_raw = ctx.column(rows, parts[1], mapping) if len(parts) > 1 else None
    iso, reason = dates.iso_datetime(date_raw, time_raw)
    bad = reason.notna()
    if bad.any():
        shown = date_raw if time_raw is None else date_raw.fillna("") + " " + time_raw.fillna("")
        dropped_time = reason.fillna("").str.contains("time dropped")
        for mask, sev, fix in ((bad & ~dropped_time, "Error", "correct the date in the EDC (DD-MON-YYYY; UN/UNK for "
                                "unknown day/month) and re-export"),
                               (dropped_time, "Warning", "no action needed unless the full date is known")):
            if mask.any():
                ctx.report_rows(rows, mask, mapping, shown.str.strip(), reason, fix, "MAP-DATE", severity=sev)
    return iso


@algorithm("assign_number", "record", raw=True)
def assign_number(rows: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """A numeric variable from raw text; text that is not a plain number is reported and left missing."""
    raw = _blank_to_na(ctx.column(rows, mapping.raw_column, mapping))
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
def assign_result(rows: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """The raw result column named by the source's Result Column (or the item's column, for a range of items)."""
    if "__result" in rows.columns:
        return _blank_to_na(rows["__result"])
    source = ctx.source_of(rows)
    return _blank_to_na(ctx.column(rows, source.result_column, mapping))


@algorithm("assign_topic", "record")
def assign_topic(rows: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """The source's Topic Value (the test code its raw column holds; ``DQOL{n}`` names each item of a range)."""
    if "__topic" in rows.columns:
        return rows["__topic"].astype("string")
    return pd.Series(ctx.source_of(rows).topic_value, index=rows.index, dtype="string")


@algorithm("first_datetime", "record", raw=True, own_condition=True)
def first_datetime(rows: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """Earliest complete ISO date/time per subject from another form's DATE[+TIME] (rows meeting Condition)."""
    return ctx.subject_aggregate(rows, mapping, "min")


@algorithm("last_datetime", "record", raw=True, own_condition=True)
def last_datetime(rows: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """Latest complete ISO date/time per subject from another form's DATE[+TIME] (rows meeting Condition)."""
    return ctx.subject_aggregate(rows, mapping, "max")


@algorithm("flag_any", "record", raw=True, own_condition=True)
def flag_any(rows: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """'Y' when the subject has any row in the form named by Raw Column meeting Condition, else missing."""
    return ctx.subject_aggregate(rows, mapping, "any")


# --------------------------------------------------------------------------- dataset algorithms
# Signature: fn(frame, mapping, ctx) -> Series aligned to frame.index. Condition cells of derive_*
# rows are evaluated on the SDTM records; the value is assigned only where the condition holds.


@algorithm("derive_copy", "dataset", value=True)
def derive_copy(frame: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """The value of another variable of the same record (Value = that variable)."""
    return frame[mapping.value].astype("string")


@algorithm("derive_constant", "dataset", value=True)
def derive_constant(frame: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """The constant in Value (checked against the variable's codelist when it has one)."""
    return pd.Series(mapping.value, index=frame.index, dtype="string")


@algorithm("derive_decode", "dataset", value=True)
def derive_decode(frame: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """The decoded value of another variable's codelist term (e.g. ARM from ARMCD, --TEST from --TESTCD)."""
    source_var = ctx.spec.dataset(mapping.dataset).variable(mapping.value)
    codelist = ctx.spec.codelist(source_var.codelist)
    return frame[mapping.value].map(codelist.decode_table()).astype("string")


@algorithm("derive_seq", "dataset")
def derive_seq(frame: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """--SEQ: 1, 2, ... within the group (Value, default USUBJID) in key-variable order, ties by raw file and row."""
    group = mapping.value or "USUBJID"
    keys = [k for k in ctx.spec.dataset(mapping.dataset).keys if k != mapping.variable and k in frame.columns]
    order = [group] + [k for k in keys if k != group] + [c for c in (FILE_COL, ROW_COL) if c in frame.columns]
    ordered = frame.sort_values(order, kind="stable", na_position="first")
    seq = ordered.groupby(group, sort=False, dropna=False).cumcount() + 1
    return seq.reindex(frame.index).astype("Float64")


@algorithm("derive_study_day", "dataset", value=True, needs=("DM",))
def derive_study_day(frame: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """--DY of the --DTC variable named in Value against DM.RFSTDTC (no day 0; complete dates only)."""
    ref = frame["RFSTDTC"] if mapping.dataset == "DM" else frame["USUBJID"].map(
        ctx.finished("DM").set_index("USUBJID")["RFSTDTC"])
    return dates.study_day(frame[mapping.value], ref)


@algorithm("derive_lookup", "dataset", value=True)
def derive_lookup(frame: pd.DataFrame, mapping: Mapping, ctx) -> pd.Series:
    """A variable of another finished dataset matched on a shared key: Value ``TI.IETEST@IETESTCD``."""
    dataset, variable, key = parse_lookup(mapping.value)
    other = ctx.finished(dataset)
    table = other.drop_duplicates(key).set_index(key)[variable]
    return frame[key].map(table).astype("string")


def parse_lookup(value: str | None) -> tuple[str, str, str]:
    """``DS.VAR@KEY`` -> (DS, VAR, KEY); ValueError saying how to write it otherwise."""
    text = (value or "").strip()
    if "." not in text or "@" not in text:
        raise ValueError(f"cannot read {text!r}; write DATASET.VARIABLE@KEY, e.g. TI.IETEST@IETESTCD")
    target, key = text.split("@", 1)
    dataset, variable = target.split(".", 1)
    return dataset.strip(), variable.strip(), key.strip()


def dependencies(mapping: Mapping) -> set[str]:
    """Datasets that must be finished before ``mapping`` can run (declared needs plus a look-up's dataset)."""
    alg = REGISTRY.get(mapping.algorithm)
    needs = set(alg.needs) if alg else set()
    if mapping.algorithm == "derive_lookup":
        try:
            needs.add(parse_lookup(mapping.value)[0])
        except ValueError:
            pass
    return needs


def _blank_to_na(series: pd.Series) -> pd.Series:
    s = series.astype("string").str.strip()
    return s.mask(s.eq(""))


def is_dataset_level(name: str) -> bool:
    """True when ``name`` is a registered dataset-level (derive_*) algorithm."""
    alg = REGISTRY.get(name)
    return alg is not None and alg.level == "dataset"


def unknown_algorithm_problem(mapping: Mapping, spec_path: str) -> Problem:
    """The problem filed for an Algorithm cell naming nothing registered."""
    import difflib

    near = difflib.get_close_matches(mapping.algorithm, sorted(REGISTRY), n=1, cutoff=0.6)
    hint = f" Did you mean {near[0]!r}?" if near else ""
    return Problem(f"{spec_path} [Mappings]", mapping.row, "Algorithm", mapping.algorithm,
                   f"unknown algorithm.{hint}", "use one of: " + ", ".join(sorted(REGISTRY)), rule="SPEC-ALGORITHM")


# Algorithm families in their own modules register themselves on import.
from sdtm import findings, supp, visits  # noqa: E402,F401
