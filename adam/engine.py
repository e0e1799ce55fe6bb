"""The ADaM engine: runs each dataset's Derivations sheet rows, in sheet order, on SDTM inputs.

For each ADaM dataset (in an order where every dataset an argument names is built first):

1. the rows of the Derivations sheet run in sheet order; a ``records`` function (ADSL from DM,
   parameters from SDTM records, derived parameters) appends records, a ``vars`` function adds or
   overwrites the variables its row names, only where the row's Condition holds;
2. the result gets exactly the spec's variables in spec order and types, sorted by the keys.

Inputs are the SDTM datasets the SDTM stage wrote (never raw data). Each record keeps a
``__trace`` list of the SDTM records it comes from (domain, variable, --SEQ or key) for the
traceability report. Problems are collected as data; nothing is dropped silently.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from adam.registry import REGISTRY, Function, convert, is_codelist_hint, is_dataset_hint, step_arguments
from subgen.core.distinct import map_distinct
from subgen.core.expr import evaluate
from subgen.core.frames import conform
from subgen.core.problems import Problem, ProblemError
from subgen.core.spec.model import Dataset, DerivationStep, Spec
from subgen.core.xpt.read import read_xpt

#: Bookkeeping column: list of (domain, variable, seq) tuples per record.
TRACE_COL = "__trace"
INTERNAL_PREFIX = "__"
#: Where a circular dependency between datasets is reported, and what to do about it.
CYCLE_COLUMN = "Arguments"
CYCLE_FIX = "derive one of them from SDTM instead"


@dataclass
class AdamContext:
    """Shared state of one ADaM build: the ADaM spec, the SDTM folder, datasets read and built, problems."""

    spec: Spec
    sdtm_dir: Path
    problems: list[Problem] = field(default_factory=list)
    sdtm: dict[str, pd.DataFrame] = field(default_factory=dict)
    adam: dict[str, pd.DataFrame] = field(default_factory=dict)

    def dataset(self, name: str) -> pd.DataFrame:
        """An ADaM dataset built earlier in this run, else the SDTM dataset ``name`` read from its XPT file."""
        if name in self.adam:
            return self.adam[name]
        if name not in self.sdtm:
            self.sdtm[name] = read_sdtm(self.sdtm_dir, name)
            self.sdtm[name].attrs["name"] = name
        return self.sdtm[name]


def read_sdtm(folder: Path, name: str) -> pd.DataFrame:
    """An SDTM XPT file as a typed frame: text as ``string`` (blank -> <NA>), numbers as ``Float64``."""
    path = folder / f"{name.lower()}.xpt"
    if not path.is_file():
        raise ProblemError([Problem(str(path), None, None, None, f"SDTM dataset {name} is not in {folder}",
                                    "build SDTM first (make sdtm), or remove the ADaM derivation that reads it",
                                    rule="ADAM-INPUT")])
    frame, _ = read_xpt(path)
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[col]):
            out[col] = frame[col].astype("Float64")
        else:
            s = map_distinct(frame[col], lambda v: str(v).rstrip(" "), "string")
            out[col] = s.mask(s.eq(""))
    return out


# ------------------------------------------------------------------------------------------ static checks


def check_derivations(spec: Spec) -> list[Problem]:
    """Static checks of the Derivations sheet before any data is read: functions, arguments, references."""
    out: list[Problem] = []
    where = f"{spec.path} [Derivations]"
    codelists = {c.id for c in spec.codelists}
    names = {d.name for d in spec.datasets}
    for step in spec.derivations:
        fn = REGISTRY.get(step.function)
        if fn is None:
            near = difflib.get_close_matches(step.function, sorted(REGISTRY), n=1, cutoff=0.6)
            out.append(Problem(where, step.row, "Function", step.function, "unknown derivation function."
                               + (f" Did you mean {near[0]!r}?" if near else ""),
                               "use a function listed by 'subgen adam-functions'", rule="SPEC-DERIVATION"))
            continue
        try:
            given = step_arguments(step)
        except ValueError as exc:
            out.append(Problem(where, step.row, "Arguments", step.arguments, str(exc), rule="SPEC-DERIVATION"))
            continue
        for name in given:
            if fn.argument(name) is None:
                near = difflib.get_close_matches(name, [a.name for a in fn.arguments], n=1, cutoff=0.5)
                out.append(Problem(where, step.row, "Arguments", name, f"{fn.name} has no argument {name!r}."
                                   + (f" Did you mean {near[0]!r}?" if near else ""),
                                   f"its arguments: {', '.join(a.name for a in fn.arguments) or 'none'}",
                                   rule="SPEC-DERIVATION"))
        for arg in fn.arguments:
            if arg.required and arg.name not in given:
                out.append(Problem(where, step.row, "Arguments", step.arguments or "", f"{fn.name} needs the "
                                   f"argument {arg.name}", f"add {arg.name}=... to Arguments", rule="SPEC-DERIVATION"))
            if arg.name not in given:
                continue
            text = given[arg.name]
            if is_dataset_hint(arg.hint):
                continue  # resolved at run time (an SDTM dataset may or may not exist)
            if is_codelist_hint(arg.hint) and text not in codelists:
                out.append(Problem(where, step.row, "Arguments", text, f"codelist {text!r} is not in the Codelists "
                                   "sheet", "add it or correct the ID", rule="SPEC-REFERENCE"))
                continue
            if step.args is not None and step.args.condition(arg.name) is not None:
                continue  # a condition argument, parsed (and checked) at load
            try:
                convert(text, arg.hint)
            except ValueError as exc:
                out.append(Problem(where, step.row, "Arguments", f"{arg.name}={text}", str(exc),
                                   rule="SPEC-DERIVATION"))
        if "new_var" in fn.injected and len(step.variables) != 1:
            out.append(Problem(where, step.row, "Variable", ", ".join(step.variables), f"{fn.name} gives one "
                               "variable; name exactly one", "split the row", rule="SPEC-DERIVATION"))
        if fn.variables is not None and not fn.variables[0] <= len(step.variables) <= fn.variables[1]:
            lo, hi = fn.variables
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            out.append(Problem(where, step.row, "Variable", ", ".join(step.variables), f"{fn.name} gives {want} "
                               f"variables; the row names {len(step.variables)}",
                               f"see 'subgen adam-functions' for what {fn.name} gives", rule="SPEC-DERIVATION"))
        if fn.kind == "records" and step.condition:
            out.append(Problem(where, step.row, "Condition", step.condition.text, f"{fn.name} creates records; a "
                               "Condition applies to variables only", "put the selection in its Arguments "
                               "(or the Parameters sheet's Filter)", rule="SPEC-DERIVATION"))
    for step in spec.derivations:
        if step.dataset not in names:
            out.append(Problem(where, step.row, "Dataset", step.dataset, "not an ADaM dataset of this spec",
                               rule="SPEC-REFERENCE"))
    for d in spec.datasets:
        steps = spec.derivations_for(d.name)
        if steps and REGISTRY.get(steps[0].function) and REGISTRY[steps[0].function].kind != "records":
            out.append(Problem(where, steps[0].row, "Function", steps[0].function, f"the first row of {d.name} "
                               "must create its records (e.g. derive_vars_dm, derive_param_sdtm, "
                               "derive_records_sdtm)", "move the record-creating row first", rule="SPEC-DERIVATION"))
    for p in spec.parameters:
        if p.source:
            continue
        makers = [s for s in spec.derivations_for(p.dataset) if s.function.startswith("derive_param_")
                  and parse_arguments_safe(s).get("paramcd") == p.paramcd]
        if not makers:
            out.append(Problem(f"{spec.path} [Parameters]", p.row, "Source Dataset", p.paramcd,
                               f"parameter {p.paramcd} has no Source Dataset and no derive_param_* row creates it",
                               "name its SDTM source, or add a Derivations row with paramcd=" + p.paramcd,
                               rule="SPEC-PARAMETER"))
    return out


def parse_arguments_safe(step: DerivationStep) -> dict[str, str]:
    """The step's arguments, or {} when the text cannot be read (reported elsewhere)."""
    try:
        return step_arguments(step)
    except ValueError:
        return {}


