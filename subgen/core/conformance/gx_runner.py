"""Run a Great Expectations suite on a dataset's DataFrame and return :class:`Problem` rows.

This module is the only place that talks to Great Expectations (GX) at run time. It keeps
GX quiet, offline and cheap:

* **No network.** ``GX_ANALYTICS_ENABLED=false`` is put into the environment before GX is
  first imported, and the cached context is created with ``analytics_enabled=False`` in its
  project config as well. GX 1.24 ships no analytics client at all (no ``posthog``, no
  ``great_expectations.analytics``); both switches are kept so that a GX upgrade that brings
  it back stays silent. The context is ``mode="ephemeral"`` with in-memory stores, so it never
  reaches GX Cloud and writes nothing to disk.
* **No progress bars.** The context's ``progress_bars`` config is off globally and for metric
  calculations (GX otherwise prints a tqdm "Calculating Metrics" bar per validation).
* **No log noise.** The ``great_expectations`` logger is raised to CRITICAL unless the
  application configured it already, and Python warnings raised inside a validation are
  silenced. Nothing is lost: every failure and every exception comes back as a Problem.
* **Lazy and cached.** GX is imported on first use (it takes ~2 s), and the context, pandas
  data source, data asset and batch definition are created once per process and reused.

A whole suite is validated in **one** call (``batch.validate(suite)``): GX then computes the
metrics of all expectations in one graph instead of paying its fixed cost per expectation.

Blank character values are nulls. XPT stores a blank character value exactly like a missing
one, so before validation every character column is copied with ``""`` and whitespace-only
strings replaced by null (:func:`prepare_frame`). Required-value checks therefore fire on ``""``
as on ``None``, and format checks ignore blanks. Problems still quote the original value.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from subgen.core.conformance.outcomes import EXECUTION_ERROR, ISSUES, NOT_APPLICABLE, PASSED
from subgen.core.problems import Problem

#: Rule id of the Problem raised for an expectation that failed to execute (exception in GX).
EXECUTION_ERROR_RULE = "GX-EXECUTION-ERROR"
#: Rule id of the Problem listing checks not run because a column they read is absent.
NOT_RUN_RULE = "GX-NOT-RUN"
#: Records listed one by one per failed expectation; the rest are counted in one summary Problem.
MAX_RECORDS_PER_CHECK = 50

#: Expectation types that describe the table rather than read a column's values: they run
#: even when the columns they name are absent (that absence is what they report).
_TABLE_LEVEL = frozenset({"expect_column_to_exist", "expect_table_columns_to_match_ordered_list",
                          "expect_table_columns_to_match_set", "expect_table_row_count_to_be_between",
                          "expect_table_column_count_to_equal"})

_LOCK = threading.Lock()


def _quiet_gx_environment() -> None:
    """Switch GX analytics off in the environment; must run before GX is imported."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"


_quiet_gx_environment()


@functools.lru_cache(maxsize=1)
def import_gx() -> Any:
    """Import ``great_expectations`` once, with analytics off and its logger quietened."""
    _quiet_gx_environment()
    gx_logger = logging.getLogger("great_expectations")
    if gx_logger.level == logging.NOTSET:  # leave an application's own logging choice alone
        gx_logger.setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Local on purpose: GX takes seconds to import; only a run that validates pays for it.
        import great_expectations as gx_module
        import great_expectations.expectations  # noqa: F401  (registers expectation classes)
        from great_expectations.execution_engine import pandas_execution_engine
    # GX fingerprints every pandas batch it is given (an MD5 over pandas' hash of every cell, seconds
    # for a million-record dataset) unless the frame is larger than this threshold; the fingerprint is
    # only batch metadata that nothing here reads, so it is switched off.
    pandas_execution_engine.HASH_THRESHOLD = 0
    return gx_module


@dataclass(frozen=True)
class _Runtime:
    context: Any
    batch_definition: Any


@functools.lru_cache(maxsize=1)
def _runtime() -> _Runtime:
    """The cached ephemeral context and a whole-dataframe batch definition (created once)."""
    gx_module = import_gx()
    # Local like import_gx (GX takes seconds to import): only a run that validates reaches here.
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    context = gx_module.get_context(mode="ephemeral", project_config=config)
    asset = context.data_sources.add_pandas("subgen").add_dataframe_asset("dataset")
    return _Runtime(context, asset.add_batch_definition_whole_dataframe("whole dataset"))


def gx_context() -> Any:
    """The process-wide ephemeral GX context used for validation (created on first call)."""
    return _runtime().context


# --------------------------------------------------------------------------------------------
# Frame preparation


