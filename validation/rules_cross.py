"""SDTM rules across datasets: subjects, study days, visits, arms, epochs, trial summary, SUPP--.

Each rule is a vectorised function ``Package -> Checked`` registered in :data:`RULES` with a
stable id, a severity, a message a data manager understands, what to do, and where the
requirement comes from (SDTMIG v3.4 section; FDA validator rule / FDA business or technical
rejection rule; CDISC CORE id with its SDTMIG conformance rule id in parentheses, as published
in the CORE rules catalogue). A rule that needs a dataset the package does not have raises
:class:`~validation.rulebase.NotApplicable` with the reason (e.g. SE for the EPOCH rule).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from validation.rulebase import (
    Checked,
    CrossRule,
    NotApplicable,
    Package,
    blank,
    concat_findings,
    finding_frame,
    is_supp,
    no_findings,
    pairs,
    records,
    text,
)

#: TS parameters the FDA expects in every study's Trial Summary (FDA Study Data Technical
#: Conformance Guide, Trial Summary section, and the FDA validator's TS checks). SSTDTC is checked
#: on its own (XD-TS-SSTDTC, a technical rejection criterion). Review against the current TCG.
FDA_TS_PARAMETERS = ("ADDON", "AGEMAX", "AGEMIN", "LENGTH", "NARMS", "PLANSUB", "RANDOM", "SDTIGVER",
                     "SDTMVER", "SEXPOP", "STYPE", "TBLIND", "TCNTRL", "TDIGRP", "TINDTP", "TITLE", "TPHASE",
                     "TTYPE", "INDIC", "TRT", "REGID", "SPONSOR", "HLTSUBJI", "OBJPRIM", "ACTSUB")

_DATE = r"^\d{4}-\d{2}-\d{2}"


def _sdtm(package: Package, exclude: tuple[str, ...] = ()) -> list[str]:
    return [n for n in package.sdtm_names if n not in exclude]


def _need(package: Package, *names: str) -> list[pd.DataFrame]:
    frames = []
    for name in names:
        frame = package.get(name)
        if frame is None:
            raise NotApplicable(f"{name} is not in the package")
        frames.append(frame)
    return frames


def _dates(series: pd.Series) -> pd.Series:
    """The date portion of ISO 8601 values as Timestamps; NaT unless a complete, real date."""
    s = series.astype("string")
    head = s.str.slice(0, 10).where(s.str.match(_DATE).fillna(False))
    return pd.to_datetime(head, format="%Y-%m-%d", errors="coerce")


def _usubjid(frame: pd.DataFrame) -> pd.Series | None:
    return frame["USUBJID"] if "USUBJID" in frame else None


# --------------------------------------------------------------------------------------------
# DM present, USUBJID in DM


def dm_present(package: Package) -> Checked:
    """An SDTM package has a DM dataset."""
    if not package.sdtm_names:
        raise NotApplicable("the package has no SDTM datasets")
    if package.get("DM") is not None:
        return Checked(no_findings(), ("DM",))
    return Checked(finding_frame("DM", None, None, None, None,
                                 "the DM (Demographics) dataset is missing"), ("DM",))


def usubjid_in_dm(package: Package) -> Checked:
    """Every USUBJID of an SDTM dataset (other than DM) is a subject of DM."""
    (dm,) = _need(package, "DM")
    subjects = set(dm["USUBJID"].dropna().astype(str))
    parts, checked = [], []
    for name in _sdtm(package, ("DM",)):
        frame = package.datasets[name]
        if "USUBJID" not in frame:
            continue
        checked.append(name)
        mask = ~blank(frame["USUBJID"]) & ~frame["USUBJID"].astype("string").isin(subjects).fillna(False)
        if mask.any():
            bad = frame[mask]
            parts.append(finding_frame(name, records(frame, mask), bad["USUBJID"], "USUBJID",
                                       "USUBJID=" + text(bad["USUBJID"]),
                                       "subject " + text(bad["USUBJID"]) + " is not in DM"))
    return Checked(concat_findings(parts), tuple(checked))


# --------------------------------------------------------------------------------------------
# Study days


def study_day_pairs(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """(study-day variable, date variable) pairs of a dataset: --DY/--DTC, --STDY/--STDTC, --ENDY/--ENDTC."""
    out = []
    for col in frame.columns:
        name = str(col)
        if not name.endswith("DY") or name == "VISITDY" or len(name) < 4:
            continue
        for suffix, date_suffix in (("STDY", "STDTC"), ("ENDY", "ENDTC"), ("DY", "DTC")):
            if name.endswith(suffix) and len(name) == len(suffix) + 2:
                date = name[:2] + date_suffix
                if date in frame.columns:
                    out.append((name, date))
                break
    return out


def _study_day_frames(package: Package) -> list[tuple[str, str, str, pd.DataFrame]]:
    """Per (dataset, DY, DTC): a frame with the record, USUBJID, DY, date, RFSTDTC and expected DY."""
    cache = package.__dict__.setdefault("_cache", {})
    if "study_days" in cache:
        return cache["study_days"]
    (dm,) = _need(package, "DM")
    if "RFSTDTC" not in dm or "USUBJID" not in dm:
        raise NotApplicable("DM has no RFSTDTC or USUBJID")
    ref = dm.drop_duplicates("USUBJID").set_index("USUBJID")["RFSTDTC"]
    out = []
    for name in package.sdtm_names:
        frame = package.datasets[name]
        if "USUBJID" not in frame:
            continue
        for dy, dtc in study_day_pairs(frame):
            work = pd.DataFrame({"USUBJID": frame["USUBJID"], "DY": pd.to_numeric(frame[dy], errors="coerce"),
                                 "DTC": frame[dtc].astype("string"),
                                 "RFSTDTC": frame["USUBJID"].map(ref).astype("string")}, index=frame.index)
            work["D"] = _dates(work["DTC"])
            work["R"] = _dates(work["RFSTDTC"])
            days = (work["D"] - work["R"]).dt.days
            work["EXPECTED"] = (days + (work["D"] >= work["R"]).astype(int)).where(days.notna())
            out.append((name, dy, dtc, work))
    cache["study_days"] = out
    return out


def _dy_findings(name: str, dy: str, dtc: str, work: pd.DataFrame, mask: pd.Series,
                 message: Callable[..., pd.Series]) -> pd.DataFrame:
    """Findings for the masked records; ``message`` builds the text from those records only."""
    bad = work[mask]
    values = (dy + "=" + text(bad["DY"]) + ", " + dtc + "=" + bad["DTC"].fillna("") + ", RFSTDTC="
              + bad["RFSTDTC"].fillna(""))
    return finding_frame(name, records(work, mask), bad["USUBJID"], f"{dy}, {dtc}, DM.RFSTDTC", values,
                         message(bad))


def study_day_calculation(package: Package) -> Checked:
    """--DY equals (date of --DTC) - (date of RFSTDTC) + 1 on/after RFSTDTC, the difference before it."""
    parts, checked = [], []
    for name, dy, dtc, work in _study_day_frames(package):
        checked.append(name)
        mask = work["DY"].notna() & work["EXPECTED"].notna() & (work["DY"] != work["EXPECTED"])
        if mask.any():
            parts.append(_dy_findings(name, dy, dtc, work, mask, lambda b, dy=dy, dtc=dtc: dy + " is "
                                      + text(b["DY"]) + " but " + dtc + " against DM.RFSTDTC gives "
                                      + text(b["EXPECTED"])))
    if not checked:
        raise NotApplicable("no SDTM dataset has a study-day variable with its date variable")
    return Checked(concat_findings(parts), tuple(dict.fromkeys(checked)))


def study_day_without_dates(package: Package) -> Checked:
    """--DY is null unless both its date and RFSTDTC are complete dates."""
    parts, checked = [], []
    for name, dy, dtc, work in _study_day_frames(package):
        checked.append(name)
        mask = work["DY"].notna() & work["EXPECTED"].isna()
        if mask.any():
            def why(b: pd.DataFrame, dy: str = dy, dtc: str = dtc) -> pd.Series:
                text_ = pd.Series(dtc + " is missing or not a complete date", index=b.index, dtype="string")
                return dy + " is populated but " + text_.where(b["D"].isna(), "DM.RFSTDTC is missing or not a "
                                                                               "complete date")

            parts.append(_dy_findings(name, dy, dtc, work, mask, why))
    if not checked:
        raise NotApplicable("no SDTM dataset has a study-day variable with its date variable")
    return Checked(concat_findings(parts), tuple(dict.fromkeys(checked)))


def study_day_missing(package: Package) -> Checked:
    """--DY is populated when its date and RFSTDTC are complete dates."""
    parts, checked = [], []
    for name, dy, dtc, work in _study_day_frames(package):
        checked.append(name)
        mask = work["DY"].isna() & work["EXPECTED"].notna()
        if mask.any():
            parts.append(_dy_findings(name, dy, dtc, work, mask, lambda b, dy=dy, dtc=dtc: dy
                                      + " is empty although " + dtc + " and DM.RFSTDTC are complete dates (expected "
                                      + text(b["EXPECTED"]) + ")"))
    if not checked:
        raise NotApplicable("no SDTM dataset has a study-day variable with its date variable")
    return Checked(concat_findings(parts), tuple(dict.fromkeys(checked)))


# --------------------------------------------------------------------------------------------
# Visits against TV


def visits_in_tv(package: Package) -> Checked:
    """Planned visits use TV's VISITNUM/VISIT pair; visits not in TV (unscheduled) use no planned name."""
    (tv,) = _need(package, "TV")
    if not {"VISITNUM", "VISIT"} <= set(tv.columns):
        raise NotApplicable("TV has no VISITNUM or VISIT")
    planned = tv[["VISITNUM", "VISIT"]].dropna().drop_duplicates()
    planned = planned.assign(VISITNUM=pd.to_numeric(planned["VISITNUM"], errors="coerce"),
                             VISIT=planned["VISIT"].astype("string"))
    tv_name = planned.groupby("VISITNUM")["VISIT"].agg(lambda s: " / ".join(sorted(s)))
    tv_num = planned.groupby("VISIT")["VISITNUM"].agg(lambda s: " / ".join(text(s.sort_values())))
    pair_keys = pd.MultiIndex.from_arrays([planned["VISITNUM"], planned["VISIT"]])
    parts, checked = [], []
    for name in _sdtm(package, ("TV",)):
        frame = package.datasets[name]
        if "VISITNUM" not in frame or "VISIT" not in frame:
            continue
        checked.append(name)
        num = pd.to_numeric(frame["VISITNUM"], errors="coerce")
        visit = frame["VISIT"].astype("string")
        no_visit = blank(frame["VISIT"])
        in_tv = num.isin(planned["VISITNUM"])
        planned_name = visit.isin(planned["VISIT"]).fillna(False)
        pair_ok = pd.Series(pd.MultiIndex.from_arrays([num, visit.fillna("")]).isin(pair_keys), index=frame.index)
        def num_text(rows: pd.Index, num: pd.Series = num) -> pd.Series:
            return text(num[rows])

        def name_of(rows: pd.Index, num: pd.Series = num) -> pd.Series:
            return num[rows].map(tv_name).astype("string").fillna("")

        def visit_of(rows: pd.Index, visit: pd.Series = visit) -> pd.Series:
            return visit[rows].fillna("")

        checks: list[tuple[pd.Series, Callable[..., pd.Series]]] = [  # (mask, message for the masked
            # rows): messages are built only where the mask holds
            (in_tv & ~no_visit & ~pair_ok,
             lambda r: "VISIT '" + visit_of(r) + "' is not TV's name for VISITNUM " + num_text(r) + " ('"
             + name_of(r) + "')"),
            (in_tv & no_visit, lambda r: "VISIT is empty for planned VISITNUM " + num_text(r) + " (TV: '"
             + name_of(r) + "')"),
            (num.notna() & ~in_tv & planned_name,
             lambda r, visit=visit: "VISITNUM " + num_text(r) + " is not in TV, but VISIT '" + visit_of(r)
             + "' is a planned visit (TV VISITNUM " + visit[r].map(tv_num).astype("string").fillna("") + ")"),
            (num.isna() & planned_name, lambda r: "VISITNUM is empty for planned VISIT '" + visit_of(r) + "'"),
        ]
        for mask, message in checks:
            mask = mask.fillna(False).astype(bool)
            if mask.any():
                bad = frame[mask]
                parts.append(finding_frame(name, records(frame, mask), _usubjid(bad), "VISITNUM, VISIT",
                                           pairs(bad, ["VISITNUM", "VISIT"]), message(bad.index)))
    if not checked:
        raise NotApplicable("no SDTM dataset has VISITNUM and VISIT")
    return Checked(concat_findings(parts), tuple(checked))


