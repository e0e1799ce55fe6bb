"""Elementwise work done once per distinct value.

Clinical columns repeat few values many times (a million lab records hold a few thousand dates,
a few dozen units), so a function whose result for a record depends only on that record's value
is computed on the distinct values and spread back to the records: the same result, a fraction
of the string work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

F = TypeVar("F", bound=Callable[..., Any])
FrameT = TypeVar("FrameT", pd.Series, pd.DataFrame)


def _spread(result: FrameT, codes: np.ndarray, index: pd.Index) -> FrameT:
    """``result`` (a Series or DataFrame, one row per distinct value) taken back to the records (dtypes kept)."""
    return result.reset_index(drop=True).take(codes).set_axis(index)


def on_distinct(fn: F) -> F:
    """Decorate an elementwise ``Series -> Series`` (or DataFrame, or tuple of Series) function to run on
    distinct values.

    Nulls count as one distinct value and reach ``fn`` as nulls; results keep ``fn``'s dtypes and
    get the input's index.
    """
    @functools.wraps(fn)
    def wrapper(values: pd.Series, *args: Any, **kwargs: Any) -> Any:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        if len(uniques) == len(values):
            return fn(values, *args, **kwargs)
        distinct = pd.Series(uniques, dtype=values.dtype)
        result = fn(distinct, *args, **kwargs)
        if isinstance(result, tuple):
            return tuple(_spread(r, codes, values.index) for r in result)
        return _spread(result, codes, values.index)
    return cast(F, wrapper)


def map_distinct(values: pd.Series, func: Callable, dtype: str | None = None) -> pd.Series:
    """``func(value)`` for every non-null value, computed once per distinct value; nulls stay null."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = pd.Series([func(v) for v in uniques] + [None], dtype=dtype or object)
    return _spread(mapped, np.where(codes < 0, len(uniques), codes), values.index)


@on_distinct
def stripped(values: pd.Series) -> pd.Series:
    """The values as text (string dtype) without surrounding blanks; nulls stay null."""
    return values.astype("string").str.strip()
