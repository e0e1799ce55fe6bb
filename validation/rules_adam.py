"""ADaM rules: ADSL one record per subject and consistent with DM, subjects in ADSL, BASE/CHG
arithmetic in BDS datasets, and datapoint traceability back to the SDTM (or ADaM) source records.

Same conventions as :mod:`validation.rules_cross`: vectorised functions ``Package -> Checked``,
registered in :data:`RULES` with id, severity, message, fix and citation (ADaMIG v1.3 section or
table; the ADaM conformance rules are cited by ADaMIG section because their numbered ids could
not be verified here).
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
    close,
    concat_findings,
    finding_frame,
    is_adam,
    is_supp,
    no_findings,
    pairs,
    records,
    text,
)

#: DM variables that ADSL carries unchanged when it has them (ADaMIG v1.3 Table 3.2.1 notes "DM.x").
DM_COPIED = ("STUDYID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "RACE", "ETHNIC", "COUNTRY", "ARM", "ARMCD",
             "ACTARM", "ACTARMCD", "RFSTDTC", "RFENDTC", "RFXSTDTC", "RFXENDTC", "RFICDTC", "RFPENDTC", "DTHDTC",
             "DTHFL", "BRTHDTC", "INVID", "INVNAM")


def _adam(package: Package) -> list[str]:
    names = package.adam_names
    if not names:
        raise NotApplicable("the package has no ADaM datasets")
    return names


def _bds(package: Package, needed: set[str]) -> list[str]:
    """ADaM datasets other than ADSL that have PARAMCD and every variable in ``needed``."""
    return [n for n in _adam(package) if n != "ADSL" and {"USUBJID", "PARAMCD", *needed} <= set(package.datasets[n])]


def adsl_one_record_per_subject(package: Package) -> Checked:
    """ADSL exists in an ADaM package and has one record per USUBJID."""
    _adam(package)
    adsl = package.get("ADSL")
    if adsl is None:
        return Checked(finding_frame("ADSL", None, None, None, None, "the ADSL dataset is missing; every ADaM "
                                     "submission needs the subject-level analysis dataset"), ("ADSL",))
    if "USUBJID" not in adsl:
        raise ValueError("ADSL has no USUBJID column")
    mask = adsl["USUBJID"].duplicated(keep=False) & ~blank(adsl["USUBJID"])
    if not mask.any():
        return Checked(no_findings(), ("ADSL",))
    bad = adsl[mask]
    counts = adsl["USUBJID"].map(adsl["USUBJID"].value_counts())[mask]
    return Checked(finding_frame("ADSL", records(adsl, mask), bad["USUBJID"], "USUBJID",
                                 "USUBJID=" + text(bad["USUBJID"]),
                                 "subject has " + text(counts) + " ADSL records; ADSL has one record per subject"),
                   ("ADSL",))


def adsl_matches_dm(package: Package) -> Checked:
    """Every ADSL subject is in DM, and variables ADSL copies from DM hold DM's values."""
    adsl, dm = package.get("ADSL"), package.get("DM")
    if adsl is None or dm is None:
        raise NotApplicable("ADSL and DM are both needed" + ("" if adsl is not None else "; ADSL is not in the package")
                            + ("" if dm is not None else "; DM is not in the package"))
    parts = []
    in_dm = adsl["USUBJID"].astype("string").isin(set(dm["USUBJID"].dropna().astype(str))).fillna(False)
    mask = ~in_dm & ~blank(adsl["USUBJID"])
    if mask.any():
        bad = adsl[mask]
        parts.append(finding_frame("ADSL", records(adsl, mask), bad["USUBJID"], "USUBJID",
                                   "USUBJID=" + text(bad["USUBJID"]), "subject " + text(bad["USUBJID"])
                                   + " is in ADSL but not in DM"))
    dm_one = dm.drop_duplicates("USUBJID").set_index("USUBJID")
    for var in DM_COPIED:
        if var not in adsl or var not in dm_one:
            continue
        expected = adsl["USUBJID"].map(dm_one[var])
        left, right = adsl[var], expected
        if pd.api.types.is_numeric_dtype(left.dtype) and pd.api.types.is_numeric_dtype(right.dtype):
            same = close(left, right) | (left.isna() & right.isna())
        else:
            same = text(left).str.strip().eq(text(right).str.strip())
        mask = in_dm & ~same.fillna(False).astype(bool)
        if mask.any():
            bad = adsl[mask]
            parts.append(finding_frame("ADSL", records(adsl, mask), bad["USUBJID"], var,
                                       "ADSL " + var + "=" + text(bad[var]) + ", DM " + var + "="
                                       + text(expected[mask]),
                                       f"ADSL.{var} differs from DM.{var} for this subject"))
    return Checked(concat_findings(parts), ("ADSL",))


