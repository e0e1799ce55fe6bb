"""The named functions a condition may call: ``is_complete_date(AESTDTC)``, ``matches(AETERM, '^[A-Z]')``.

Each function is small, pure and vectorised: its column arguments arrive as whole Series (one per
column, aligned on the frame's index), its literal arguments as ``str`` or ``float``, and it returns
a boolean Series (or one boolean for the whole frame, which the evaluator spreads over the rows).
A function registered with ``reads="names"`` gets, for each column argument, whether the column
exists instead of its values (``exists(AEOCCUR)`` must not fail on an absent column).

Conventions shared by every function:

* text is trimmed; a null or blank value never meets a value test (``matches``, ``longer_than``,
  ``is_complete_date``, the date comparisons): a test on nothing is not a finding;
* dates are ISO 8601 texts (``2024-03-05``, ``2024-03``, ``2024-03-05T10:30``); a comparison of
  two dates looks only at the precision both have (``2024-03`` vs ``2024-03-05``: the months), so a
  partial date is never called earlier or later than what it may be;
* uniqueness functions (``is_not_unique_set``, ``is_not_unique_relationship``) flag every record of
  the offending group, not only the second one.

:data:`FUNCTIONS` is the registry; :func:`function` looks a name up (``ExprError`` via the
evaluator when unknown). Register new functions with :func:`register`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd

Reads = Literal["values", "names"]


@dataclass(frozen=True)
class Function:
    """A named function: ``fn`` takes the arguments (Series or literals; booleans for ``reads="names"``)."""

    name: str
    fn: Callable[..., pd.Series | bool]
    reads: Reads = "values"

    @property
    def doc(self) -> str:
        """The first line of the function's docstring (for error messages and the README)."""
        return (self.fn.__doc__ or "").strip().splitlines()[0] if self.fn.__doc__ else ""


_REGISTRY: dict[str, Function] = {}


def register(name: str, reads: Reads = "values") -> Callable[[Callable[..., pd.Series | bool]],
                                                             Callable[..., pd.Series | bool]]:
    """Decorator: register ``fn`` under ``name`` (lower case)."""
    def wrap(fn: Callable[..., pd.Series | bool]) -> Callable[..., pd.Series | bool]:
        _REGISTRY[name.lower()] = Function(name.lower(), fn, reads)
        return fn
    return wrap


# --------------------------------------------------------------------------- value helpers


