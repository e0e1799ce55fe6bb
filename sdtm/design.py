"""Trial-design datasets (TA, TE, TV, TI, TS, ...) from the spec's own data sheets.

A sheet named after a dataset holds its records as the protocol defines them. Two kinds of
token let a cell say where its value comes from instead of repeating it:

* ``[Study:Attribute]`` - an attribute of the Study sheet (e.g. ``[Study:SDTMIGVersion]``);
* ``[Data:NAME]`` - a value computed from the finished DM dataset: ``ACTSUB`` (subjects
  randomized, i.e. with ARMCD), ``SSTDTC`` (earliest RFICDTC, the FDA's study start date),
  ``SENDTC`` (latest RFPENDTC).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from sdtm.context import MappingContext
from subgen.core.problems import Problem, ProblemError
from subgen.core.raw import FILE_COL, ROW_COL, SPEC_LINEAGE
from subgen.core.spec.model import Dataset, Spec

TOKEN = re.compile(r"^\[(Study|Data):([A-Za-z0-9_]+)\]$")


def _actsub(dm: pd.DataFrame) -> str:
    return str(int(dm["ARMCD"].notna().sum()))


def _sstdtc(dm: pd.DataFrame) -> str:
    return str(dm["RFICDTC"].dropna().str.slice(0, 10).min())


def _sendtc(dm: pd.DataFrame) -> str:
    return str(dm["RFPENDTC"].dropna().str.slice(0, 10).max())


DATA_TOKENS: dict[str, Callable[[pd.DataFrame], str]] = {"ACTSUB": _actsub, "SSTDTC": _sstdtc, "SENDTC": _sendtc}


def design_needs(spec: Spec, dataset: str) -> set[str]:
    """Datasets a design sheet's ``[Data:...]`` tokens read (DM), else nothing."""
    for row in spec.design_rows(dataset):
        if any(isinstance(v, str) and v.startswith("[Data:") for v in row.values()):
            return {"DM"}
    return set()


def design_frame(ctx: MappingContext, dataset: Dataset) -> pd.DataFrame | None:
    """The dataset's design sheet as rows with tokens resolved, or None when it has no sheet."""
    rows = ctx.spec.design_rows(dataset.name)
    if not rows:
        return None
    frame = pd.DataFrame(rows, dtype="string")
    problems: list[Problem] = []
    study_attrs = dict(ctx.spec.study.attributes)
    for col in frame.columns:
        for i, value in enumerate(frame[col].tolist()):
            m = TOKEN.match(value or "")
            if not m:
                continue
            kind, name = m.groups()
            if kind == "Study" and name in study_attrs:
                frame.at[i, col] = study_attrs[name]
            elif kind == "Data" and name in DATA_TOKENS:
                frame.at[i, col] = DATA_TOKENS[name](ctx.finished("DM"))
            else:
                known = sorted(study_attrs) if kind == "Study" else sorted(DATA_TOKENS)
                problems.append(Problem(f"{ctx.spec.path} [{dataset.name}]", i + 2, col, value,
                                        f"unknown {kind} token", "use one of: " + ", ".join(known),
                                        rule="SPEC-TOKEN"))
    if problems:
        raise ProblemError(problems)
    frame = frame.mask(frame.eq(""))  # type: ignore[arg-type]  # pandas-stubs: DataFrame.eq takes a scalar
    frame[FILE_COL] = f"{SPEC_LINEAGE}{dataset.name}"
    frame[ROW_COL] = range(2, len(frame) + 2)
    frame.attrs = {"design": True, "form": f"{SPEC_LINEAGE}{dataset.name}"}
    return frame