# --------------------------------------------------------------------------------------------
# Arms and epochs against TA


def arms_in_ta(package: Package) -> Checked:
    """DM.ARMCD/ACTARMCD are TA.ARMCD values and DM.ARM/ACTARM are TA.ARM values (when populated)."""
    dm, ta = _need(package, "DM", "TA")
    parts = []
    for var, ta_var in (("ARMCD", "ARMCD"), ("ARM", "ARM"), ("ACTARMCD", "ARMCD"), ("ACTARM", "ARM")):
        if var not in dm or ta_var not in ta:
            continue
        allowed = set(ta[ta_var].dropna().astype(str))
        mask = ~blank(dm[var]) & ~dm[var].astype("string").isin(allowed).fillna(False)
        if mask.any():
            bad = dm[mask]
            parts.append(finding_frame("DM", records(dm, mask), _usubjid(bad), var, var + "=" + text(bad[var]),
                                       f"{var} '" + text(bad[var]) + f"' is not a TA.{ta_var} value"))
    return Checked(concat_findings(parts), ("DM",))


def epoch_in_ta(package: Package) -> Checked:
    """Every EPOCH value is one of TA's epochs."""
    (ta,) = _need(package, "TA")
    if "EPOCH" not in ta:
        raise NotApplicable("TA has no EPOCH")
    allowed = set(ta["EPOCH"].dropna().astype(str))
    parts, checked = [], []
    for name in _sdtm(package, ("TA",)):
        frame = package.datasets[name]
        if "EPOCH" not in frame:
            continue
        checked.append(name)
        mask = ~blank(frame["EPOCH"]) & ~frame["EPOCH"].astype("string").isin(allowed).fillna(False)
        if mask.any():
            bad = frame[mask]
            parts.append(finding_frame(name, records(frame, mask), _usubjid(bad), "EPOCH",
                                       "EPOCH=" + text(bad["EPOCH"]),
                                       "EPOCH '" + text(bad["EPOCH"]) + "' is not an epoch of TA"))
    if not checked:
        raise NotApplicable("no SDTM dataset has EPOCH")
    return Checked(concat_findings(parts), tuple(checked))


