"""Visits, epochs and subject elements: VISIT/VISITNUM, EPOCH and the SE dataset.

Everything is driven by the spec's trial-design sheets: TV (VISITNUM, VISIT), TA (ARMCD,
TAETORD, ETCD, EPOCH) and TE (ETCD, ELEMENT when present). The core logic is plain functions
over DataFrames/Series (testable without a build context); the registered algorithms are thin
wrappers that fetch spec rows and finished datasets from the context and file problems.
"""

from __future__ import annotations

import pandas as pd

from sdtm import dates
from sdtm.context import MappingContext, report_records
from sdtm.registry import DatasetVariable, RawColumn, Text, algorithm
from subgen.core.raw import FILE_COL, ROW_COL
from subgen.core.spec.model import Mapping, normalise_term

UNSCHEDULED = "UNSCHEDULED"
SE_COLUMNS = ("STUDYID", "DOMAIN", "USUBJID", "SESEQ", "ETCD", "ELEMENT", "TAETORD", "EPOCH", "SESTDTC",
              "SEENDTC")


# --------------------------------------------------------------------------- VISIT
def match_visits(raw: pd.Series, tv_visits: list[str] | tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    """Raw visit text -> TV VISIT; returns ``(visit, unmatched)``.

    Comparison is on upper-cased, whitespace-normalised text. Raw text starting with
    ``UNSCHEDULED`` (``Unscheduled 1``, ``unscheduled``) becomes ``UNSCHEDULED``. ``unmatched``
    is True where a non-blank raw value matched nothing (the visit is left missing).
    """
    table = {normalise_term(v): v for v in tv_visits}
    key = raw.astype("string").str.split().str.join(" ").str.upper()
    key = key.mask(key.eq(""))
    visit = key.map(table).astype("string")
    visit = visit.mask(visit.isna() & key.str.startswith(UNSCHEDULED).fillna(False), UNSCHEDULED)
    return visit, key.notna() & visit.isna()


@algorithm("assign_visit", "record", raw=RawColumn("the raw visit column"))
def assign_visit(rows: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """VISIT: raw visit text matched to the TV sheet's VISIT (case/blanks ignored); 'Unscheduled..' -> UNSCHEDULED.

    Raw text matching no TV visit is reported (MAP-VISIT, file/row/column/value) and left missing.
    """
    raw = ctx.column(rows, mapping.raw, mapping)
    tv = [r["VISIT"] for r in ctx.spec.design_rows("TV") if r.get("VISIT")]
    visit, bad = match_visits(raw, tv)
    if bad.any():
        ctx.report_rows(rows, bad, mapping, raw, "visit is not in the TV sheet (" + ", ".join(tv) + ") and does "
                        "not start with UNSCHEDULED", "correct the visit name in the EDC or add the visit to the "
                        "TV sheet", "MAP-VISIT")
    return visit


# --------------------------------------------------------------------------- VISITNUM
def visit_numbers(usubjid: pd.Series, visit: pd.Series, dtc: pd.Series, tv: pd.DataFrame) -> pd.Series:
    """VISITNUM of each record: TV's number for scheduled visits, a decimal one for UNSCHEDULED.

    Rule for an UNSCHEDULED record with a complete date (first 10 characters of ``dtc``):

    * its anchor is the subject's latest scheduled visit (records of this frame with a TV
      visit and a complete date) dated on or before it; when two scheduled visits share that
      date, the higher VISITNUM; with no such visit the anchor is (lowest TV VISITNUM - 1);
    * the subject's distinct unscheduled dates after the same anchor are numbered in date
      order: anchor + 0.01, + 0.02, ... (records of one unscheduled visit share its date and
      hence its number; one unscheduled visit per subject per date).

    Unscheduled records without a complete date, and visits neither in TV nor UNSCHEDULED,
    get a missing VISITNUM. Deterministic: depends only on the values, not on row order.
    """
    numbers = dict(zip(tv["VISIT"].astype(str), pd.to_numeric(tv["VISITNUM"]).astype(float)))
    out = visit.map(numbers).astype("Float64")
    day = dates.complete_date(dtc)
    frame = pd.DataFrame({"USUBJID": usubjid.astype("string"), "DAY": day, "NUM": out})
    sched = frame[frame["NUM"].notna() & frame["DAY"].notna()]
    # pandas-stubs types the max of a column group as a Series; with as_index=False it is a DataFrame.
    anchors = (sched.groupby(["USUBJID", "DAY"], as_index=False)["NUM"].max()
               .astype({"NUM": float})  # type: ignore[call-overload]
               .rename(columns={"NUM": "ANCHOR"}).sort_values("DAY"))
    uns = frame[visit.eq(UNSCHEDULED).fillna(False) & frame["DAY"].notna()]
    if uns.empty:
        return out
    uns = uns.reset_index().sort_values(["DAY", "index"])
    uns = pd.merge_asof(uns, anchors, on="DAY", by="USUBJID", direction="backward")
    first = float(min(numbers.values())) if numbers else 1.0
    uns["ANCHOR"] = uns["ANCHOR"].fillna(first - 1)
    rank = uns.groupby(["USUBJID", "ANCHOR"])["DAY"].rank(method="dense")
    uns["NUM"] = (uns["ANCHOR"] + rank * 0.01).round(2)
    out.loc[uns["index"].to_numpy()] = uns["NUM"].values
    return out


@algorithm("derive_visitnum", "dataset", value=DatasetVariable("the --DTC variable"), needs=("SV",))
def derive_visitnum(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """VISITNUM: TV's number for scheduled visits; UNSCHEDULED -> latest earlier scheduled VISITNUM + .01, .02 by date.

    Value names the --DTC variable. When the spec builds SV, an unscheduled record takes the
    VISITNUM of the subject's SV unscheduled visit on the same date, so one visit has one number
    in every domain (a domain without samples at every scheduled visit would otherwise anchor on
    an earlier visit). Without SV, or for a date SV does not have, the rule of
    :func:`visit_numbers` applies to the dataset's own records. An unscheduled visit before any
    scheduled one counts from (first TV VISITNUM - 1); unscheduled records without a complete
    date get no VISITNUM (reported).
    """
    tv = pd.DataFrame(ctx.spec.design_rows("TV"), columns=["VISITNUM", "VISIT"])
    out = visit_numbers(frame["USUBJID"], frame["VISIT"], frame[mapping.value], tv)
    if mapping.dataset != "SV" and ctx.is_finished("SV"):
        out = out.where(~frame["VISIT"].eq(UNSCHEDULED).fillna(False),
                        sv_unscheduled_numbers(ctx.finished("SV"), frame["USUBJID"], frame[mapping.value])
                        .fillna(out))
    undated = frame["VISIT"].eq(UNSCHEDULED).fillna(False) & out.isna()
    report_records(ctx, frame, undated, mapping.value or "",
                    f"{mapping.dataset}.VISITNUM: unscheduled visit without a complete date cannot be numbered",
                    "complete the visit date in the EDC", "MAP-VISITNUM", "Warning")
    return out


# --------------------------------------------------------------------------- EPOCH
def sv_unscheduled_numbers(sv: pd.DataFrame, usubjid: pd.Series, dtc: pd.Series) -> pd.Series:
    """VISITNUM of the subject's SV unscheduled visit on each record's date (missing when SV has none)."""
    uns = sv[sv["VISIT"].eq(UNSCHEDULED).fillna(False)]
    table = (pd.DataFrame({"USUBJID": uns["USUBJID"].astype("string"),
                           "DAY": dates.complete_date(uns["SVSTDTC"]), "NUM": uns["VISITNUM"].astype("Float64")})
             .dropna().drop_duplicates(["USUBJID", "DAY"]))
    keys = pd.DataFrame({"USUBJID": usubjid.astype("string").values, "DAY": dates.complete_date(dtc).values})
    return pd.Series(keys.merge(table, on=["USUBJID", "DAY"], how="left")["NUM"].values, index=usubjid.index,
                     dtype="Float64")


def parse_epoch_value(value: str | None) -> tuple[str, dict[str, str]]:
    """``"EXSTDTC|FOLLOW-UP=MONTH 12"`` -> ``("EXSTDTC", {"FOLLOW-UP": "MONTH 12"})``."""
    parts = [p.strip() for p in (value or "").split("|")]
    starts = {}
    for p in parts[1:]:
        if "=" in p:
            epoch, visit = p.split("=", 1)
            starts[epoch.strip().upper()] = normalise_term(visit)
    return parts[0], starts


def visit_dates(usubjid: pd.Series, visit: pd.Series, dtc: pd.Series, name: str) -> pd.Series:
    """Per subject, the earliest complete date (ISO text as recorded) of the visit ``name``."""
    keep = visit.astype("string").eq(name).fillna(False) & dates.complete_date(dtc).notna()
    return dtc[keep].groupby(usubjid[keep]).min().astype("string")


def epoch_starts(dm: pd.DataFrame, ta: pd.DataFrame, later: dict[str, pd.Series]) -> pd.DataFrame:
    """Each subject's epoch start dates as rows (USUBJID, EPOCH, ORDER, START).

    The epoch of the lowest TAETORD starts at RFICDTC (every subject); the next one at
    RFXSTDTC (dosed subjects); each further TA epoch of the subject's arm (ACTARMCD, else ARMCD)
    at the date in ``later[EPOCH]`` (a Series indexed by USUBJID), when the subject has one.
    """
    ta = ta.assign(TAETORD=pd.to_numeric(ta["TAETORD"])).sort_values(["ARMCD", "TAETORD"])
    # pandas-stubs types idxmin as Hashable, which no loc overload takes; it is a row label of ta.
    first = ta.loc[ta["TAETORD"].idxmin()]  # type: ignore[call-overload]
    parts = [pd.DataFrame({"USUBJID": dm["USUBJID"], "EPOCH": first["EPOCH"], "ORDER": first["TAETORD"],
                           "START": dm["RFICDTC"]})]
    arm = dm["ACTARMCD"].fillna(dm["ARMCD"]) if "ACTARMCD" in dm else dm["ARMCD"]
    subj_arm = pd.DataFrame({"USUBJID": dm["USUBJID"], "ARMCD": arm, "RFXSTDTC": dm["RFXSTDTC"]})
    rest = subj_arm.merge(ta[ta["TAETORD"] > first["TAETORD"]], on="ARMCD")
    second = rest.groupby("USUBJID")["TAETORD"].transform("min").eq(rest["TAETORD"])
    rest["START"] = rest["RFXSTDTC"].where(second)
    for epoch, start in later.items():
        hit = rest["EPOCH"].str.upper().eq(epoch) & ~second
        rest.loc[hit, "START"] = rest.loc[hit, "USUBJID"].map(start)
    rest = rest.rename(columns={"TAETORD": "ORDER"})[["USUBJID", "EPOCH", "ORDER", "START"]]
    out = pd.concat([parts[0], rest], ignore_index=True)
    out = out[dates.complete_date(out["START"]).notna()]
    return out.sort_values(["USUBJID", "ORDER"]).reset_index(drop=True)


def epoch_key(dtc: pd.Series, date_only: str) -> pd.Series:
    """Sort key of --DTC values for epoch assignment: date and time (minutes) when the value has a time.

    A value without a time is placed at ``date_only`` (``"00:00"`` for an epoch start, ``"23:59"``
    for a record), so a date-only record on the day an epoch starts belongs to that epoch and a
    timed one is compared with the start's time. Partial or missing dates give NaT.
    """
    text = dtc.astype("string")
    day = dates.complete_date(text)
    time = text.str.slice(11, 16)
    time = time.where(time.str.fullmatch(r"\d\d:\d\d").fillna(False), date_only)
    return day + pd.to_timedelta(time.fillna(date_only) + ":00")


def assign_epochs(usubjid: pd.Series, dtc: pd.Series, starts: pd.DataFrame) -> pd.Series:
    """EPOCH of each record: the subject's epoch with the latest start on or before the record's date/time.

    Date and time are compared when both the record and the epoch start have a time (a pre-dose
    sample on the day of first dose, before RFXSTDTC's time, is still in screening); a record
    without a time belongs to the epoch that starts on its day. Records before the first epoch,
    with partial or missing dates, or of subjects without epochs get a missing EPOCH.
    """
    rec = pd.DataFrame({"USUBJID": usubjid.astype("string"), "DAY": epoch_key(dtc, "23:59")}).reset_index()
    rec = rec[rec["DAY"].notna()].sort_values(["DAY", "index"])
    st = starts.assign(DAY=epoch_key(starts["START"], "00:00"), USUBJID=starts["USUBJID"].astype("string"))
    st = st.sort_values(["DAY", "ORDER"])[["USUBJID", "DAY", "EPOCH"]]
    out = pd.Series(pd.NA, index=usubjid.index, dtype="string")
    if rec.empty or st.empty:
        return out
    # When two epochs start at the same moment, the later one (sorted last) wins: merge_asof takes the last match.
    hit = pd.merge_asof(rec, st, on="DAY", by="USUBJID", direction="backward")
    out.loc[hit["index"].to_numpy()] = hit["EPOCH"].astype("string").values
    return out


@algorithm("derive_epoch", "dataset", value=Text("the --DTC variable, then |EPOCH=VISIT tokens"),
           needs=("DM", "SV"))
def derive_epoch(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.Series:
    """EPOCH of the --DTC date from the subject's epoch starts: RFICDTC, RFXSTDTC, then Value's EPOCH=VISIT starts.

    Value is ``DTCVAR`` optionally followed by ``|EPOCH=VISIT`` tokens, e.g.
    ``EXSTDTC|FOLLOW-UP=MONTH 12``: the TA epochs of the subject's arm start, in TAETORD order,
    at RFICDTC (first epoch, e.g. SCREENING), RFXSTDTC (second, e.g. TREATMENT) and at the
    subject's date of the named visit (SV.SVSTDTC when SV is built, else the earliest complete
    --DTC of this dataset's records at that visit). A record belongs to the epoch with the latest
    start on or before its date and time (times compared when both have one: a pre-dose record on the
    first-dose day is in the first epoch; a record without a time on that day is TREATMENT).
    Partial dates, dates before RFICDTC, and subjects without DM dates give a missing EPOCH.
    """
    dtc_var, later_visits = parse_epoch_value(mapping.value)
    later = {}
    for epoch, visit in later_visits.items():
        if ctx.is_finished("SV") and mapping.dataset != "SV":
            sv = ctx.finished("SV")
            later[epoch] = visit_dates(sv["USUBJID"], sv["VISIT"], sv["SVSTDTC"], visit)
        elif "VISIT" in frame:
            later[epoch] = visit_dates(frame["USUBJID"], frame["VISIT"], frame[dtc_var], visit)
        else:  # no SV and no VISIT here: the epoch's start is unknown, so it never starts
            later[epoch] = pd.Series(dtype="string")
    ta = pd.DataFrame(ctx.spec.design_rows("TA"))
    starts = epoch_starts(ctx.finished("DM"), ta, later)
    return assign_epochs(frame["USUBJID"], frame[dtc_var], starts)


# --------------------------------------------------------------------------- SE
def subject_elements(dm: pd.DataFrame, sv: pd.DataFrame | None, ta: pd.DataFrame, te: pd.DataFrame,
                     later: dict[str, str] | None = None) -> pd.DataFrame:
    """SE records from DM dates, SV visit dates and the TA/TE design.

    * screening element (TA's lowest TAETORD, e.g. SCRN) from RFICDTC to the next element's
      start, or to RFPENDTC when there is none (screen failures, subjects never dosed);
    * the arm's treatment element (TAETORD 2 of ACTARMCD) from RFXSTDTC, for dosed subjects
      with an ACTARMCD;
    * each further element whose EPOCH is a key of ``later`` (EPOCH -> VISIT, e.g.
      ``{"FOLLOW-UP": "MONTH 12"}``) from the subject's SVSTDTC at that visit, if the subject
      had it (a discontinued subject has no follow-up element).

    SEENDTC is the next element's SESTDTC, the last element ends at RFPENDTC (SDTMIG 3.4
    section 5.2: no gaps between elements). ELEMENT comes from TE's ELEMENT column when present,
    else ETCD. SESEQ numbers a subject's elements in time order. TAETORD/EPOCH are from TA.
    """
    later = {k.upper(): normalise_term(v) for k, v in (later or {}).items()}
    ta = ta.assign(TAETORD=pd.to_numeric(ta["TAETORD"]))
    # pandas-stubs types idxmin as Hashable, which no loc overload takes; it is a row label of ta.
    first = ta.loc[ta["TAETORD"].idxmin()]  # type: ignore[call-overload]
    rows = [pd.DataFrame({"USUBJID": dm["USUBJID"], "ETCD": first["ETCD"], "TAETORD": first["TAETORD"],
                          "EPOCH": first["EPOCH"], "SESTDTC": dm["RFICDTC"]})]
    dosed = dm[dm["ACTARMCD"].notna() & dates.complete_date(dm["RFXSTDTC"]).notna()]
    arm_rows = dosed[["USUBJID", "ACTARMCD", "RFXSTDTC"]].merge(
        ta.rename(columns={"ARMCD": "ACTARMCD"}), on="ACTARMCD")
    treat = arm_rows[arm_rows["TAETORD"].eq(first["TAETORD"] + 1)]
    rows.append(treat.assign(SESTDTC=treat["RFXSTDTC"])[["USUBJID", "ETCD", "TAETORD", "EPOCH", "SESTDTC"]])
    for epoch, visit in later.items():
        part = arm_rows[arm_rows["EPOCH"].str.upper().eq(epoch)]
        start = (visit_dates(sv["USUBJID"], sv["VISIT"], sv["SVSTDTC"], visit) if sv is not None
                 else pd.Series(dtype="string"))
        part = part.assign(SESTDTC=part["USUBJID"].map(start))
        rows.append(part[part["SESTDTC"].notna()][["USUBJID", "ETCD", "TAETORD", "EPOCH", "SESTDTC"]])
    se = pd.concat(rows, ignore_index=True)
    se = se[se["SESTDTC"].notna()].sort_values(["USUBJID", "TAETORD"], kind="stable").reset_index(drop=True)
    nxt = se.groupby("USUBJID")["SESTDTC"].shift(-1)
    se["SEENDTC"] = nxt.fillna(se["USUBJID"].map(dm.set_index("USUBJID")["RFPENDTC"])).astype("string")
    se["SESEQ"] = (se.groupby("USUBJID").cumcount() + 1).astype("Float64")
    names = dict(zip(te["ETCD"], te["ELEMENT"])) if "ELEMENT" in te.columns else {}
    se["ELEMENT"] = se["ETCD"].map(names).fillna(se["ETCD"]).astype("string")
    se["STUDYID"] = se["USUBJID"].map(dm.set_index("USUBJID")["STUDYID"])
    se["DOMAIN"] = "SE"
    se["TAETORD"] = se["TAETORD"].astype("Float64")
    return se[list(SE_COLUMNS)].astype({c: "string" for c in SE_COLUMNS if c not in ("SESEQ", "TAETORD")})


def build_se(ctx: MappingContext, later: dict[str, str] | None = None) -> pd.DataFrame:
    """The SE dataset of a build: :func:`subject_elements` on DM, SV (if built), TA rows and TE (built or rows).

    ``later`` maps epochs that start at a visit to that visit (e.g. ``{"FOLLOW-UP": "MONTH 12"}``).
    Subjects whose epoch-start visit is missing from SV simply have no such element; a
    requested epoch with no SV dataset at all is reported once.
    """
    sv = ctx.finished("SV") if ctx.is_finished("SV") else None
    if later and sv is None:
        ctx.report(f"{ctx.spec.path} [TA]", None, "EPOCH", ", ".join(later),
                   "SE: epochs starting at a visit need the SV dataset, which this build does not make",
                   "add SV to the spec, or drop the later elements", "MAP-SE", "Warning")
    te = ctx.finished("TE") if ctx.is_finished("TE") else pd.DataFrame(ctx.spec.design_rows("TE"))
    return subject_elements(ctx.finished("DM"), sv, pd.DataFrame(ctx.spec.design_rows("TA")), te, later)


@algorithm("derive_subject_elements", "dataset",
           value=Text("EPOCH=VISIT tokens separated by |", required=False),
           needs=("DM", "SV", "TE"), generates=True)
def derive_subject_elements(frame: pd.DataFrame, mapping: Mapping, ctx: MappingContext) -> pd.DataFrame:
    """SE: one record per element each subject entered, from DM, SV and the TA/TE design.

    The first TA element starts at RFICDTC, the arm's treatment element at RFXSTDTC, and each
    element named in Value (``EPOCH=VISIT`` tokens separated by ``|``, e.g. ``FOLLOW-UP=MONTH 12``)
    at the subject's SV date of that visit; each element ends where the next starts, the last at
    RFPENDTC. Records trace to the subject's DM row.
    """
    _, later = parse_epoch_value("|" + (mapping.value or ""))
    se = build_se(ctx, later)
    dm = ctx.finished("DM").drop_duplicates("USUBJID").set_index("USUBJID")
    for col in (FILE_COL, ROW_COL):
        se[col] = se["USUBJID"].map(dm[col]).values
    return se