def text(values: pd.Series) -> pd.Series:
    """Trimmed text, null as ``""``; an integral number without ``.0`` (``1.0`` -> ``1``)."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = pd.to_numeric(values, errors="coerce").astype("Float64")
        out = numbers.astype("string")
        integral = numbers.notna() & (numbers % 1 == 0)
        out = out.where(~integral, numbers.round().astype("Int64").astype("string"))
        return out.fillna("").astype(object)
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


def filled(values: pd.Series) -> pd.Series:
    """True where a value is present (not null, not blank)."""
    return text(values).ne("")


def _by_distinct(values: pd.Series, test: Callable[[pd.Series], np.ndarray]) -> pd.Series:
    codes, uniques = pd.factorize(text(values), use_na_sentinel=False)
    hit = np.asarray(test(pd.Series(uniques, dtype=object)), dtype=bool)
    return pd.Series(hit[codes], index=values.index)


# --------------------------------------------------------------------------- presence


@register("exists", reads="names")
def exists(*present: bool) -> bool:
    """True when every named column exists in the dataset (whatever its values)."""
    return all(present)


# --------------------------------------------------------------------------- text


@register("matches")
def matches(values: pd.Series, pattern: str) -> pd.Series:
    """True where the text matches the regular expression from its start (``re.match``); blank never."""
    compiled = re.compile(pattern)
    return _by_distinct(values, lambda u: np.array([bool(v) and compiled.match(v) is not None for v in u]))


@register("matches_all")
def matches_all(values: pd.Series, pattern: str) -> pd.Series:
    """True where the whole text matches the regular expression (``re.fullmatch``); blank never."""
    compiled = re.compile(pattern)
    return _by_distinct(values, lambda u: np.array([bool(v) and compiled.fullmatch(v) is not None for v in u]))


@register("longer_than")
def longer_than(values: pd.Series, size: float) -> pd.Series:
    """True where the trimmed text has more than ``size`` characters."""
    return text(values).str.len().gt(int(size))


@register("contains")
def contains(values: pd.Series, part: str) -> pd.Series:
    """True where the text contains ``part`` (exactly, case counts)."""
    return _by_distinct(values, lambda u: np.array([part in v for v in u]))


@register("starts_with")
def starts_with(values: pd.Series, part: str) -> pd.Series:
    """True where the text starts with ``part``."""
    return _by_distinct(values, lambda u: np.array([v.startswith(part) for v in u]))


@register("ends_with")
def ends_with(values: pd.Series, part: str) -> pd.Series:
    """True where the text ends with ``part``."""
    return _by_distinct(values, lambda u: np.array([v.endswith(part) for v in u]))


@register("same_text")
def same_text(left: pd.Series, right: pd.Series | str) -> pd.Series:
    """True where the two texts are equal exactly (case counts; ``=`` ignores case); blank equals blank."""
    other = text(right) if isinstance(right, pd.Series) else str(right).strip()
    return pd.Series(np.asarray(text(left) == other, dtype=bool), index=left.index)


@register("equal_ignoring_case")
def equal_ignoring_case(left: pd.Series, right: pd.Series | str) -> pd.Series:
    """True where the two texts are equal ignoring case; a blank on either side never."""
    a = text(left).str.upper()
    b = text(right).str.upper() if isinstance(right, pd.Series) else str(right).strip().upper()
    return pd.Series(np.asarray((a == b) & a.ne(""), dtype=bool), index=left.index)


def _numbers(values: pd.Series | float | str, index: pd.Index) -> pd.Series:
    if isinstance(values, pd.Series):
        return pd.to_numeric(text(values), errors="coerce").astype("float64")
    return pd.Series(float(values), index=index)


def _number_compare(left: pd.Series, right: pd.Series | float | str, op: Callable[[pd.Series, pd.Series], pd.Series]
                    ) -> pd.Series:
    a, b = _numbers(left, left.index), _numbers(right, left.index)
    return pd.Series(np.asarray(op(a, b).fillna(False), dtype=bool), index=left.index) & a.notna() & b.notna()


@register("num_lt")
def num_lt(left: pd.Series, right: pd.Series | float | str) -> pd.Series:
    """True where both read as numbers (a text column too) and ``left`` is smaller; otherwise never."""
    return _number_compare(left, right, lambda a, b: a < b)


@register("num_le")
def num_le(left: pd.Series, right: pd.Series | float | str) -> pd.Series:
    """True where both read as numbers (a text column too) and ``left`` is not greater; otherwise never."""
    return _number_compare(left, right, lambda a, b: a <= b)


@register("num_gt")
def num_gt(left: pd.Series, right: pd.Series | float | str) -> pd.Series:
    """True where both read as numbers (a text column too) and ``left`` is greater; otherwise never."""
    return _number_compare(left, right, lambda a, b: a > b)


@register("num_ge")
def num_ge(left: pd.Series, right: pd.Series | float | str) -> pd.Series:
    """True where both read as numbers (a text column too) and ``left`` is not smaller; otherwise never."""
    return _number_compare(left, right, lambda a, b: a >= b)


# --------------------------------------------------------------------------- ISO 8601 dates

#: ISO 8601 date/time as SDTM writes it: YYYY[-MM[-DD[Thh[:mm[:ss[.f]]]]]], with "-" for unknown parts.
_ISO = re.compile(r"^(?P<y>\d{4}|-)(?:-(?P<m>\d{2}|-)(?:-(?P<d>\d{2}|-)"
                  r"(?:T(?P<h>\d{2}|-)(?::(?P<mi>\d{2}|-)(?::(?P<s>\d{2}(?:\.\d+)?))?)?)?)?)?$")
_COMPLETE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T|$)")


def _valid_iso(value: str) -> bool:
    m = _ISO.match(value)
    if not m or not value:
        return False
    y, mo, d = m.group("y"), m.group("m"), m.group("d")
    if mo and mo != "-" and not 1 <= int(mo) <= 12:
        return False
    if d and d != "-" and mo and mo != "-" and y != "-":
        try:
            pd.Timestamp(int(y), int(mo), int(d))
        except ValueError:
            return False
    h, mi = m.group("h"), m.group("mi")
    if h and h != "-" and int(h) > 23:
        return False
    return not (mi and mi != "-" and int(mi) > 59)


@register("is_valid_date")
def is_valid_date(values: pd.Series) -> pd.Series:
    """True where the value is a valid ISO 8601 date/time (partial allowed); blank never."""
    return _by_distinct(values, lambda u: np.array([_valid_iso(v) for v in u]))


@register("is_invalid_date")
def is_invalid_date(values: pd.Series) -> pd.Series:
    """True where a value is present but is not a valid ISO 8601 date/time."""
    return _by_distinct(values, lambda u: np.array([bool(v) and not _valid_iso(v) for v in u]))


@register("is_complete_date")
def is_complete_date(values: pd.Series) -> pd.Series:
    """True where the date part is complete (year, month and day: ``2024-03-05`` or ``2024-03-05T..``)."""
    return _by_distinct(values, lambda u: np.array([_COMPLETE.match(v) is not None and _valid_iso(v) for v in u]))


@register("is_incomplete_date")
def is_incomplete_date(values: pd.Series) -> pd.Series:
    """True where a date is present but its date part lacks the day, month or year."""
    return _by_distinct(values, lambda u: np.array([bool(v) and _COMPLETE.match(v) is None for v in u]))


def _date_keys(values: pd.Series) -> pd.Series:
    """ISO texts normalised for comparison: blank/invalid -> "", ``T`` kept, unknown parts cut off."""
    def key(v: str) -> str:
        if not _valid_iso(v):
            return ""
        return re.split(r"-(?=-)|T-|:-", v, maxsplit=1)[0].rstrip("-T:")
    return _by_distinct_text(values, key)


def _by_distinct_text(values: pd.Series, fn: Callable[[str], str]) -> pd.Series:
    codes, uniques = pd.factorize(text(values), use_na_sentinel=False)
    mapped = np.array([fn(v) for v in uniques], dtype=object)
    return pd.Series(mapped[codes] if len(mapped) else np.array([], dtype=object), index=values.index)


def _date_compare(left: pd.Series, right: pd.Series | str, op: Callable[[str, str], bool]) -> pd.Series:
    a = _date_keys(left)
    b = _date_keys(right) if isinstance(right, pd.Series) else _date_keys(pd.Series([right] * len(left),
                                                                                  index=left.index))
    # dates and times are both texts of the same layout: comparing the common prefix compares the common precision
    pairs = pd.DataFrame({"a": a.to_numpy(), "b": b.to_numpy()})
    codes, uniq = pd.factorize(pairs["a"] + "\x1f" + pairs["b"])
    results = []
    for pair in uniq:
        x, y = pair.split("\x1f")
        if not x or not y:
            results.append(False)
            continue
        n = min(len(x), len(y))
        results.append(op(x[:n], y[:n]))
    hit = np.asarray(results, dtype=bool)
    return pd.Series(hit[codes] if len(hit) else np.zeros(0, dtype=bool), index=left.index)


@register("date_lt")
def date_lt(left: pd.Series, right: pd.Series | str) -> pd.Series:
    """True where both dates are present and valid and ``left`` is earlier, at the precision both have."""
    return _date_compare(left, right, lambda x, y: x < y)


@register("date_le")
def date_le(left: pd.Series, right: pd.Series | str) -> pd.Series:
    """True where both dates are present and valid and ``left`` is not later, at the precision both have."""
    return _date_compare(left, right, lambda x, y: x <= y)


@register("date_gt")
def date_gt(left: pd.Series, right: pd.Series | str) -> pd.Series:
    """True where both dates are present and valid and ``left`` is later, at the precision both have."""
    return _date_compare(left, right, lambda x, y: x > y)


@register("date_ge")
def date_ge(left: pd.Series, right: pd.Series | str) -> pd.Series:
    """True where both dates are present and valid and ``left`` is not earlier, at the precision both have."""
    return _date_compare(left, right, lambda x, y: x >= y)


@register("date_eq")
def date_eq(left: pd.Series, right: pd.Series | str) -> pd.Series:
    """True where both dates are present and valid and agree at the precision both have."""
    return _date_compare(left, right, lambda x, y: x == y)


@register("date_ne")
def date_ne(left: pd.Series, right: pd.Series | str) -> pd.Series:
    """True where both dates are present and valid and differ at the precision both have."""
    return _date_compare(left, right, lambda x, y: x != y)


# --------------------------------------------------------------------------- sets and relationships


def _keys(columns: tuple[pd.Series, ...]) -> pd.DataFrame:
    return pd.DataFrame({f"k{i}": text(c).to_numpy() for i, c in enumerate(columns)}, index=columns[0].index)


@register("is_not_unique_set")
def is_not_unique_set(*columns: pd.Series) -> pd.Series:
    """True on every record whose combination of the given columns' values occurs more than once."""
    return _keys(columns).duplicated(keep=False)


