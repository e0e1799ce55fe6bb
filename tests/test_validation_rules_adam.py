"""ADaM rules (validation.rules_adam) on hand-made ADSL/BDS frames: planted defects and clean data."""

from __future__ import annotations

import pandas as pd

from subgen.core.conformance.outcomes import ISSUES, NOT_APPLICABLE, PASSED
from validation import rules_adam
from validation.rulebase import Package, run_rule

RULES = {r.id: r for r in rules_adam.RULES}


def dm() -> pd.DataFrame:
    return pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1", "S-2", "S-3"], "AGE": [34.0, 51.0, 47.0],
                         "SEX": ["F", "M", "F"], "ARMCD": ["A", "B", ""]})


def adsl() -> pd.DataFrame:
    return pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1", "S-2"], "AGE": [34.0, 51.0], "SEX": ["F", "M"],
                         "ARMCD": ["A", "B"], "TRT01P": ["Drug", "Placebo"]})


def lb() -> pd.DataFrame:
    return pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1", "S-1", "S-2"], "LBSEQ": [1.0, 2.0, 1.0],
                         "LBTESTCD": ["GLUC"] * 3})


def adlb() -> pd.DataFrame:
    """Hand-worked: S-1 GLUC baseline 5.5, week 4 6.0 -> CHG 0.5; S-2 baseline 7.25, week 4 7.0 -> CHG -0.25."""
    return pd.DataFrame({
        "STUDYID": "S", "USUBJID": ["S-1", "S-1", "S-2", "S-2"], "PARAMCD": ["GLUC"] * 4,
        "AVAL": [5.5, 6.0, 7.25, 7.0], "ABLFL": ["Y", "", "Y", ""], "BASE": [5.5, 5.5, 7.25, 7.25],
        "CHG": [None, 0.5, None, -0.25], "SRCDOM": ["LB", "LB", "LB", ""], "SRCVAR": ["LBSTRESN"] * 3 + [""],
        "SRCSEQ": [1.0, 2.0, 1.0, None], "LBSEQ": [1.0, 2.0, 1.0, None]})


def package(**frames) -> Package:
    base = {"DM": dm(), "ADSL": adsl(), "LB": lb().assign(LBSTRESN=[5.5, 6.0, 7.25]), "ADLB": adlb()}
    for k, v in frames.items():
        if v is None:
            base.pop(k)
        else:
            base[k] = v
    return Package(base)


def findings(rule_id: str, pkg: Package) -> pd.DataFrame:
    runs = run_rule(RULES[rule_id], pkg)
    assert all(r.outcome in (PASSED, ISSUES) for r in runs), [(r.outcome, r.reason) for r in runs]
    parts = [r.findings for r in runs if len(r.findings)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["record"])


def test_every_rule_passes_on_clean_frames():
    for rule in rules_adam.RULES:
        assert {r.outcome for r in run_rule(rule, package())} == {PASSED}, rule.id


def test_rules_cite_the_adamig():
    assert all(r.id.startswith("AD-") and "ADaMIG v1.3" in r.citation for r in rules_adam.RULES)


def test_adsl_one_record_per_subject():
    two = pd.concat([adsl(), adsl().iloc[[1]]], ignore_index=True)
    f = findings("AD-ADSL-ONE", package(ADSL=two))
    assert f[["record", "USUBJID", "message"]].values.tolist() == [
        [2, "S-2", "subject has 2 ADSL records; ADSL has one record per subject"],
        [3, "S-2", "subject has 2 ADSL records; ADSL has one record per subject"]]
    assert findings("AD-ADSL-ONE", package(ADSL=None))["message"][0].startswith("the ADSL dataset is missing")
    (only,) = run_rule(RULES["AD-ADSL-ONE"], Package({"DM": dm()}))
    assert only.outcome == NOT_APPLICABLE and only.reason == "the package has no ADaM datasets"


def test_adsl_consistent_with_dm():
    bad = adsl()
    bad.loc[0, "AGE"] = 35.0
    bad.loc[1, "SEX"] = "F"
    bad = pd.concat([bad, pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["S-7"], "AGE": [20.0], "SEX": ["M"],
                                        "ARMCD": ["A"], "TRT01P": ["Drug"]})], ignore_index=True)
    f = findings("AD-ADSL-DM", package(ADSL=bad))
    assert f[["record", "variables", "values"]].values.tolist() == [
        [1, "AGE", "ADSL AGE=35, DM AGE=34"], [2, "SEX", "ADSL SEX=F, DM SEX=M"], [3, "USUBJID", "USUBJID=S-7"]]
    assert (run_rule(RULES["AD-ADSL-DM"], package(DM=None))[0].reason
            == "ADSL and DM are both needed; DM is not in the package")