def usubjid_in_adsl(package: Package) -> Checked:
    """Every subject of an ADaM dataset other than ADSL is in ADSL."""
    others = [n for n in _adam(package) if n != "ADSL" and "USUBJID" in package.datasets[n]]
    if not others:
        raise NotApplicable("the package has no ADaM dataset other than ADSL")
    adsl = package.get("ADSL")
    if adsl is None:
        raise NotApplicable("ADSL is not in the package (reported by AD-ADSL-ONE)")
    subjects = set(adsl["USUBJID"].dropna().astype(str))
    parts = []
    for name in others:
        frame = package.datasets[name]
        mask = ~blank(frame["USUBJID"]) & ~frame["USUBJID"].astype("string").isin(subjects).fillna(False)
        if mask.any():
            bad = frame[mask]
            parts.append(finding_frame(name, records(frame, mask), bad["USUBJID"], "USUBJID",
                                       "USUBJID=" + text(bad["USUBJID"]),
                                       "subject " + text(bad["USUBJID"]) + " is not in ADSL"))
    return Checked(concat_findings(parts), tuple(others))


def _baseline_keys(frame: pd.DataFrame) -> list[str]:
    return ["USUBJID", "PARAMCD"] + (["BASETYPE"] if "BASETYPE" in frame else [])


def base_equals_baseline_aval(package: Package) -> Checked:
    """One ABLFL = Y record per subject, parameter (and BASETYPE); BASE equals that record's AVAL."""
    names = _bds(package, {"BASE", "AVAL", "ABLFL"})
    if not names:
        raise NotApplicable("no ADaM dataset has USUBJID, PARAMCD, AVAL, BASE and ABLFL")
    parts = []
    for name in names:
        frame = package.datasets[name]
        keys = _baseline_keys(frame)
        groups = [frame[k].astype("string").fillna("") for k in keys]
        is_base = frame["ABLFL"].astype("string").eq("Y").fillna(False)
        n_base = is_base.astype(int).groupby(groups, dropna=False).transform("sum")
        aval = pd.to_numeric(frame["AVAL"], errors="coerce")
        base_aval = aval.where(is_base).groupby(groups, dropna=False).transform("max")
        base = pd.to_numeric(frame["BASE"], errors="coerce")
        checks = (  # (mask, message built for the masked records only)
            (is_base & n_base.gt(1),
             lambda r: "more than one baseline record (ABLFL = Y) for this subject and parameter"),
            (base.notna() & n_base.eq(1) & base_aval.notna() & ~close(base, base_aval),
             lambda r, base=base, base_aval=base_aval: "BASE is " + text(base[r])
             + " but AVAL on the baseline record (ABLFL = Y) is " + text(base_aval[r])),
            (base.notna() & n_base.eq(1) & base_aval.isna(),
             lambda r: "BASE is populated but AVAL on the baseline record (ABLFL = Y) is empty"),
            (base.notna() & n_base.eq(0),
             lambda r: "BASE is populated but the subject has no baseline record (ABLFL = Y) for this parameter"),
        )
        for mask, message in checks:
            mask = mask.fillna(False).astype(bool)
            if mask.any():
                bad = frame[mask]
                parts.append(finding_frame(name, records(frame, mask), bad["USUBJID"], "BASE, AVAL, ABLFL",
                                           pairs(bad, keys + ["ABLFL", "AVAL", "BASE"]), message(bad.index)))
    return Checked(concat_findings(parts), tuple(names))


