"""EDSS progression and confirmed disability progression (CDP) on a BDS dataset.

Three derivations in admiral's vocabulary, each a pure function ``dataset -> (dataset, problems)``:

* :func:`derive_var_progression_flag` - PROGFL per post-baseline record: the change from
  baseline reaches the minimum increase that the baseline's step of a progression table asks
  for (:data:`EDSS_PROGRESSION_STEPS` is the MSEXO01 protocol table).
* :func:`derive_var_confirmation_flag` - CDP12FL / CDP24FL per record: a progression whose
  increase is sustained up to and including the first assessment at least ``min_gap_days``
  later (admiral ``derive_var_joined_exist_flag`` with ``join_type = "after"``,
  ``first_cond_upper = PROGFL.join == "Y" & ADY.join - ADY >= gap`` and
  ``filter_join = PROGFL == "Y" & all(PROGFL.join == "Y")``).
* :func:`filter_first_flagged` / :func:`derive_var_onset_date` - the first confirmed onset per
  subject (its record, or its date merged onto ADSL).

Dates
    ``ADT`` (any ``date_var``) is either a numeric column of SAS date numbers (days since
    1960-01-01, ``Float64`` - the convention of the ``adam`` package, see ``adam/dates.py``) or a
    pandas ``datetime64`` column (date part used). Gaps are whole days. Dates this module writes
    (``confirm_date_var``) come back in the representation of the input.

Rules, stated once (the spec picks the numbers; the code never branches on a study):

* **Post-baseline record**: ``ADT`` later than the date of the by-group's ``ABLFL = 'Y'`` record
  (a baseline taken on the day of first dose is therefore never its own progression). Records
  on or before the baseline date get no flag.
* **Assessment**: a post-baseline record with a non-missing ``AVAL``. A record without AVAL
  (assessment not done) is not an assessment: it neither confirms nor breaks a progression.
  A missed visit simply has no record, and confirmation moves on to the next assessment.
* **Unscheduled visits** are assessments like any other: they can be the onset, an intervening
  assessment or the confirmation (filter them out before calling if a SAP says otherwise).
* **Threshold**: the step whose inclusive range ``[base_low, base_high]`` holds BASE gives the
  minimum increase; ``AVAL - BASE >= min_increase`` (1e-9 tolerance) is a progression. A
  baseline no step covers (0.5 with the protocol table, which jumps from 0 to 1.0; or a value
  between steps) gets no flags and is reported: the spec must add a step, e.g.
  ``(0.5, 5.5, 1.0)``, to rate it. A missing BASE gets no flags and is reported.
* **Confirmation** of an onset at date d: let c be the first assessment dated at least
  ``min_gap_days`` after d. The onset is confirmed when c exists and every assessment after d up
  to and including c is a progression (against the same fixed baseline). What happens after c
  does not matter. No such c (the onset is at or near the last assessment) means unconfirmed:
  a tentative progression at study end is not an event.
* **Several assessments on one date** (ties) act as one assessment that is a progression only
  if every record of that date is one (the conservative reading); each tie is reported.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adam.registry import derivation
from subgen.core.expr import Expression, evaluate
from subgen.core.problems import Problem, ProblemError

TOLERANCE = 1e-9
_EPOCH = pd.Timestamp("1960-01-01")  # SAS date origin; only differences matter here


@dataclass(frozen=True)
class ProgressionStep:
    """One row of a progression table: a BASE in ``[base_low, base_high]`` needs ``CHG >= min_increase``.

    ``base_high = None`` means no upper bound.
    """

    base_low: float
    base_high: float | None
    min_increase: float

    def covers(self, base: pd.Series) -> pd.Series:
        """True where ``base`` falls in this step's inclusive range."""
        mask = base >= self.base_low - TOLERANCE
        if self.base_high is not None:
            mask &= base <= self.base_high + TOLERANCE
        return mask.fillna(False).astype(bool)


#: The MSEXO01 protocol rule: +1.5 from a baseline of 0; +1.0 from 1.0-5.5; +0.5 from 6.0 up.
#: In the spec: three rows ``0 | 0 | 1.5``, ``1.0 | 5.5 | 1.0``, ``6.0 | (blank) | 0.5``.
#: A baseline of 0.5 is deliberately not covered (the protocol does not rate it): such subjects
#: are reported, not guessed. Add ``ProgressionStep(0.5, 5.5, 1.0)`` (and start the middle row
#: at 0.5) to rate 0.5 like 1.0-5.5, as many MS trials do.
EDSS_PROGRESSION_STEPS: tuple[ProgressionStep, ...] = (
    ProgressionStep(0.0, 0.0, 1.5),
    ProgressionStep(1.0, 5.5, 1.0),
    ProgressionStep(6.0, None, 0.5),
)


