"""Basic Data Structure (BDS) derivations: parameters from SDTM, windows, baseline, change, flags.

The Parameters sheet says where each parameter's records come from; the Windows sheet defines
the analysis visits; the Derivations sheet runs these functions in order. Conventions:

* ADT is a SAS date; ADY = ADT - TRTSDT + 1 on/after the first dose, ADT - TRTSDT before.
* A record's analysis window is the one whose Low Day..High Day holds its ADY; windows listed
  for the record's PARAMCD take precedence over the dataset's general windows.
* Traceability: records from SDTM carry SRCDOM/SRCVAR/SRCSEQ; derived parameters keep the
  SDTM records they were computed from in ``__trace``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd

from adam.dates import iso_to_sas
from adam.engine import TRACE_COL
from adam.registry import derivation
from subgen.core.expr import Expression, as_expression, columns, evaluate
from subgen.core.problems import Problem
from subgen.core.spec.model import AnalysisParameter, AnalysisWindow

BY_PARAM = ("USUBJID", "PARAMCD")


# ---------------------------------------------------------------------------------------- records


def round_half_up(values: pd.Series, digits: int) -> pd.Series:
    """Round to ``digits`` decimals with halves away from zero (as SAS ROUND does; numpy rounds halves to even).

    A relative 1e-12 nudge keeps decimal halves that binary floating point stores just below .5
    (e.g. 2.675) rounding up, as they do on paper.
    """
    x = pd.to_numeric(values, errors="coerce").astype("Float64")
    scale = 10.0 ** digits
    scaled = x * scale
    nudged = scaled.abs() * (1 + 1e-12)
    # numpy's ufunc stubs return an ndarray; on a Series np.sign gives a Series
    return (np.sign(scaled) * np.floor(nudged + 0.5) / scale).astype("Float64")  # type: ignore[return-value]


@derivation("records")
def derive_param_sdtm(dataset: pd.DataFrame, new_vars: tuple[str, ...], params: tuple[AnalysisParameter, ...],
                      read: Callable[[str], pd.DataFrame], problems: list[Problem],
                      dataset_name: str) -> pd.DataFrame:
    """One record per SDTM record of every Parameters-sheet parameter that names a Source Dataset.

    AVAL is the Result Variable, AVALC the Character Result Variable, ADT the complete date of the
    Date Variable (default --DTC), VISIT/VISITNUM are carried, SRCDOM/SRCVAR/SRCSEQ point at the
    SDTM record. A parameter matching no record is a Warning; a partial date leaves ADT empty
    (Warning), so the record gets no analysis visit.
    """
    parts = []
    for p in params:
        if not p.source:
            continue
        src = read(p.source)
        rows = src[evaluate(p.filter, src)] if p.filter else src
        where = f"{dataset_name} parameter {p.paramcd}"
        if rows.empty:
            problems.append(Problem(where, p.row, "Filter", p.filter.text if p.filter else None,
                                    f"no {p.source} record meets the filter",
                                    "check the filter in the Parameters sheet", "Warning", "ADAM-PARAM-EMPTY"))
            continue
        dom = p.source
        seq = f"{dom[:2]}SEQ"
        date_var = p.date or f"{dom[:2]}DTC"
        part = pd.DataFrame({"STUDYID": rows["STUDYID"].to_numpy(), "USUBJID": rows["USUBJID"].to_numpy()})
        part["PARAMCD"] = p.paramcd
        part["PARAM"] = p.param
        part["PARAMN"] = np.nan if p.paramn is None else float(p.paramn)
        part["PARCAT1"] = p.parcat1
        part["AVAL"] = (rows[p.result].to_numpy(dtype="float64", na_value=np.nan) if p.result
                        else np.full(len(rows), np.nan))
        part["AVALC"] = rows[p.result_char].to_numpy() if p.result_char else pd.NA
        iso = rows[date_var].astype("string").reset_index(drop=True)
        part["ADT"] = iso_to_sas(iso).to_numpy(dtype="float64", na_value=np.nan)
        for var in ("VISIT", "VISITNUM", "EPOCH"):
            if var in rows.columns:
                part[var] = rows[var].to_numpy()
        part["SRCDOM"] = dom
        part["SRCVAR"] = p.result or p.result_char
        part["SRCSEQ"] = rows[seq].to_numpy(dtype="float64", na_value=np.nan) if seq in rows else np.nan
        # pandas-stubs: a list of per-record values (here lists) is a valid column
        part[TRACE_COL] = [[(dom, p.result or p.result_char, f"{seq}={int(s)}")] for s in part["SRCSEQ"]]  # type: ignore[assignment]
        partial = iso.notna() & np.isnan(part["ADT"].to_numpy(dtype="float64"))
        for pos in np.flatnonzero(partial.to_numpy()):
            problems.append(Problem(dom, None, date_var, str(iso.iloc[pos]), f"{where}: {date_var} "
                                    f"{iso.iloc[pos]!r} ({seq} {int(part['SRCSEQ'].iloc[pos])}) is not a complete "
                                    "date: ADT stays empty and the record has no analysis visit",
                                    "complete the date in the EDC", "Warning", "ADAM-PARTIAL-DATE"))
        parts.append(part)
    if not parts:
        return dataset
    records = pd.concat(parts, ignore_index=True)
    keep = [c for c in records.columns if c in new_vars or c in ("STUDYID", "USUBJID", TRACE_COL)]
    records = records[keep]
    for col in records.columns:
        if col in ("AVAL", "ADT", "PARAMN", "SRCSEQ", "VISITNUM"):
            records[col] = records[col].astype("Float64")
        elif col != TRACE_COL:
            records[col] = records[col].astype("string")
    return pd.concat([dataset, records], ignore_index=True) if len(dataset) else records


@derivation("records")
def derive_param_linear(dataset: pd.DataFrame, paramcd: str, source_paramcd: str, factor: float,
                        params: tuple[AnalysisParameter, ...], dataset_name: str, offset: float = 0.0,
                        digits: int | None = None, vars: tuple[str, ...] = ("AVAL",)) -> pd.DataFrame:
    """A derived parameter: each record of ``source_paramcd`` with ``(value + offset) * factor``.

    Applied to every variable in ``vars`` (e.g. AVAL, ANRLO, ANRHI), rounded to ``digits``
    decimals when given. PARAM/PARAMN/PARCAT1 come from the Parameters sheet row of ``paramcd``;
    the new records keep the source record's timing and traceability (SRCDOM/SRCVAR/SRCSEQ
    name the SDTM record the value was computed from). AVALC is not carried.
    Example: HbA1c in mmol/mol = (HbA1c % - 2.15) x 10.929 (IFCC-NGSP master equation).
    """
    p = next((x for x in params if x.paramcd == paramcd), None)
    if p is None:
        raise KeyError(f"{dataset_name}: parameter {paramcd} is not in the Parameters sheet")
    src = dataset[dataset["PARAMCD"] == source_paramcd].copy()
    for var in vars:
        val = (pd.to_numeric(src[var], errors="coerce").astype("Float64") + offset) * factor
        src[var] = round_half_up(val, digits) if digits is not None else val
    src["PARAMCD"] = paramcd
    src["PARAM"] = p.param
    if "PARAMN" in src.columns:
        src["PARAMN"] = pd.Series(np.nan if p.paramn is None else float(p.paramn), index=src.index, dtype="Float64")
    if "PARCAT1" in src.columns:
        src["PARCAT1"] = pd.Series(p.parcat1, index=src.index, dtype="string")
    if "AVALC" in src.columns:
        src["AVALC"] = pd.Series(pd.NA, index=src.index, dtype="string")
    return pd.concat([dataset, src], ignore_index=True)


# ---------------------------------------------------------------------------------------- values


@derivation()
def derive_vars_merged_source(dataset: pd.DataFrame, new_vars: tuple[str, ...], source_vars: tuple[str, ...],
                              read: Callable[[str], pd.DataFrame]) -> pd.DataFrame:
    """Variables of each record's SDTM source record (found by SRCDOM and SRCSEQ), e.g. ANRLO <- LBSTNRLO."""
    if len(source_vars) != len(new_vars):
        raise ValueError(f"source_vars names {len(source_vars)} variables for {len(new_vars)} new variables")
    out = dataset.copy()
    filled: dict[str, pd.Series] = {}
    for dom in sorted(set(dataset["SRCDOM"].dropna())):
        src = read(dom)
        seq = f"{dom[:2]}SEQ"
        rows = dataset["SRCDOM"].eq(dom).fillna(False).astype(bool)
        table = src[["USUBJID", seq, *source_vars]].rename(columns={seq: "SRCSEQ", **dict(zip(source_vars, new_vars))})
        table = table.astype({"SRCSEQ": "Float64"})
        keys = dataset.loc[rows, ["USUBJID", "SRCSEQ"]].astype({"USUBJID": "string", "SRCSEQ": "Float64"})
        merged = keys.merge(table, on=["USUBJID", "SRCSEQ"], how="left", validate="many_to_one")
        merged.index = keys.index
        for var, sv in zip(new_vars, source_vars):
            numeric = pd.api.types.is_numeric_dtype(src[sv])
            part = merged[var].astype("Float64" if numeric else "string")
            filled[var] = part if var not in filled else pd.concat([filled[var], part])
    for var, _sv in zip(new_vars, source_vars):
        if var in filled:
            out[var] = filled[var].reindex(dataset.index)
        else:
            out[var] = pd.Series(pd.NA, index=dataset.index, dtype="string")
    return out


