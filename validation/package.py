"""Reading a folder of XPT files into a :class:`~validation.rulebase.Package` with its metadata.

Metadata per dataset comes, in this order, from the study spec (or an ADaM spec), a define.xml, or
the shipped SDTMIG 3.4 / ADaMIG 1.3 tables (:func:`subgen.core.standards.fallback_dataset`). Every
dataset records where its metadata came from, so the reports can say what each was checked against.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from subgen.core.problems import Problem, ProblemError
from subgen.core.spec.model import Codelist, Dataset
from subgen.core.standards import FALLBACK_SOURCE, fallback_dataset


@dataclass
class XptFolder:
    """The XPT files of one folder, read: frames, labels, file hashes and header timestamps."""

    folder: Path
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    dataset_labels: dict[str, str] = field(default_factory=dict)
    sha256: dict[str, str] = field(default_factory=dict)
    created: dict[str, datetime] = field(default_factory=dict)


def read_xpt_folder(folder: Path | str) -> XptFolder:
    """Read every ``*.xpt`` of ``folder`` (dataset name = file name, upper case).

    Raises ProblemError naming every file that cannot be read, or the folder when it has none.
    """
    import pyreadstat

    folder = Path(folder)
    if not folder.is_dir():
        raise ProblemError([Problem(str(folder), None, None, None, "folder not found",
                                    "give the folder that holds the .xpt files", rule="PKG-READ")])
    out = XptFolder(folder)
    problems = []
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xpt" and p.is_file())
    if not paths:
        raise ProblemError([Problem(str(folder), None, None, None, "no .xpt files in this folder",
                                    "give the folder that holds the package's XPT files", rule="PKG-READ")])
    for path in paths:
        name = path.stem.upper()
        raw = path.read_bytes()
        try:
            frame, meta = pyreadstat.read_xport(str(path))
        except Exception as exc:  # pyreadstat raises its own error types for damaged files
            problems.append(Problem(str(path), None, None, None, f"cannot read the XPT file: {exc}",
                                    "re-export the dataset as SAS XPORT v5", rule="PKG-READ"))
            continue
        out.frames[name] = shared_text(frame)
        out.files[name] = path
        out.labels[name] = {str(k): str(v or "") for k, v in (meta.column_names_to_labels or {}).items()}
        out.dataset_labels[name] = str(meta.file_label or "")
        out.sha256[name] = hashlib.sha256(raw).hexdigest()
        if isinstance(meta.creation_time, datetime):
            out.created[name] = meta.creation_time
    if problems:
        raise ProblemError(problems, f"{folder}: {len(problems)} XPT file(s) cannot be read")
    return out


def shared_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each text column's equal values sharing one string object (same values, same dtypes).

    The XPT reader makes a new string for every cell; a million-record dataset repeats a few thousand
    values, so sharing them keeps the package in memory at a fraction of the size.
    """
    out = {}
    for col in frame.columns:
        s = frame[col]
        if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            codes, uniques = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=True)
            values = uniques.astype(object)[codes]
            values[codes < 0] = s.to_numpy(dtype=object)[codes < 0]  # nulls as they were
            s = pd.Series(values, index=s.index, dtype=s.dtype, name=s.name)
        out[col] = s
    return pd.DataFrame(out, index=frame.index)


def metadata_for(xpt: XptFolder, declared: dict[str, Dataset], source: str) -> tuple[dict[str, Dataset],
                                                                                     dict[str, str], list[str]]:
    """Metadata for each file: ``declared`` (from ``source``) when it has the dataset, else the fallback.

    Returns (metadata, source per dataset, names of files ``declared`` does not describe).
    """
    metadata, sources, undeclared = {}, {}, []
    for name, frame in xpt.frames.items():
        if name in declared:
            metadata[name], sources[name] = declared[name], source
        else:
            metadata[name] = fallback_dataset(name, frame, xpt.labels.get(name), xpt.dataset_labels.get(name, ""))
            sources[name] = FALLBACK_SOURCE
            if declared:
                undeclared.append(name)
    return metadata, sources, undeclared


def codelist_map(codelists) -> dict[str, Codelist]:
    """Codelists by id."""
    return {c.id: c for c in codelists}


__all__ = ["XptFolder", "codelist_map", "metadata_for", "read_xpt_folder", "shared_text"]