def progression_steps(rows: Iterable[Sequence | ProgressionStep], where: str = "progression steps"
                      ) -> tuple[ProgressionStep, ...]:
    """Build and check a progression table from ``(base_low, base_high, min_increase)`` rows.

    ``base_high`` may be None/blank (open upper end). Raises :class:`ProblemError` listing every
    bad row: a non-number, ``base_low > base_high``, a non-positive increase, or overlapping
    ranges (a baseline must map to exactly one step).
    """
    steps: list[ProgressionStep] = []
    problems: list[Problem] = []
    for i, row in enumerate(rows, start=1):
        if isinstance(row, ProgressionStep):
            steps.append(row)
            continue
        try:
            low, high, inc = row
            low = float(low)
            high = None if high is None or (isinstance(high, str) and not high.strip()) \
                or (isinstance(high, float) and math.isnan(high)) else float(high)
            inc = float(inc)
        except (TypeError, ValueError):
            problems.append(Problem(where, i, None, repr(row), "a progression step needs three numbers "
                                    "(baseline low, baseline high or blank, minimum increase)",
                                    "write e.g. 1.0 | 5.5 | 1.0", rule="ADAM-PROG-STEP"))
            continue
        steps.append(ProgressionStep(low, high, inc))
    for i, s in enumerate(steps, start=1):
        if s.base_high is not None and s.base_low > s.base_high:
            problems.append(Problem(where, i, "base_high", str(s.base_high), f"baseline high {s.base_high} is below "
                                    f"baseline low {s.base_low}", "swap the two values", rule="ADAM-PROG-STEP"))
        if not s.min_increase > 0:
            problems.append(Problem(where, i, "min_increase", str(s.min_increase), "the minimum increase must be "
                                    "positive", "enter the increase that counts as progression", rule="ADAM-PROG-STEP"))
    ordered = sorted(steps, key=lambda s: s.base_low)
    for a, b in zip(ordered, ordered[1:]):
        if a.base_high is None or a.base_high >= b.base_low:
            problems.append(Problem(where, None, "base_low", str(b.base_low), f"steps overlap: {a} and {b}",
                                    "make the baseline ranges disjoint", rule="ADAM-PROG-STEP"))
    if problems:
        raise ProblemError(problems, f"{where}: {len(problems)} problem(s) in the progression table")
    return tuple(steps)


def minimum_increase(base: pd.Series, steps: Sequence[ProgressionStep] = EDSS_PROGRESSION_STEPS) -> pd.Series:
    """The minimum increase each baseline value needs (Float64; NA where BASE is missing or uncovered)."""
    base = pd.to_numeric(base, errors="coerce").astype("Float64")
    out = pd.Series(pd.NA, index=base.index, dtype="Float64")
    for step in steps:  # a handful of rule rows, not data rows
        out = out.mask(step.covers(base) & out.isna(), step.min_increase)
    return out


# --------------------------------------------------------------------------- shared helpers
def _require(dataset: pd.DataFrame, columns: Iterable[str], where: str) -> None:
    missing = [c for c in columns if c not in dataset.columns]
    if missing:
        raise ProblemError([Problem(where, None, c, None, f"column {c} is missing from the input dataset",
                                    "derive it before this step", rule="ADAM-INPUT") for c in missing],
                           f"{where}: required columns missing")


def is_date_column(dates: pd.Series) -> bool:
    """True for a datetime64 column or a numeric column (SAS date numbers); text is not a date."""
    return pd.api.types.is_datetime64_any_dtype(dates) or (
        pd.api.types.is_numeric_dtype(dates) and not pd.api.types.is_bool_dtype(dates))