def change_from_baseline(package: Package) -> Checked:
    """CHG = AVAL - BASE wherever CHG is populated (and AVAL and BASE are)."""
    names = _bds(package, {"CHG", "AVAL", "BASE"})
    if not names:
        raise NotApplicable("no ADaM dataset has USUBJID, PARAMCD, AVAL, BASE and CHG")
    parts = []
    for name in names:
        frame = package.datasets[name]
        expected = pd.to_numeric(frame["AVAL"], errors="coerce") - pd.to_numeric(frame["BASE"], errors="coerce")
        chg = pd.to_numeric(frame["CHG"], errors="coerce")
        wrong = chg.notna() & expected.notna() & ~close(chg, expected)
        orphan = chg.notna() & expected.isna()
        for mask, message in ((wrong, lambda r, chg=chg, expected=expected: "CHG is " + text(chg[r])
                               + " but AVAL - BASE is " + text(expected[r])),
                              (orphan, lambda r: "CHG is populated but AVAL or BASE is empty")):
            mask = mask.fillna(False).astype(bool)
            if mask.any():
                bad = frame[mask]
                parts.append(finding_frame(name, records(frame, mask), bad["USUBJID"], "CHG, AVAL, BASE",
                                           pairs(bad, ["PARAMCD", "AVAL", "BASE", "CHG"]), message(bad.index)))
    return Checked(concat_findings(parts), tuple(names))


def _seq_variable(source: str, frame: pd.DataFrame) -> str | None:
    for name in (f"{source}SEQ", f"{source[:2]}SEQ", "ASEQ"):
        if name in frame.columns:
            return name
    return None


def traceable_to_source(package: Package) -> Checked:
    """SRCDOM/SRCVAR/SRCSEQ (and SDTM --SEQ variables carried into ADaM) resolve to a source record.

    SRCDOM must name a dataset of the package, SRCVAR one of its variables (or, for SUPP--, a
    QNAM), and SRCSEQ (or a carried --SEQ such as LBSEQ) the sequence number of a record of the same
    subject in it.
    """
    names = _adam(package)
    parts, checked, not_applicable = [], [], {}
    no_sdtm = not package.sdtm_names
    for name in names:
        frame = package.datasets[name]
        if "USUBJID" not in frame:
            continue
        subject = frame["USUBJID"].astype("string")
        if "SRCDOM" in frame:
            checked.append(name)
            srcdom = frame["SRCDOM"].astype("string").str.strip().fillna("")
            for dom in sorted(set(srcdom) - {""}):
                rows = srcdom.eq(dom)
                source = package.get(dom)
                if source is None and no_sdtm and not is_adam(dom):
                    not_applicable[name] = ("the package has no SDTM datasets, so SRCDOM/SRCSEQ pointing to SDTM "
                                            "cannot be resolved; validate the ADaM with its SDTM")
                    continue
                if source is None:
                    parts.append(_trace(name, frame, rows, f"SRCDOM {dom} is not a dataset of the package"))
                    continue
                if "SRCVAR" in frame:
                    var = frame["SRCVAR"].astype("string").str.strip().fillna("")
                    known = set(source.columns) | (set(source["QNAM"].dropna().astype(str))
                                                   if is_supp(dom) and "QNAM" in source else set())
                    parts.append(_trace(name, frame, rows & var.ne("") & ~var.isin(known).fillna(False),
                                        lambda r, v=var, d=dom: "SRCVAR " + v[r] + f" is not a variable of {d}"))
                if "SRCSEQ" in frame:
                    seq = pd.to_numeric(frame["SRCSEQ"], errors="coerce")
                    seq_var = _seq_variable(dom, source)
                    if seq_var is None or "USUBJID" not in source:
                        parts.append(_trace(name, frame, rows & seq.notna(),
                                            f"{dom} has no sequence variable (or USUBJID) for SRCSEQ to point to"))
                        continue
                    keys = pd.MultiIndex.from_arrays([source["USUBJID"].astype("string"),
                                                      pd.to_numeric(source[seq_var], errors="coerce")])
                    hit = pd.MultiIndex.from_arrays([subject, seq]).isin(keys)
                    parts.append(_trace(name, frame, rows & seq.notna() & ~pd.Series(hit, index=frame.index),
                                        f"no {dom} record of this subject has {seq_var} = SRCSEQ"))
        for col in frame.columns:  # SDTM --SEQ carried into the ADaM dataset (ADaMIG 3.3.9, last paragraph)
            col = str(col)
            dom = col[:-3]
            if not (col.endswith("SEQ") and len(col) == 5 and dom != "AS" and package.get(dom) is not None
                    and not is_adam(dom)):
                continue
            source = package.datasets[dom]
            if col not in source or "USUBJID" not in source:
                continue
            checked.append(name)
            seq = pd.to_numeric(frame[col], errors="coerce")
            keys = pd.MultiIndex.from_arrays([source["USUBJID"].astype("string"),
                                              pd.to_numeric(source[col], errors="coerce")])
            seq_hit = pd.Series(pd.MultiIndex.from_arrays([subject, seq]).isin(keys), index=frame.index)
            parts.append(_trace(name, frame, seq.notna() & ~seq_hit,
                                lambda r, s_=seq, d=dom, c=col: f"no {d} record of this subject has {c} = "
                                + text(s_[r]),
                                variables=col))
    if not checked:
        raise NotApplicable("no ADaM dataset carries SRCDOM/SRCSEQ or an SDTM --SEQ variable")
    ran = tuple(n for n in dict.fromkeys(checked) if n not in not_applicable)
    return Checked(concat_findings(parts), ran, not_applicable)