def _epoch_date_variable(name: str, frame: pd.DataFrame) -> str | None:
    prefix = name[:2]
    for candidate in (f"{prefix}DTC", f"{prefix}STDTC"):
        if candidate in frame.columns:
            return candidate
    return None


def epoch_matches_se(package: Package) -> Checked:
    """A record's EPOCH is the epoch of the SE element that covers its date (--DTC, else --STDTC).

    Dates are compared by their date part, with element start and end both inclusive (on the day
    one element ends and the next starts either epoch is accepted: SE dates without times cannot
    tell). Records with a partial date or no EPOCH are not checked.
    """
    se = package.get("SE")
    if se is None:
        raise NotApplicable("SE (Subject Elements) is not in the package, so EPOCH cannot be compared with each "
                            "subject's elements; EPOCH values are still checked against TA (XD-EPOCH-TA)")
    if not {"USUBJID", "SESTDTC", "EPOCH"} <= set(se.columns):
        raise NotApplicable("SE has no USUBJID, SESTDTC or EPOCH")
    elements = pd.DataFrame({"USUBJID": se["USUBJID"].astype("string"), "SE_EPOCH": se["EPOCH"].astype("string"),
                             "START": _dates(se["SESTDTC"]),
                             "END": _dates(se["SEENDTC"]) if "SEENDTC" in se else pd.NaT})
    elements = elements.dropna(subset=["USUBJID", "START"])
    subjects = set(elements["USUBJID"])
    parts, checked, not_applicable = [], [], {}
    for name in _sdtm(package, ("SE", "TA", "TE", "TV", "TI", "TS")):
        frame = package.datasets[name]
        if "EPOCH" not in frame or "USUBJID" not in frame:
            continue
        date_var = _epoch_date_variable(name, frame)
        if date_var is None:
            not_applicable[name] = f"{name} has no --DTC or --STDTC variable to place its records in SE elements"
            continue
        checked.append(name)
        work = pd.DataFrame({"USUBJID": frame["USUBJID"].astype("string"), "EPOCH": frame["EPOCH"].astype("string"),
                             "D": _dates(frame[date_var])}, index=frame.index)
        work = work[~blank(frame["EPOCH"]) & work["D"].notna()]
        if work.empty:
            continue
        keys = work.drop_duplicates(["USUBJID", "D"])[["USUBJID", "D"]]
        merged = keys.merge(elements, on="USUBJID", how="inner")
        covering = merged[(merged["START"] <= merged["D"]) & (merged["END"].isna() | (merged["D"] <= merged["END"]))]
        known = pd.MultiIndex.from_arrays([covering["USUBJID"], covering["D"], covering["SE_EPOCH"]])
        ok = pd.MultiIndex.from_arrays([work["USUBJID"], work["D"], work["EPOCH"]]).isin(known)
        bad = work[~ok]
        if bad.empty:
            continue
        bad_idx = bad.index
        epochs = (covering.drop_duplicates(["USUBJID", "D", "SE_EPOCH"]).sort_values("SE_EPOCH")
                  .groupby(["USUBJID", "D"])["SE_EPOCH"].agg(", ".join).rename("EXPECTED").reset_index())
        expected = (bad.rename_axis("_row").reset_index().merge(epochs, on=["USUBJID", "D"], how="left")
                    .set_index("_row")["EXPECTED"])
        expected = expected.astype("string").fillna("")
        day = bad["D"].dt.strftime("%Y-%m-%d")
        message = "EPOCH is '" + bad["EPOCH"] + "' but on " + day + " SE places the subject in " + expected
        no_element = expected.eq("")
        message = message.where(~no_element, "EPOCH is '" + bad["EPOCH"] + "' but no SE element of the subject covers "
                                + day)
        message = message.where(bad["USUBJID"].isin(subjects), "EPOCH is '" + bad["EPOCH"]
                                + "' but the subject has no SE records")
        mask = pd.Series(frame.index.isin(bad_idx), index=frame.index)
        rows = frame[mask]
        parts.append(finding_frame(name, records(frame, mask), rows["USUBJID"], f"EPOCH, {date_var}",
                                   pairs(rows, ["EPOCH", date_var]), message.reindex(rows.index)))
    if not checked and not not_applicable:
        raise NotApplicable("no SDTM dataset has EPOCH")
    return Checked(concat_findings(parts), tuple(checked), not_applicable)


