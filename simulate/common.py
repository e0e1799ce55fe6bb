"""Shared building blocks for the EDC export simulators.

Everything here is vectorised over numpy arrays so that the same code path
serves the 21/52-subject demo studies and the 20,000-subject scale mode.

Conventions
-----------
* Dates are held internally as ``int64`` day numbers since 1970-01-01 and are
  only turned into EDC text (``"05-MAR-2024"``) when a form is assembled.
* Every value written to a CSV is a pre-formatted ``str``; empty cells are
  empty strings.  No float ever reaches ``to_csv``.
* Randomness comes only from ``numpy.random.Generator(PCG64(...))``; each
  named stream is an independent child of the study seed, so changing how
  one form is simulated does not shift the values of another form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

MONTHS: tuple[str, ...] = (
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
    "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
)

#: order of the independent random streams; append only (never reorder),
#: otherwise the committed demo data changes.
STREAM_NAMES: tuple[str, ...] = (
    "layout", "demog", "schedule", "rand", "edss", "sdmt", "mri", "lab",
    "qs", "ae", "cm", "mh", "dosing", "misc", "safety",
)

_EPOCH = np.datetime64("1970-01-01", "D")
_TABLE_FIRST = np.datetime64("1900-01-01", "D")
_TABLE_LAST = np.datetime64("2101-01-01", "D")  # exclusive

# partial-date levels used by :func:`fmt_date`
FULL, UNK_DAY, UNK_MONTH = 0, 1, 2


# ---------------------------------------------------------------------------
# random streams
# ---------------------------------------------------------------------------
class Streams:
    """Named, independent ``Generator(PCG64)`` streams derived from one seed."""

    def __init__(self, seed: int) -> None:
        """Create one child ``SeedSequence`` per name in :data:`STREAM_NAMES`."""
        children = np.random.SeedSequence(int(seed)).spawn(len(STREAM_NAMES))
        self._gens = {
            name: np.random.Generator(np.random.PCG64(ss))
            for name, ss in zip(STREAM_NAMES, children)
        }

    def __getitem__(self, name: str) -> np.random.Generator:
        """Return the generator for stream ``name``."""
        return self._gens[name]


# ---------------------------------------------------------------------------
# dates and times
# ---------------------------------------------------------------------------
def day(iso: str) -> int:
    """Return the day number (days since 1970-01-01) of an ISO date string."""
    return int((np.datetime64(iso, "D") - _EPOCH).astype(np.int64))


@lru_cache(maxsize=1)
def _date_table() -> np.ndarray:
    """Lookup table ``[level, day - first]`` of EDC date strings (1900-2100)."""
    days = np.arange(_TABLE_FIRST, _TABLE_LAST, dtype="datetime64[D]")
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    months = days.astype("datetime64[M]").astype(np.int64) % 12
    dom = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    full = [f"{d:02d}-{MONTHS[m]}-{y}" for d, m, y in zip(dom.tolist(), months.tolist(), years.tolist())]
    unk_day = [f"UN-{MONTHS[m]}-{y}" for m, y in zip(months.tolist(), years.tolist())]
    unk_month = [f"UN-UNK-{y}" for y in years.tolist()]
    table = np.empty((3, len(full)), dtype=object)
    table[0], table[1], table[2] = full, unk_day, unk_month
    return table


def fmt_date(days: np.ndarray | Sequence[int] | int, level: np.ndarray | int | None = None,
             missing: np.ndarray | bool | None = None) -> np.ndarray:
    """Format day numbers as EDC dates ``DD-MON-YYYY``.

    ``level`` selects the partial form per element (0 full, 1 ``UN-MON-YYYY``,
    2 ``UN-UNK-YYYY``); ``missing`` marks elements rendered as ``""``.
    """
    d = np.atleast_1d(np.asarray(days, dtype=np.int64))
    first = int((_TABLE_FIRST - _EPOCH).astype(np.int64))
    idx = d - first
    if missing is not None:
        miss = np.broadcast_to(np.asarray(missing, dtype=bool), d.shape)
        idx = np.where(miss, 0, idx)
    lvl = np.zeros(d.shape, dtype=np.int64) if level is None else np.broadcast_to(
        np.asarray(level, dtype=np.int64), d.shape)
    out = _date_table()[lvl, idx]
    if missing is not None:
        out[miss] = ""
    return out


@lru_cache(maxsize=1)
def _time_table() -> np.ndarray:
    """Lookup table of ``HH:MM`` strings for minutes 0..1439."""
    return np.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)], dtype=object)


def fmt_time(minutes: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Format minutes after midnight as 24-hour ``HH:MM`` (``""`` where missing)."""
    m = np.asarray(minutes, dtype=np.int64) % 1440
    out = _time_table()[m].copy()
    if missing is not None:
        out[np.asarray(missing, dtype=bool)] = ""
    return out


def weekday(days: np.ndarray) -> np.ndarray:
    """Return the ISO weekday index (Monday=0 .. Sunday=6) of day numbers."""
    return (np.asarray(days, dtype=np.int64) + 3) % 7