def day_numbers(dates: pd.Series, column: str = "ADT", where: str = "BDS") -> pd.Series:
    """SAS date numbers (float64 whole days since 1960-01-01, NaN when missing) of a date column.

    Accepts SAS date numbers (kept, fractions dropped) or datetime64 (date part); anything else
    raises :class:`ProblemError` naming the column.
    """
    if pd.api.types.is_datetime64_any_dtype(dates):
        return (dates.dt.normalize() - _EPOCH) / pd.Timedelta(days=1)
    if is_date_column(dates):
        # numpy's stubs type a ufunc on a Series as an ndarray; pandas returns a Series with the index.
        return np.floor(pd.to_numeric(dates, errors="coerce").astype("float64"))  # type: ignore[return-value]
    raise ProblemError([Problem(where, None, column, str(dates.dtype), f"{column} must be a date column (SAS date "
                                "numbers or datetime64)", "convert ISO 8601 text with adam.dates.iso_to_sas",
                                rule="ADAM-INPUT")], f"{where}: {column} is not a date")


def dates_like(days: pd.Series, template: pd.Series) -> pd.Series:
    """SAS date numbers ``days`` in the representation of ``template`` (Float64 days or its datetime64 unit)."""
    if pd.api.types.is_datetime64_any_dtype(template):
        return (_EPOCH + pd.to_timedelta(days.astype("float64"), unit="D")).astype(template.dtype)
    return days.astype("Float64")


_days = day_numbers


def _order_columns(dataset: pd.DataFrame, order: Sequence[str] | None) -> list[str]:
    """Tie-breakers after the date: the given ones, or AVISITN and SRCSEQ where present."""
    if order is not None:
        return list(order)
    return [c for c in ("AVISITN", "SRCSEQ") if c in dataset.columns]


def _group_label(frame: pd.DataFrame, by_vars: Sequence[str]) -> pd.Series:
    """'USUBJID PARAMCD' text per record, for messages (vectorised concatenation)."""
    parts = [frame[c].astype("string").fillna("") for c in by_vars]
    # pandas-stubs does not list a list of Series for ``others``; pandas documents and accepts it.
    return parts[0].str.cat(parts[1:], sep=" ") if len(parts) > 1 else parts[0]  # type: ignore[arg-type]


def _flag(mask_yes: pd.Series, evaluated: pd.Series) -> pd.Series:
    """'Y' where ``mask_yes``, 'N' where evaluated but not yes, missing elsewhere."""
    out = pd.Series(pd.NA, index=mask_yes.index, dtype="string")
    out = out.mask(evaluated, "N").mask(evaluated & mask_yes, "Y")
    return out


# --------------------------------------------------------------------------- progression
def derive_var_progression_flag(dataset: pd.DataFrame, steps: Sequence[ProgressionStep] = EDSS_PROGRESSION_STEPS,
                                *, new_var: str = "PROGFL", by_vars: Sequence[str] = ("USUBJID", "PARAMCD"),
                                date_var: str = "ADT", filter: Expression | str | None = None,
                                where: str = "BDS") -> tuple[pd.DataFrame, list[Problem]]:
    """Add ``new_var`` ('Y'/'N') to each post-baseline assessment: AVAL - BASE reaches the baseline's step.

    Reads ``by_vars``, ``ABLFL``, ``AVAL``, ``BASE`` and ``date_var``. Only records meeting
    ``filter`` (the spec's condition grammar, e.g. ``PARAMCD = 'EDSS'``) are rated; the others,
    baseline and pre-baseline records and records without AVAL get a missing flag. A by-group
    without a baseline record or BASE, or whose BASE no step covers, gets no flags and one
    Warning; so does a post-baseline AVAL without a date. Returns ``(dataset with new_var, problems)``.
    """
    _require(dataset, [*by_vars, "ABLFL", "AVAL", "BASE", date_var], where)
    steps = progression_steps(steps, where=f"{where} {new_var} steps")
    out = dataset.copy()
    selected = evaluate(filter, out).astype(bool)
    day = _days(out[date_var], date_var, where)
    aval = pd.to_numeric(out["AVAL"], errors="coerce").astype("Float64")
    base = pd.to_numeric(out["BASE"], errors="coerce").astype("Float64")
    keys = out[list(by_vars)].astype("string").fillna("")
    is_base = selected & out["ABLFL"].astype("string").fillna("").str.strip().eq("Y")
    base_day = day.where(is_base).groupby([keys[c] for c in by_vars]).transform("max")
    n_base = is_base.astype(int).groupby([keys[c] for c in by_vars]).transform("sum")
    post = selected & ~is_base & (day > base_day).fillna(False)
    undated = selected & ~is_base & day.isna() & aval.notna() & n_base.eq(1)
    need = minimum_increase(base, steps)
    ok_group = n_base.eq(1)
    evaluated = post & ok_group & aval.notna() & need.notna()
    yes = ((aval - base) >= need - TOLERANCE).fillna(False).astype(bool)
    out[new_var] = _flag(yes, evaluated)

    problems: list[Problem] = []
    label = _group_label(out, by_vars)
    groups = pd.DataFrame({"label": label, "n_base": n_base, "post": post, "base": base})[selected]
    per = groups.groupby("label", sort=True).agg(n_base=("n_base", "first"), post=("post", "any"),
                                                 base=("base", "first"))  # first non-missing BASE
    per["need"] = minimum_increase(per["base"], steps)
    for lab, row in per[per["n_base"] > 1].iterrows():  # only the by-groups with a problem
        problems.append(Problem(where, None, "ABLFL", "Y", f"{lab}: {int(row['n_base'])} records have ABLFL = 'Y'; "
                                f"{new_var} is not derived", "keep one baseline record per subject and parameter",
                                "Warning", "ADAM-PROG-BASE"))
    no_base = per["n_base"].eq(0) | (per["n_base"].eq(1) & per["base"].isna() & per["post"])
    for lab in per.index[no_base]:
        problems.append(Problem(where, None, "BASE", None, f"{lab}: no baseline value; {new_var} is not derived "
                                "(the subject counts as without progression data)",
                                "check the baseline assessment in the source data", "Warning", "ADAM-PROG-BASE"))
    uncovered = per["n_base"].eq(1) & per["base"].notna() & per["need"].isna()
    for lab, row in per[uncovered].iterrows():
        problems.append(Problem(where, None, "BASE", f"{row['base']:g}", f"{lab}: baseline {row['base']:g} is not "
                                f"covered by any progression step ({_describe(steps)}); {new_var} is not derived",
                                "add a step covering this baseline to the progression table in the spec",
                                "Warning", "ADAM-PROG-STEP"))
    for lab in sorted(set(label[undated])):
        problems.append(Problem(where, None, date_var, None, f"{lab}: an assessment has no {date_var}; it is not "
                                "rated", "impute or correct the date in the source data", "Warning", "ADAM-PROG-DATE"))
    return out, problems