def test_subjects_of_bds_are_in_adsl():
    f = findings("AD-USUBJID-ADSL", package(ADSL=adsl().iloc[[0]]))
    assert f[["dataset", "record", "USUBJID"]].values.tolist() == [["ADLB", 3, "S-2"], ["ADLB", 4, "S-2"]]


def test_base_equals_aval_of_the_baseline_record():
    bad = adlb()
    bad.loc[1, "BASE"] = 5.0          # differs from the baseline AVAL 5.5
    f = findings("AD-BASE-ABLFL", package(ADLB=bad))
    assert f[["record", "message"]].values.tolist() == [
        [2, "BASE is 5 but AVAL on the baseline record (ABLFL = Y) is 5.5"]]
    two = adlb()
    two.loc[1, "ABLFL"] = "Y"         # two baseline records for S-1
    f = findings("AD-BASE-ABLFL", package(ADLB=two))
    assert f["record"].tolist() == [1, 2]
    assert set(f["message"]) == {"more than one baseline record (ABLFL = Y) for this subject and parameter"}
    none = adlb()
    none.loc[2, "ABLFL"] = ""         # S-2 has BASE but no baseline record
    f = findings("AD-BASE-ABLFL", package(ADLB=none))
    assert f["record"].tolist() == [3, 4] and "no baseline record" in f["message"][0]


def test_base_is_per_basetype():
    two_kinds = pd.concat([adlb().assign(BASETYPE="LAST"), adlb().assign(BASETYPE="FIRST")], ignore_index=True)
    assert findings("AD-BASE-ABLFL", package(ADLB=two_kinds)).empty


def test_change_from_baseline():
    bad = adlb()
    bad.loc[1, "CHG"] = 0.6           # 6.0 - 5.5 = 0.5
    bad.loc[2, "CHG"] = 0.0           # baseline record: AVAL - BASE = 0 is right
    bad.loc[3, "AVAL"] = None         # CHG without AVAL
    f = findings("AD-CHG", package(ADLB=bad))
    assert f[["record", "message"]].values.tolist() == [[2, "CHG is 0.6 but AVAL - BASE is 0.5"],
                                                        [4, "CHG is populated but AVAL or BASE is empty"]]
    tiny = adlb()
    tiny.loc[1, "CHG"] = 0.5 + 1e-12  # floating-point noise is not a finding
    assert findings("AD-CHG", package(ADLB=tiny)).empty


def test_traceability_to_sdtm():
    bad = adlb()
    bad.loc[0, "SRCSEQ"] = 9.0        # no LB record 9 for S-1
    bad.loc[1, "SRCVAR"] = "LBXX"     # not an LB variable
    bad.loc[2, "SRCDOM"] = "VS"       # not in the package
    bad.loc[0, "LBSEQ"] = 3.0         # carried --SEQ that does not exist for S-1
    f = findings("AD-TRACE", package(ADLB=bad))
    assert sorted(f[["record", "message"]].values.tolist()) == [
        [1, "no LB record of this subject has LBSEQ = 3"],
        [1, "no LB record of this subject has LBSEQ = SRCSEQ"],
        [2, "SRCVAR LBXX is not a variable of LB"],
        [3, "SRCDOM VS is not a dataset of the package"]]
    assert (run_rule(RULES["AD-TRACE"], package(ADLB=adlb().drop(columns=["SRCDOM", "SRCVAR", "SRCSEQ", "LBSEQ"])))[0]
            .outcome == NOT_APPLICABLE)


def test_traceability_without_any_sdtm_is_not_applicable_with_the_reason():
    runs = run_rule(RULES["AD-TRACE"], Package({"ADSL": adsl(), "ADLB": adlb()}))
    assert [(r.dataset, r.outcome) for r in runs] == [("ADLB", NOT_APPLICABLE)]
    assert runs[0].reason.startswith("the package has no SDTM datasets")