def to_weekday(days: np.ndarray) -> np.ndarray:
    """Move Saturdays back to Friday and Sundays forward to Monday (monotone)."""
    d = np.asarray(days, dtype=np.int64)
    wd = weekday(d)
    return d + np.where(wd == 5, -1, 0) + np.where(wd == 6, 1, 0)


def years_between(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Completed years from ``start`` to ``end`` (both day numbers), vectorised."""
    s = np.asarray(start, dtype=np.int64).astype("datetime64[D]")
    e = np.asarray(end, dtype=np.int64).astype("datetime64[D]")
    sy = s.astype("datetime64[Y]").astype(np.int64)
    ey = e.astype("datetime64[Y]").astype(np.int64)
    # compare month/day, not day-of-year (leap years shift day-of-year)
    sm = s.astype("datetime64[M]").astype(np.int64) % 12
    em = e.astype("datetime64[M]").astype(np.int64) % 12
    sd = (s - s.astype("datetime64[M]")).astype(np.int64)
    ed = (e - e.astype("datetime64[M]")).astype(np.int64)
    before = (em < sm) | ((em == sm) & (ed < sd))
    return ey - sy - before.astype(np.int64)


def year_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of day numbers."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def const(shape: int | tuple[int, ...], value: str) -> np.ndarray:
    """Object array of ``shape`` whose cells all reference the single string ``value``."""
    arr = np.empty(shape, dtype=object)
    arr[...] = value
    return arr


# ---------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------
def fmt_fixed(values: np.ndarray, decimals: int, missing: np.ndarray | None = None) -> np.ndarray:
    """Format floats with a fixed number of decimals (``""`` where missing)."""
    spec = f"{{:.{decimals}f}}"
    rounded = np.round(np.asarray(values, dtype=float), decimals)
    uniq, inv = np.unique(rounded, return_inverse=True)
    out = np.array([spec.format(v) for v in uniq.tolist()], dtype=object)[inv.reshape(-1)]
    if missing is not None:
        out[np.asarray(missing, dtype=bool)] = ""
    return out


#: shared text of small non-negative integers (questionnaire codes)
SMALL_INT_TEXT = np.array([str(i) for i in range(128)], dtype=object)


def fmt_int(values: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Format integers as decimal text (``""`` where missing)."""
    uniq, inv = np.unique(np.asarray(values).astype(np.int64), return_inverse=True)
    out = np.array([str(v) for v in uniq.tolist()], dtype=object)[inv.reshape(-1)]
    if missing is not None:
        out[np.asarray(missing, dtype=bool)] = ""
    return out


def round_half(x: np.ndarray) -> np.ndarray:
    """Round to the nearest 0.5 (EDSS steps)."""
    return np.round(np.asarray(x, dtype=float) * 2.0) / 2.0


def lognormal(rng: np.random.Generator, median: float, sigma: float, size: int | tuple[int, ...]) -> np.ndarray:
    """Draw log-normal values parameterised by their median."""
    return median * np.exp(rng.normal(0.0, sigma, size))


def pick(rng: np.random.Generator, options: Sequence[str], p: Sequence[float] | None, size: int) -> np.ndarray:
    """Choose ``size`` strings from ``options`` (object array)."""
    opts = np.array(list(options), dtype=object)
    if size == 0:
        return np.array([], dtype=object)
    probs = None if p is None else np.asarray(p, dtype=float) / np.sum(p)
    return opts[rng.choice(len(opts), size=size, p=probs)]


# ---------------------------------------------------------------------------
# subject layout
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Layout:
    """Subject numbering for one simulated study.

    Subjects are laid out in repeating blocks (the demo study is exactly one
    block for MS, one 52-subject block for T2DM); ``pos`` is a subject's
    position inside its block and drives which deliberate quirks it carries.
    """

    n_total: int
    n_rand: int
    block_size: int
    pos: np.ndarray
    block: np.ndarray
    is_sf: np.ndarray
    site: np.ndarray
    siteid: np.ndarray
    subjid: np.ndarray


def make_layout(n_rand: int, rand_per_block: int, sf_positions: Sequence[int], first_site: int,
                per_site: int = 100) -> Layout:
    """Lay out ``n_rand`` randomised subjects plus interleaved screen failures.

    Each block holds ``rand_per_block`` randomised subjects and one screen
    failure at every position in ``sf_positions``.  Sites hold ``per_site``
    consecutive subjects; SUBJID is SITEID followed by a 3-digit sequence.
    """
    if n_rand < 1:
        raise ValueError("at least one randomised subject is required")
    block_size = rand_per_block + len(sf_positions)
    pattern = np.zeros(block_size, dtype=bool)
    pattern[list(sf_positions)] = True
    full, rem = divmod(n_rand, rand_per_block)
    n_total = full * block_size
    if rem:
        rand_cum = np.cumsum(~pattern)
        n_total += int(np.searchsorted(rand_cum, rem)) + 1
    idx = np.arange(n_total, dtype=np.int64)
    pos = idx % block_size
    site = first_site + idx // per_site
    seq = idx % per_site + 1
    subjid = (site * 1000 + seq).astype(str).astype(object)
    return Layout(
        n_total=n_total, n_rand=n_rand, block_size=block_size, pos=pos, block=idx // block_size,
        is_sf=pattern[pos], site=site, siteid=site.astype(str).astype(object), subjid=subjid,
    )


def permuted_blocks(rng: np.random.Generator, n: int, block: int = 4) -> np.ndarray:
    """Return a 1:1 allocation (0/1) for ``n`` subjects in permuted blocks.

    The final block is shortened to the remainder, still balanced when even.
    """
    sizes = [block] * (n // block) + ([n % block] if n % block else [])
    blk = np.repeat(np.arange(len(sizes)), sizes)
    starts = np.repeat(np.cumsum([0] + sizes[:-1]), sizes)
    within = np.arange(n) - starts
    base = within % 2
    keys = rng.random(n)
    order = np.lexsort((keys, blk))
    return base[order].astype(np.int64)


# ---------------------------------------------------------------------------
# subject-level study state shared by all forms
# ---------------------------------------------------------------------------
@dataclass
class Cohort:
    """Subject- and visit-level state of a simulated study.

    Matrices are ``n_total x n_visits``; ``planned`` marks visit rows that
    appear in visit.csv (up to last contact), ``done`` the visits performed.
    """

    study: str
    layout: Layout
    visits: tuple[str, ...]
    arm: np.ndarray              # 0/1, -1 for screen failures
    randno: np.ndarray           # 1..n_rand, 0 for screen failures
    dates: np.ndarray            # visit dates (day numbers), n x V
    planned: np.ndarray          # bool n x V
    done: np.ndarray             # bool n x V
    last_vis: np.ndarray         # index of last planned visit
    ds_date: np.ndarray          # end-of-participation date
    unsched: np.ndarray          # bool n: has "Unscheduled 1"
    unsched_date: np.ndarray     # day number (valid where unsched)
    unsched_after: np.ndarray    # scheduled visit index the unscheduled visit follows
    extra: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of subjects in enrol.csv."""
        return self.layout.n_total

    def at(self, name: str) -> np.ndarray:
        """Boolean mask of subjects carrying the quirk at block position ``name``."""
        return self.extra["quirk_mask"][name]


def visit_dates(rng: np.random.Generator, lay: Layout, first_screen: int, recruit_days: int,
                gap: tuple[int, int], target: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Simulate visit dates (``n x V`` day numbers, weekdays only).

    Screening dates are staggered over ``recruit_days`` (increasing with
    SUBJID within a site, first subject on ``first_screen``); Baseline follows
    screening by ``gap`` days (low inclusive, high exclusive) and later visits
    fall at ``target`` days +/- less than ``window`` days.
    """
    n = lay.n_total
    off = rng.integers(0, recruit_days + 1, n)
    off = off[np.lexsort((off, lay.site))]   # increasing within each site
    off[0] = 0
    screen = to_weekday(first_screen + off)
    base = to_weekday(screen + rng.integers(gap[0], gap[1], n))
    wmax = np.maximum(window - 1, 0)
    dev = np.clip(np.round(rng.normal(0.0, 1.0, (n, target.shape[0])) * window / 3.0), -wmax, wmax)
    dates = to_weekday(base[:, None] + target[None, :] + dev.astype(np.int64))
    dates[:, 0] = screen
    dates[:, 1] = base
    return dates


def visit_key(vis_idx: np.ndarray, unscheduled: bool = False) -> np.ndarray:
    """Sort key of a visit: 10 x scheduled index, +5 for an unscheduled visit after it."""
    return np.asarray(vis_idx, dtype=np.int64) * 10 + (5 if unscheduled else 0)


# ---------------------------------------------------------------------------
# frame assembly and output
# ---------------------------------------------------------------------------
def assemble(cohort: Cohort, subj: np.ndarray, columns: Mapping[str, np.ndarray | str],
             keys: Sequence[np.ndarray] = ()) -> pd.DataFrame:
    """Build a form frame: STUDY, SITEID, SUBJID then ``columns``.

    Rows are sorted by subject index then by each of ``keys`` in turn
    (stable, so the input order breaks remaining ties).
    """
    subj = np.asarray(subj, dtype=np.int64)
    n = subj.shape[0]
    sort_keys = [np.arange(n)] + [np.asarray(k) for k in reversed(list(keys))] + [subj]
    order = np.lexsort(sort_keys) if n else np.arange(0)
    data: dict[str, np.ndarray] = {
        "STUDY": const(n, cohort.study),
        "SITEID": cohort.layout.siteid[subj][order],
        "SUBJID": cohort.layout.subjid[subj][order],
    }
    for name, col in columns.items():
        arr = np.asarray(col)
        if arr.shape != (n,):
            arr = np.broadcast_to(arr, (n,))
        data[name] = shared_strings(arr[order])
    return pd.DataFrame(data, dtype=object)


def shared_strings(arr: np.ndarray) -> np.ndarray:
    """Return ``arr`` as an object array of ``str`` in which equal values share one object.

    Keeps memory modest in scale mode (millions of cells, few distinct values).
    """
    arr = np.asarray(arr)
    if arr.shape[0] == 0:
        return arr.astype(object)
    if arr.dtype.kind == "U":
        uniq, inv = np.unique(arr, return_inverse=True)
        return uniq.astype(object)[inv.reshape(-1)]
    codes, uniques = pd.factorize(arr.astype(object, copy=False))
    return np.asarray(uniques, dtype=object)[codes]


def write_forms(frames: Mapping[str, pd.DataFrame], out_dir: Path) -> None:
    """Write each frame to ``out_dir/<form>.csv`` byte-reproducibly."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        for col in df.columns:
            if not all(isinstance(v, str) for v in df[col].tolist()):
                raise TypeError(f"{name}.{col}: every value must be a pre-formatted str")
        df.to_csv(out_dir / f"{name}.csv", index=False, lineterminator="\n", encoding="utf-8")


# ---------------------------------------------------------------------------
# MedDRA-shaped coding dictionary (illustrative codes, see studies/README.md)
# ---------------------------------------------------------------------------
#: PT -> (PT code, HLT, HLT code, HLGT, HLGT code, SOC, SOC code)
MEDDRA_PT: dict[str, tuple[int, str, int, str, int, str, int]] = {
    "Headache": (10019211, "Headaches NEC", 10019233, "Headaches", 10019231,
                 "Nervous system disorders", 10029205),
    "Fatigue": (10016256, "Asthenic conditions", 10003550, "General system disorders NEC", 10018073,
                "General disorders and administration site conditions", 10018065),
    "Infusion related reaction": (10051792, "Non-site specific procedural complications", 10069889,
                                  "Procedural related injuries and complications NEC", 10069888,
                                  "Injury, poisoning and procedural complications", 10022117),
    "Pyrexia": (10037660, "Febrile disorders", 10016286, "Body temperature conditions", 10005908,
                "General disorders and administration site conditions", 10018065),
    "Nasopharyngitis": (10028810, "Upper respiratory tract infections", 10046309,
                        "Infections - pathogen unspecified", 10021879, "Infections and infestations", 10021881),
    "Urinary tract infection": (10046571, "Urinary tract infections", 10046577,
                                "Infections - pathogen unspecified", 10021879, "Infections and infestations", 10021881),
    "Fall": (10016173, "Non-site specific injuries NEC", 10029525, "Injuries NEC", 10022120,
             "Injury, poisoning and procedural complications", 10022117),
    "Back pain": (10003988, "Musculoskeletal and connective tissue pain and discomfort", 10068757,
                  "Musculoskeletal and connective tissue disorders NEC", 10028393,
                  "Musculoskeletal and connective tissue disorders", 10028395),
    "Post lumbar puncture syndrome": (10036483, "Non-site specific procedural complications", 10069889,
                                      "Procedural related injuries and complications NEC", 10069888,
                                      "Injury, poisoning and procedural complications", 10022117),
    "Muscle spasticity": (10028335, "Muscle tone abnormal", 10028303, "Neurological disorders NEC", 10029299,
                          "Nervous system disorders", 10029205),
    "Dizziness": (10013573, "Neurological signs and symptoms NEC", 10029306, "Neurological disorders NEC",
                  10029299, "Nervous system disorders", 10029205),
    "Nausea": (10028813, "Nausea and vomiting symptoms", 10028817, "Gastrointestinal signs and symptoms",
               10017964, "Gastrointestinal disorders", 10017947),
    "Arthralgia": (10003239, "Joint related signs and symptoms", 10023226, "Joint disorders", 10023213,
                   "Musculoskeletal and connective tissue disorders", 10028395),
    "Injection site pain": (10022086, "Injection site reactions", 10022095, "Administration site reactions",
                            10001316, "General disorders and administration site conditions", 10018065),
    "Hypoglycaemia": (10020993, "Hypoglycaemic conditions NEC", 10020994,
                      "Glucose metabolism disorders (incl diabetes mellitus)", 10018424,
                      "Metabolism and nutrition disorders", 10027433),
    "Diarrhoea": (10012735, "Diarrhoea (excl infective)", 10012736,
                  "Gastrointestinal motility and defaecation conditions", 10017977,
                  "Gastrointestinal disorders", 10017947),
    "Cough": (10011224, "Coughing and associated symptoms", 10011232, "Respiratory disorders NEC", 10038716,
              "Respiratory, thoracic and mediastinal disorders", 10038738),
    "Pneumonia": (10035664, "Lower respiratory tract and lung infections", 10024970,
                  "Infections - pathogen unspecified", 10021879, "Infections and infestations", 10021881),
}


@dataclass(frozen=True)
class AETerm:
    """One entry of an AE catalogue: a MedDRA PT and how sites type it.

    ``verbatims`` holds ``(AETERM as typed, LLT, LLT code)`` triples;
    ``anchor`` is ``"any"`` (any day on study), ``"dose"`` (day of a dose)
    or ``"lp"`` (day after a lumbar puncture).
    """

    pt: str
    weight: float
    verbatims: tuple[tuple[str, str, int], ...]
    anchor: str = "any"
    rel_p: tuple[float, float, float, float] = (0.55, 0.30, 0.12, 0.03)
    sev_p: tuple[float, float, float] = (0.68, 0.27, 0.05)
    median_days: float = 5.0


AE_REL = ("Not related", "Unlikely related", "Possibly related", "Related")
AE_SEV = ("Mild", "Moderate", "Severe")


@dataclass
class AERows:
    """Column arrays of AE records before formatting (one element per AE)."""

    subj: np.ndarray
    start: np.ndarray
    end: np.ndarray
    ongoing: np.ndarray
    pt: np.ndarray
    term: np.ndarray
    llt: np.ndarray
    lltcd: np.ndarray
    sev: np.ndarray
    ser: np.ndarray
    rel: np.ndarray
    acn: np.ndarray
    out: np.ndarray
    start_level: np.ndarray

    @staticmethod
    def concat(parts: Sequence[AERows]) -> AERows:
        """Concatenate several ``AERows`` column-wise."""
        names = AERows.__dataclass_fields__.keys()
        return AERows(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in names})


def random_aes(rng: np.random.Generator, catalogue: Sequence[AETerm], counts: np.ndarray,
               on_start: np.ndarray, on_end: np.ndarray, dose_dates: np.ndarray,
               lp_dates: np.ndarray, stop_date: np.ndarray, cut: int,
               last_dose: np.ndarray) -> AERows:
    """Draw background AEs, ``counts[i]`` for subject ``i``.

    ``on_start``/``on_end`` bound the on-study window per subject,
    ``dose_dates``/``lp_dates`` are ``n x k`` day matrices with ``-1`` where
    absent, ``stop_date`` is the last day AE follow-up information is
    available (AEs that would end later are left ongoing) and ``last_dose``
    the last dose date (AEs starting after it get AEACN "Not applicable").
    """
    subj = np.repeat(np.arange(counts.shape[0]), counts)
    m = subj.shape[0]
    weights = np.array([t.weight for t in catalogue], dtype=float)
    tix = rng.choice(len(catalogue), size=m, p=weights / weights.sum())
    anchors = np.array([t.anchor for t in catalogue], dtype=object)[tix]

    # start dates by anchor type
    span = (on_end - on_start)[subj] + 1
    any_start = on_start[subj] + np.floor(rng.random(m) * span).astype(np.int64)

    def anchored(mat: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray]:
        avail = mat[subj] >= 0
        n_av = avail.sum(axis=1)
        k = np.floor(rng.random(m) * np.maximum(n_av, 1)).astype(np.int64)
        # k-th available column
        rank = np.cumsum(avail, axis=1) - 1
        hit = avail & (rank == k[:, None])
        col = np.argmax(hit, axis=1)
        val = mat[subj, col] + offset
        return val, n_av > 0

    dose_start, has_dose = anchored(dose_dates, 0)
    if lp_dates.shape[1]:
        lp_start, has_lp = anchored(lp_dates, 1)
    else:
        lp_start, has_lp = any_start, np.zeros(m, dtype=bool)
    start = np.where((anchors == "dose") & has_dose, dose_start,
                     np.where((anchors == "lp") & has_lp, lp_start, any_start))

    med = np.array([t.median_days for t in catalogue])[tix]
    dur = np.clip(np.round(med * np.exp(rng.normal(0, 0.7, m))), 0, 120).astype(np.int64)
    dur = np.where(anchors == "dose", np.minimum(dur, 2), dur)
    end = start + dur
    ongoing = (rng.random(m) < 0.05) | (end > np.minimum(stop_date[subj], cut))

    # verbatim / LLT
    nverb = np.array([len(t.verbatims) for t in catalogue])
    vix = np.floor(rng.random(m) * nverb[tix]).astype(np.int64)
    flat = [v for t in catalogue for v in t.verbatims]
    offs = np.concatenate([[0], np.cumsum(nverb)[:-1]])
    fi = offs[tix] + vix
    term = np.array([f[0] for f in flat], dtype=object)[fi]
    llt = np.array([f[1] for f in flat], dtype=object)[fi]
    lltcd = np.array([f[2] for f in flat], dtype=np.int64)[fi]
    pt = np.array([t.pt for t in catalogue], dtype=object)[tix]

    # severity / relationship by term
    sev_p = np.array([t.sev_p for t in catalogue])[tix]
    sev_i = (rng.random(m)[:, None] > np.cumsum(sev_p, axis=1)).sum(axis=1)
    sev_i = np.minimum(sev_i, 2)
    rel_p = np.array([t.rel_p for t in catalogue])[tix]
    rel_i = np.minimum((rng.random(m)[:, None] > np.cumsum(rel_p, axis=1)).sum(axis=1), 3)
    ser = (sev_i == 2) & (rng.random(m) < 0.3)
    acn = np.where(start <= last_dose[subj], "Dose not changed", "Not applicable").astype(object)
    out = np.where(ongoing, np.where(rng.random(m) < 0.5, "Recovering/resolving", "Not recovered/not resolved"),
                   "Recovered/resolved").astype(object)
    return AERows(
        subj=subj, start=start, end=end, ongoing=ongoing, pt=pt, term=term, llt=llt, lltcd=lltcd,
        sev=np.array(AE_SEV, dtype=object)[sev_i], ser=np.where(ser, "Y", "N").astype(object),
        rel=np.array(AE_REL, dtype=object)[rel_i], acn=acn, out=out,
        start_level=np.zeros(m, dtype=np.int64),
    )


def forced_ae(subj: np.ndarray, start: np.ndarray, dur: int | None, pt: str, term: str, llt: str,
              lltcd: int, sev: str, ser: str, rel: str, acn: str) -> AERows:
    """Build scripted AE records (one per subject in ``subj``); ``dur=None`` means ongoing."""
    m = subj.shape[0]
    ongoing = np.full(m, dur is None)
    end = start + (0 if dur is None else dur)
    out = "Not recovered/not resolved" if dur is None else "Recovered/resolved"

    def full(v: str) -> np.ndarray:
        return const(m, v)

    return AERows(
        subj=subj.astype(np.int64), start=start.astype(np.int64), end=end.astype(np.int64), ongoing=ongoing,
        pt=full(pt), term=full(term), llt=full(llt), lltcd=np.full(m, lltcd, dtype=np.int64),
        sev=full(sev), ser=full(ser), rel=full(rel), acn=full(acn), out=full(out),
        start_level=np.zeros(m, dtype=np.int64),
    )


SERIOUS_CRITERIA = ("AESDTH", "AESLIFE", "AESHOSP", "AESDISAB", "AESCONG", "AESMIE")
# The criterion the investigator ticks for a serious AE, by preferred term (default: medically important).
SERIOUS_BY_PT = {"Pneumonia": "AESHOSP"}


def serious_criteria(ser: np.ndarray, pt: np.ndarray) -> dict[str, np.ndarray]:
    """The seriousness criteria columns of the ae form: asked only when AESER is Y (blank otherwise).

    A serious AE has exactly one criterion Y (hospitalisation for pneumonia, otherwise "other
    medically important event"), the others N. Deterministic (no random draws), so adding the
    columns leaves every other simulated value unchanged.
    """
    serious = np.asarray(ser) == "Y"
    ticked = np.array([SERIOUS_BY_PT.get(p, "AESMIE") for p in np.asarray(pt).tolist()], dtype=object)
    return {c: np.where(serious, np.where(ticked == c, "Y", "N"), "").astype(object) for c in SERIOUS_CRITERIA}


def ae_frame(cohort: Cohort, rows: AERows) -> pd.DataFrame:
    """Format AE records into the ae form (AESPID numbered by start date)."""
    order = np.lexsort((np.arange(rows.subj.shape[0]), rows.start, rows.subj))
    subj = rows.subj[order]
    m = subj.shape[0]
    spid = _spid(subj)

    def o(a: np.ndarray) -> np.ndarray:
        return np.asarray(a)[order]

    coding = np.array([MEDDRA_PT[p] for p in o(rows.pt).tolist()], dtype=object).reshape(m, 7) if m else \
        np.empty((0, 7), dtype=object)
    ongoing = o(rows.ongoing)
    cols = {
        "AESPID": fmt_int(spid),
        "AETERM": o(rows.term),
        "AESTDAT": fmt_date(o(rows.start), level=o(rows.start_level)),
        "AEENDAT": fmt_date(o(rows.end), missing=ongoing),
        "AEONGO": np.where(ongoing, "Y", "N").astype(object),
        "AESEV": o(rows.sev),
        "AESER": o(rows.ser),
        **serious_criteria(o(rows.ser), o(rows.pt)),
        "AEREL": o(rows.rel),
        "AEACN": o(rows.acn),
        "AEOUT": o(rows.out),
        "AELLT": o(rows.llt),
        "AELLTCD": fmt_int(o(rows.lltcd)),
        "AEDECOD": o(rows.pt),
        "AEPTCD": fmt_int(coding[:, 0].astype(np.int64)),
        "AEHLT": coding[:, 1],
        "AEHLTCD": fmt_int(coding[:, 2].astype(np.int64)),
        "AEHLGT": coding[:, 3],
        "AEHLGTCD": fmt_int(coding[:, 4].astype(np.int64)),
        "AESOC": coding[:, 5],
        "AESOCCD": fmt_int(coding[:, 6].astype(np.int64)),
    }
    # rows already ordered; assemble keeps order via keys
    return assemble(cohort, subj, cols, keys=(np.arange(m),))


# ---------------------------------------------------------------------------
# common forms
# ---------------------------------------------------------------------------
SEX_F = ("Female", "F", "f", "F ")
SEX_M = ("Male", "M", "male", "MALE")


def sex_text(rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
    """Free-text SEX as sites type it (mix of spellings, incl. ``"F "``)."""
    n = female.shape[0]
    fi = rng.choice(4, size=n, p=[0.45, 0.30, 0.10, 0.15])
    mi = rng.choice(4, size=n, p=[0.45, 0.30, 0.15, 0.10])
    return np.where(female, np.array(SEX_F, dtype=object)[fi], np.array(SEX_M, dtype=object)[mi]).astype(object)


def initials(rng: np.random.Generator, n: int, letters: str, weights: Sequence[float]) -> np.ndarray:
    """Three-letter subject initials drawn from weighted letters."""
    w = np.asarray(weights, dtype=float)
    li = rng.choice(len(letters), size=(n, 3), p=w / w.sum())
    arr = np.array(list(letters), dtype=object)[li]
    return (arr[:, 0] + arr[:, 1] + arr[:, 2]).astype(object)


def visit_frame(cohort: Cohort, missed_reason: np.ndarray) -> pd.DataFrame:
    """visit form: one row per planned visit up to last contact plus unscheduled visits."""
    si, vi = np.nonzero(cohort.planned)
    done = cohort.done[si, vi]
    vis = np.array(cohort.visits, dtype=object)
    us = np.nonzero(cohort.unsched)[0]
    subj = np.concatenate([si, us])
    key = np.concatenate([visit_key(vi), visit_key(cohort.unsched_after[us], True)])
    dates = np.concatenate([cohort.dates[si, vi], cohort.unsched_date[us]])
    done_all = np.concatenate([done, np.ones(us.shape[0], dtype=bool)])
    cols = {
        "VISIT": np.concatenate([vis[vi], const(us.shape[0], "Unscheduled 1")]),
        "VISYN": np.where(done_all, "Y", "N").astype(object),
        "VISDAT": fmt_date(dates, missing=~done_all),
        "VISNDRSN": np.where(done_all, "", np.concatenate([missed_reason[si], const(us.shape[0], "")])),
    }
    return assemble(cohort, subj, cols, keys=(key, dates))


def rand_frame(cohort: Cohort, arm_labels: tuple[str, str]) -> pd.DataFrame:
    """rand form: randomisation date (= Baseline), number and (unblinded) arm."""
    r = np.nonzero(cohort.arm >= 0)[0]
    width = max(3, len(str(cohort.layout.n_rand)))
    cols = {
        "RANDDAT": fmt_date(cohort.dates[r, 1]),
        "RANDNO": np.array([f"R{k:0{width}d}" for k in cohort.randno[r].tolist()], dtype=object),
        "ARM": np.array(arm_labels, dtype=object)[cohort.arm[r]],
    }
    return assemble(cohort, r, cols)


def elig_frame(cohort: Cohort, failed: Mapping[int, Sequence[str]]) -> pd.DataFrame:
    """elig form: one Y row per eligible subject; one N row per unmet criterion.

    ``failed`` maps subject index -> unmet criterion ids.
    """
    ok = np.nonzero(~cohort.layout.is_sf)[0]
    f_subj = np.array([s for s, crits in failed.items() for _ in crits], dtype=np.int64)
    f_crit = np.array([c for _, crits in failed.items() for c in crits], dtype=object)
    subj = np.concatenate([ok, f_subj])
    crit = np.concatenate([const(ok.shape[0], ""), f_crit])
    cols = {
        "VISIT": const(subj.shape[0], "Screening"),
        "IEDAT": fmt_date(cohort.dates[subj, 0]),
        "IEYN": np.where(crit == "", "Y", "N").astype(object),
        "IECRIT": crit,
    }
    return assemble(cohort, subj, cols, keys=(crit,))


def last_contact(cohort: Cohort, ae: pd.DataFrame) -> np.ndarray:
    """Each subject's last contact: the end-of-study date or, when later, the last AE end date followed up.

    AEs are followed up after the last visit (up to 30 days), so the end-of-study form is completed
    at the last contact: DS.DSDAT, and hence DM.RFPENDTC, is never before an AE end date.
    """
    end = pd.to_datetime(ae["AEENDAT"], format="%d-%b-%Y", errors="coerce")
    days = (end.to_numpy().astype("datetime64[D]") - _EPOCH).astype(np.int64)
    index = {s: i for i, s in enumerate(cohort.layout.subjid.tolist())}
    subj = ae["SUBJID"].map(index).to_numpy()
    out = np.asarray(cohort.ds_date, dtype=np.int64).copy()
    ok = end.notna().to_numpy()
    np.maximum.at(out, subj[ok].astype(np.int64), days[ok])
    return out


def ds_frame(cohort: Cohort, status: np.ndarray, spec: np.ndarray) -> pd.DataFrame:
    """ds form: one end-of-participation row per subject."""
    subj = np.arange(cohort.n)
    cols = {"DSDAT": fmt_date(cohort.ds_date), "DSSTATUS": status, "DSSPEC": spec}
    return assemble(cohort, subj, cols)


def partial_level(rng: np.random.Generator, n: int, p_unk_month: float, p_unk_day: float) -> np.ndarray:
    """Random partial-date levels (0 full, 1 unknown day, 2 unknown month)."""
    u = rng.random(n)
    return np.where(u < p_unk_month, UNK_MONTH, np.where(u < p_unk_month + p_unk_day, UNK_DAY, FULL)).astype(np.int64)


@dataclass
class Rows:
    """Accumulator of long-format record batches (subject, sort keys, fields)."""

    batches: list = field(default_factory=list)

    def add(self, subj: np.ndarray, keys: Mapping[str, np.ndarray], **cols: np.ndarray | str) -> None:
        """Append a batch of records for subjects ``subj``; scalars are broadcast."""
        subj = np.asarray(subj, dtype=np.int64)
        m = subj.shape[0]
        k = [np.broadcast_to(np.asarray(v), (m,)) for v in keys.values()]
        c = {name: (const(m, v) if isinstance(v, str) else shared_strings(np.asarray(v)))
             for name, v in cols.items()}
        self.batches.append((subj, k, c))

    def frame(self, cohort: Cohort, columns: Sequence[str]) -> pd.DataFrame:
        """Assemble the batches into a sorted form frame (absent fields are ``""``)."""
        for _, _, c in self.batches:
            unknown = set(c) - set(columns)
            if unknown:
                raise KeyError(f"unknown columns {sorted(unknown)}")
        subj = np.concatenate([b[0] for b in self.batches])
        nkeys = len(self.batches[0][1])
        keys = [np.concatenate([b[1][i] for b in self.batches]) for i in range(nkeys)]
        cols = {name: np.concatenate([b[2].get(name, const(b[0].shape[0], ""))
                                      for b in self.batches]) for name in columns}
        return assemble(cohort, subj, cols, keys=keys)


def _spid(subj_sorted: np.ndarray) -> np.ndarray:
    """Running 1-based sequence number within runs of equal subject index."""
    m = subj_sorted.shape[0]
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.ones(m, dtype=bool)
    first[1:] = subj_sorted[1:] != subj_sorted[:-1]
    grp_start = np.maximum.accumulate(np.where(first, np.arange(m), 0))
    return np.arange(m) - grp_start + 1


@dataclass(frozen=True)
class CMSpec:
    """How one concomitant medication is typed on the cm form."""

    trt: tuple[str, ...]
    indc: tuple[str, ...]
    doses: tuple[str, ...]
    unit: str
    route: str
    frq: tuple[str, ...]


def cm_batch(rng: np.random.Generator, subj: np.ndarray, spec: CMSpec, start: np.ndarray,
             end: np.ndarray, ongoing: np.ndarray, level: np.ndarray) -> dict[str, np.ndarray]:
    """Draw the typed fields of one medication for subjects ``subj``."""
    m = subj.shape[0]

    def choose(opts: tuple[str, ...]) -> np.ndarray:
        return np.array(opts, dtype=object)[rng.integers(0, len(opts), m)]

    return {
        "subj": subj.astype(np.int64), "start": start.astype(np.int64), "end": end.astype(np.int64),
        "ongoing": ongoing.astype(bool), "level": level.astype(np.int64),
        "CMTRT": choose(spec.trt), "CMINDC": choose(spec.indc), "CMDOSE": choose(spec.doses),
        "CMDOSU": const(m, spec.unit), "CMROUTE": const(m, spec.route),
        "CMFRQ": choose(spec.frq),
    }


def cm_frame(cohort: Cohort, batches: Sequence[dict[str, np.ndarray]]) -> pd.DataFrame:
    """Format medication batches into the cm form (CMSPID numbered by start date)."""
    b = {k: np.concatenate([x[k] for x in batches]) for k in batches[0]}
    order = np.lexsort((np.arange(b["subj"].shape[0]), b["start"], b["subj"]))
    b = {k: v[order] for k, v in b.items()}
    ongoing = b["ongoing"]
    cols = {
        "CMSPID": fmt_int(_spid(b["subj"])),
        "CMTRT": b["CMTRT"], "CMINDC": b["CMINDC"], "CMDOSE": b["CMDOSE"], "CMDOSU": b["CMDOSU"],
        "CMROUTE": b["CMROUTE"], "CMFRQ": b["CMFRQ"],
        "CMSTDAT": fmt_date(b["start"], level=b["level"]),
        "CMENDAT": fmt_date(b["end"], missing=ongoing),
        "CMONGO": np.where(ongoing, "Y", "N").astype(object),
    }
    return assemble(cohort, b["subj"], cols, keys=(np.arange(order.shape[0]),))


def mh_frame(cohort: Cohort, subj: np.ndarray, term: np.ndarray, start: np.ndarray, level: np.ndarray,
             ongoing: np.ndarray) -> pd.DataFrame:
    """Format medical-history records into the mh form (MHSPID numbered by start date)."""
    order = np.lexsort((np.arange(subj.shape[0]), start, subj))
    s = subj[order]
    cols = {
        "MHSPID": fmt_int(_spid(s)),
        "MHTERM": term[order],
        "MHSTDAT": fmt_date(start[order], level=level[order]),
        "MHONGO": np.where(ongoing[order], "Y", "N").astype(object),
    }
    return assemble(cohort, s, cols, keys=(np.arange(s.shape[0]),))
