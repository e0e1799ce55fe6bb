"""SDTM rules across datasets (validation.rules_cross): each fires on a planted defect, stays silent
on clean hand-made frames, and says "not applicable" (with the reason) when a dataset is missing."""

from __future__ import annotations

import pandas as pd

from subgen.core.conformance.outcomes import EXECUTION_ERROR, ISSUES, NOT_APPLICABLE, PASSED
from validation import rules_cross
from validation.rulebase import Checked, CrossRule, Package, finding_frame, run_rule

RULES = {r.id: r for r in rules_cross.RULES}


def dm() -> pd.DataFrame:
    return pd.DataFrame({
        "STUDYID": ["S"] * 3, "DOMAIN": ["DM"] * 3, "USUBJID": ["S-1", "S-2", "S-3"],
        "RFSTDTC": ["2024-01-10T09:00", "2024-02-01", ""],
        "ARMCD": ["A", "B", ""], "ARM": ["Drug", "Placebo", ""], "ACTARMCD": ["A", "B", ""],
        "ACTARM": ["Drug", "Placebo", ""], "DMDTC": ["2024-01-02", "2024-01-20", "2024-01-25"],
        "DMDY": [-8.0, -12.0, None]})


def ta() -> pd.DataFrame:
    return pd.DataFrame({"STUDYID": ["S"] * 4, "ARMCD": ["A", "A", "B", "B"],
                         "ARM": ["Drug", "Drug", "Placebo", "Placebo"], "TAETORD": [1.0, 2.0, 1.0, 2.0],
                         "EPOCH": ["SCREENING", "TREATMENT", "SCREENING", "TREATMENT"]})


def tv() -> pd.DataFrame:
    return pd.DataFrame({"STUDYID": ["S"] * 3, "VISITNUM": [1.0, 2.0, 3.0], "VISIT": ["SCREENING", "DAY 1", "WEEK 4"]})


def lb() -> pd.DataFrame:
    """Study days worked out by hand against DM.RFSTDTC (S-1: 2024-01-10, S-2: 2024-02-01, S-3: none)."""
    return pd.DataFrame({
        "STUDYID": ["S"] * 6, "DOMAIN": ["LB"] * 6,
        "USUBJID": ["S-1", "S-1", "S-1", "S-2", "S-2", "S-3"], "LBSEQ": [1.0, 2.0, 3.0, 1.0, 2.0, 1.0],
        "VISITNUM": [1.0, 2.0, 2.01, 2.0, 3.0, 1.0],
        "VISIT": ["SCREENING", "DAY 1", "UNSCHEDULED", "DAY 1", "WEEK 4", "SCREENING"],
        "EPOCH": ["SCREENING", "TREATMENT", "TREATMENT", "TREATMENT", "TREATMENT", "SCREENING"],
        # 2024-01-09 is the day before RFSTDTC: -1; 2024-01-10: 1; 2024-02-09: 31; 2024-02-01: 1; 2024-02-29: 29
        "LBDTC": ["2024-01-09", "2024-01-10T08:00", "2024-02-09", "2024-02-01", "2024-02-29", "2024-01-20"],
        "LBDY": [-1.0, 1.0, 31.0, 1.0, 29.0, None]})


def se() -> pd.DataFrame:
    return pd.DataFrame({"STUDYID": ["S"] * 5, "USUBJID": ["S-1", "S-1", "S-2", "S-2", "S-3"],
                         "ETCD": ["SCRN", "A", "SCRN", "B", "SCRN"],
                         "EPOCH": ["SCREENING", "TREATMENT", "SCREENING", "TREATMENT", "SCREENING"],
                         "SESTDTC": ["2024-01-02", "2024-01-10", "2024-01-20", "2024-02-01", "2024-01-15"],
                         "SEENDTC": ["2024-01-10", "", "2024-02-01", "", "2024-01-25"]})


def ts(**overrides) -> pd.DataFrame:
    params = {p: "x" for p in rules_cross.FDA_TS_PARAMETERS}
    params["SSTDTC"] = "2024-01-02"
    params.update(overrides)
    return pd.DataFrame({"STUDYID": "S", "TSSEQ": 1.0, "TSPARMCD": list(params), "TSVAL": list(params.values()),
                         "TSVALNF": [""] * len(params)})


