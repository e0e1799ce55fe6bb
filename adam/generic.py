"""Derivations every ADaM dataset uses: records from SDTM, merges, copies, constants, codes, days, ASEQ.

Each function is pure (it returns a new frame), vectorised, takes the dataset first and is
registered for the spec's Derivations sheet (see :mod:`adam.registry`). Dates are SAS date numbers
(:mod:`adam.dates`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from adam.dates import iso_to_sas, study_day
from adam.engine import TRACE_COL
from adam.registry import derivation
from subgen.core.expr import Expression, evaluate
from subgen.core.problems import Problem
from subgen.core.spec.model import Codelist, normalise_term


def _name(frame: pd.DataFrame) -> str:
    return str(frame.attrs.get("name", "the source dataset"))


def _seq_var(frame: pd.DataFrame) -> str | None:
    """The --SEQ variable of an SDTM dataset (e.g. AESEQ), if it has one."""
    name = _name(frame)
    cand = f"{name[:2]}SEQ"
    return cand if cand in frame.columns else None


def _filtered(frame: pd.DataFrame, filter: Expression | None) -> pd.DataFrame:
    return frame[evaluate(filter, frame)] if filter else frame


@derivation("records")
def derive_records_sdtm(dataset: pd.DataFrame, source: pd.DataFrame, new_vars: tuple[str, ...],
                        filter: Expression | None = None) -> pd.DataFrame:
    """One record per record of an SDTM dataset (e.g. ADSL from DM, ADAE from AE), copying the named variables.

    ``source`` is the SDTM dataset, ``filter`` an optional condition on its records. Each record is
    traced to its source record (--SEQ, or USUBJID for DM).
    """
    rows = _filtered(source, filter)
    missing = [v for v in new_vars if v not in rows.columns]
    if missing:
        raise KeyError(f"{_name(source)} has no variable(s) {', '.join(missing)}")
    out = rows[list(new_vars)].reset_index(drop=True)
    seq = _seq_var(source)
    name = _name(source)
    if seq:
        keys = rows[seq].to_numpy()
        # pandas-stubs: a list of per-record values (here lists) is a valid column
        out[TRACE_COL] = [[(name, seq, f"{seq}={int(k)}")] for k in keys]  # type: ignore[assignment]
    else:
        out[TRACE_COL] = [[(name, "USUBJID", f"USUBJID={u}")]  # type: ignore[assignment]
                          for u in rows["USUBJID"].to_numpy()]
    if len(dataset):
        out = pd.concat([dataset, out], ignore_index=True)
    return out


def _pick(source: pd.DataFrame, by_vars: tuple[str, ...], order: tuple[str, ...], mode: str | None,
          problems: list[Problem], what: str) -> pd.DataFrame:
    """One record per by group: the first/last by ``order`` when ``mode`` is given, else a duplicate is an Error."""
    if mode:
        if mode not in ("first", "last"):
            raise ValueError(f"mode must be first or last, not {mode!r}")
        ordered = source.sort_values(list(by_vars) + list(order), kind="stable", na_position="first")
        keep: Literal["first", "last"] = "first" if mode == "first" else "last"
        return ordered.drop_duplicates(list(by_vars), keep=keep)
    dup = source.duplicated(list(by_vars), keep=False)
    if dup.any():
        for key in source.loc[dup, list(by_vars)].drop_duplicates().itertuples(index=False):
            problems.append(Problem(_name(source), None, ", ".join(by_vars), " ".join(map(str, key)),
                                    f"{what}: more than one record matches, so the merge is ambiguous",
                                    "narrow the filter in the Derivations row or give mode=first/last with order=",
                                    "Error", "ADAM-MERGE"))
        source = source.drop_duplicates(list(by_vars), keep="first")
    return source


@derivation()
def derive_vars_merged(dataset: pd.DataFrame, dataset_add: pd.DataFrame, new_vars: tuple[str, ...],
                       problems: list[Problem], source_vars: tuple[str, ...] = (),
                       by_vars: tuple[str, ...] = ("USUBJID",), filter: Expression | None = None,
                       order: tuple[str, ...] = (), mode: str | None = None) -> pd.DataFrame:
    """Variables of another dataset (ADSL, or an SDTM dataset) merged by ``by_vars``.

    ``source_vars`` names the variables to take, in the order of the row's Variables (default: the
    same names). ``filter`` selects the records of ``dataset_add``; more than one match per subject
    is an error unless ``mode`` (first/last) and ``order`` say which one to take.
    """
    src_vars = source_vars or new_vars
    if len(src_vars) != len(new_vars):
        raise ValueError(f"source_vars names {len(src_vars)} variables for {len(new_vars)} new variables")
    add = _pick(_filtered(dataset_add, filter), by_vars, order, mode, problems,
                f"merging {', '.join(new_vars)} from {_name(dataset_add)}")
    add = add[list(by_vars) + list(src_vars)].rename(columns=dict(zip(src_vars, new_vars)))
    base = dataset.drop(columns=[v for v in new_vars if v in dataset.columns])
    merged = base.merge(add, on=list(by_vars), how="left", validate="many_to_one")
    merged.index = dataset.index
    return merged


@derivation()
def derive_vars_merged_dt(dataset: pd.DataFrame, dataset_add: pd.DataFrame, new_vars: tuple[str, ...],
                          source_vars: tuple[str, ...], problems: list[Problem],
                          by_vars: tuple[str, ...] = ("USUBJID",), filter: Expression | None = None,
                          order: tuple[str, ...] = (), mode: str | None = None) -> pd.DataFrame:
    """ISO 8601 dates of another dataset merged as SAS dates (e.g. TRTSDT <- DM.RFXSTDTC, RANDDT <- DS.DSSTDTC).

    Only complete dates convert; a partial date gives no value and a Warning naming the record.
    """
    merged = derive_vars_merged(dataset, dataset_add, new_vars, problems, source_vars, by_vars, filter, order, mode)
    for var in new_vars:
        text = merged[var].astype("string")
        days = iso_to_sas(text)
        partial = text.notna() & days.isna()
        for idx in np.flatnonzero(partial.to_numpy()):
            problems.append(Problem(_name(dataset_add), None, var, str(text.iloc[idx]),
                                    f"{var}: {text.iloc[idx]!r} is not a complete date, so {var} stays empty for "
                                    f"{merged['USUBJID'].iloc[idx] if 'USUBJID' in merged else 'a record'}",
                                    "complete the date in the EDC, or impute it with derive_vars_dt",
                                    "Warning", "ADAM-PARTIAL-DATE"))
        merged[var] = days
    return merged


@derivation()
def derive_var_exist_flag(dataset: pd.DataFrame, new_var: str, dataset_add: pd.DataFrame,
                          filter: Expression | None = None, by_vars: tuple[str, ...] = ("USUBJID",),
                          true_value: str = "Y", false_value: str = "N") -> pd.DataFrame:
    """``Y`` when ``dataset_add`` has a record meeting ``filter`` for the same ``by_vars``, else ``N``."""
    keys = _filtered(dataset_add, filter)[list(by_vars)].drop_duplicates()
    hit = dataset[list(by_vars)].merge(keys.assign(__hit=True), on=list(by_vars), how="left")["__hit"]
    out = dataset.copy()
    out[new_var] = pd.Series(np.where(hit.fillna(False).astype(bool).to_numpy(), true_value, false_value),
                             index=dataset.index, dtype="string")
    return out


@derivation()
def derive_var_constant(dataset: pd.DataFrame, new_var: str, value: str) -> pd.DataFrame:
    """A constant (use the row's Condition to set it on some records only)."""
    out = dataset.copy()
    out[new_var] = pd.Series(value, index=dataset.index, dtype="string")
    return out


@derivation()
def derive_var_constant_n(dataset: pd.DataFrame, new_var: str, value: float) -> pd.DataFrame:
    """A numeric constant (use the row's Condition to set it on some records only)."""
    out = dataset.copy()
    out[new_var] = pd.Series(value, index=dataset.index, dtype="Float64")
    return out


@derivation()
def derive_var_copy(dataset: pd.DataFrame, new_var: str, source: str) -> pd.DataFrame:
    """The value of another variable of the same record (e.g. TRT01A from TRT01P, ASEV from AESEV)."""
    out = dataset.copy()
    out[new_var] = dataset[source]
    return out


@derivation()
def derive_var_cat(dataset: pd.DataFrame, new_var: str, source: str, cuts: tuple[float, ...],
                   codelist: Codelist) -> pd.DataFrame:
    """A category of a numeric variable: the k-th codelist term (in Order) for the k-th interval.

    ``cuts`` are the interval starts after the first: ``cuts=50`` and terms ``<50``, ``>=50`` give
    ``<50`` below 50 and ``>=50`` from 50 on (intervals closed below, open above). Missing stays missing.
    """
    terms = [t.term for t in sorted(codelist.terms, key=lambda t: t.order)]
    if len(terms) != len(cuts) + 1:
        raise ValueError(f"codelist {codelist.id} has {len(terms)} terms for {len(cuts)} cut(s); it needs "
                         f"{len(cuts) + 1}")
    x = pd.to_numeric(dataset[source], errors="coerce").astype("Float64")
    idx = np.searchsorted(np.asarray(cuts, dtype="float64"), x.to_numpy(dtype="float64", na_value=np.nan),
                          side="right")
    out = dataset.copy()
    values = pd.Series(np.asarray(terms, dtype=object)[np.minimum(idx, len(terms) - 1)], index=dataset.index,
                       dtype="string")
    out[new_var] = values.where(x.notna())
    return out


@derivation()
def derive_var_code(dataset: pd.DataFrame, new_var: str, source: str, codelist: Codelist,
                    problems: list[Problem], dataset_name: str) -> pd.DataFrame:
    """The numeric code of a text value: the codelist term whose Decoded Value is the value (e.g. TRT01PN, ASEVN).

    A value the codelist does not decode is an Error naming it.
    """
    table = {normalise_term(t.decode or ""): t.term for t in codelist.terms if t.decode}
    text = dataset[source].astype("string")
    code = text.map(lambda v: table.get(normalise_term(v)) if isinstance(v, str) else None)
    bad = text.notna() & code.isna()
    for v in sorted(set(text[bad])):
        problems.append(Problem(dataset_name, None, new_var, v, f"{source} value {v!r} has no code in codelist "
                                f"{codelist.id}", f"add a term with Decoded Value {v!r} to codelist {codelist.id}",
                                "Error", "ADAM-CODELIST"))
    out = dataset.copy()
    out[new_var] = pd.to_numeric(code, errors="coerce").astype("Float64")
    return out


@derivation()
def derive_var_codelist(dataset: pd.DataFrame, new_var: str, source: str, codelist: Codelist,
                        problems: list[Problem], dataset_name: str) -> pd.DataFrame:
    """A text value mapped through a codelist's terms, decodes and Synonyms (e.g. ARELGR1 from AEREL).

    A value the codelist does not map is an Error naming it.
    """
    table = codelist.lookup_table()
    text = dataset[source].astype("string")
    mapped = text.map(lambda v: table.get(normalise_term(v)) if isinstance(v, str) else None).astype("string")
    bad = text.notna() & mapped.isna()
    for v in sorted(set(text[bad])):
        problems.append(Problem(dataset_name, None, new_var, v, f"{source} value {v!r} is not mapped by codelist "
                                f"{codelist.id}", f"add it as a term or a Synonym of a term of {codelist.id}",
                                "Error", "ADAM-CODELIST"))
    out = dataset.copy()
    out[new_var] = mapped
    return out


@derivation()
def derive_var_duration(dataset: pd.DataFrame, new_var: str, start: str, end: str, add: float = 1) -> pd.DataFrame:
    """``end - start + add`` in days (TRTDURD, ADURN); missing when either date is missing."""
    s = pd.to_numeric(dataset[start], errors="coerce").astype("Float64")
    e = pd.to_numeric(dataset[end], errors="coerce").astype("Float64")
    out = dataset.copy()
    out[new_var] = e - s + add
    return out


@derivation()
def derive_var_dy(dataset: pd.DataFrame, new_var: str, date: str, reference: str = "TRTSDT") -> pd.DataFrame:
    """Analysis day: date - reference + 1 on or after the reference, date - reference before (no day 0)."""
    out = dataset.copy()
    out[new_var] = study_day(dataset[date], dataset[reference])
    return out


@derivation()
def derive_var_aseq(dataset: pd.DataFrame, new_var: str, order: tuple[str, ...],
                    by_vars: tuple[str, ...] = ("USUBJID",)) -> pd.DataFrame:
    """Sequence number 1, 2, ... within ``by_vars`` in ``order`` (stable: ties keep their current order)."""
    ordered = dataset.sort_values(list(by_vars) + list(order), kind="stable", na_position="first")
    seq = ordered.groupby(list(by_vars), sort=False, dropna=False).cumcount() + 1
    out = dataset.copy()
    out[new_var] = seq.reindex(dataset.index).astype("Float64")
    return out
