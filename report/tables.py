"""The review report's numbers, as small pure functions over the SDTM/ADaM frames.

* :func:`derive_disposition` — screened, randomized, treated, completed, discontinued by reason, per arm (DM, DS)
* :func:`derive_population_counts` — ADSL population flags per planned treatment
* :func:`derive_completeness` — per scheduled visit and assessment, the % of subjects seen at the visit
  who have a result (SV and the findings domains)
* :func:`summarise_by_visit` — n, mean and standard error of an ADaM parameter by arm and analysis visit
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NOT_RANDOMIZED = "Not randomized"
TOTAL = "Total"
#: Findings-class domains that are not assessments planned at a visit (IE lists only criteria not met).
NOT_ASSESSMENTS = frozenset({"IE", "TI", "TS"})
#: A domain with more tests than this is shown by --CAT (a questionnaire), otherwise test by test.
MAX_TESTS_PER_DOMAIN = 12


def _per_visit(counts: pd.Series, key: object, nums: np.ndarray) -> np.ndarray:
    """The counts of one key of a (key, VISITNUM) count series, per visit of ``nums`` (0 where absent)."""
    part = counts.get(key)
    if not isinstance(part, pd.Series):
        part = pd.Series(dtype=int)
    return part.reindex(nums, fill_value=0).to_numpy()


def _blank(series: pd.Series) -> pd.Series:
    return series.isna() | (series.astype("string").str.strip().fillna("") == "")


def _arm_of(dm: pd.DataFrame) -> pd.Series:
    """Planned arm per USUBJID ('Not randomized' when ARM is blank)."""
    arm = dm["ARM"].astype("string").str.strip() if "ARM" in dm else pd.Series(pd.NA, index=dm.index, dtype="string")
    arm = arm.mask(_blank(arm), NOT_RANDOMIZED)
    return pd.Series(arm.to_numpy(), index=dm["USUBJID"].to_numpy(), name="ARM")


def _arm_order(arms: pd.Series) -> list[str]:
    named = sorted(a for a in arms.unique() if a != NOT_RANDOMIZED)
    return named + ([NOT_RANDOMIZED] if (arms == NOT_RANDOMIZED).any() else [])


def last_disposition(ds: pd.DataFrame) -> pd.Series:
    """USUBJID -> DSDECOD of the subject's latest DSCAT 'DISPOSITION EVENT' record (by DSSTDTC, then DSSEQ)."""
    events = ds[ds["DSCAT"].astype("string") == "DISPOSITION EVENT"]
    sort = [c for c in ("USUBJID", "DSSTDTC", "DSSEQ") if c in events]
    last = events.sort_values(sort, kind="stable").groupby("USUBJID", sort=True).tail(1)
    return pd.Series(last["DSDECOD"].astype("string").to_numpy(), index=last["USUBJID"].to_numpy(), name="DSDECOD")