def package(**frames) -> Package:
    base = {"DM": dm(), "TA": ta(), "TV": tv(), "LB": lb(), "SE": se(), "TS": ts()}
    base.update({k: v for k, v in frames.items() if v is not None})
    for k, v in frames.items():
        if v is None:
            base.pop(k)
    return Package(base)


def with_value(frame: pd.DataFrame, row: int, column: str, value) -> pd.DataFrame:
    out = frame.copy()
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        out[column] = out[column].astype(object)
    out.loc[row - 1, column] = value
    return out


def run(rule_id: str, pkg: Package):
    return run_rule(RULES[rule_id], pkg)


def findings(rule_id: str, pkg: Package) -> pd.DataFrame:
    runs = run(rule_id, pkg)
    assert all(r.outcome in (PASSED, ISSUES) for r in runs), [(r.outcome, r.reason) for r in runs]
    parts = [r.findings for r in runs if len(r.findings)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["dataset", "record"])


def test_every_rule_passes_on_the_clean_package():
    pkg = package()
    for rule in rules_cross.RULES:
        outcomes = {r.outcome for r in run_rule(rule, pkg)}
        if rule.id == "XD-SUPP-PARENT":
            assert outcomes == {NOT_APPLICABLE}
        else:
            assert outcomes == {PASSED}, (rule.id, [(r.dataset, r.outcome, r.reason, r.findings.to_dict("records"))
                                                    for r in run_rule(rule, pkg)])


def test_rules_carry_id_severity_message_and_citation():
    for rule in rules_cross.RULES:
        assert rule.id.startswith("XD-") and rule.severity in ("Reject", "Error", "Warning", "Notice")
        assert rule.title and rule.fix and ("SDTMIG" in rule.citation or "FDA" in rule.citation)


def test_usubjid_not_in_dm():
    f = findings("XD-USUBJID-DM", package(LB=with_value(lb(), 4, "USUBJID", "S-9")))
    assert f[["dataset", "record", "USUBJID", "severity"]].values.tolist() == [["LB", 4, "S-9", "Error"]]
    assert f["message"][0] == "subject S-9 is not in DM"
    assert run("XD-USUBJID-DM", package(DM=None))[0].outcome == NOT_APPLICABLE


def test_dm_missing_is_a_reject():
    f = findings("XD-DM-PRESENT", package(DM=None))
    assert f[["dataset", "severity"]].values.tolist() == [["DM", "Reject"]]


def test_study_day_miscalculated():
    # record 3: 2024-02-09 against RFSTDTC 2024-01-10 is day 31 (21 days left in January + 9 + 1); 30 is wrong
    f = findings("XD-DY-CALC", package(LB=with_value(lb(), 3, "LBDY", 30.0)))
    assert f[["dataset", "record", "variables"]].values.tolist() == [["LB", 3, "LBDY, LBDTC, DM.RFSTDTC"]]
    assert f["message"][0] == "LBDY is 30 but LBDTC against DM.RFSTDTC gives 31"
    assert f["values"][0] == "LBDY=30, LBDTC=2024-02-09, RFSTDTC=2024-01-10T09:00"
    # day before the reference date is -1, never 0 (record 1)
    f = findings("XD-DY-CALC", package(LB=with_value(lb(), 1, "LBDY", 0.0)))
    assert f["record"].tolist() == [1] and "gives -1" in f["message"][0]
    # DMDY is checked against DMDTC too (2024-01-02 is 8 days before 2024-01-10: -8)
    assert findings("XD-DY-CALC", package(DM=with_value(dm(), 1, "DMDY", -9.0)))["record"].tolist() == [1]