def _describe(steps: Sequence[ProgressionStep]) -> str:
    parts = []
    for s in steps:
        rng = f"{s.base_low:g}" if s.base_high == s.base_low else \
            f"{s.base_low:g}-{s.base_high:g}" if s.base_high is not None else f">= {s.base_low:g}"
        parts.append(f"{rng}: +{s.min_increase:g}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- confirmation
def derive_var_confirmation_flag(dataset: pd.DataFrame, *, flag_var: str = "PROGFL", new_var: str = "CDP12FL",
                                 min_gap_days: float = 84, by_vars: Sequence[str] = ("USUBJID", "PARAMCD"),
                                 date_var: str = "ADT", confirm_date_var: str | None = None, where: str = "BDS"
                                 ) -> tuple[pd.DataFrame, list[Problem]]:
    """Add ``new_var``: 'Y' on a progression sustained up to the first assessment >= ``min_gap_days`` later.

    Records rated by ``flag_var`` ('Y'/'N') are the assessments. ``new_var`` is 'Y' on a
    progression record whose date is confirmed (see the module rules), 'N' on every other
    rated record, missing where ``flag_var`` is missing. ``confirm_date_var``, when given,
    receives the date of the confirming assessment on 'Y' records. Months are days here: 84/168
    (12/24 weeks) or 3 * 30.4375 - the spec decides. Each date holding several rated records of
    one by-group is reported (Warning). Returns ``(dataset with new_var, problems)``.
    """
    _require(dataset, [*by_vars, flag_var, date_var], where)
    if not min_gap_days > 0:
        raise ProblemError([Problem(where, None, new_var, str(min_gap_days), "the confirmation gap must be a "
                                    "positive number of days", "enter e.g. 84 (12 weeks)", rule="ADAM-CONF-GAP")])
    out = dataset.copy()
    flag = out[flag_var].astype("string")
    day = _days(out[date_var], date_var, where)
    rated = (flag.isin(["Y", "N"]).fillna(False) & day.notna()).to_numpy(dtype=bool)
    recs = out.loc[rated, list(by_vars)].astype("string").fillna("").reset_index(drop=True)
    recs = recs.assign(_ROW=np.flatnonzero(rated), _DAY=day.to_numpy()[rated],
                       _PROG=flag.to_numpy()[rated] == "Y")

    # one row per by-group and date: a progression date only if every record that day is one
    dates = recs.groupby([*by_vars, "_DAY"], sort=True, as_index=False).agg(
        _PROG=("_PROG", "all"), _N=("_PROG", "size"))
    problems = [Problem(where, None, date_var, str((_EPOCH + pd.Timedelta(days=int(r["_DAY"]))).date()),
                        f"{' '.join(str(r[c]) for c in by_vars)}: {int(r['_N'])} assessments on one date; "
                        f"the date counts as a progression only if all of them are", "keep one assessment per date "
                        "(e.g. an ANL01FL rule) or correct the duplicate", "Warning", "ADAM-CONF-TIE")
                for r in dates[dates["_N"] > 1].to_dict("records")]

    confirmed = _confirm_dates(dates, by_vars, min_gap_days)
    merged = recs.merge(confirmed, on=[*by_vars, "_DAY"], how="left", validate="many_to_one")
    hit = (merged["_PROG"].to_numpy(dtype=bool) & merged["_CONF"].fillna(False).to_numpy(dtype=bool))
    yes = np.zeros(len(out), dtype=bool)
    yes[merged["_ROW"].to_numpy()[hit]] = True
    out[new_var] = _flag(pd.Series(yes, index=out.index), pd.Series(rated, index=out.index))
    if confirm_date_var:
        cday = np.full(len(out), np.nan)
        cday[merged["_ROW"].to_numpy()[hit]] = merged["_CDAY"].to_numpy(dtype=float)[hit]
        out[confirm_date_var] = dates_like(pd.Series(cday, index=out.index), out[date_var])
    return out, problems


def _confirm_dates(dates: pd.DataFrame, by_vars: Sequence[str], gap: float) -> pd.DataFrame:
    """Per by-group date (sorted): _CONF (confirmed onset) and _CDAY (day of the confirming assessment)."""
    d = dates.reset_index(drop=True)
    if d.empty:
        return d.assign(_CONF=pd.Series(dtype=bool), _CDAY=pd.Series(dtype=float))[[*by_vars, "_DAY", "_CONF", "_CDAY"]]
    group = d.groupby(list(by_vars), sort=False).ngroup()
    pos = pd.Series(np.arange(len(d), dtype=float))
    # first assessment at least `gap` days later, in the same group (merge_asof forward)
    left = pd.DataFrame({"_G": group, "_T": d["_DAY"] + gap, "_I": pos}).sort_values("_T", kind="stable")
    right = pd.DataFrame({"_G": group, "_T": d["_DAY"], "_CPOS": pos}).sort_values("_T", kind="stable")
    hit = pd.merge_asof(left, right, on="_T", by="_G", direction="forward", allow_exact_matches=True)
    cpos = hit.set_index("_I")["_CPOS"].reindex(pos.to_numpy()).to_numpy()
    # first non-progression strictly after each date, in the same group
    fail = pos.where(~d["_PROG"].astype(bool))
    next_fail = fail.groupby(group).shift(-1).groupby(group).bfill().to_numpy()
    conf = d["_PROG"].astype(bool).to_numpy() & ~np.isnan(cpos) & (np.isnan(next_fail) | (next_fail > cpos))
    cday = np.where(conf, d["_DAY"].to_numpy()[np.nan_to_num(cpos, nan=0).astype(int)], np.nan)
    return d.assign(_CONF=conf, _CDAY=cday)[[*by_vars, "_DAY", "_CONF", "_CDAY"]]


# --------------------------------------------------------------------------- onset per subject
def filter_first_flagged(dataset: pd.DataFrame, *, flag_var: str = "CDP12FL",
                         by_vars: Sequence[str] = ("USUBJID", "PARAMCD"), date_var: str = "ADT",
                         order: Sequence[str] | None = None) -> pd.DataFrame:
    """The first record per by-group with ``flag_var = 'Y'`` (by date, then ``order``: AVISITN, SRCSEQ).

    For a confirmation flag this is the onset of the first confirmed progression; its ADT is the
    onset date and its SRCDOM/SRCSEQ point at the SDTM record.
    """
    _require(dataset, [*by_vars, flag_var, date_var], "BDS")
    hits = dataset[dataset[flag_var].astype("string").eq("Y").fillna(False).astype(bool)]
    keys = [*by_vars, date_var, *_order_columns(dataset, order)]
    return hits.sort_values(keys, kind="stable").drop_duplicates(list(by_vars), keep="first")


def derive_var_onset_date(dataset: pd.DataFrame, dataset_add: pd.DataFrame, *, flag_var: str = "CDP12FL",
                          new_var: str = "CDP12DT", by_vars: Sequence[str] = ("USUBJID",), date_var: str = "ADT",
                          filter_add: str | None = None) -> pd.DataFrame:
    """Add ``new_var`` to ``dataset`` (e.g. ADSL): the date of the first ``flag_var = 'Y'`` record of ``dataset_add``.

    ``filter_add`` restricts ``dataset_add`` first (e.g. ``PARAMCD = 'EDSS'``). Subjects without
    such a record get NaT. Row order and count of ``dataset`` are kept.
    """
    add = dataset_add[evaluate(filter_add, dataset_add).astype(bool)]
    first = filter_first_flagged(add, flag_var=flag_var, by_vars=by_vars, date_var=date_var)
    onset = first[[*by_vars, date_var]].rename(columns={date_var: new_var})
    out = dataset.drop(columns=[new_var], errors="ignore")
    merged = out.merge(onset, on=list(by_vars), how="left", validate="many_to_one")
    merged.index = out.index
    return merged


# --------------------------------------------------------------------------- spec (Derivations sheet) wrappers
#: :data:`EDSS_PROGRESSION_STEPS` as the Derivations sheet writes it: ``low:high:increase`` items,
#: a blank high meaning no upper bound.
EDSS_PROGRESSION_STEPS_TEXT: tuple[str, ...] = ("0:0:1.5", "1.0:5.5:1.0", "6.0::0.5")


def parse_steps(items: Sequence[str], where: str = "progression steps") -> tuple[ProgressionStep, ...]:
    """``("0:0:1.5", "1.0:5.5:1.0", "6.0::0.5")`` -> checked steps (see :func:`progression_steps`)."""
    rows = [tuple(item.split(":")) if item.count(":") == 2 else item for item in items]
    return progression_steps(rows, where)


@derivation()
def derive_var_progression(dataset: pd.DataFrame, new_var: str, filter: str, problems: list[Problem],
                           dataset_name: str, steps: tuple[str, ...] = EDSS_PROGRESSION_STEPS_TEXT,
                           by_vars: tuple[str, ...] = ("USUBJID", "PARAMCD"), date_var: str = "ADT") -> pd.DataFrame:
    """Progression flag (e.g. PROGFL): Y when AVAL - BASE reaches the minimum increase of BASE's step.

    ``steps`` are ``low:high:increase`` items (blank high = open), the MSEXO01 protocol being
    ``0:0:1.5, 1.0:5.5:1.0, 6.0::0.5``; a baseline no step covers (e.g. 0.5) or a missing BASE
    gives no flag and a Warning. ``filter`` selects the parameter (``PARAMCD = 'EDSS'``): give
    it here, not as the row's Condition, so other parameters are not rated at all. Only records
    dated after the ABLFL record are rated; records without AVAL are not.
    """
    out, found = derive_var_progression_flag(dataset, parse_steps(steps, f"{dataset_name} {new_var} steps"),
                                             new_var=new_var, by_vars=by_vars, date_var=date_var, filter=filter,
                                             where=dataset_name)
    problems.extend(found)
    return out


@derivation()
def derive_var_confirmed(dataset: pd.DataFrame, new_vars: tuple[str, ...], min_gap_days: float,
                         problems: list[Problem], dataset_name: str, flag_var: str = "PROGFL",
                         by_vars: tuple[str, ...] = ("USUBJID", "PARAMCD"), date_var: str = "ADT") -> pd.DataFrame:
    ("Confirmed progression flag (e.g. CDP12FL): the progression holds up to the first assessment >= min_gap_days "
     """later.

    Every assessment between onset and that confirming assessment must also be a progression;
    an onset with no assessment that late (study end) is not confirmed. ``min_gap_days`` is the
    spec's choice (84 = 12 weeks, 168 = 24 weeks). A second Variable on the row, if given,
    receives the confirming assessment's date. Several assessments on one date are reported.
    """)
    if len(new_vars) not in (1, 2):
        raise ValueError(f"derive_var_confirmed gives a flag and optionally a confirmation date, not "
                         f"{len(new_vars)} variables")
    out, found = derive_var_confirmation_flag(dataset, flag_var=flag_var, new_var=new_vars[0],
                                              min_gap_days=min_gap_days, by_vars=by_vars, date_var=date_var,
                                              confirm_date_var=new_vars[1] if len(new_vars) == 2 else None,
                                              where=dataset_name)
    problems.extend(found)
    return out
