"""Splitting a dataset whose XPT file would exceed the submission size limit.

The FDA Study Data Technical Conformance Guide (section 3.3.2, "Dataset Size") asks for datasets
larger than 5 GB to be split into smaller datasets no larger than 5 GB, and for the split to be
documented in define.xml and the reviewer's guide. How to split follows SDTMIG 3.4 section 4.1.7
("Splitting Domains") and Define-XML 2.1 section 4.2.1.3 ("SDTM Split Dataset"):

* a general-observation-class domain is split by the values of ``--CAT`` (``LBCAT``); an ADaM
  BDS dataset by ``PARCAT1`` (else ``PARAMCD``); ``--CAT``/``PARCAT1`` must not be null then;
* the split datasets keep ``DOMAIN`` and every variable as they were, so they append back into the
  one domain, and ``--SEQ`` stays unique within USUBJID across them (the rows are only divided);
* the file names add a number to the dataset name (``lb1.xpt``, ``lb2.xpt``: at most 4 characters
  for a 2-letter domain, SDTMIG 4.1.7 rule 6; ``adlb1.xpt`` for ADaM); each becomes its own
  ItemGroupDef in define.xml with the parent's Domain and an Alias naming the whole domain.

Categories are taken in sorted order and packed greedily into parts that stay within the
threshold; a category that alone is too large is divided further by subject (USUBJID), keeping
each subject's records in one part. A dataset with no split variable (or with null values in it)
is divided by subject only. The size of a part is exact, not estimated: an XPT v5 file is its
headers plus the records padded to 80-byte cards (:func:`xpt_file_size`), and a character
variable is as wide as its longest value in the part (subgen.core.xpt.values), so the widths are worked out
per part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from subgen.core.problems import Problem, ProblemError
from subgen.core.spec.model import Dataset
from subgen.core.xpt.checks import MAX_LABEL
from subgen.core.xpt.header import CARD, NAMESTR_LEN
from subgen.core.xpt.values import byte_lengths, char_values

#: FDA Technical Conformance Guide 3.3.2: datasets larger than 5 GB are split (5 * 10**9 bytes).
FDA_MAX_BYTES = 5_000_000_000
#: Bytes before the first record: library, member and NAMESTR headers (640), the OBS header (80).
_FIXED_HEADER = 640 + CARD


@dataclass(frozen=True)
class SplitPart:
    """One file of a split dataset: its dataset name, label, rows (positions in the whole) and size."""

    name: str  # e.g. LB1
    label: str
    rows: np.ndarray  # 0-based positions in the unsplit frame, in its order
    values: tuple[str, ...]  # values of the split variable in this part
    subjects: bool  # True when the part is a group of subjects within (or instead of) a category
    size: int  # exact XPT v5 file size in bytes
    subject_range: tuple[str, str] | None = None  # first and last USUBJID of a part made of subjects

    @property
    def content(self) -> str:
        """What the part holds, e.g. ``CHEMISTRY`` or ``MSQOL-54, subjects MS-101 to MS-120``."""
        text = ", ".join(self.values)
        if self.subject_range:
            who = f"subjects {self.subject_range[0]} to {self.subject_range[1]}"
            text = f"{text}, {who}" if text else who
        return text


@dataclass(frozen=True)
class SplitPlan:
    """How one dataset is divided: by which variable, into which parts."""

    dataset: str
    variable: str | None  # split variable, None when divided by subject only
    threshold: int
    whole_size: int
    parts: tuple[SplitPart, ...]

    @property
    def describe(self) -> str:
        """One sentence for define.xml's comment and the manifest."""
        how = f"by {self.variable}" if self.variable else "by subject (USUBJID)"
        if self.variable and any(p.subjects for p in self.parts):
            how += " (a category larger than the limit further by subject)"
        files = "; ".join(f"{p.name.lower()}.xpt: {p.content}" for p in self.parts)
        return (f"{self.dataset} would be {self.whole_size:,} bytes as one XPT file, more than the "
                f"{self.threshold:,}-byte limit (FDA Technical Conformance Guide 3.3.2), so it is split {how} "
                f"into {len(self.parts)} datasets that append back into {self.dataset}: {files}.")


def xpt_file_size(n_variables: int, record_length: int, n_records: int) -> int:
    """Exact size in bytes of the XPT v5 file pyreadstat writes for these dimensions."""
    namestrs = math.ceil(n_variables * NAMESTR_LEN / CARD) * CARD
    return _FIXED_HEADER + namestrs + math.ceil(n_records * record_length / CARD) * CARD


