"""Checks of the built SDTM records that name the raw file and row behind every finding.

* :func:`duplicate_keys`: records sharing their Key Variables (a duplicated subject or visit row);
* :func:`unenrolled_subjects`: records of a subject that DM (the enrolment form) does not have;
* :func:`non_finite_numbers`: numeric values that are not finite numbers (``inf``, ``-inf``,
  ``1e999`` typed into a numeric field), which no dataset can hold;
* :func:`personal_columns`: a Personal Data Column the raw file lacks (a misspelt name) is a spec error;
* :func:`scan_personal_data`: values of the Forms sheet's Personal Data Columns found in any
  SDTM cell (short values such as initials as a whole cell or a whole word of free text; contacts
  inside text, also with their spacing and punctuation removed);
* :func:`with_origin`: adds the raw file and row to findings located by dataset record.

All are vectorised over the datasets; the loops run only over the records that fail.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd

from sdtm.engine import BuildContext
from subgen.core.problems import Problem
from subgen.core.raw import FILE_COL, LINEAGE_COLS, ROW_COL, SPEC_LINEAGE, raw_row
from subgen.core.spec.model import Dataset, Form

#: Personal values at least this long are also looked for inside longer text (contacts, names);
#: shorter ones (initials) only as a whole cell, so "HBS" does not match inside ordinary words.
SUBSTRING_MIN = 8


def _origin(frame: pd.DataFrame) -> pd.Series:
    """'file row N' for every record (its raw CSV line, or the spec sheet row of a design record)."""
    return frame[FILE_COL].astype("string") + " row " + frame[ROW_COL].astype("Int64").astype("string")


def _key_text(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """'K1=v1, K2=v2' per record, numbers without a trailing .0."""
    parts = []
    for k in keys:
        col = frame[k]
        if pd.api.types.is_numeric_dtype(col):
            col = col.astype("Float64").map(lambda v: "" if pd.isna(v) else (f"{v:g}" if v != int(v) else str(int(v))))
        parts.append(k + "=" + col.astype("string").fillna(""))
    text = parts[0]
    for part in parts[1:]:
        text = text + ", " + part
    return text


def duplicate_keys(ctx: BuildContext, dataset: Dataset) -> list[Problem]:
    """One Error per record whose Key Variables (Datasets sheet) repeat another record's, naming the raw rows."""
    frame = ctx.datasets[dataset.name]
    keys = [k for k in dataset.keys if k in frame.columns]
    if not keys or frame.empty:
        return []
    dup = frame.duplicated(keys, keep=False)
    if not dup.any():
        return []
    rows = frame[dup]
    key = _key_text(rows, keys)
    origin = _origin(rows)
    together = origin.groupby(key).agg(", ".join)
    return [Problem(file, int(row), ", ".join(keys), k, f"{dataset.name}: records from {together[k]} have the same "
                    f"key ({', '.join(keys)}): a duplicated row in the raw data", "remove the duplicate row in the EDC "
                    "and re-export; if both rows are real, the spec's Key Variables are missing a variable that tells "
                    "them apart", "Error", "MAP-DUPLICATE-KEY")
            for file, row, k in zip(rows[FILE_COL], rows[ROW_COL], key)]


def unenrolled_subjects(ctx: BuildContext) -> list[Problem]:
    """One Error per record whose USUBJID is not in DM: a subject in a CRF form but not in the enrolment form."""
    if "DM" not in ctx.datasets or "USUBJID" not in ctx.datasets["DM"]:
        return []
    enrolled = ctx.datasets["DM"]["USUBJID"]
    dm_files = ", ".join(sorted(ctx.spec.form(s.form).file for s in ctx.spec.sources_for("DM"))) or "DM"
    forms = {f.file: f for f in ctx.spec.forms}
    problems = []
    for name, frame in sorted(ctx.datasets.items()):
        if name == "DM" or "USUBJID" not in frame.columns:
            continue
        orphan = frame[frame["USUBJID"].notna() & ~frame["USUBJID"].isin(enrolled)]
        for file_key, rows in orphan.groupby(FILE_COL, sort=True):
            file = str(file_key)
            form = forms.get(file)
            raw = (ctx.form_frame(form.name).set_index(ROW_COL)[form.subject_column] if form is not None
                   else pd.Series(dtype="string"))
            problems += [Problem(file, int(row), form.subject_column if form else None, raw.get(row, usubjid),
                                 f"{name}: subject {usubjid} is not in DM (no row in {dm_files})",
                                 f"correct the subject identifier, or add the subject's enrolment row to {dm_files} "
                                 "in the EDC and re-export", "Error", "MAP-SUBJECT")
                         for row, usubjid in zip(rows[ROW_COL], rows["USUBJID"])]
    return problems