def _is_character(series: pd.Series) -> bool:
    return series.dtype == object or isinstance(series.dtype, pd.StringDtype)


def _blank_mask(series: pd.Series) -> pd.Series:
    """True where a character value is "" or only blanks (XPT stores those as missing).

    Each distinct value is tested once (hash-based factorize, then a lookup by code), which is far
    faster than a string operation per record on large, repetitive clinical columns.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    blank = np.fromiter((isinstance(v, str) and not v.strip() for v in uniques), dtype=bool, count=len(uniques))
    mask = np.zeros(len(series), dtype=bool)
    found = codes >= 0
    mask[found] = blank[codes[found]]
    return pd.Series(mask, index=series.index)


#: Decimals float values are rounded to before validation (see :func:`prepare_frame`).
FLOAT_DECIMALS = 9


def prepare_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy ``frame`` for validation: positional index, blank character values made null.

    The index is reset so that GX's unexpected indexes are 0-based record positions. Float
    columns are rounded to :data:`FLOAT_DECIMALS` decimals, so that a value read back from XPT
    (IBM hexadecimal floating point) as 6.499999999999999 still equals 6.5 in set checks such as
    RANGE-STEP. The caller's frame is never modified; Problems quote the original values.
    """
    data = frame.reset_index(drop=True)
    for col in list(data.columns):
        series = data[col]
        if _is_character(series):
            mask = _blank_mask(series)
            if mask.any():
                data[col] = series.mask(mask)  # copy-on-write: the caller's frame is untouched
        elif pd.api.types.is_float_dtype(series.dtype):
            data[col] = series.round(FLOAT_DECIMALS)
    return data


# --------------------------------------------------------------------------------------------
# Running


def _required_columns(config: Any) -> tuple[str, ...]:
    """Columns an expectation reads (from meta when the suite builder recorded them)."""
    meta = config.meta or {}
    if "requires" in meta:
        return tuple(meta["requires"])
    if config.type in _TABLE_LEVEL:
        return ()
    kwargs = config.kwargs
    cols: list[str] = []
    for key in ("column", "column_A", "column_B"):
        if kwargs.get(key) is not None:
            cols.append(kwargs[key])
    cols.extend(kwargs.get("column_list") or ())
    return tuple(cols)


def _check_id(config: Any) -> str | None:
    return (config.meta or {}).get("check")


def _describe(config: Any) -> str:
    """Short name of an expectation for messages: its type, column(s) and check id."""
    meta = config.meta or {}
    cols = config.kwargs.get("column") or ", ".join(config.kwargs.get("column_list") or ())
    where = f" on {cols}" if cols else ""
    check = f" (check {meta['check']})" if meta.get("check") else ""
    return f"{config.type}{where}{check}"


def _exception_message(info: Any) -> str | None:
    """The exception text of a GX result, or None when the expectation ran.

    GX 1.24 reports exceptions in two shapes: a flat ``{"raised_exception": ..., ...}`` dict,
    or a dict keyed by metric configuration id when a metric failed to resolve.
    """
    if not info:
        return None
    if "raised_exception" in info:
        if info.get("raised_exception"):
            return str(info.get("exception_message") or "unknown error")
        return None
    messages = sorted({str(v.get("exception_message") or "unknown error") for v in info.values()
                       if isinstance(v, dict) and v.get("raised_exception")})
    return "; ".join(messages) if messages else None