def derive_disposition(dm: pd.DataFrame, ds: pd.DataFrame | None) -> pd.DataFrame:
    """Subject counts per planned arm (columns, plus Total) for each disposition row.

    Screened: every DM subject. Randomized: a DS RANDOMIZED milestone (or, without DS, a planned arm).
    Treated: RFXSTDTC given. Completed / Screen failure / Discontinued: the subject's last DS
    disposition event (COMPLETED, SCREEN FAILURE, anything else as 'Discontinued: <DSDECOD>').
    Ongoing: randomized with no disposition event yet.
    """
    arm = _arm_of(dm)
    subjects = pd.DataFrame({"ARM": arm})
    subjects["Screened"] = True
    if ds is not None and "DSDECOD" in ds:
        randomized = set(ds.loc[ds["DSDECOD"].astype("string") == "RANDOMIZED", "USUBJID"])
        subjects["Randomized"] = subjects.index.isin(list(randomized))
        last = last_disposition(ds).reindex(subjects.index)
    else:
        subjects["Randomized"] = subjects["ARM"] != NOT_RANDOMIZED
        last = pd.Series(pd.NA, index=subjects.index, dtype="string")
    rfx = dm.set_index("USUBJID")["RFXSTDTC"] if "RFXSTDTC" in dm else pd.Series(pd.NA, index=subjects.index)
    subjects["Treated"] = ~_blank(rfx.reindex(subjects.index))
    subjects["Completed"] = last == "COMPLETED"
    subjects["Screen failure"] = last == "SCREEN FAILURE"
    reasons = sorted(r for r in last.dropna().unique() if r not in ("COMPLETED", "SCREEN FAILURE"))
    discontinued = last.notna() & ~last.isin(["COMPLETED", "SCREEN FAILURE"])
    subjects["Discontinued"] = discontinued
    for reason in reasons:
        subjects[f"Discontinued: {reason}"] = last == reason
    subjects["Ongoing"] = subjects["Randomized"] & last.isna()
    rows = [c for c in subjects.columns if c != "ARM"]
    counts = subjects.groupby("ARM")[rows].sum().T.astype(int)
    counts = counts.reindex(columns=_arm_order(subjects["ARM"]), fill_value=0)
    counts[TOTAL] = subjects[rows].sum().astype(int)
    counts.index.name = "Subjects"
    return counts


def derive_population_counts(adsl: pd.DataFrame) -> pd.DataFrame:
    """Subjects with each ADSL population flag (--FL = 'Y' among RANDFL, ITTFL, SAFFL, EFFFL, COMPLFL) per TRT01P."""
    flags = [c for c in ("RANDFL", "ITTFL", "SAFFL", "EFFFL", "COMPLFL") if c in adsl]
    arm_col = "TRT01P" if "TRT01P" in adsl else "ARM"
    arm = adsl[arm_col].astype("string").str.strip()
    arm = arm.mask(_blank(arm), NOT_RANDOMIZED)
    data = pd.DataFrame({f: (adsl[f].astype("string") == "Y").to_numpy() for f in flags}, index=adsl.index)
    data["ARM"] = arm.to_numpy()
    counts = data.groupby("ARM")[flags].sum().T.astype(int).reindex(columns=_arm_order(data["ARM"]), fill_value=0)
    counts[TOTAL] = data[flags].sum().astype(int)
    counts.index.name = "Population (ADSL)"
    return counts


def scheduled_visits(sv: pd.DataFrame) -> pd.DataFrame:
    """VISITNUM and VISIT of the planned visits in SV (SVPRESP = 'Y', or whole visit numbers), in order."""
    planned = sv["SVPRESP"].astype("string") == "Y" if "SVPRESP" in sv else sv["VISITNUM"] % 1 == 0
    visits = sv.loc[planned, ["VISITNUM", "VISIT"]].drop_duplicates("VISITNUM").sort_values("VISITNUM")
    return visits.reset_index(drop=True)


def _assessment_key(domain: str, frame: pd.DataFrame) -> pd.Series:
    testcd, cat = f"{domain}TESTCD", f"{domain}CAT"
    if frame[testcd].nunique() > MAX_TESTS_PER_DOMAIN and cat in frame and not _blank(frame[cat]).all():
        key = frame[cat].astype("string").fillna(frame[testcd].astype("string"))
    else:
        key = frame[testcd].astype("string")
    return domain + " " + key


def findings_domains(sdtm: dict[str, pd.DataFrame]) -> list[str]:
    """SDTM datasets holding findings collected at visits (a --TESTCD, --ORRES and VISITNUM column)."""
    return [name for name, frame in sorted(sdtm.items())
            if name not in NOT_ASSESSMENTS and not name.startswith("SUPP")
            and {f"{name}TESTCD", f"{name}ORRES", "VISITNUM", "USUBJID"} <= set(frame.columns)]


