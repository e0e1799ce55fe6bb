"""Supplemental qualifiers: SUPP-- records from non-standard variables of a parent dataset.

Each qualifier is a plain dict (the spec shape is the maintainer's choice):

* ``qnam`` - QNAM (at most 8 characters), ``qlabel`` - QLABEL (at most 40);
* ``column`` - the parent frame column holding the values;
* ``qorig`` - QORIG (CRF, Assigned, Derived, ...), ``qeval`` - QEVAL (optional).

The result keeps the parent record's raw lineage (``__file``/``__row``) when the parent has it.
Records link to the parent by --SEQ (IDVAR = e.g. AESEQ, IDVARVAL its integer as text);
DM, which has no --SEQ, links by USUBJID alone (IDVAR and IDVARVAL missing). No record is
made for a blank value. QVAL is never truncated: a value over 200 bytes (UTF-8) is an Error
problem, and the record keeps the full value so the XPT check stops the export.
"""

from __future__ import annotations

import pandas as pd

from subgen.core.problems import Problem
from subgen.core.raw import FILE_COL, ROW_COL, raw_row
from subgen.core.spec.model import Dataset

SUPP_COLUMNS = ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG", "QEVAL")
MAX_QVAL_BYTES = 200


def value_text(values: pd.Series) -> pd.Series:
    """Values as QVAL/IDVARVAL text: whole numbers without '.0', blanks -> missing."""
    if pd.api.types.is_numeric_dtype(values):
        x = values.astype("Float64")
        whole = (x == x.round()).fillna(False)
        text = x.astype("string")
        text = text.where(~whole, x.round().astype("Int64").astype("string"))
    else:
        text = values.astype("string").str.strip()
    return text.mask(text.eq(""))


def build_supp(parent: pd.DataFrame, parent_dataset: Dataset, qualifiers: list[dict]
               ) -> tuple[pd.DataFrame, list[Problem]]:
    """SUPP-- records for ``qualifiers`` of ``parent``, sorted by USUBJID, IDVARVAL (numerically), QNAM.

    Returns ``(records, problems)``; problems name the parent record's raw file/row (when the
    frame has lineage) or ``SUPP--`` and the record number, the QNAM and the value.
    """
    domain = parent_dataset.name
    seq = f"{domain}SEQ"
    has_seq = seq in parent.columns
    idvarval = value_text(parent[seq]) if has_seq else pd.Series(pd.NA, index=parent.index, dtype="string")
    parts = []
    for q in qualifiers:
        qval = value_text(parent[q["column"]])
        part = pd.DataFrame({"STUDYID": parent["STUDYID"].astype("string"), "RDOMAIN": domain,
                             "USUBJID": parent["USUBJID"].astype("string"),
                             "IDVAR": seq if has_seq else pd.NA, "IDVARVAL": idvarval,
                             "QNAM": q["qnam"], "QLABEL": q["qlabel"], "QVAL": qval, "QORIG": q.get("qorig"),
                             "QEVAL": q.get("qeval")}, index=parent.index)
        part["__column"] = q["column"]
        for col in (FILE_COL, ROW_COL):
            if col in parent.columns:
                part[col] = parent[col].values
        parts.append(part[qval.notna()])
    cols = [*SUPP_COLUMNS, "__column"]
    supp = pd.concat(parts) if parts else pd.DataFrame(columns=cols)
    problems = _long_values(supp, parent, f"SUPP{domain}")
    supp = supp.assign(__n=pd.to_numeric(supp["IDVARVAL"], errors="coerce"))
    supp = supp.sort_values(["USUBJID", "__n", "IDVARVAL", "QNAM"], kind="stable", na_position="first")
    lineage = supp[[c for c in (FILE_COL, ROW_COL) if c in supp.columns]].reset_index(drop=True)
    supp = supp[list(SUPP_COLUMNS)].astype("string").reset_index(drop=True)
    supp = supp.mask(supp.apply(lambda c: c.str.strip().eq("")).fillna(False))
    return pd.concat([supp, lineage], axis=1), problems


def _long_values(supp: pd.DataFrame, parent: pd.DataFrame, name: str) -> list[Problem]:
    """One Error per QVAL longer than 200 UTF-8 bytes, located at the parent record."""
    # pandas-stubs types .str.len for text only; on bytes it is valid (the length in bytes)
    nbytes = supp["QVAL"].str.encode("utf-8").str.len()  # type: ignore[misc]
    long = supp[(nbytes > MAX_QVAL_BYTES).fillna(False)]
    out = []
    for idx, column, qnam, qval in zip(long.index, long["__column"], long["QNAM"], long["QVAL"]):
        if FILE_COL in parent.columns:
            where, at = str(parent.at[idx, FILE_COL]), raw_row(parent, idx)
        else:
            where, at = name, int(idx) + 1
        out.append(Problem(where, at, column, qval, f"{name}.QVAL for {qnam} is {len(qval.encode('utf-8'))} bytes, "
                           f"over the {MAX_QVAL_BYTES}-byte limit (not truncated)",
                           "shorten the text in the EDC, or split it over QNAMs with a numeric suffix "
                           "(SDTMIG 4.5.3.2)", "Error", "SUPP-QVAL-LENGTH"))
    return out