def _trace(name: str, frame: pd.DataFrame, mask: pd.Series, message: str | Callable[..., pd.Series],
           variables: str = "SRCDOM, SRCVAR, SRCSEQ") -> pd.DataFrame:
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return no_findings()
    bad = frame[mask]
    cols = [c for c in variables.split(", ") if c in frame]
    msg = message(bad.index) if callable(message) else message
    return finding_frame(name, records(frame, mask), bad["USUBJID"], ", ".join(cols), pairs(bad, cols), msg)


RULES: tuple[CrossRule, ...] = (
    CrossRule("AD-ADSL-ONE", "Error", "ADSL is missing or has more than one record for a subject",
              "Provide ADSL with exactly one record per subject",
              "ADaMIG v1.3 section 3.2 (ADSL: one record per subject; required in every ADaM submission)",
              adsl_one_record_per_subject),
    CrossRule("AD-ADSL-DM", "Error", "ADSL disagrees with DM",
              "Take ADSL's copies of DM variables (AGE, SEX, ARM, RFSTDTC, ...) from DM unchanged and include only "
              "DM subjects",
              "ADaMIG v1.3 section 3.2 and Table 3.2.1 (ADSL variables copied from DM)", adsl_matches_dm),
    CrossRule("AD-USUBJID-ADSL", "Error", "a subject of this ADaM dataset is not in ADSL",
              "Add the subject to ADSL or correct USUBJID",
              "ADaMIG v1.3 section 3.2 (USUBJID links ADSL to every other dataset)", usubjid_in_adsl),
    CrossRule("AD-BASE-ABLFL", "Error", "BASE does not equal AVAL of the baseline record (ABLFL = Y)",
              "Derive BASE from the single record flagged ABLFL = Y for the subject, parameter and BASETYPE",
              "ADaMIG v1.3 Table 3.3.4.1.1 (BASE: AVAL copied from the record on which ABLFL = \"Y\") and "
              "Table 3.3.8.1 (ABLFL: one baseline record per subject, parameter and BASETYPE)",
              base_equals_baseline_aval),
    CrossRule("AD-CHG", "Error", "CHG is not AVAL - BASE",
              "Derive CHG = AVAL - BASE on every record where both are present, and leave it empty otherwise",
              "ADaMIG v1.3 Table 3.3.4.1.1 (CHG: change from baseline, equal to AVAL - BASE)", change_from_baseline),
    CrossRule("AD-TRACE", "Error", "the analysis value cannot be traced to its source record",
              "Correct SRCDOM/SRCVAR/SRCSEQ (or the carried --SEQ) so they name an existing record of the source "
              "dataset for the same subject",
              "ADaMIG v1.3 section 3.3.9 (datapoint traceability variables) and section 2.2 (traceability)",
              traceable_to_source),
)

__all__ = ["DM_COPIED", "RULES", "adsl_matches_dm", "adsl_one_record_per_subject", "base_equals_baseline_aval",
           "change_from_baseline", "traceable_to_source", "usubjid_in_adsl"]