# --------------------------------------------------------------------------------------------
# Trial summary


def _ts_values(ts: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"TSPARMCD": ts["TSPARMCD"].astype("string") if "TSPARMCD" in ts else pd.NA,
                        "TSVAL": ts["TSVAL"].astype("string") if "TSVAL" in ts else pd.NA,
                        "TSVALNF": ts["TSVALNF"].astype("string") if "TSVALNF" in ts else pd.NA}, index=ts.index)
    return out


def ts_study_start(package: Package) -> Checked:
    """TS is present and has SSTDTC with a complete ISO 8601 date."""
    if not package.sdtm_names:
        raise NotApplicable("the package has no SDTM datasets")
    ts = package.get("TS")
    if ts is None:
        return Checked(finding_frame("TS", None, None, None, None, "the TS (Trial Summary) dataset is missing; "
                                     "it must hold the study start date (TSPARMCD SSTDTC)"), ("TS",))
    values = _ts_values(ts)
    rows = values[values["TSPARMCD"].eq("SSTDTC").fillna(False)]
    if rows.empty:
        return Checked(finding_frame("TS", None, None, "TSPARMCD", "SSTDTC",
                                     "TS has no SSTDTC (Study Start Date) record"), ("TS",))
    good = _dates(rows["TSVAL"]).notna() & rows["TSVAL"].str.len().eq(10)
    if good.any():
        return Checked(no_findings(), ("TS",))
    mask = pd.Series(ts.index.isin(rows.index), index=ts.index)
    return Checked(finding_frame("TS", records(ts, mask), None, "TSPARMCD, TSVAL",
                                 pairs(ts[mask], ["TSPARMCD", "TSVAL"]),
                                 "SSTDTC is not a complete ISO 8601 date (YYYY-MM-DD)"), ("TS",))


