"""Elementwise masks computed once per distinct value (or pair of values) and spread back.

Clinical columns repeat few values many times (a million lab records, a few dozen test codes), so
a test whose result for a record depends only on that record's value is computed on the distinct
values: the same mask, a fraction of the string work.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

Mask = Callable[[pd.Series], np.ndarray]
PairMask = Callable[[pd.Series, pd.Series], np.ndarray]


def _distinct(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(codes, distinct values keeping the dtype); nulls are one distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes, pd.Series(uniques, dtype=values.dtype)


def on_distinct(fn: Mask, values: pd.Series) -> pd.Series:
    """``fn(values)`` as a boolean Series on ``values.index``, ``fn`` run once per distinct value."""
    codes, distinct = _distinct(values)
    if len(distinct) == len(values):
        return pd.Series(np.asarray(fn(values), dtype=bool), index=values.index)
    hit = np.asarray(fn(distinct), dtype=bool)
    return pd.Series(hit[codes], index=values.index)


def on_distinct_pairs(fn: PairMask, left: pd.Series, right: pd.Series) -> pd.Series:
    """``fn(left, right)`` (aligned, same length) as a boolean Series, run once per distinct pair."""
    left_codes, left_values = _distinct(left)
    right_codes, right_values = _distinct(right)
    pair = left_codes.astype(np.int64) * max(len(right_values), 1) + right_codes
    pair_codes, pairs = pd.factorize(pair)
    pairs = np.asarray(pairs)
    width = max(len(right_values), 1)
    a = left_values.take(pairs // width).reset_index(drop=True)
    b = right_values.take(pairs % width).reset_index(drop=True)
    hit = np.asarray(fn(a, b), dtype=bool)
    return pd.Series(hit[pair_codes], index=left.index)