def test_study_day_with_incomplete_dates_and_missing_study_day():
    f = findings("XD-DY-NODATE", package(LB=with_value(with_value(lb(), 6, "LBDY", 5.0), 2, "LBDTC", "2024-01")))
    assert f[["record", "message"]].values.tolist() == [
        [2, "LBDY is populated but LBDTC is missing or not a complete date"],
        [6, "LBDY is populated but DM.RFSTDTC is missing or not a complete date"]]
    f = findings("XD-DY-MISSING", package(LB=with_value(lb(), 5, "LBDY", None)))
    assert f[["record", "severity"]].values.tolist() == [[5, "Warning"]] and "expected 29" in f["message"][0]


def test_visits_against_tv():
    bad = lb()
    bad.loc[1, "VISIT"] = "WEEK 4"      # planned VISITNUM 2 with another planned name
    bad.loc[2, "VISIT"] = "WEEK 4"      # unscheduled number carrying a planned name
    bad.loc[4, "VISIT"] = ""            # planned VISITNUM without a name
    f = findings("XD-VISIT-TV", package(LB=bad))
    assert f["record"].tolist() == [2, 3, 5]
    assert f["message"].tolist() == [
        "VISIT 'WEEK 4' is not TV's name for VISITNUM 2 ('DAY 1')",
        "VISITNUM 2.01 is not in TV, but VISIT 'WEEK 4' is a planned visit (TV VISITNUM 3)",
        "VISIT is empty for planned VISITNUM 3 (TV: 'WEEK 4')"]
    assert run("XD-VISIT-TV", package(TV=None))[0].reason == "TV is not in the package"


def test_arms_against_ta():
    f = findings("XD-ARM-TA", package(DM=with_value(with_value(dm(), 2, "ACTARMCD", "C"), 1, "ARM", "Drug X")))
    assert f[["record", "variables", "values"]].values.tolist() == [[1, "ARM", "ARM=Drug X"],
                                                                     [2, "ACTARMCD", "ACTARMCD=C"]]
    assert run("XD-ARM-TA", package(TA=None))[0].outcome == NOT_APPLICABLE


def test_epoch_against_ta_and_se():
    f = findings("XD-EPOCH-TA", package(LB=with_value(lb(), 2, "EPOCH", "RUN-IN")))
    assert f[["record", "message"]].values.tolist() == [[2, "EPOCH 'RUN-IN' is not an epoch of TA"]]
    # 2024-01-09 is in S-1's screening element; 2024-01-10 is the boundary: either epoch is accepted
    bad = with_value(with_value(lb(), 1, "EPOCH", "TREATMENT"), 2, "EPOCH", "SCREENING")
    f = findings("XD-EPOCH-SE", package(LB=bad))
    assert f[["record", "message"]].values.tolist() == [
        [1, "EPOCH is 'TREATMENT' but on 2024-01-09 SE places the subject in SCREENING"]]
    # a date before the subject's first element; then subjects without SE records
    f = findings("XD-EPOCH-SE", package(LB=with_value(lb(), 1, "LBDTC", "2023-12-01")))
    assert f[["record", "message"]].values.tolist() == [
        [1, "EPOCH is 'SCREENING' but no SE element of the subject covers 2023-12-01"]]
    f = findings("XD-EPOCH-SE", package(SE=se()[se()["USUBJID"] == "S-2"].reset_index(drop=True)))
    assert f["record"].tolist() == [1, 2, 3, 6]
    assert set(f["message"]) == {"EPOCH is 'SCREENING' but the subject has no SE records",
                                 "EPOCH is 'TREATMENT' but the subject has no SE records"}
    # partial dates and empty EPOCH are not checked
    assert findings("XD-EPOCH-SE", package(LB=with_value(with_value(bad, 1, "LBDTC", "2024-01"), 2, "EPOCH", ""))).empty


def test_epoch_rule_without_se_is_not_applicable_with_the_reason():
    (only,) = run("XD-EPOCH-SE", package(SE=None))
    assert only.outcome == NOT_APPLICABLE and only.reason.startswith("SE (Subject Elements) is not in the package")