def ts_fda_parameters(package: Package) -> Checked:
    """TS has a record (value or null flavor) for each parameter the FDA expects."""
    (ts,) = _need(package, "TS")
    values = _ts_values(ts)
    filled = values[~(blank(values["TSVAL"].fillna("")) & blank(values["TSVALNF"].fillna("")))]
    present = set(filled["TSPARMCD"].dropna())
    missing = [p for p in FDA_TS_PARAMETERS if p not in present]
    if not missing:
        return Checked(no_findings(), ("TS",))
    frame = pd.DataFrame({"p": missing})
    return Checked(finding_frame("TS", None, None, "TSPARMCD", "TSPARMCD=" + frame["p"],
                                 "TS has no " + frame["p"] + " record with TSVAL or TSVALNF", index=frame.index),
                   ("TS",))


# --------------------------------------------------------------------------------------------
# SUPP-- parents


def _key_text(series: pd.Series) -> pd.Series:
    return text(series).str.strip()


def supp_parents(package: Package) -> Checked:
    """SUPP-- records point to an existing parent: RDOMAIN present, IDVAR a parent variable, IDVARVAL a value
    of it on a record of the same subject (subject-level qualifiers: the subject is in the parent)."""
    supps = [n for n in package.sdtm_names if is_supp(n)]
    if not supps:
        raise NotApplicable("the package has no SUPP-- datasets")
    parts = []
    for name in supps:
        supp = package.datasets[name]
        need = {"RDOMAIN", "USUBJID"}
        if not need <= set(supp.columns):
            raise ValueError(f"{name} has no {', '.join(sorted(need - set(supp.columns)))}")
        idvar = supp["IDVAR"].astype("string").str.strip().fillna("") if "IDVAR" in supp else \
            pd.Series("", index=supp.index, dtype="string")
        idval = _key_text(supp["IDVARVAL"]) if "IDVARVAL" in supp else pd.Series("", index=supp.index, dtype="string")
        rdomain = supp["RDOMAIN"].astype("string").str.strip().fillna("")
        subject = supp["USUBJID"].astype("string")
        for dom in sorted(set(rdomain)):
            in_dom = rdomain.eq(dom)
            parent = package.get(dom) if dom else None
            if parent is None:
                mask = in_dom
                bad = supp[mask]
                parts.append(finding_frame(name, records(supp, mask), bad["USUBJID"], "RDOMAIN",
                                           "RDOMAIN=" + text(bad["RDOMAIN"]),
                                           f"parent dataset '{dom}' is not in the package"))
                continue
            parent_subjects = set(parent["USUBJID"].dropna().astype(str)) if "USUBJID" in parent else set()
            for var in sorted(set(idvar[in_dom])):
                group = in_dom & idvar.eq(var)
                if var == "":
                    mask = group & ~subject.isin(parent_subjects).fillna(False)
                    msg = f"subject is not in the parent dataset {dom}"
                elif var not in parent.columns:
                    mask = group
                    msg = f"IDVAR {var} is not a variable of {dom}"
                else:
                    if "USUBJID" not in parent:
                        raise ValueError(f"parent dataset {dom} has no USUBJID")
                    keys = pd.MultiIndex.from_arrays([parent["USUBJID"].astype("string"), _key_text(parent[var])])
                    hit = pd.Series(pd.MultiIndex.from_arrays([subject.fillna(""), idval.fillna("")]).isin(keys),
                                    index=supp.index)
                    mask = group & ~hit
                    msg = f"no {dom} record of this subject has {var} = the IDVARVAL"
                mask = mask.fillna(False).astype(bool)
                if mask.any():
                    bad = supp[mask]
                    cols = [c for c in ("RDOMAIN", "IDVAR", "IDVARVAL", "QNAM") if c in supp]
                    parts.append(finding_frame(name, records(supp, mask), bad["USUBJID"], ", ".join(cols),
                                               pairs(bad, cols), msg))
    return Checked(concat_findings(parts), tuple(supps))


