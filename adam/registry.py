"""The registry of ADaM derivation functions the spec's Derivations sheet may name.

A derivation is a plain, pure function over a DataFrame, dataset first, in admiral's vocabulary
(``derive_var_*`` one variable, ``derive_vars_*`` several, ``derive_param_*`` new parameter
records). Registering it with :func:`derivation` makes it callable from the spec: the
Derivations row's ``Arguments`` cell (``name=value; name=value``) fills its keyword arguments,
converted by their type hints:

=====================  ==============================================================
hint                   the Arguments text
=====================  ==============================================================
``str``                as written
``int`` / ``float``    a number
``bool``               Y/N, Yes/No, True/False
``tuple[str, ...]``    a comma-separated list
``tuple[float, ...]``  a comma-separated list of numbers
``pd.DataFrame``       a dataset name: an ADaM dataset built earlier, or an SDTM dataset
``Codelist``           a codelist ID of the spec's Codelists sheet
=====================  ==============================================================

Some parameters are filled by the engine, never from Arguments: ``new_var`` (the row's one
Variable), ``new_vars`` (all its Variables), ``params`` / ``windows`` (the dataset's Parameters
and Windows sheet rows), ``problems`` (a list to append :class:`~subgen.core.problems.Problem` rows to),
``dataset_name`` (the ADaM dataset being built), ``data_cut`` (the Study sheet's DataCutDate) and
``read`` (a function returning a dataset by name, for derivations whose inputs the spec names in
another sheet, such as the Parameters sheet's Source Dataset).
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from subgen.core.expr import Expression, as_expression
from subgen.core.spec.cells import argument_values
from subgen.core.spec.model import Codelist, DerivationStep

Kind = Literal["vars", "records"]

#: Parameters the engine fills itself.
INJECTED = frozenset({"new_var", "new_vars", "params", "windows", "problems", "dataset_name", "data_cut", "read"})


@dataclass(frozen=True)
class Argument:
    """One keyword argument a spec row may give."""

    name: str
    hint: object
    required: bool
    default: object


@dataclass(frozen=True)
class Function:
    """A registered derivation."""

    name: str
    fn: Callable
    kind: Kind  # "vars": adds/overwrites variables on the same records; "records": appends records
    arguments: tuple[Argument, ...]
    injected: tuple[str, ...]
    doc: str
    variables: tuple[int, int] | None = None  # how many Variables a row may name (None: not checked)

    @property
    def summary(self) -> str:
        """The first line of the docstring."""
        return self.doc.splitlines()[0] if self.doc else ""

    def argument(self, name: str) -> Argument | None:
        """The argument called ``name`` (None when the function has none)."""
        return next((a for a in self.arguments if a.name == name), None)


REGISTRY: dict[str, Function] = {}


def derivation(kind: Kind = "vars", variables: int | tuple[int, int] | None = None) -> Callable[[Callable], Callable]:
    """Register the decorated function under its own name; returns it unchanged.

    ``variables`` is how many Variables a Derivations row calling it must name (a number, or a
    (min, max) pair), checked before anything runs.
    """
    count = (variables, variables) if isinstance(variables, int) else variables

    def wrap(fn: Callable) -> Callable:
        """Read the function's signature and type hints and register it."""
        hints = typing.get_type_hints(fn)
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        if not params or params[0].name != "dataset":
            raise TypeError(f"{fn.__name__}: a derivation takes the dataset first")
        args, injected = [], []
        for p in params[1:]:
            if p.name in INJECTED:
                injected.append(p.name)
                continue
            args.append(Argument(p.name, hints.get(p.name, str), p.default is inspect.Parameter.empty,
                                 None if p.default is inspect.Parameter.empty else p.default))
        REGISTRY[fn.__name__] = Function(fn.__name__, fn, kind, tuple(args), tuple(injected),
                                         inspect.cleandoc(fn.__doc__ or ""), count)
        return fn

    return wrap


def parse_arguments(text: str | None) -> dict[str, str]:
    """``name=value; name=value`` -> dict (:func:`subgen.core.spec.cells.parse_arguments`, the one reader).

    Raises ValueError naming the part that has no ``=`` or a name given twice.
    """
    return dict(argument_values(text))


def step_arguments(step: DerivationStep) -> dict[str, str]:
    """The step's Arguments as ``{name: value text}`` (parsed at load); ValueError when unreadable."""
    return step.args.as_dict() if step.args is not None else parse_arguments(step.arguments)


def base_hint(hint: object) -> object:
    """``X | None`` -> ``X``."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        rest = [h for h in typing.get_args(hint) if h is not type(None)]
        return rest[0] if len(rest) == 1 else hint
    return hint


def is_dataset_hint(hint: object) -> bool:
    """True when the argument names a dataset."""
    return base_hint(hint) is pd.DataFrame


def is_codelist_hint(hint: object) -> bool:
    """True when the argument names a codelist."""
    return base_hint(hint) is Codelist


def convert(text: str, hint: object) -> object:
    """Convert Arguments text to the hinted type (datasets and codelists are resolved by the engine).

    Raises ValueError saying what was expected.
    """
    h = base_hint(hint)
    if h is Expression:
        return as_expression(text)  # the engine passes the condition parsed at load instead
    if h is str or is_dataset_hint(h) or is_codelist_hint(h):
        return text
    if h is bool:
        v = text.strip().upper()
        if v in ("Y", "YES", "TRUE"):
            return True
        if v in ("N", "NO", "FALSE"):
            return False
        raise ValueError(f"{text!r} is not Y or N")
    if h is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
    if h is float:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
    if typing.get_origin(h) is tuple:
        inner = typing.get_args(h)[0]
        items = [x.strip() for x in text.split(",") if x.strip()]
        if inner is float:
            try:
                return tuple(float(x) for x in items)
            except ValueError:
                raise ValueError(f"{text!r} is not a comma-separated list of numbers") from None
        return tuple(items)
    raise TypeError(f"no conversion for type {h!r}")