@register("is_unique_set")
def is_unique_set(*columns: pd.Series) -> pd.Series:
    """True on every record whose combination of the given columns' values occurs once."""
    return ~_keys(columns).duplicated(keep=False)


def _maps_to_many(frame: pd.DataFrame, source: list[str], target: str) -> pd.Series:
    present = frame[target].ne("")
    counts = frame[present].groupby(source, sort=False)[target].transform("nunique")
    return counts.reindex(frame.index).fillna(0).gt(1) & present


@register("is_not_unique_relationship")
def is_not_unique_relationship(left: pd.Series, right: pd.Series) -> pd.Series:
    """True where a ``left`` value goes with more than one ``right`` value, or a ``right`` value with more than one
    ``left`` value (the two are not one to one); records with either value blank take no part."""
    frame = pd.DataFrame({"a": text(left).to_numpy(), "b": text(right).to_numpy()}, index=left.index)
    frame = frame.where(frame["a"].ne("") & frame["b"].ne(""), "")
    return _maps_to_many(frame, ["a"], "b") | _maps_to_many(frame, ["b"], "a")


@register("is_inconsistent_within")
def is_inconsistent_within(values: pd.Series, *groups: pd.Series) -> pd.Series:
    """True where the records of a group (the ``groups`` columns' values) hold more than one distinct non-blank
    value of ``values``."""
    frame = _keys(groups)
    frame["v"] = text(values).to_numpy()
    return _maps_to_many(frame, [c for c in frame.columns if c != "v"], "v")


