"""General dataset algorithms (``derive_*``): run on the stacked SDTM records of one dataset.

In the manner of admiral's derivations, after every source of the dataset is stacked; the
Condition cell of a ``derive_*`` row is evaluated on the SDTM records and the value is assigned
only where it holds. Each function returns a Series aligned to ``frame.index``.
"""

from __future__ import annotations

import pandas as pd

from sdtm import dates
from sdtm.context import MappingContext
from sdtm.registry import DatasetVariable, Lookup, Term, algorithm, parse_lookup
from subgen.core.raw import FILE_COL, ROW_COL
from subgen.core.spec.model import Mapping


@algorithm("derive_copy", "dataset", value=DatasetVariable("the variable to copy"))
def derive_copy(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """The value of another variable of the same record (Value = that variable)."""
    return frame[mapping.value].astype("string")


@algorithm("derive_constant", "dataset",
           value=Term("the constant (a term of the variable's codelist when it has one)"))
def derive_constant(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """The constant in Value (checked against the variable's codelist when it has one)."""
    return pd.Series(mapping.value, index=frame.index, dtype="string")


@algorithm("derive_decode", "dataset", value=DatasetVariable("the coded variable to decode", coded=True))
def derive_decode(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """The decoded value of another variable's codelist term (e.g. ARM from ARMCD, --TEST from --TESTCD)."""
    source_var = ctx.spec.dataset(mapping.dataset).variable(mapping.value or "")
    codelist = ctx.spec.codelist(source_var.codelist or "")
    return frame[mapping.value].map(codelist.decode_table()).astype("string")


@algorithm("derive_seq", "dataset",
           value=DatasetVariable("the group variable (default USUBJID)", required=False))
def derive_seq(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """--SEQ: 1, 2, ... within the group (Value, default USUBJID) in key-variable order, ties by raw file and row."""
    group = mapping.value or "USUBJID"
    keys = [k for k in ctx.spec.dataset(mapping.dataset).keys if k != mapping.variable and k in frame.columns]
    order = [group] + [k for k in keys if k != group] + [c for c in (FILE_COL, ROW_COL) if c in frame.columns]
    ordered = frame.sort_values(order, kind="stable", na_position="first")
    seq = ordered.groupby(group, sort=False, dropna=False).cumcount() + 1
    return seq.reindex(frame.index).astype("Float64")


@algorithm("derive_study_day", "dataset", value=DatasetVariable("the --DTC variable"), needs=("DM",))
def derive_study_day(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """--DY of the --DTC variable named in Value against DM.RFSTDTC (no day 0; complete dates only)."""
    ref = frame["RFSTDTC"] if mapping.dataset == "DM" else frame["USUBJID"].map(
        ctx.finished("DM").set_index("USUBJID")["RFSTDTC"])
    return dates.study_day(frame[mapping.value], ref)


@algorithm("derive_lookup", "dataset", value=Lookup("DATASET.VARIABLE@KEY, e.g. TI.IETEST@IETESTCD"))
def derive_lookup(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """A variable of another finished dataset matched on a shared key: Value ``TI.IETEST@IETESTCD``."""
    dataset, variable, key = parse_lookup(mapping.value)
    other = ctx.finished(dataset)
    table = other.drop_duplicates(key).set_index(key)[variable]
    return frame[key].map(table).astype("string")