def derive_completeness(sv: pd.DataFrame, findings: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(percent, counts) per assessment (rows) and scheduled visit (columns).

    The denominator is the subjects whose visit took place (SV record with SVOCCUR not 'N'); the
    numerator those of them with at least one result of the assessment at that visit (--ORRES given,
    --STAT not 'NOT DONE'). An assessment no subject has at a visit is NaN (not collected then). The
    first row, 'SV visit done', is visits done / visits planned in SV. Counts are 'n/N' strings.
    """
    visits = scheduled_visits(sv)
    columns = list(visits["VISIT"])
    occurred = sv["SVOCCUR"].astype("string") != "N" if "SVOCCUR" in sv else pd.Series(True, index=sv.index)
    seen = sv.loc[occurred, ["USUBJID", "VISITNUM"]].drop_duplicates()
    denominators = seen.groupby("VISITNUM").size()
    planned = sv[["USUBJID", "VISITNUM"]].drop_duplicates().groupby("VISITNUM").size()
    pct_rows, n_rows = {}, {}
    nums = visits["VISITNUM"].to_numpy()
    done = denominators.reindex(nums, fill_value=0).to_numpy()
    plan = planned.reindex(nums, fill_value=0).to_numpy()
    pct_rows["SV visit done"] = np.where(plan > 0, 100.0 * done / np.maximum(plan, 1), np.nan)
    n_rows["SV visit done"] = [f"{d}/{p}" for d, p in zip(done, plan)]
    for domain, frame in sorted(findings.items()):
        has = ~_blank(frame[f"{domain}ORRES"])
        if f"{domain}STAT" in frame:
            has &= frame[f"{domain}STAT"].astype("string").fillna("") != "NOT DONE"
        records = pd.DataFrame({"KEY": _assessment_key(domain, frame), "USUBJID": frame["USUBJID"],
                                "VISITNUM": frame["VISITNUM"], "HAS": has})
        any_record = records.groupby(["KEY", "VISITNUM"]).size()
        with_result = (records[records["HAS"]].merge(seen, on=["USUBJID", "VISITNUM"])
                       .drop_duplicates(["KEY", "USUBJID", "VISITNUM"]).groupby(["KEY", "VISITNUM"]).size())
        for key in sorted(records["KEY"].unique()):
            n = _per_visit(with_result, key, nums)
            collected = _per_visit(any_record, key, nums) > 0
            pct_rows[key] = np.where(collected & (done > 0), 100.0 * n / np.maximum(done, 1), np.nan)
            n_rows[key] = [f"{a}/{d}" if c else "" for a, d, c in zip(n, done, collected)]
    percent = pd.DataFrame(pct_rows, index=columns).T
    counts = pd.DataFrame(n_rows, index=columns).T
    percent.index.name = counts.index.name = "Assessment"
    return percent, counts


def summarise_by_visit(frame: pd.DataFrame, param: str, value: str = "AVAL") -> pd.DataFrame:
    """n, mean, sd and standard error of ``value`` for PARAMCD ``param`` by arm (TRTP) and analysis visit.

    Records count when AVISITN is given, ``value`` is not missing and, where the dataset has it,
    ANL01FL = 'Y' (one record per subject and window). Rows are sorted by arm and AVISITN.
    """
    records = frame[frame["PARAMCD"].astype("string") == param]
    if "ANL01FL" in records:
        records = records[records["ANL01FL"].astype("string") == "Y"]
    arm_col = next(c for c in ("TRTP", "TRTA", "TRT01P", "ARM") if c in records)
    records = records[records["AVISITN"].notna() & records[value].notna()]
    grouped = records.groupby([arm_col, "AVISITN"], sort=True)
    summary = grouped.agg(AVISIT=("AVISIT", "first"), n=(value, "size"), mean=(value, "mean"), sd=(value, "std"))
    summary["se"] = summary["sd"] / np.sqrt(summary["n"])
    summary = summary.reset_index().rename(columns={arm_col: "ARM"})
    return summary[["ARM", "AVISITN", "AVISIT", "n", "mean", "sd", "se"]]