@register("present_more_than_once_within")
def present_more_than_once_within(values: pd.Series, *groups: pd.Series) -> pd.Series:
    """True where a non-blank value occurs on more than one record of its group."""
    frame = _keys((*groups, values))
    return frame.duplicated(keep=False) & filled(values)


# --------------------------------------------------------------------------- records in order


@register("next_in_group_differs")
def next_in_group_differs(values: pd.Series, *groups: pd.Series) -> pd.Series:
    """True where the next record of the same group (in record order) has a different value (last record never)."""
    frame = _keys(groups)
    frame["v"] = text(values).to_numpy()
    cols = [c for c in frame.columns if c != "v"]
    nxt = frame.groupby(cols, sort=False)["v"].shift(-1)
    return nxt.notna() & nxt.ne(frame["v"])


@register("is_last_in_group")
def is_last_in_group(*groups: pd.Series) -> pd.Series:
    """True on the last record (in record order) of each group of the ``groups`` columns' values."""
    return ~_keys(groups).duplicated(keep="last")


#: Every function, by name (read-only).
FUNCTIONS: Mapping[str, Function] = MappingProxyType(_REGISTRY)


def function(name: str) -> Function | None:
    """The function registered as ``name`` (any case), or None."""
    return _REGISTRY.get(name.lower())


__all__ = ["FUNCTIONS", "Function", "filled", "function", "register", "text"]