def display_value(value: Any) -> str | None:
    """A record's value as Problem text: None for null, integral floats without ``.0``."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(float(value))  # not np.float64(..)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):  # numpy scalar
        return display_value(value.item())
    return str(value)


def _problem(where: str, meta: dict, *, row: int | None, column: str | None, value: str | None,
             message: str | None = None, rule: str | None = None, severity: str | None = None,
             fix: str | None = None) -> Problem:
    return Problem(where=where, row=row, column=column, value=value,
                   message=message or str(meta.get("message") or "check failed"),
                   fix=fix if fix is not None else str(meta.get("fix") or ""),
                   severity=severity or str(meta.get("severity") or "Error"),
                   rule=rule or str(meta.get("rule") or ""))


def _record_value(original: pd.DataFrame, columns: list[str], position: int) -> str | None:
    if len(columns) == 1:
        return display_value(original[columns[0]].iloc[position])
    parts = [f"{c}={display_value(original[c].iloc[position]) or ''}" for c in columns]
    return ", ".join(parts)


def _record_problems(where: str, config: Any, result: dict, original: pd.DataFrame,
                     limit: int) -> list[Problem]:
    """One Problem per offending record (first ``limit``) plus a summary of the rest."""
    meta = dict(config.meta or {})
    indexes = [int(i) for i in result.get("unexpected_index_list") or () if not isinstance(i, dict)]
    count = int(result.get("unexpected_count") or len(indexes))
    kw = config.kwargs
    columns = [kw["column"]] if kw.get("column") else list(kw.get("column_list") or ())
    columns = [c for c in columns if c in original.columns]
    column = meta.get("column") or (", ".join(columns) or None)
    problems = [_problem(where, meta, row=i + 1, column=column,
                         value=_record_value(original, columns, i) if columns else None)
                for i in sorted(indexes)[:limit]]
    if count > len(problems):
        listed = len(problems)
        base = str(meta.get("message") or _describe(config))
        problems.append(_problem(
            where, meta, row=None, column=column, value=None,
            message=f"{base} - {count} records in total fail this check"
                    + (f"; only the first {listed} are listed" if listed else "")))
    return problems


def _table_column_problems(where: str, config: Any, original: pd.DataFrame) -> list[Problem]:
    meta = dict(config.meta or {})
    expected = list(config.kwargs.get("column_list") or ())
    found = [str(c) for c in original.columns]
    problems = [_problem(where, meta, row=None, column=c, value=None,
                         message=f"{c} is declared in the spec but the dataset has no such column")
                for c in expected if c not in found]
    problems += [_problem(where, meta, row=None, column=c, value=None,
                          message=f"{c} is in the dataset but not declared in the spec")
                 for c in found if c not in expected]
    if not problems:
        problems.append(_problem(where, meta, row=None, column=None, value=", ".join(found),
                                 message="columns are not in spec order; expected "
                                         + ", ".join(expected)))
    return problems


def _failure_problems(where: str, config: Any, result: dict, original: pd.DataFrame,
                      limit: int) -> list[Problem]:
    """Problems for one failed (but executed) expectation."""
    meta = dict(config.meta or {})
    if config.type == "expect_table_columns_to_match_ordered_list":
        return _table_column_problems(where, config, original)
    if config.type == "expect_column_to_exist":
        return [_problem(where, meta, row=None, column=config.kwargs.get("column"), value=None)]
    if "unexpected_index_list" in result or "unexpected_count" in result:
        return _record_problems(where, config, result, original, limit)
    observed = result.get("observed_value")
    return [_problem(where, meta, row=None, column=meta.get("column") or config.kwargs.get("column"),
                     value=None if observed is None else str(observed))]


def _execution_error(where: str, config: Any, message: str) -> Problem:
    meta = dict(config.meta or {})
    return Problem(where=where, row=None, column=meta.get("column") or config.kwargs.get("column"),
                   value=None, message=f"expectation {_describe(config)} could not be evaluated: "
                                       f"{message}",
                   fix="This check did NOT run: fix the data or the suite so it can be evaluated "
                       "(a failed check is never counted as passed)",
                   severity="Error", rule=EXECUTION_ERROR_RULE)


def _not_run_problems(where: str, skipped: list[tuple[Any, tuple[str, ...]]]) -> list[Problem]:
    """One Problem per absent column naming the checks that could not run without it."""
    by_column: dict[str, list[str]] = {}
    for config, missing in skipped:
        for col in missing:
            by_column.setdefault(col, []).append(str((config.meta or {}).get("rule") or config.type))
    return [Problem(where=where, row=None, column=col, value=None,
                    message=f"checks not run because column {col} is absent: "
                            + ", ".join(dict.fromkeys(rules)),
                    fix=f"Add {col} to the dataset as declared in the spec, then re-run the checks",
                    severity="Error", rule=NOT_RUN_RULE)
            for col, rules in by_column.items()]


def _validate(data: pd.DataFrame, suite: Any) -> Any:
    """Validate ``data`` against the whole ``suite`` in one GX call (COMPLETE result format)."""
    runtime = _runtime()
    batch = runtime.batch_definition.get_batch(batch_parameters={"dataframe": data})
    return batch.validate(suite, result_format="COMPLETE")


#: Expectation types whose verdict on a record depends only on that record's value in one column.
#: On a large frame they run on the column's distinct values (:func:`_validate_results`).
VALUE_WISE = frozenset({
    "expect_column_values_to_not_be_null", "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex",
    "expect_column_values_to_match_regex_list", "expect_column_values_to_not_match_regex_list",
    "expect_column_value_lengths_to_be_between", "expect_column_value_lengths_to_equal",
    "expect_column_values_to_be_between",
})
#: Frames with at least this many records run their value-wise expectations on distinct values.
COMPACT_MIN_ROWS = 10_000
#: Result keys that describe the distinct-value frame, not the dataset: dropped from mapped results.
_COMPACT_ONLY_KEYS = ("element_count", "missing_count", "missing_percent", "unexpected_percent",
                      "unexpected_percent_total", "unexpected_percent_nonmissing", "unexpected_list",
                      "partial_unexpected_list", "partial_unexpected_index_list", "partial_unexpected_counts",
                      "unexpected_rows")


def _value_wise_column(expectation: Any) -> str | None:
    """The column of a value-wise expectation (no row condition, no ``mostly`` below 1), else None."""
    column = getattr(expectation, "column", None)
    if expectation.expectation_type not in VALUE_WISE or not column:
        return None
    if getattr(expectation, "row_condition", None) or getattr(expectation, "mostly", 1) not in (None, 1, 1.0):
        return None
    return column


def _compact(data: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """A frame of each column's distinct values (null counts as one), and how its rows map back.

    Each compact column holds the first record of every distinct value (same dtype, same value),
    padded to the longest column by repeating its first value (a repeated value gets the same
    verdict). Returned per column: value code of each compact position, value code of each record.
    """
    picks: dict[str, np.ndarray] = {}
    codes_of: dict[str, np.ndarray] = {}
    for col in columns:
        codes, uniques = pd.factorize(data[col], use_na_sentinel=True)
        codes = np.where(codes < 0, len(uniques), codes)  # null is one more distinct value
        picks[col] = np.flatnonzero(~pd.Series(codes).duplicated().to_numpy())
        codes_of[col] = codes
    length = max(len(p) for p in picks.values())
    frame, maps = {}, {}
    for col, first in picks.items():
        pos = np.concatenate([first, np.full(length - len(first), first[0], dtype=first.dtype)])
        frame[col] = data[col].iloc[pos].reset_index(drop=True)
        maps[col] = (codes_of[col][pos], codes_of[col])
    return pd.DataFrame(frame), maps


def _validate_results(data: pd.DataFrame, expectations: list[Any], name: str) -> list[Any]:
    """GX results of ``expectations`` on ``data``, each group validated as one whole suite.

    On a frame of :data:`COMPACT_MIN_ROWS` records or more, the value-wise expectations run on the
    distinct values of their columns (:func:`_compact`) and their results are mapped back to the
    records: ``unexpected_index_list`` lists every record whose value failed and
    ``unexpected_count`` counts them, as a run on the whole frame gives. The other expectations
    (table level, several columns, row conditions) run on the whole frame.
    """
    gx_module = import_gx()
    columns: dict[int, str] = {}
    if len(data) >= COMPACT_MIN_ROWS:
        for e in expectations:
            column = _value_wise_column(e)
            if column:
                columns[id(e)] = column
    value_wise = [e for e in expectations if columns.get(id(e))]
    whole = [e for e in expectations if not columns.get(id(e))]
    results = []
    if whole:
        results += list(_validate(data, gx_module.ExpectationSuite(name=name, expectations=whole)).results)
    if value_wise:
        compact, maps = _compact(data, list(dict.fromkeys(columns[id(e)] for e in value_wise)))
        column_of = {(e.meta or {}).get("_run_id"): columns[id(e)] for e in value_wise}
        for result in _validate(compact, gx_module.ExpectationSuite(name=name, expectations=value_wise)).results:
            detail = result.result
            column = column_of.get((result.expectation_config.meta or {}).get("_run_id"))
            if column is not None and isinstance(detail, dict) and "unexpected_index_list" in detail:
                compact_codes, codes = maps[column]
                failed = compact_codes[[int(i) for i in detail["unexpected_index_list"] or ()]]
                records = np.flatnonzero(np.isin(codes, failed))
                for key in _COMPACT_ONLY_KEYS:
                    detail.pop(key, None)
                detail["unexpected_index_list"] = records.tolist()
                detail["unexpected_count"] = int(len(records))
            results.append(result)
    return results


@dataclass(frozen=True)
class ExpectationRun:
    """The outcome of one expectation of a suite (see :mod:`subgen.core.conformance.outcomes`).

    ``problems`` are its findings (for ``issues found``) or its execution-error Problem;
    ``missing`` names the absent columns that kept it from running (outcome ``not applicable``).
    """

    position: int
    config: Any
    outcome: str
    reason: str = ""
    problems: tuple[Problem, ...] = ()
    missing: tuple[str, ...] = ()
    unexpected_count: int | None = None  # records failing (issues found); more than listed when capped

    @property
    def meta(self) -> dict:
        """The expectation's ``meta`` (rule, severity, check id, citation, ...)."""
        return dict(self.config.meta or {})

    @property
    def check(self) -> str:
        """The stable check id (``RULE:COLUMN``), or the expectation type when none was set."""
        return _check_id(self.config) or str(self.config.type)