def test_trial_summary_start_date_and_fda_parameters():
    partial = ts(SSTDTC="2024-01")
    f = findings("XD-TS-SSTDTC", package(TS=partial))
    row = int(partial.index[partial["TSPARMCD"] == "SSTDTC"][0]) + 1
    assert f[["dataset", "record", "severity", "values"]].values.tolist() == [
        ["TS", row, "Reject", "TSPARMCD=SSTDTC, TSVAL=2024-01"]]
    assert f["message"][0] == "SSTDTC is not a complete ISO 8601 date (YYYY-MM-DD)"
    no_sstdtc = ts()
    no_sstdtc = no_sstdtc[no_sstdtc["TSPARMCD"] != "SSTDTC"].reset_index(drop=True)
    assert findings("XD-TS-SSTDTC", package(TS=no_sstdtc))["message"].tolist() == [
        "TS has no SSTDTC (Study Start Date) record"]
    assert "TS (Trial Summary) dataset is missing" in findings("XD-TS-SSTDTC", package(TS=None))["message"][0]
    missing = ts(REGID="")
    f = findings("XD-TS-FDA", package(TS=missing))
    assert f[["values", "severity"]].values.tolist() == [["TSPARMCD=REGID", "Warning"]]
    nullflavor = missing.copy()
    nullflavor.loc[nullflavor["TSPARMCD"] == "REGID", "TSVALNF"] = "NA"
    assert findings("XD-TS-FDA", package(TS=nullflavor)).empty


def test_supp_records_point_to_parents():
    supp = pd.DataFrame({"STUDYID": "S", "RDOMAIN": ["LB", "LB", "LB", "DM", "XX", "LB"],
                         "USUBJID": ["S-1", "S-1", "S-2", "S-3", "S-1", "S-1"],
                         "IDVAR": ["LBSEQ", "LBSEQ", "LBSEQ", "", "XXSEQ", "LBGRPID"],
                         "IDVARVAL": ["2", "7", "1", "", "1", "1"], "QNAM": "Q", "QLABEL": "Q", "QVAL": "v"})
    f = findings("XD-SUPP-PARENT", package(SUPPLB=supp))
    assert f[["record", "message"]].values.tolist() == [
        [2, "no LB record of this subject has LBSEQ = the IDVARVAL"],
        [5, "parent dataset 'XX' is not in the package"],
        [6, "IDVAR LBGRPID is not a variable of LB"]]
    ok = supp.iloc[[0, 2, 3]].reset_index(drop=True)
    assert findings("XD-SUPP-PARENT", package(SUPPLB=ok)).empty
    orphan = with_value(ok, 3, "USUBJID", "S-9")
    assert findings("XD-SUPP-PARENT", package(SUPPLB=orphan))["message"].tolist() == [
        "subject is not in the parent dataset DM"]


def test_an_exception_inside_a_rule_is_an_execution_error_not_a_pass():
    def broken(pkg: Package) -> Checked:
        raise KeyError("LBDTC")

    (only,) = run_rule(CrossRule("XD-BROKEN", "Warning", "t", "f", "c", broken), package())
    assert only.outcome == EXECUTION_ERROR and only.reason == "KeyError: 'LBDTC'"
    row = only.findings.iloc[0]
    assert row["severity"] == "Error" and row["check"] == "XD-BROKEN:execution-error"
    assert "could not be evaluated: KeyError: 'LBDTC'" in row["message"]
    # the same through a real rule fed a malformed dataset
    (supp_run,) = run("XD-SUPP-PARENT", package(SUPPAE=pd.DataFrame({"QNAM": ["X"]})))
    assert supp_run.outcome == EXECUTION_ERROR and "RDOMAIN" in supp_run.reason


def test_long_lists_are_cut_but_counted():
    big = pd.concat([lb()] * 150, ignore_index=True)
    big["USUBJID"] = "S-9"
    runs = run_rule(RULES["XD-USUBJID-DM"], package(LB=big), max_listed=100)
    (lb_run,) = [r for r in runs if r.dataset == "LB"]
    assert len(lb_run.findings) == 101 and lb_run.findings["count"].sum() == 900
    assert lb_run.findings["message"].iloc[-1].startswith("900 findings of this rule in this dataset")


def test_finding_frame_broadcasts_scalars():
    f = finding_frame("LB", pd.Series([3, 5]), None, "X", "X=1", "m")
    assert f["record"].tolist() == [3, 5] and f["message"].tolist() == ["m", "m"]