def split_variable(dataset: Dataset) -> str | None:
    """The variable a dataset is split by: ``--CAT`` (SDTM), ``PARCAT1`` or ``PARAMCD`` (ADaM), or None."""
    names = set(dataset.variable_names)
    for candidate in (f"{dataset.name[:2]}CAT", f"{dataset.name}CAT", "PARCAT1", "PARAMCD"):
        if candidate in names:
            return candidate
    return None


def _byte_matrix(frame: pd.DataFrame, dataset: Dataset) -> np.ndarray:
    """Per record, the bytes each variable needs (8 for numerics): shape (records, variables)."""
    cols = []
    for var in dataset.variables:
        if var.is_numeric:
            cols.append(np.full(len(frame), 8, dtype=np.int64))
        else:
            cols.append(np.maximum(byte_lengths(char_values(frame[var.name])), 1))
    return np.column_stack(cols) if cols else np.zeros((len(frame), 0), dtype=np.int64)


def _group_widths(widths: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, the widest value of each variable: shape (groups, variables)."""
    out = np.zeros((n_groups, widths.shape[1]), dtype=np.int64)
    np.maximum.at(out, codes, widths)
    return out


def _pack(order: list[int], widths: np.ndarray, counts: np.ndarray, n_vars: int, threshold: int
          ) -> list[list[int]] | None:
    """Greedy contiguous packing of groups (in ``order``) into bins whose XPT size stays within ``threshold``.

    Returns the bins, or None when one group alone is too large.
    """
    bins: list[list[int]] = []
    current: list[int] = []
    cur_w = np.zeros(widths.shape[1], dtype=np.int64)
    cur_n = 0
    for g in order:
        w = np.maximum(cur_w, widths[g])
        n = cur_n + int(counts[g])
        if xpt_file_size(n_vars, int(w.sum()), n) <= threshold:
            current.append(g)
            cur_w, cur_n = w, n
            continue
        if xpt_file_size(n_vars, int(widths[g].sum()), int(counts[g])) > threshold:
            return None
        bins.append(current)
        current, cur_w, cur_n = [g], widths[g].copy(), int(counts[g])
    if current:
        bins.append(current)
    return bins


def _subject_bins(rows: np.ndarray, subjects: pd.Series, widths: np.ndarray, n_vars: int, threshold: int,
                  dataset: str) -> list[np.ndarray]:
    """``rows`` divided into groups of whole subjects, each group within ``threshold``."""
    subset = subjects.iloc[rows].astype(object).fillna("").to_numpy()
    codes, uniques = pd.factorize(subset, sort=False)  # subjects in order of first record
    gw = _group_widths(widths[rows], codes, len(uniques))
    counts = np.bincount(codes, minlength=len(uniques))
    bins = _pack(list(range(len(uniques))), gw, counts, n_vars, threshold)
    if bins is None:
        sizes = [xpt_file_size(n_vars, int(gw[g].sum()), int(counts[g])) for g in range(len(uniques))]
        big = int(np.argmax(sizes))
        raise ProblemError([Problem(dataset, None, "USUBJID", str(uniques[big]),
                                    f"the records of one subject alone make a {sizes[big]:,}-byte XPT file, more "
                                    f"than the split limit of {threshold:,} bytes; the dataset cannot be split "
                                    "into files within the limit", "raise --split-threshold-bytes (the FDA limit is "
                                    f"{FDA_MAX_BYTES:,}) or review why this subject has so many records",
                                    rule="PKG-SPLIT")])
    return [rows[np.isin(codes, b)] for b in bins]


def _part_label(label: str, values: tuple[str, ...], index: int, count: int) -> str:
    """The part's dataset label: ``<label> - <value>`` when it fits 40 characters, else ``<label> (i of n)``."""
    if len(values) == 1:
        text = f"{label} - {values[0]}"
        if len(text) <= MAX_LABEL and text.isascii():
            return text
    suffix = f" ({index} of {count})"
    return label[:MAX_LABEL - len(suffix)].rstrip() + suffix


def plan_split(frame: pd.DataFrame, dataset: Dataset, threshold: int = FDA_MAX_BYTES,
               widths: dict[str, int] | None = None) -> SplitPlan | None:
    """How to split ``frame`` (the dataset as written) so that every XPT file stays within ``threshold``.

    Returns None when the whole dataset fits. Raises :class:`ProblemError` (rule ``PKG-SPLIT``)
    when it cannot be split within the limit (one subject alone is too large, no USUBJID, or a
    part's name would be longer than 8 characters). ``widths`` (:func:`subgen.core.xpt.values.expected_widths`
    of the frame), when the caller has them, give the whole file's size without measuring every
    value again; the values are measured only when a split is needed.
    """
    if threshold <= 0:
        raise ValueError(f"split threshold must be positive, got {threshold}")
    n_vars = len(dataset.variables)
    if widths is not None and xpt_file_size(n_vars, sum(widths[v.name] for v in dataset.variables),
                                            len(frame)) <= threshold:
        return None
    matrix = _byte_matrix(frame, dataset)
    whole = xpt_file_size(n_vars, _record_length(matrix, dataset), len(frame))
    if whole <= threshold:
        return None
    if "USUBJID" not in frame.columns:
        raise ProblemError([Problem(dataset.name, None, None, f"{whole:,} bytes",
                                    f"the XPT file would be larger than the split limit of {threshold:,} bytes and the "
                                    "dataset has no USUBJID to divide it by", "raise --split-threshold-bytes",
                                    rule="PKG-SPLIT")])
    variable = split_variable(dataset)
    values = frame[variable].astype(object) if variable else None
    if values is not None and (values.isna() | values.astype(str).str.strip().eq("")).any():
        variable, values = None, None  # SDTMIG 4.1.7: a split --CAT must not be null; divide by subject
    groups: list[tuple[np.ndarray, tuple[str, ...], bool]] = []
    all_rows = np.arange(len(frame))
    if values is None:
        groups = [(rows, (), True) for rows in _subject_bins(all_rows, frame["USUBJID"], matrix, n_vars,
                                                              threshold, dataset.name)]
    else:
        text = values.astype(str).to_numpy()
        codes, uniques = pd.factorize(text, sort=True)
        gw = _group_widths(matrix, codes, len(uniques))
        counts = np.bincount(codes, minlength=len(uniques))
        for g in range(len(uniques)):
            size = xpt_file_size(n_vars, int(gw[g].sum()), int(counts[g]))
            rows = all_rows[codes == g]
            if size > threshold:  # this category alone is too large: its subjects in several parts
                for sub in _subject_bins(rows, frame["USUBJID"], matrix, n_vars, threshold, dataset.name):
                    groups.append((sub, (str(uniques[g]),), True))
            else:
                groups.append((rows, (str(uniques[g]),), False))
        groups = _merge_small(groups, matrix, n_vars, threshold)
    parts = []
    for i, (rows, vals, by_subject) in enumerate(groups, 1):
        name = f"{dataset.name}{i}"
        if len(name) > 8:
            raise ProblemError([Problem(dataset.name, None, None, name, f"split dataset name {name} is longer than "
                                        "8 characters (SAS V5 transport)", "raise --split-threshold-bytes so that "
                                        "fewer parts are needed", rule="PKG-SPLIT")])
        size = xpt_file_size(n_vars, _record_length(matrix[rows], dataset), len(rows))
        subjects = frame["USUBJID"].iloc[rows].astype(str) if by_subject and len(rows) else None
        parts.append(SplitPart(name, _part_label(dataset.label, vals, i, len(groups)), rows, vals, by_subject,
                               size, (subjects.iloc[0], subjects.iloc[-1]) if subjects is not None else None))
    return SplitPlan(dataset.name, variable, threshold, whole, tuple(parts))


def _record_length(widths: np.ndarray, dataset: Dataset) -> int:
    """Record length of a part: widest value of each variable (1 byte for an empty character variable)."""
    if widths.shape[0] == 0:
        return sum(8 if v.is_numeric else 1 for v in dataset.variables)
    return int(widths.max(axis=0).sum())


def _merge_small(groups: list[tuple[np.ndarray, tuple[str, ...], bool]], widths: np.ndarray, n_vars: int,
                 threshold: int) -> list[tuple[np.ndarray, tuple[str, ...], bool]]:
    """Whole categories packed together (in sorted order) while the file stays within the threshold.

    Parts made of a category's subjects are kept as they are.
    """
    out: list[tuple[np.ndarray, tuple[str, ...], bool]] = []
    for rows, vals, by_subject in groups:
        if out and not by_subject and not out[-1][2]:
            prev_rows, prev_vals, _ = out[-1]
            merged = np.sort(np.concatenate([prev_rows, rows]))
            if xpt_file_size(n_vars, int(widths[merged].max(axis=0).sum()), len(merged)) <= threshold:
                out[-1] = (merged, prev_vals + vals, False)
                continue
        out.append((rows, vals, by_subject))
    return out


def part_frames(frame: pd.DataFrame, plan: SplitPlan) -> list[pd.DataFrame]:
    """The frame of each part (rows in the unsplit order, index reset)."""
    return [frame.iloc[p.rows].reset_index(drop=True) for p in plan.parts]


__all__ = ["FDA_MAX_BYTES", "SplitPart", "SplitPlan", "part_frames", "plan_split", "split_variable",
           "xpt_file_size"]