def run_suite_checks(frame: pd.DataFrame, suite: Any, *,
                     max_records: int = MAX_RECORDS_PER_CHECK) -> list[ExpectationRun]:
    """Validate ``frame`` against ``suite`` in one GX validation; one :class:`ExpectationRun` each.

    Outcomes: ``passed``; ``issues found`` with one Problem per offending record (the first
    ``max_records``; the rest counted in one summary Problem with ``row=None``); ``execution
    error`` when GX raised (a ``GX-EXECUTION-ERROR`` Problem carries the exception text); ``not
    applicable`` when a column the expectation reads is absent (``missing`` says which; the
    absence itself is reported by the column checks, and :func:`not_run_problems` turns these
    into ``GX-NOT-RUN`` Problems). Nothing is silently passed. Results are in suite order.
    """
    where = str(suite.name)
    original = frame.reset_index(drop=True)
    data = prepare_frame(frame)
    present = {str(c) for c in data.columns}

    runs: dict[int, ExpectationRun] = {}
    runnable: dict[str, tuple[int, Any]] = {}  # run id -> (suite position, configuration)
    for position, config in enumerate(suite.expectation_configurations):
        missing = tuple(c for c in _required_columns(config) if c not in present)
        if missing:
            runs[position] = ExpectationRun(position, config, NOT_APPLICABLE,
                                            f"column {', '.join(missing)} is absent", missing=missing)
        else:
            runnable[f"{position}:{_check_id(config) or config.type}"] = (position, config)

    def error(position: int, config: Any, text: str) -> ExpectationRun:
        return ExpectationRun(position, config, EXECUTION_ERROR, text, (_execution_error(where, config, text),))

    if runnable:
        expectations = []
        for run_id, (_, config) in runnable.items():
            expectation = config.to_domain_obj()
            expectation.meta = {**(config.meta or {}), "_run_id": run_id}
            expectations.append(expectation)
        try:
            with _LOCK, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results = _validate_results(data, expectations, where)
        except Exception as exc:  # GX failed as a whole: every check is reported, none passed
            text = f"{type(exc).__name__}: {exc}"
            for position, config in runnable.values():
                runs[position] = error(position, config, text)
        else:
            for result in results:
                result_id = (result.expectation_config.meta or {}).get("_run_id")
                if result_id not in runnable:
                    continue
                position, config = runnable[result_id]
                message = _exception_message(result.exception_info)
                if message is not None:
                    runs[position] = error(position, config, message)
                elif result.success:
                    runs[position] = ExpectationRun(position, config, PASSED)
                else:
                    detail = dict(result.result or {})
                    problems = _failure_problems(where, config, detail, original, max_records)
                    count = detail.get("unexpected_count")
                    runs[position] = ExpectationRun(position, config, ISSUES, problems=tuple(problems),
                                                    unexpected_count=None if count is None else int(count))
            for position, config in runnable.values():  # no result is not a pass
                if position not in runs:
                    runs[position] = error(position, config, "GX returned no result")
    return [runs[p] for p in sorted(runs)]


def not_run_problems(where: str, runs: list[ExpectationRun]) -> list[Problem]:
    """``GX-NOT-RUN`` Problems (one per absent column) for the expectations that could not run."""
    return _not_run_problems(where, [(r.config, r.missing) for r in runs if r.missing])


def run_suite(frame: pd.DataFrame, suite: Any, *,
              max_records: int = MAX_RECORDS_PER_CHECK) -> list[Problem]:
    """Validate ``frame`` against ``suite`` in one GX validation and return the Problems.

    ``where`` is the suite name (the dataset), ``row`` the 1-based record number. Each failed
    expectation gives one Problem per offending record (the first ``max_records``; the rest are
    counted in one summary Problem with ``row=None``); severity, rule, message and fix come from
    the expectation's ``meta``. An expectation that raised is a ``GX-EXECUTION-ERROR`` Problem;
    an expectation whose column is absent is not run and is listed in a ``GX-NOT-RUN`` Problem
    (the absence itself is reported by the column checks). Nothing is silently passed.
    """
    runs = run_suite_checks(frame, suite, max_records=max_records)
    problems = not_run_problems(str(suite.name), runs)
    for run in runs:
        problems.extend(run.problems)
    return problems