# --------------------------------------------------------------------------------------------
# Registry

RULES: tuple[CrossRule, ...] = (
    CrossRule("XD-DM-PRESENT", "Reject", "the DM (Demographics) dataset is missing",
              "Include dm.xpt: every SDTM submission needs DM",
              "SDTMIG v3.4 section 5.2 (Demographics); FDA validator rule SD1020; CDISC CORE-000581 (CG0368)",
              dm_present),
    CrossRule("XD-USUBJID-DM", "Error", "a subject in this dataset is not in DM",
              "Every subject must have a DM record: add the subject to DM or correct USUBJID in this dataset",
              "SDTMIG v3.4 section 4.2.3 (USUBJID); FDA validator rule SD0064; CDISC CORE-000201 (CG0029)",
              usubjid_in_dm),
    CrossRule("XD-DY-CALC", "Error", "study day does not match the date and DM.RFSTDTC",
              "Derive --DY = date - RFSTDTC + 1 on or after RFSTDTC and date - RFSTDTC before it (no day 0)",
              "SDTMIG v3.4 section 4.4.4 (study day variables); FDA business rule FB1603; "
              "CDISC CORE-000529 (CG0006)", study_day_calculation),
    CrossRule("XD-DY-NODATE", "Error", "study day is populated although its date or DM.RFSTDTC is not complete",
              "Leave --DY empty when the date or RFSTDTC lacks day, month or year",
              "SDTMIG v3.4 section 4.4.4 (study day variables); CDISC CORE-000354 (CG0007)",
              study_day_without_dates),
    CrossRule("XD-DY-MISSING", "Warning", "study day is empty although the date and DM.RFSTDTC are complete",
              "Derive --DY whenever the date and RFSTDTC are complete dates",
              "SDTMIG v3.4 section 4.4.4 (study day variables); CDISC CORE-000853", study_day_missing),
    CrossRule("XD-VISIT-TV", "Error", "visit number and name do not match the Trial Visits (TV) dataset",
              "Use TV's VISITNUM and VISIT for planned visits; give unscheduled visits a VISITNUM not in TV and "
              "no planned visit name",
              "SDTMIG v3.4 section 4.4.5 (clinical encounters and visits); CDISC CORE-000270 (CG0033), "
              "CORE-000269 (CG0031), CORE-000361 (CG0035, FB0919)", visits_in_tv),
    CrossRule("XD-ARM-TA", "Error", "arm code or arm name is not in the Trial Arms (TA) dataset",
              "Populate ARMCD/ARM and ACTARMCD/ACTARM with TA values, or leave them empty and give ARMNRS",
              "SDTMIG v3.4 section 5.2 (DM assumption 4); FDA validator rule SD0066; CDISC CORE-000210 (CG0516), "
              "CORE-000208 (CG0512), CORE-000047 (CG0518), CORE-000209 (CG0514)", arms_in_ta),
    CrossRule("XD-EPOCH-TA", "Error", "EPOCH is not an epoch of the Trial Arms (TA) dataset",
              "Use the EPOCH values defined in TA",
              "SDTMIG v3.4 section 4.1.3.1 (EPOCH variable guidance); CDISC CORE-000271 (CG0009)", epoch_in_ta),
    CrossRule("XD-EPOCH-SE", "Error", "EPOCH does not match the subject's element (SE) on the record's date",
              "Derive EPOCH from the subject's SE elements at the record's date (--DTC for findings, --STDTC "
              "for events and interventions), or correct SE",
              "SDTMIG v3.4 section 4.1.3.1 (EPOCH variable guidance) and section 5.3 (Subject Elements); "
              "CDISC CORE-000097", epoch_matches_se),
    CrossRule("XD-TS-SSTDTC", "Reject", "TS is missing or has no valid study start date (SSTDTC)",
              "Add a TS record TSPARMCD = SSTDTC with TSVAL the earliest informed consent date (YYYY-MM-DD)",
              "FDA Technical Rejection Criteria for Study Data, rule 1734 (TS with SSTDTC); FDA validator rule SD1115 "
              "(missing TS); SDTMIG v3.4 section 7.4.2; CDISC CORE-000505 (CG0285)", ts_study_start),
    CrossRule("XD-TS-FDA", "Warning", "a trial summary parameter the FDA expects is missing from TS",
              "Add the parameter to the spec's TS sheet with a value, or TSVALNF when it does not apply",
              "FDA Study Data Technical Conformance Guide (Trial Summary); SDTMIG v3.4 section 7.4.2 assumption 2",
              ts_fda_parameters),
    CrossRule("XD-SUPP-PARENT", "Error", "supplemental qualifier does not point to an existing parent record",
              "Correct RDOMAIN, IDVAR or IDVARVAL so that they identify a record of the parent dataset, "
              "or drop the orphan qualifier",
              "SDTMIG v3.4 section 8.4 (supplemental qualifiers); CDISC CORE-000206 (CG0371), "
              "CORE-000712 (CG0370), CORE-000457 (CG0373)", supp_parents),
)

__all__ = ["FDA_TS_PARAMETERS", "RULES", "arms_in_ta", "dm_present", "epoch_in_ta", "epoch_matches_se",
           "study_day_calculation", "study_day_missing", "study_day_pairs", "study_day_without_dates",
           "supp_parents", "ts_fda_parameters", "ts_study_start", "usubjid_in_dm", "visits_in_tv"]