def dependencies(spec: Spec, name: str) -> set[str]:
    """ADaM datasets the derivations of ``name`` read (arguments that name a dataset)."""
    adam_names = {d.name for d in spec.datasets}
    deps: set[str] = set()
    for step in spec.derivations_for(name):
        fn = REGISTRY.get(step.function)
        if fn is None:
            continue
        given = parse_arguments_safe(step)
        for arg in fn.arguments:
            if is_dataset_hint(arg.hint) and given.get(arg.name) in adam_names:
                deps.add(given[arg.name])
        for p in spec.parameters_for(name):
            if p.source in adam_names:
                deps.add(p.source)
    deps.discard(name)
    return deps


def dependency_graph(spec: Spec) -> dict[str, set[str]]:
    """For each ADaM dataset, the ADaM datasets its derivations read.

    Give it to :func:`subgen.core.order.build_order` for the order to build them in.
    """
    return {d.name: dependencies(spec, d.name) for d in spec.datasets}


# ------------------------------------------------------------------------------------------ running


def run_step(ctx: AdamContext, frame: pd.DataFrame, step: DerivationStep, dataset: Dataset) -> pd.DataFrame:
    """Run one Derivations row on ``frame`` and return the new frame."""
    fn = REGISTRY[step.function]
    kwargs = _arguments(ctx, fn, step, dataset)
    if fn.kind == "records":
        result = fn.fn(frame, **kwargs)
        return result.reset_index(drop=True)
    mask = evaluate(step.condition, frame) if step.condition is not None else None
    result = fn.fn(frame, **kwargs)
    if len(result) != len(frame) or not result.index.equals(frame.index):
        raise RuntimeError(f"{fn.name} changed the records of {dataset.name} (a 'vars' derivation must not)")
    out = frame.copy()
    for var in step.variables:
        if var not in result.columns:
            raise RuntimeError(f"{fn.name} did not give {dataset.name}.{var} (Derivations row {step.row})")
        values = result[var]
        if mask is not None:
            prior = out[var] if var in out.columns else pd.Series(pd.NA, index=out.index, dtype=values.dtype)
            values = values.where(mask, prior)
        out[var] = values
    if TRACE_COL in result.columns:
        out[TRACE_COL] = result[TRACE_COL]
    return out