@derivation(variables=2)
def derive_var_blq(dataset: pd.DataFrame, new_vars: tuple[str, ...], source: str = "AVALC", factor: float = 0.5,
                   dtype: str = "HALFLLOQ") -> pd.DataFrame:
    """Below-quantification results: AVAL = limit x ``factor`` where AVAL is missing and ``source`` reads ``<limit``.

    The row's Variables are the analysis value and the derivation-type variable (``AVAL, DTYPE``):
    DTYPE gets ``dtype`` on the imputed records (ADaM CT C81224: HALFLLOQ = one half of the lower
    limit of quantification; LLOQ for factor 1).
    """
    value_var, dtype_var = new_vars[0], new_vars[1]
    text = dataset[source].astype("string").str.strip()
    limit = pd.to_numeric(text.str.extract(r"^<\s*([-+]?\d*\.?\d+)$")[0], errors="coerce").astype("Float64")
    current = pd.to_numeric(dataset[value_var], errors="coerce").astype("Float64")
    hit = (limit.notna() & current.isna()).fillna(False).astype(bool)
    out = dataset.copy()
    out[value_var] = current.where(~hit, limit * factor)
    prior = dataset[dtype_var].astype("string") if dtype_var in dataset else pd.Series(pd.NA, index=dataset.index,
                                                                                      dtype="string")
    out[dtype_var] = prior.where(~hit, dtype)
    return out


