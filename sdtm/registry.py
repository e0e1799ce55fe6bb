"""The registry of SDTM mapping algorithms and the contract each one declares.

An algorithm is a function ``fn(rows, mapping, ctx) -> Series`` registered with
:func:`algorithm`. Its registration says, in the manner of the ADaM derivation registry, what
the Mappings row's cells mean for it, so the engine can check every row before any data is read
without knowing any algorithm by name:

============================  =====================================================================
declaration                   what the engine checks (and does)
============================  =====================================================================
``level="dataset"``           the row's Source is ``*`` (it runs on the stacked dataset)
``raw=RawColumn()``           a Raw Column is given (unless optional); its columns must exist in the
                              raw forms (checked when a form is read) and must not be personal data
``value=Text()``              a Value is given (unless optional); the algorithm reads it as it is
``value=Term()``              ... and is a term of the mapped variable's codelist, when it has one
``value=DatasetVariable()``   ... and names a variable of the dataset (``many``: a comma-separated
                              list; ``coded``: a variable with a codelist)
``value=Lookup()``            ... and reads ``DATASET.VARIABLE@KEY``; DATASET is built first
``codelist=...``              the mapped variable has a codelist in the Variables sheet
``needs=(...)``               those datasets are built first
============================  =====================================================================

This module imports no algorithm module; :mod:`sdtm.algorithms` imports them all, which fills
:data:`REGISTRY`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, cast

import pandas as pd

from subgen.core.problems import Problem
from subgen.core.spec.model import Mapping, Spec, Variable

Level = Literal["record", "dataset"]

#: The signature every algorithm has: ``fn(rows or frame, mapping, ctx)``; ``ctx`` is a
#: :class:`sdtm.context.MappingContext`. A ``generates`` algorithm returns the records (a frame).
AlgorithmFn = Callable[..., "pd.Series | pd.DataFrame"]


# ------------------------------------------------------------------------------------------ cells
@dataclass(frozen=True)
class Cell:
    """What a Mappings cell (Raw Column or Value) holds for an algorithm."""

    meaning: str = ""
    required: bool = True

    def problems(self, spec: Spec, mapping: Mapping, variable: Variable) -> list[Problem]:
        """Problems with the cell's text for ``mapping`` (whose mapped variable is ``variable``); none here."""
        return []

    def datasets(self, text: str | None) -> set[str]:
        """Datasets the cell's text names, which must be built before the row runs; none here."""
        return set()


@dataclass(frozen=True)
class RawColumn(Cell):
    """Raw Column: ``COL`` of the source's form, ``form.COL`` (by subject), ``form.COL@KEY``; ``DATE+TIME``."""


@dataclass(frozen=True)
class Text(Cell):
    """Value: text the algorithm reads as it is (a constant without codelist, a list of tokens)."""


@dataclass(frozen=True)
class Term(Cell):
    """Value: a constant that must be a term of the mapped variable's codelist, when it has one."""

    def problems(self, spec: Spec, mapping: Mapping, variable: Variable) -> list[Problem]:
        """The Value is not a submission value of the variable's codelist."""
        if not variable.codelist or not mapping.value:
            return []
        cl = spec.codelist(variable.codelist)
        if mapping.value in cl.submission_values:
            return []
        return [value_problem(spec, mapping, f"not a term of codelist {cl.id}",
                              "use one of: " + ", ".join(cl.submission_values[:10]), rule="SPEC-CT")]


@dataclass(frozen=True)
class DatasetVariable(Cell):
    """Value: a variable of the same dataset (``many``: comma-separated; ``coded``: one with a codelist)."""

    many: bool = False
    coded: bool = False

    def problems(self, spec: Spec, mapping: Mapping, variable: Variable) -> list[Problem]:
        """A named variable the dataset does not have, or (``coded``) one without a codelist."""
        if not mapping.value:
            return []
        dataset = spec.dataset(mapping.dataset)
        names = [n.strip() for n in mapping.value.split(",") if n.strip()] if self.many else [mapping.value]
        out = []
        for name in names:
            if name not in dataset.variable_names:
                out.append(value_problem(spec, mapping, f"{mapping.dataset} has no variable {name}"))
            elif self.coded and not dataset.variable(name).codelist:
                out.append(value_problem(spec, mapping, f"{name} has no codelist to decode"))
        return out


@dataclass(frozen=True)
class Lookup(Cell):
    """Value: ``DATASET.VARIABLE@KEY``, a variable of another dataset matched on a key both datasets have."""

    def problems(self, spec: Spec, mapping: Mapping, variable: Variable) -> list[Problem]:
        """An unreadable look-up, an unknown dataset, or a variable either dataset lacks."""
        out = []
        try:
            ds_name, var_name, key = parse_lookup(mapping.value)
            other = spec.dataset(ds_name)
            for name in (var_name, key):
                if name not in other.variable_names:
                    out.append(value_problem(spec, mapping, f"{ds_name} has no variable {name}"))
            if key not in spec.dataset(mapping.dataset).variable_names:
                out.append(value_problem(spec, mapping, f"{mapping.dataset} has no key variable {key}"))
        except ValueError as exc:
            out.append(value_problem(spec, mapping, str(exc)))
        except KeyError as exc:
            out.append(value_problem(spec, mapping, f"unknown dataset: {exc}"))
        return out

    def datasets(self, text: str | None) -> set[str]:
        """The dataset looked up in (nothing when the text cannot be read: reported by :meth:`problems`)."""
        try:
            return {parse_lookup(text)[0]}
        except ValueError:
            return set()