def _arguments(ctx: AdamContext, fn: Function, step: DerivationStep, dataset: Dataset) -> dict[str, object]:
    given = step_arguments(step)
    kwargs: dict[str, object] = {}
    for arg in fn.arguments:
        if arg.name not in given:
            continue
        text = given[arg.name]
        if is_dataset_hint(arg.hint):
            kwargs[arg.name] = ctx.dataset(text)
        elif is_codelist_hint(arg.hint):
            kwargs[arg.name] = ctx.spec.codelist(text)
        elif step.args is not None and step.args.condition(arg.name) is not None:
            kwargs[arg.name] = step.args.condition(arg.name)  # parsed at load
        else:
            kwargs[arg.name] = convert(text, arg.hint)
    injected = {"new_var": lambda: step.variables[0] if step.variables else None,
                "new_vars": lambda: step.variables,
                "params": lambda: ctx.spec.parameters_for(dataset.name),
                "windows": lambda: ctx.spec.windows_for(dataset.name),
                "problems": lambda: ctx.problems, "dataset_name": lambda: dataset.name,
                "data_cut": lambda: ctx.spec.study.data_cut, "read": lambda: ctx.dataset}
    for name in fn.injected:
        kwargs[name] = injected[name]()
    return kwargs


def build_dataset(ctx: AdamContext, dataset: Dataset) -> pd.DataFrame:
    """Run the dataset's Derivations rows and conform the result to the spec (keeps ``__trace``)."""
    frame = pd.DataFrame()
    for step in ctx.spec.derivations_for(dataset.name):
        try:
            frame = run_step(ctx, frame, step, dataset)
        except KeyError as exc:  # a condition or function read a variable the dataset does not have yet
            raise ProblemError([Problem(f"{ctx.spec.path} [Derivations]", step.row, "Variable",
                                        ", ".join(step.variables), f"{dataset.name}: {step.function} cannot run: "
                                        f"{exc.args[0] if exc.args else exc}",
                                        "derive the variables it reads in an earlier row", rule="SPEC-ORDER")]) from exc
        except ValueError as exc:  # the arguments do not fit the data (e.g. two baseline records per subject)
            raise ProblemError([Problem(f"{ctx.spec.path} [Derivations]", step.row, "Arguments", step.arguments,
                                        f"{dataset.name}: {step.function} ({', '.join(step.variables)}) cannot run: "
                                        f"{exc}", "correct the row's Arguments or the rows before it",
                                        rule="ADAM-DERIVATION")]) from exc
    return conform(frame, dataset, keep=(TRACE_COL,))


def strip_internal(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without bookkeeping columns (what goes into the XPT file)."""
    return frame.drop(columns=[c for c in frame.columns if str(c).startswith(INTERNAL_PREFIX)])


def traceability(datasets: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per (ADaM record, SDTM source record): dataset, record number, USUBJID, PARAMCD and the source."""
    parts = []
    for name in sorted(datasets):
        frame = datasets[name]
        if TRACE_COL not in frame.columns or frame.empty:
            continue
        trace = frame[TRACE_COL].map(lambda t: t if isinstance(t, (list, tuple)) and len(t) else [(None, None, None)])
        base = pd.DataFrame({"dataset": name, "record": np.arange(1, len(frame) + 1),
                             "USUBJID": frame["USUBJID"] if "USUBJID" in frame else pd.NA,
                             "PARAMCD": frame["PARAMCD"] if "PARAMCD" in frame else pd.NA,
                             "trace": trace})
        long = base.explode("trace", ignore_index=True)
        src = pd.DataFrame(long["trace"].tolist(), columns=["source_dataset", "source_variable", "source_key"])
        parts.append(pd.concat([long.drop(columns="trace"), src], axis=1))
    if not parts:
        return pd.DataFrame(columns=["dataset", "record", "USUBJID", "PARAMCD", "source_dataset", "source_variable",
                                     "source_key"])
    return pd.concat(parts, ignore_index=True)