def window_index(dataset: pd.DataFrame, windows: tuple[AnalysisWindow, ...], day: str = "ADY") -> pd.Series:
    """For each record, the position in ``windows`` of its analysis window (-1 when none holds its day)."""
    ady = pd.to_numeric(dataset[day], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    paramcd = dataset["PARAMCD"].astype("string").fillna("").to_numpy() if "PARAMCD" in dataset else None
    found = np.full(len(dataset), -1)
    specific = {p for w in windows for p in w.parameters}
    for i, w in enumerate(windows):
        lo = -np.inf if w.low is None else w.low
        hi = np.inf if w.high is None else w.high
        inside = (ady >= lo) & (ady <= hi)
        if w.parameters:
            applies = np.isin(paramcd, list(w.parameters)) if paramcd is not None else np.zeros(len(dataset), bool)
        else:
            applies = ~np.isin(paramcd, list(specific)) if paramcd is not None else np.ones(len(dataset), bool)
        found = np.where((found < 0) & inside & applies, i, found)
    return pd.Series(found, index=dataset.index)


@derivation(variables=2)
def derive_vars_windows(dataset: pd.DataFrame, new_vars: tuple[str, ...], windows: tuple[AnalysisWindow, ...],
                        day: str = "ADY") -> pd.DataFrame:
    """AVISIT and AVISITN (the row's two Variables, in that order) from the Windows sheet by analysis day."""
    idx = window_index(dataset, windows, day).to_numpy()
    names = np.asarray([w.avisit for w in windows] + [None], dtype=object)
    nums = np.asarray([w.avisitn for w in windows] + [np.nan], dtype="float64")
    out = dataset.copy()
    out[new_vars[0]] = pd.Series(names[idx], index=dataset.index, dtype="string")
    out[new_vars[1]] = pd.Series(nums[idx], index=dataset.index, dtype="Float64")
    return out


@derivation()
def derive_var_anl01fl(dataset: pd.DataFrame, new_var: str, windows: tuple[AnalysisWindow, ...], day: str = "ADY",
                       value_vars: tuple[str, ...] = ("AVAL", "AVALC"),
                       by_vars: tuple[str, ...] = BY_PARAM) -> pd.DataFrame:
    """``Y`` on the one record per subject, parameter and analysis window that the window's Selection picks.

    Candidates have a non-missing analysis value (any of ``value_vars``). Selections:
    CLOSEST-LATER / CLOSEST-EARLIER (nearest to the Target Day; on a tie the later / earlier day),
    FIRST / LAST (earliest / latest day). Records on the same day are ordered by SRCSEQ (the later
    source record wins for LAST and CLOSEST-LATER, the earlier for FIRST and CLOSEST-EARLIER).
    """
    idx = window_index(dataset, windows, day)
    ady = pd.to_numeric(dataset[day], errors="coerce").astype("float64")
    has_value = pd.Series(False, index=dataset.index)
    for v in value_vars:
        if v in dataset.columns:
            has_value |= dataset[v].notna()
    cand = (idx >= 0) & has_value
    sel = np.asarray([w.selection for w in windows] + [""], dtype=object)[idx.to_numpy()]
    target = np.asarray([np.nan if w.target is None else w.target for w in windows] + [np.nan])[idx.to_numpy()]
    later = np.isin(sel, ["CLOSEST-LATER", "LAST"])
    # Sort key: smaller is better. Distance for CLOSEST-*, then the day (negated when later wins).
    dist = np.where(np.char.startswith(sel.astype(str), "CLOSEST"), np.abs(ady.to_numpy() - target), 0.0)
    daykey = np.where(later, -ady.to_numpy(), ady.to_numpy())
    seq = pd.to_numeric(dataset["SRCSEQ"], errors="coerce").to_numpy(dtype="float64", na_value=0.0) \
        if "SRCSEQ" in dataset else np.zeros(len(dataset))
    seqkey = np.where(later, -seq, seq)
    work = pd.DataFrame({**{b: dataset[b].to_numpy() for b in by_vars}, "__win": idx.to_numpy(), "__dist": dist,
                         "__day": daykey, "__seq": seqkey}, index=dataset.index)[cand.to_numpy()]
    work = work.sort_values([*by_vars, "__win", "__dist", "__day", "__seq"], kind="stable")
    chosen = work.drop_duplicates([*by_vars, "__win"], keep="first").index
    out = dataset.copy()
    flag = pd.Series(pd.NA, index=dataset.index, dtype="string")
    flag[chosen] = "Y"
    out[new_var] = flag
    return out


@derivation()
def derive_var_extreme_flag(dataset: pd.DataFrame, new_var: str, order: tuple[str, ...], mode: str,
                            filter: Expression | None = None, value_vars: tuple[str, ...] = (),
                            by_vars: tuple[str, ...] = BY_PARAM) -> pd.DataFrame:
    """``Y`` on the first or last (``mode``) record by ``order`` within ``by_vars`` among records meeting ``filter``.

    With ``value_vars``, only records where at least one of them has a value are candidates.
    Example: ABLFL = the last record with ADY <= 1 and a non-missing AVAL or AVALC per subject and
    parameter (baseline = last value on or before the day of first dose).
    """
    if mode not in ("first", "last"):
        raise ValueError(f"mode must be first or last, not {mode!r}")
    cand = evaluate(filter, dataset) if filter else pd.Series(True, index=dataset.index)
    if value_vars:
        has = pd.Series(False, index=dataset.index)
        for v in value_vars:
            if v in dataset.columns:
                has |= dataset[v].notna()
        cand &= has
    work = dataset[cand].sort_values([*by_vars, *order], kind="stable", na_position="first")
    keep: Literal["first", "last"] = "first" if mode == "first" else "last"
    chosen = work.drop_duplicates(list(by_vars), keep=keep).index
    out = dataset.copy()
    flag = pd.Series(pd.NA, index=dataset.index, dtype="string")
    flag[chosen] = "Y"
    out[new_var] = flag
    return out


@derivation()
def derive_var_base(dataset: pd.DataFrame, new_var: str, source: str = "AVAL", flag: str = "ABLFL",
                    by_vars: tuple[str, ...] = BY_PARAM) -> pd.DataFrame:
    """The value of ``source`` on the subject's baseline record (``flag`` = Y) of the same parameter, on every record."""  # noqa: E501 - the `subgen functions` summary (adam.registry): kept whole
    base = dataset[dataset[flag].astype("string").eq("Y").fillna(False).astype(bool)]
    if base.duplicated(list(by_vars)).any():
        raise ValueError(f"more than one {flag} record per {', '.join(by_vars)}")
    table = base[list(by_vars) + [source]].rename(columns={source: "__base"})
    merged = dataset[list(by_vars)].merge(table, on=list(by_vars), how="left", validate="many_to_one")
    out = dataset.copy()
    out[new_var] = pd.Series(merged["__base"].to_numpy(), index=dataset.index, dtype=dataset[source].dtype)
    return out


@derivation()
def derive_var_chg(dataset: pd.DataFrame, new_var: str, aval: str = "AVAL", base: str = "BASE") -> pd.DataFrame:
    """Change from baseline: AVAL - BASE (missing when either is missing)."""
    out = dataset.copy()
    out[new_var] = pd.to_numeric(dataset[aval]).astype("Float64") - pd.to_numeric(dataset[base]).astype("Float64")
    return out


@derivation()
def derive_var_pchg(dataset: pd.DataFrame, new_var: str, aval: str = "AVAL", base: str = "BASE") -> pd.DataFrame:
    """Percent change from baseline: (AVAL - BASE) / BASE x 100; missing when BASE is 0 or missing."""
    a = pd.to_numeric(dataset[aval]).astype("Float64")
    b = pd.to_numeric(dataset[base]).astype("Float64")
    out = dataset.copy()
    out[new_var] = ((a - b) / b.where(b != 0) * 100).astype("Float64")
    return out


@derivation()
def derive_var_anrind(dataset: pd.DataFrame, new_var: str, aval: str = "AVAL", low: str = "ANRLO",
                      high: str = "ANRHI") -> pd.DataFrame:
    """Analysis range indicator: LOW below ``low``, HIGH above ``high``, NORMAL otherwise.

    A one-sided range classifies on the side it has (IL-6 <= 7.0: NORMAL or HIGH); no range or no
    value gives no indicator.
    """
    a = pd.to_numeric(dataset[aval]).astype("Float64")
    lo = pd.to_numeric(dataset[low]).astype("Float64")
    hi = pd.to_numeric(dataset[high]).astype("Float64")
    is_low = (a < lo).fillna(False).astype(bool)
    is_high = (a > hi).fillna(False).astype(bool)
    has = (a.notna() & (lo.notna() | hi.notna())).fillna(False).astype(bool)
    values = np.where(is_low, "LOW", np.where(is_high, "HIGH", "NORMAL"))
    out = dataset.copy()
    out[new_var] = pd.Series(values, index=dataset.index, dtype="string").where(has)
    return out


@derivation(variables=2)
def derive_var_crit(dataset: pd.DataFrame, new_vars: tuple[str, ...], text: str, rule: Expression) -> pd.DataFrame:
    """CRITy and CRITyFL (the row's two Variables): ``text`` and Y/N for whether ``rule`` holds.

    ``rule`` is a condition on the record (e.g. ``CHG <= -4``). CRITyFL is Y when it holds, N when
    it does not but every variable it reads has a value, and missing (with CRITy missing) otherwise.
    Use the row's Condition to limit it to a parameter.
    """
    met = evaluate(rule, dataset)
    known = pd.Series(True, index=dataset.index)
    expression = as_expression(rule)
    for ref in columns(expression) if expression is not None else ():
        known &= dataset[ref.key].notna()
    out = dataset.copy()
    out[new_vars[0]] = pd.Series(text, index=dataset.index, dtype="string").where(known)
    out[new_vars[1]] = pd.Series(np.where(met, "Y", "N"), index=dataset.index, dtype="string").where(known)
    return out