@dataclass(frozen=True)
class TargetCodelist:
    """The mapped variable must have a codelist; ``fix`` says what to do when it has none."""

    fix: str


def parse_lookup(value: str | None) -> tuple[str, str, str]:
    """``DS.VAR@KEY`` -> (DS, VAR, KEY); ValueError saying how to write it otherwise."""
    text = (value or "").strip()
    if "." not in text or "@" not in text:
        raise ValueError(f"cannot read {text!r}; write DATASET.VARIABLE@KEY, e.g. TI.IETEST@IETESTCD")
    target, key = text.split("@", 1)
    dataset, variable = target.split(".", 1)
    return dataset.strip(), variable.strip(), key.strip()


def value_problem(spec: Spec, mapping: Mapping, message: str, fix: str = "", rule: str = "SPEC-MAPPING") -> Problem:
    """A problem with the Value cell of a Mappings row."""
    return Problem(f"{spec.path} [Mappings]", mapping.row, "Value", mapping.value, message, fix, rule=rule)


# ------------------------------------------------------------------------------------------ registry
@dataclass(frozen=True)
class Algorithm:
    """A registered mapping algorithm and its declared contract."""

    name: str
    level: Level
    fn: AlgorithmFn
    needs: tuple[str, ...] = ()  # datasets that must be finished first
    raw: RawColumn | None = None  # what it reads from the Raw Column cell (None: it reads none)
    value: Cell | None = None  # what it reads from the Value cell (None: it reads none)
    codelist: TargetCodelist | None = None  # the mapped variable must have a codelist
    own_condition: bool = False  # applies the Condition to the form it reads (not to the source rows)
    doc: str = ""
    generates: bool = False  # a dataset algorithm that makes the records themselves (e.g. SE from DM/SV/TA)

    def records(self, *args: object) -> pd.DataFrame:
        """Call a ``generates`` algorithm: the records it makes (by its contract, a frame)."""
        return cast(pd.DataFrame, self.fn(*args))

    def values(self, *args: object) -> pd.Series:
        """Call a value algorithm: one value per row (by its contract, a Series)."""
        return cast(pd.Series, self.fn(*args))

    @property
    def needs_raw(self) -> bool:
        """True when a row must fill the Raw Column."""
        return self.raw is not None and self.raw.required

    @property
    def needs_value(self) -> bool:
        """True when a row must fill the Value."""
        return self.value is not None and self.value.required


REGISTRY: dict[str, Algorithm] = {}


def algorithm(name: str, level: Level, *, needs: tuple[str, ...] = (), raw: RawColumn | None = None,
              value: Cell | None = None, codelist: TargetCodelist | None = None, own_condition: bool = False,
              generates: bool = False) -> Callable[[AlgorithmFn], AlgorithmFn]:
    """Register the decorated function as the algorithm ``name`` with its declared contract; returns it unchanged."""

    def wrap(fn: AlgorithmFn) -> AlgorithmFn:
        """Record ``fn`` in :data:`REGISTRY`."""
        if name in REGISTRY:
            raise ValueError(f"algorithm {name} is registered twice")
        REGISTRY[name] = Algorithm(name, level, fn, needs, raw, value, codelist, own_condition,
                                   (fn.__doc__ or "").strip(), generates)
        return fn

    return wrap


def is_dataset_level(name: str) -> bool:
    """True when ``name`` is a registered dataset-level (derive_*) algorithm."""
    alg = REGISTRY.get(name)
    return alg is not None and alg.level == "dataset"


def reads_raw(name: str) -> bool:
    """True when ``name`` is a registered algorithm that reads its row's Raw Column."""
    alg = REGISTRY.get(name)
    return alg is not None and alg.raw is not None


def dependencies(mapping: Mapping) -> set[str]:
    """Datasets that must be finished before ``mapping`` can run (declared needs plus those its Value names)."""
    alg = REGISTRY.get(mapping.algorithm)
    if alg is None:
        return set()
    return set(alg.needs) | (alg.value.datasets(mapping.value) if alg.value is not None else set())


def unknown_algorithm_problem(mapping: Mapping, spec_path: str) -> Problem:
    """The problem filed for an Algorithm cell naming nothing registered."""
    near = difflib.get_close_matches(mapping.algorithm, sorted(REGISTRY), n=1, cutoff=0.6)
    hint = f" Did you mean {near[0]!r}?" if near else ""
    return Problem(f"{spec_path} [Mappings]", mapping.row, "Algorithm", mapping.algorithm,
                   f"unknown algorithm.{hint}", "use one of: " + ", ".join(sorted(REGISTRY)), rule="SPEC-ALGORITHM")
