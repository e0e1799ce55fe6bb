"""Reading a folder of XPT files into a :class:`~validation.rulebase.Package` with its metadata.

Metadata per dataset comes, in this order, from the study spec (or an ADaM spec), a define.xml, or
the shipped SDTMIG 3.4 / ADaMIG 1.3 tables (:func:`subgen.core.standards.fallback_dataset`). Every
dataset records where its metadata came from, so the reports can say what each was checked against.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from subgen.core.problems import Problem, ProblemError
from subgen.core.spec.model import Codelist, Dataset
from subgen.core.standards import FALLBACK_SOURCE, fallback_dataset
from subgen.core.xpt.read import read_xpt


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
            frame, meta = read_xpt(path, convert_dates=True, share_text=True)
        except Exception as exc:  # pyreadstat raises its own error types for damaged files
            problems.append(Problem(str(path), None, None, None, f"cannot read the XPT file: {exc}",
                                    "re-export the dataset as SAS XPORT v5", rule="PKG-READ"))
            continue
        out.frames[name] = frame
        out.files[name] = path
        out.labels[name] = dict(meta.column_labels)
        out.dataset_labels[name] = meta.dataset_label
        out.sha256[name] = hashlib.sha256(raw).hexdigest()
        if meta.created is not None:
            out.created[name] = meta.created
    if problems:
        raise ProblemError(problems, f"{folder}: {len(problems)} XPT file(s) cannot be read")
    return out


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


def codelist_map(codelists: Iterable[Codelist]) -> dict[str, Codelist]:
    """Codelists by id."""
    return {c.id: c for c in codelists}


__all__ = ["XptFolder", "codelist_map", "metadata_for", "read_xpt_folder"]