def non_finite_numbers(ctx: BuildContext) -> list[Problem]:
    """One Error per numeric value that is infinite (raw ``inf``, ``Infinity``, ``1e999``), naming the raw row."""
    problems = []
    declared = {d.name: d for d in ctx.spec.datasets}
    for name, frame in sorted(ctx.datasets.items()):
        if FILE_COL not in frame.columns or name not in declared:
            continue
        located = frame[FILE_COL].notna().to_numpy(dtype=bool)
        for var in declared[name].variables:
            if not var.is_numeric or var.name not in frame.columns:
                continue
            values = pd.to_numeric(frame[var.name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            infinite = np.isinf(values) & located
            problems += [Problem(file, int(row), var.name, repr(float(v)), f"{name}.{var.name}: the value is not a "
                                 "finite number", "enter a finite number in the EDC or leave it blank (inf, -inf and "
                                 "nan are not values); if the raw value is a plain number, check the derivation in "
                                 "the Mappings sheet", "Error", "MAP-NUMBER")
                         for file, row, v in zip(frame.loc[infinite, FILE_COL], frame.loc[infinite, ROW_COL],
                                                 values[infinite])]
    return problems


def with_origin(problems: list[Problem], datasets: dict[str, pd.DataFrame]) -> list[Problem]:
    """Add the raw file and row to problems located by dataset and record number (pre-write checks)."""
    out = []
    for p in problems:
        frame = datasets.get(p.where)
        if frame is not None and p.row is not None and 1 <= p.row <= len(frame) and FILE_COL in frame:
            rec = frame.iloc[p.row - 1]
            p = replace(p, message=f"{p.message} (record from {rec[FILE_COL]} row {int(rec[ROW_COL])})")
        out.append(p)
    return out


def _declared_columns(form: Form, columns: Iterable) -> tuple[dict[str, str], list[str]]:
    """Personal Data Columns of ``form`` matched to the raw header case-insensitively: (declared -> raw column,
    declared names the header lacks)."""
    by_upper: dict[str, str] = {}
    for c in columns:
        if c not in LINEAGE_COLS:
            by_upper.setdefault(str(c).strip().upper(), c)
    found: dict[str, str] = {}
    missing: list[str] = []
    for declared in form.personal_data:
        actual = by_upper.get(declared.strip().upper())
        if actual is None:
            missing.append(declared)
        else:
            found[declared] = actual
    return found, missing


def personal_columns(ctx: BuildContext) -> list[Problem]:
    """A Personal Data Column the form's raw file lacks: a spec error (Forms sheet, row, column, value) with
    the nearest real column, since a misspelt name would silently switch the protection off."""
    problems = []
    for form in ctx.spec.forms:
        if not form.personal_data or not (ctx.raw_dir / form.file).is_file():
            continue
        header = [c for c in ctx.form_frame(form.name).columns if c not in LINEAGE_COLS]
        _, missing = _declared_columns(form, header)
        upper = {str(c).upper(): c for c in header}
        for declared in missing:
            near = difflib.get_close_matches(declared.strip().upper(), sorted(upper), n=1, cutoff=0.6)
            hint = f"; did you mean {upper[near[0]]}?" if near else ""
            problems.append(Problem(f"{ctx.spec.path} [Forms]", form.row or None, "Personal Data Columns", declared,
                                    f"form {form.name}: {form.file} has no column {declared}{hint} (a personal-data "
                                    "column that is not found is not protected)",
                                    "write the raw column's name as the file's header spells it, or remove it from "
                                    "Personal Data Columns", "Error", "SPEC-PII"))
    return problems


def personal_values(ctx: BuildContext) -> pd.DataFrame:
    """Every distinct value (upper-cased, trimmed, 3+ characters) of a Personal Data Column: VALUE, FILE, COLUMN.

    The declared columns are matched to the raw header case-insensitively (``initials`` is INITIALS).
    """
    parts = []
    for form in ctx.spec.forms:
        if not form.personal_data or not (ctx.raw_dir / form.file).is_file():
            continue
        frame = ctx.form_frame(form.name)
        found, _ = _declared_columns(form, frame.columns)
        for col in dict.fromkeys(found.values()):
            parts.append(pd.DataFrame({"VALUE": frame[col].astype("string").str.strip().str.upper(),
                                       "FILE": form.file, "COLUMN": col}))
    if not parts:
        return pd.DataFrame(columns=["VALUE", "FILE", "COLUMN"], dtype="string")
    values = pd.concat(parts, ignore_index=True)
    return values[values["VALUE"].str.len().ge(3).fillna(False)].drop_duplicates("VALUE").reset_index(drop=True)


def _compact(text: pd.Series) -> pd.Series:
    """Text with spacing and punctuation removed (``+48 22 555 0101`` -> ``48225550101``)."""
    return text.str.replace(r"[\W_]+", "", regex=True)


def _alternation(values: Iterable[str]) -> str:
    return "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))


def scan_personal_data(ctx: BuildContext) -> list[Problem]:
    """Fail when a value from a raw personal-data column (initials, contacts, birth date) appears in any SDTM cell.

    Character variables are scanned (for a variable with a codelist, only values that are not its
    terms: a term such as ``LOW`` is not personal data). Records the spec itself declares (trial
    design and TS rows, lineage ``spec:...``) hold what the spec's author typed, not raw data: a
    subject's initials that happen to equal TS's country code ``POL`` are no leak. A value of 8 or
    more characters (an e-mail address, a phone number) is also found inside longer text, such as a
    comment, and with spacing and punctuation removed on both sides (``+48225550101`` is
    ``+48 22 555 0101``); a shorter one holding a letter (initials) also as a whole word of longer
    text (``seen by HBS``), never inside a word. The search runs once over the distinct cell values
    of all datasets; only the few that hit are located.
    """
    values = personal_values(ctx)
    if values.empty:
        return []
    origin = values.set_index("VALUE")
    long_values = values.loc[values["VALUE"].str.len() >= SUBSTRING_MIN, "VALUE"]
    pattern = "(" + _alternation(long_values) + ")" if len(long_values) else None
    compact = pd.Series(list(long_values), index=_compact(long_values).tolist(), dtype="string")
    compact = compact[compact.index.str.len() >= SUBSTRING_MIN]
    compact = compact[~compact.index.duplicated()]
    compact_pattern = "(" + _alternation(compact.index) + ")" if len(compact) else None
    short = values.loc[values["VALUE"].str.len().lt(SUBSTRING_MIN) & values["VALUE"].str.contains(r"[^\W\d_]"),
                       "VALUE"]
    word_pattern = r"(?<!\w)(" + _alternation(short) + r")(?!\w)" if len(short) else None
    columns = [(name, var) for name, frame in sorted(ctx.datasets.items())
               for var in ctx.spec.dataset(name).variables if not var.is_numeric and var.name in frame]
    if not columns:
        return []
    cells = pd.Series(pd.unique(pd.concat([pd.Series(ctx.datasets[n][v.name].astype("string").unique())
                                           for n, v in columns]).dropna()), dtype="string")
    key = cells.str.strip().str.upper()
    found = key.where(key.isin(origin.index))
    if pattern is not None:
        found = found.fillna(key.str.extract(pattern, expand=False))
    if compact_pattern is not None:  # a contact typed without its spaces or punctuation
        squeezed = _compact(key).str.extract(compact_pattern, expand=False)
        found = found.fillna(squeezed.map(compact, na_action="ignore").astype("string"))
    if word_pattern is not None:  # initials typed into a free-text field, as a whole word
        found = found.fillna(key.str.extract(word_pattern, expand=False))
    hits = dict(zip(cells[found.notna()], found[found.notna()]))  # cell text -> the personal value inside it
    problems = []
    for name, var in columns if hits else ():
        frame = ctx.datasets[name]
        col = frame[var.name].astype("string")
        hit = col.isin(list(hits)).fillna(False)
        if FILE_COL in frame and hit.any():
            hit &= ~frame[FILE_COL].astype("string").str.startswith(SPEC_LINEAGE).fillna(False)
        if var.codelist and hit.any():
            terms = {t.upper() for t in ctx.spec.codelist(var.codelist).submission_values}
            hit &= ~col[hit].str.strip().str.upper().isin(terms).reindex(col.index, fill_value=False)
        for idx in col[hit].index:
            value = hits[col[idx]]
            where = f"{frame.at[idx, FILE_COL]!s} row {raw_row(frame, idx)}" if FILE_COL in frame else ""
            problems.append(Problem(name, int(idx) + 1, var.name, col[idx],
                                    f"personal data from {origin.at[value, 'FILE']!s} "
                                    f"column {origin.at[value, 'COLUMN']!s} "
                                    "reached SDTM" + (f" (record from {where})" if where else ""),
                                    "remove the mapping that copies it, or the personal data typed into the "
                                    "source field (see the Forms sheet's Personal Data Columns)", "Error",
                                    "PII-LEAK"))
    return problems
