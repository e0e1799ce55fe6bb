"""Time-to-event parameters (ADaMIG 1.3 BDS-TTE): :func:`derive_param_tte` and its source objects.

Modelled on admiral's ``derive_param_tte()`` / ``event_source()`` / ``censor_source()`` so the
spec can declare an endpoint as data: which dataset, which records (a condition in the spec's
grammar), which date, which CNSR, and what EVNTDESC / CNSDTDSC / SRCDOM / SRCVAR / SRCSEQ to
write (constants, or columns copied from the chosen source record).

Selection (as admiral documents it):

* events: per source, the subject's **first** record meeting the filter (by date, then the
  source's ``order`` columns, then input order); across sources the earliest date, ties going to
  the source listed first;
* censorings: per source the subject's **last** record; across sources the latest date, ties
  going to the source listed last;
* a subject with an event gets the event record, otherwise the censoring record.

Then STARTDT comes from ADSL (``start_date``, e.g. RANDDT or TRTSDT); ADT earlier than STARTDT
is set to STARTDT (reported); ``AVAL = ADT - STARTDT + 1`` days (admiral ``derive_vars_duration``
with ``add_one = TRUE``, the convention of study days, so an event on the start date is day 1
and a subject censored at the start date has AVAL = 1); ``add_one=False`` gives ``ADT - STARTDT``.
Dates are SAS date numbers (``Float64`` days since 1960-01-01, the ``adam`` package convention)
or pandas ``datetime64`` columns (date part used), in any mix; STARTDT and ADT come out in the
representation of ADSL's start date column. Subjects of the population without a
start date, or with neither an event nor a censoring record, get no record and are reported
(Warning) - add a censoring source at the start date (e.g. ADSL.RANDDT) so every randomised
subject is censored at worst on day 1.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from adam.engine import TRACE_COL
from adam.progression import dates_like, day_numbers, is_date_column
from adam.registry import derivation
from subgen.core.expr import Expression, as_expression, evaluate
from subgen.core.problems import Problem, ProblemError

#: Variables a source may set, in the order they appear in the output after CNSR.
SOURCE_VARIABLES = ("EVNTDESC", "CNSDTDSC", "SRCDOM", "SRCVAR", "SRCSEQ")


#: A constant a source or the parameter sets on every record (PARAMCD, EVNTDESC, SRCDOM, ...).
Constant = str | float | None

@dataclass(frozen=True)
class TTESource:
    """One event or censoring definition (admiral's ``tte_source``).

    ``dataset_name`` names a frame of ``source_datasets``; ``filter`` selects its records (spec
    condition grammar, e.g. ``PARAMCD = 'EDSS' and CDP12FL = 'Y'``); ``date`` is the date column;
    ``censor`` is CNSR (0 = event, 1.. = censoring reasons); ``set_values`` are constants
    (``{"EVNTDESC": "...", "SRCDOM": "RS"}``); ``copy_values`` copy columns of the chosen record
    (``{"SRCSEQ": "SRCSEQ"}``); ``order`` breaks ties on the date.
    """

    dataset_name: str
    date: str
    censor: int = 0
    filter: Expression | None = None  # see parse_source, event_source and censor_source for text
    set_values: Mapping[str, Constant] = field(default_factory=dict)
    copy_values: Mapping[str, str] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    @property
    def is_event(self) -> bool:
        """CNSR 0 marks an event (CDISC: 0 event, positive integers censoring)."""
        return self.censor == 0


def event_source(dataset_name: str, date: str, *, filter: str | None = None,
                 set_values: Mapping[str, Constant] | None = None, copy_values: Mapping[str, str] | None = None,
                 order: Sequence[str] = ()) -> TTESource:
    """An event definition (CNSR = 0)."""
    return TTESource(dataset_name, date, 0, as_expression(filter), dict(set_values or {}), dict(copy_values or {}),
                     tuple(order))


def censor_source(dataset_name: str, date: str, *, censor: int = 1, filter: str | None = None,
                  set_values: Mapping[str, Constant] | None = None, copy_values: Mapping[str, str] | None = None,
                  order: Sequence[str] = ()) -> TTESource:
    """A censoring definition (CNSR = ``censor``, a positive integer)."""
    if not (isinstance(censor, (int, np.integer)) and censor > 0):
        raise ProblemError([Problem(dataset_name, None, "CNSR", str(censor), "a censoring source needs a positive "
                                    "integer CNSR", "use 1, 2, ... (0 is an event)", rule="ADAM-TTE-SOURCE")])
    return TTESource(dataset_name, date, int(censor), as_expression(filter), dict(set_values or {}),
                     dict(copy_values or {}), tuple(order))


_QUOTED = re.compile(r"'[^']*'")
_KEYWORD = re.compile(r"\s+(where|order|set)\s+", re.IGNORECASE)
_HEAD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_source(text: str, censor: int = 0) -> TTESource:
    """A source written as spec text: ``DATASET.DATE [where CONDITION] [order VAR, ...] [set VAR=VALUE, ...]``.

    ``CONDITION`` is the spec's condition grammar; in ``set``, ``VAR=TEXT`` sets a constant
    (single quotes keep commas: ``EVNTDESC='A, B'``), ``VAR=@COLUMN`` copies the chosen record's
    column, ``VAR=`` leaves it missing. ``censor`` is CNSR (0 for an event). Example::

        ADEDSS.ADT where PARAMCD = 'EDSS' and CDP12FL = 'Y' order SRCSEQ
            set EVNTDESC=12-WEEK CONFIRMED DISABILITY PROGRESSION, SRCDOM=@SRCDOM, SRCVAR=RSDTC, SRCSEQ=@SRCSEQ

    Raises ValueError saying what is wrong and how to write it.
    """
    quoted: list[str] = []

    def hide(m: re.Match) -> str:
        quoted.append(m.group(0))
        return f"\x00{len(quoted) - 1}\x00"

    def show(part: str) -> str:
        return re.sub("\x00(\\d+)\x00", lambda m: quoted[int(m.group(1))], part).strip()

    masked = _QUOTED.sub(hide, " ".join(str(text).split()))
    if masked.count("'"):
        raise ValueError(f"unbalanced quote in {text!r}")
    pieces = _KEYWORD.split(masked)
    head, clauses = pieces[0].strip(), {}
    for keyword, body in zip(pieces[1::2], pieces[2::2]):
        key = keyword.lower()
        if key in clauses:
            raise ValueError(f"'{key}' is given twice in {text!r}")
        clauses[key] = body
    m = _HEAD.match(head)
    if not m:
        raise ValueError(f"{head!r} is not DATASET.DATE_VARIABLE (e.g. ADEDSS.ADT or ADSL.RANDDT); write "
                         "DATASET.DATE [where CONDITION] [order VAR, ...] [set VAR=VALUE, VAR=@COLUMN, ...]")
    order = tuple(show(o) for o in clauses.get("order", "").split(",") if o.strip())
    bad = [o for o in order if not _NAME.match(o)]
    if bad:
        raise ValueError(f"order must list variable names, not {', '.join(map(repr, bad))}")
    set_values: dict[str, Constant] = {}
    copy_values: dict[str, str] = {}
    for item in (i for i in clauses.get("set", "").split(",") if i.strip()):
        if "=" not in item:
            raise ValueError(f"set item {show(item)!r} has no '='; write VAR=VALUE or VAR=@COLUMN")
        var, value = (show(x) for x in item.split("=", 1))
        if not _NAME.match(var):
            raise ValueError(f"{var!r} is not a variable name (set item {show(item)!r})")
        if var in set_values or var in copy_values:
            raise ValueError(f"{var} is set twice in {text!r}")
        if value.startswith("@"):
            if not _NAME.match(value[1:]):
                raise ValueError(f"{value!r} is not @COLUMN (set item {show(item)!r})")
            copy_values[var] = value[1:]
        else:
            value = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "'" else value
            set_values[var] = value if value != "" else None
    filt = as_expression(show(clauses["where"])) if "where" in clauses else None  # ExprError is a ValueError
    return TTESource(m.group(1), m.group(2), censor, filt, set_values, copy_values, order)


def _check_source(src: TTESource, frame: pd.DataFrame | None, keys: Sequence[str], where: str) -> list[Problem]:
    if frame is None:
        return [Problem(where, None, None, src.dataset_name, f"source dataset {src.dataset_name} is not available",
                        "pass it in source_datasets (or correct the dataset name in the spec)", rule="ADAM-TTE-SOURCE")]
    cols = [*keys, src.date, *src.order, *src.copy_values.values()]
    out = [Problem(where, None, c, src.dataset_name, f"column {c} is missing from {src.dataset_name}",
                   "derive it first or correct the source definition", rule="ADAM-TTE-SOURCE")
           for c in dict.fromkeys(cols) if c not in frame.columns]
    if not out and not is_date_column(frame[src.date]):
        out.append(Problem(where, None, src.date, str(frame[src.date].dtype), f"{src.dataset_name}.{src.date} is "
                           "not a date column", "use SAS date numbers (adam.dates.iso_to_sas) or datetime64",
                           rule="ADAM-TTE-SOURCE"))
    return out


def _select(src: TTESource, index: int, frame: pd.DataFrame, subjects: pd.DataFrame, where: str
            ) -> tuple[pd.DataFrame, list[Problem]]:
    """The first (event) or last (censoring) record per subject of one source, as TTE columns.

    Only records of ``subjects`` (the population's subject keys) are considered.
    """
    keys = list(subjects.columns)
    rows = frame[evaluate(src.filter, frame).astype(bool)]
    inside = pd.MultiIndex.from_frame(rows[keys].astype("string")).isin(
        pd.MultiIndex.from_frame(subjects.astype("string")))
    rows = rows[inside]
    problems: list[Problem] = []
    day = day_numbers(rows[src.date], src.date, where)
    undated = day.isna()
    if undated.any():
        n = int(rows.loc[undated, list(keys)].drop_duplicates().shape[0])
        problems.append(Problem(where, None, src.date, src.dataset_name, f"{int(undated.sum())} record(s) of "
                                f"{n} subject(s) meet the {'event' if src.is_event else 'censoring'} condition of "
                                f"{src.dataset_name} but have no {src.date}; they are not used",
                                "impute or correct the dates", "Warning", "ADAM-TTE-DATE"))
    rows = rows.assign(_D=day)[~undated.to_numpy()]
    ordered = rows.sort_values([*keys, "_D", *src.order], kind="stable")
    keep: Literal["first", "last"] = "first" if src.is_event else "last"
    chosen = ordered.drop_duplicates(list(keys), keep=keep)
    dup = ordered.duplicated([*keys, "_D", *src.order], keep=False)
    tied = chosen.index.intersection(ordered.index[dup.to_numpy()])
    if len(tied):
        problems.append(Problem(where, None, src.date, src.dataset_name, f"{len(tied)} subject(s) have several "
                                f"{src.dataset_name} records on the chosen date with equal "
                                f"{', '.join(src.order) or 'order'}"
                                f"; the {keep} in input order is used", "add order variables (e.g. SRCSEQ) to the "
                                "source definition", "Warning", "ADAM-TTE-TIE"))
    out = chosen[list(keys)].copy()
    out["ADT"] = chosen["_D"]
    out["CNSR"] = src.censor
    out["_SRC"] = index
    for var, value in src.set_values.items():
        out[var] = value
    for var, col in src.copy_values.items():
        out[var] = chosen[col]
    return out.reset_index(drop=True), problems


def derive_param_tte(dataset: pd.DataFrame | None, dataset_adsl: pd.DataFrame,
                     source_datasets: Mapping[str, pd.DataFrame], *, event_conditions: Sequence[TTESource],
                     censor_conditions: Sequence[TTESource], set_values_to: Mapping[str, Constant],
                     start_date: str = "RANDDT", population: Expression | None = None,
                     subject_keys: Sequence[str] = ("STUDYID", "USUBJID"), add_one: bool = True,
                     where: str = "ADTTE") -> tuple[pd.DataFrame, list[Problem]]:
    """Append one time-to-event parameter (one record per subject) to ``dataset`` (None: a new ADTTE).

    ``population`` restricts ADSL first (e.g. ``RANDFL = 'Y'``). ``set_values_to`` sets the
    parameter's constants (PARAMCD, PARAM, ...). Output columns: subject keys, the
    ``set_values_to`` variables, STARTDT, ADT, AVAL (days), CNSR, then EVNTDESC, CNSDTDSC,
    SRCDOM, SRCVAR, SRCSEQ (those the sources set) and any other source variables. Records are
    in ADSL order; source records of subjects outside the population are not read. Returns
    ``(dataset with the new records, problems)``; a bad source definition raises :class:`ProblemError`
    listing every problem.
    """
    keys = list(subject_keys)
    if not event_conditions:
        raise ProblemError([Problem(where, None, None, str(set_values_to.get("PARAMCD")), "no event source is "
                                    "declared", "declare at least one event (CNSR 0)", rule="ADAM-TTE-SOURCE")])
    sources = [*event_conditions, *censor_conditions]
    bad = [Problem(where, None, "CNSR", s.dataset_name, f"{'event' if i < len(event_conditions) else 'censoring'} "
                   f"source on {s.dataset_name}.{s.date} has CNSR {s.censor}",
                   "events have CNSR 0, censorings 1, 2, ...",
                   rule="ADAM-TTE-SOURCE")
           for i, s in enumerate(sources) if s.is_event != (i < len(event_conditions))]
    for s in sources:
        bad += _check_source(s, source_datasets.get(s.dataset_name), keys, where)
    bad += [Problem(where, None, c, "ADSL", f"column {c} is missing from ADSL", "derive it in ADSL first",
                    rule="ADAM-TTE-SOURCE") for c in [*keys, start_date] if c not in dataset_adsl.columns]
    if not bad and not is_date_column(dataset_adsl[start_date]):
        bad.append(Problem(where, None, start_date, str(dataset_adsl[start_date].dtype),
                           f"ADSL.{start_date} is not a date column",
                           "use SAS date numbers (adam.dates.iso_to_sas) or datetime64", rule="ADAM-TTE-SOURCE"))
    if bad:
        raise ProblemError(bad, f"{where} {set_values_to.get('PARAMCD', '')}: {len(bad)} problem(s) in the "
                                "time-to-event definition")

    paramcd = set_values_to.get("PARAMCD", "")
    problems: list[Problem] = []
    adsl = dataset_adsl[evaluate(population, dataset_adsl).astype(bool)]
    start = adsl[keys].assign(STARTDT=day_numbers(adsl[start_date], start_date, where)).reset_index(drop=True)
    no_start = start["STARTDT"].isna()
    if no_start.any():
        problems.append(Problem(where, None, start_date, ", ".join(start.loc[no_start, keys[-1]].astype(str)),
                                f"{paramcd}: {int(no_start.sum())} subject(s) have no {start_date}; they get no "
                                "record", "restrict the population or derive the start date", "Warning",
                                "ADAM-TTE-START"))

    picked = []
    for i, src in enumerate(sources):  # a handful of declared sources
        sel, found = _select(src, i, source_datasets[src.dataset_name], start.loc[~no_start, keys], where)
        picked.append(sel)
        problems += found
    events = pd.concat(picked[:len(event_conditions)], ignore_index=True)
    censors = pd.concat(picked[len(event_conditions):] or [events.iloc[0:0]], ignore_index=True)
    events = events.sort_values([*keys, "ADT", "_SRC"], kind="stable").drop_duplicates(keys, keep="first")
    censors = censors.sort_values([*keys, "ADT", "_SRC"], kind="stable").drop_duplicates(keys, keep="last")
    censors = censors.merge(events[keys], on=keys, how="left", indicator=True)
    censors = censors[censors["_merge"].eq("left_only")].drop(columns="_merge")
    chosen = pd.concat([events, censors], ignore_index=True)

    have_start = start[~no_start]
    result = have_start.merge(chosen, on=keys, how="left", validate="one_to_one")
    none = result["ADT"].isna()
    if none.any():
        problems.append(Problem(where, None, "CNSR", ", ".join(result.loc[none, keys[-1]].astype(str)),
                                f"{paramcd}: {int(none.sum())} subject(s) have neither an event nor a censoring "
                                "date; they get no record", "add a censoring source every subject has (e.g. "
                                f"ADSL.{start_date})", "Warning", "ADAM-TTE-NONE"))
    result = result[~none].copy()
    early = result["ADT"] < result["STARTDT"]
    if early.any():
        problems.append(Problem(where, None, "ADT", ", ".join(result.loc[early, keys[-1]].astype(str)),
                                f"{paramcd}: {int(early.sum())} event/censoring date(s) fall before STARTDT; ADT is "
                                "set to STARTDT", "check the dates in the source data", "Warning", "ADAM-TTE-EARLY"))
        result["ADT"] = result["ADT"].mask(early, result["STARTDT"])
    days = (result["ADT"] - result["STARTDT"]).round().astype("Int64")
    result["AVAL"] = days + (1 if add_one else 0)
    for var in ("STARTDT", "ADT"):
        result[var] = dates_like(result[var], dataset_adsl[start_date])
    result["CNSR"] = result["CNSR"].astype("Int64")
    for var, value in set_values_to.items():
        result[var] = value
    extra = [v for s in sources for v in (*s.set_values, *s.copy_values)]
    source_vars = [v for v in SOURCE_VARIABLES if v in extra] + \
        [v for v in dict.fromkeys(extra) if v not in SOURCE_VARIABLES]
    for var in source_vars:
        if var not in result.columns:
            result[var] = pd.NA
    ordered = [*keys, *[v for v in set_values_to if v not in keys], "STARTDT", "ADT", "AVAL", "CNSR", *source_vars]
    result = result[ordered].reset_index(drop=True)
    if dataset is None or dataset.empty:
        return result, problems
    return pd.concat([dataset, result], ignore_index=True), problems


# --------------------------------------------------------------------------- spec (Derivations sheet) wrapper
def _trace(frame: pd.DataFrame) -> list[list[tuple]]:
    """The engine's traceability entry of each TTE record: the SDTM record (SRCDOM, SRCVAR, --SEQ) or ADSL."""
    out = []
    for dom, var, seq, subj in zip(frame.get("SRCDOM", pd.Series(pd.NA, index=frame.index)),
                                   frame.get("SRCVAR", pd.Series(pd.NA, index=frame.index)),
                                   frame.get("SRCSEQ", pd.Series(pd.NA, index=frame.index)), frame["USUBJID"]):
        dom = None if pd.isna(dom) else str(dom)
        var = None if pd.isna(var) else str(var)
        if dom and not pd.isna(seq):
            out.append([(dom, var, f"{dom[:2]}SEQ={int(seq)}")])
        else:
            out.append([(dom or "ADSL", var, f"USUBJID={subj}")])
    return out


@derivation("records")
def derive_param_time_to_event(dataset: pd.DataFrame, paramcd: str, dataset_adsl: pd.DataFrame, event: str,
                               params: tuple, problems: list[Problem], dataset_name: str,
                               dataset_add: pd.DataFrame | None = None, start_date: str = "RANDDT",
                               population: Expression | None = None, event2: str | None = None,
                               censor1: str | None = None, censor2: str | None = None, censor3: str | None = None,
                               censor4: str | None = None, add_one: bool = True) -> pd.DataFrame:
    """A time-to-event parameter, one record per subject: STARTDT, ADT, AVAL (days), CNSR, EVNTDESC, SRC*.

    ``event`` (and ``event2``) and ``censor1`` .. ``censor4`` are sources written as
    ``DATASET.DATE [where CONDITION] [order VAR, ...] [set VAR=VALUE, VAR=@COLUMN, ...]``; the
    number of a censoring argument is its CNSR. DATASET is ``dataset_adsl``'s or ``dataset_add``'s
    name (both are named here so they are built first). First event wins (ties: event before
    event2); otherwise the latest censoring (ties: the higher CNSR). STARTDT = ADSL ``start_date``;
    AVAL = ADT - STARTDT + 1 (``add_one=N``: without the + 1). PARAM/PARAMN/PARCAT1 come from the
    Parameters sheet row of ``paramcd``. ``population`` restricts ADSL (e.g. ``RANDFL = 'Y'``).
    """
    frames = {str(dataset_adsl.attrs.get("name", "ADSL")): dataset_adsl}
    if dataset_add is not None:
        frames[str(dataset_add.attrs.get("name", "dataset_add"))] = dataset_add
    texts = [("event", event, 0), ("event2", event2, 0)] + [
        (f"censor{n}", text, n) for n, text in enumerate((censor1, censor2, censor3, censor4), start=1)]
    sources, bad = [], []
    for arg, text, cnsr in texts:
        if not text:
            continue
        try:
            src = parse_source(text, cnsr)
        except ValueError as exc:
            bad.append(Problem(dataset_name, None, arg, text, f"{paramcd}: {exc}", rule="ADAM-TTE-SOURCE"))
            continue
        if src.dataset_name not in frames:
            bad.append(Problem(dataset_name, None, arg, src.dataset_name, f"{paramcd}: {arg} reads "
                               f"{src.dataset_name}, which is neither dataset_adsl nor dataset_add "
                               f"({', '.join(frames)})", "name the dataset in dataset_add=", rule="ADAM-TTE-SOURCE"))
            continue
        sources.append(src)
    if bad:
        raise ProblemError(bad, f"{dataset_name} {paramcd}: {len(bad)} problem(s) in the time-to-event arguments")
    values: dict[str, Constant] = {"PARAMCD": paramcd}
    p = next((x for x in params if x.paramcd == paramcd), None)
    if p is None:
        problems.append(Problem(dataset_name, None, "PARAMCD", paramcd, f"parameter {paramcd} is not in the "
                                "Parameters sheet, so PARAM is empty", "add it to the Parameters sheet",
                                "Error", "ADAM-TTE-PARAM"))
    else:
        values.update({"PARAM": p.param, "PARAMN": None if p.paramn is None else float(p.paramn),
                       "PARCAT1": p.parcat1})
    events = [s for s in sources if s.is_event]
    censors = sorted((s for s in sources if not s.is_event), key=lambda s: s.censor)
    new, found = derive_param_tte(None, dataset_adsl, frames, event_conditions=events, censor_conditions=censors,
                                  set_values_to=values, start_date=start_date, population=population,
                                  add_one=add_one, where=dataset_name)
    problems.extend(found)
    # pandas-stubs has no overload for a list holding one (list) value per row; pandas takes it as the column.
    new[TRACE_COL] = _trace(new)  # type: ignore[assignment]
    return pd.concat([dataset, new], ignore_index=True) if len(dataset) else new
