"""Shared cases of the subgen.core.xpt tests: a DM dataset and frame, and small helpers."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from subgen.core.spec.model import Dataset, Variable

CREATED = datetime(2024, 3, 5, 0, 0, 0)


def var(name: str, label: str, data_type: str = "text", length: int | None = None, order: int = 1,
        dataset: str = "DM") -> Variable:
    return Variable(dataset=dataset, name=name, label=label, data_type=data_type, length=length, order=order)


def make_dataset(variables: list[Variable], name: str = "DM", label: str = "Demographics") -> Dataset:
    return Dataset(name=name, label=label, class_="SPECIAL PURPOSE", structure="One record per subject",
                   keys=(variables[0].name,), variables=tuple(variables))


DM = make_dataset([
    var("STUDYID", "Study Identifier", length=12),
    var("USUBJID", "Unique Subject Identifier", length=20),
    var("AGE", "Age", "integer", 8),
    var("WEIGHT", "Weight (kg)", "float", 8),
    var("SEX", "Sex", length=1),
    var("COMMENT", "Free Text Comment", length=200),
])


def dm_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "STUDYID": ["ABC-101", "ABC-101", "ABC-101", "ABC-101"],
        "USUBJID": ["ABC-101-0001", "ABC-101-0002", "ABC-101-0003  ", "ABC-101-04"],
        "AGE": [34, 0, 71, 2 ** 40],
        "WEIGHT": [70.25, np.nan, -0.1, 1e-70],
        "SEX": ["F", None, "M", ""],
        "COMMENT": ["  leading blanks kept", "", None, "x" * 200],
    })


def rules(problems) -> list[tuple]:
    return [(p.rule, p.row, p.column, p.value) for p in problems]


def errors(problems) -> list:
    return [p for p in problems if p.severity != "Notice"]


def relative_error(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    nan = np.isnan(expected)
    scale = np.where(expected == 0, 1.0, np.abs(expected))
    err = np.abs(got - expected) / scale
    return np.where(nan & np.isnan(got), 0.0, err)
