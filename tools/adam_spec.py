"""Write the demo studies' ADaM spec workbooks (specs/<study>_adam.xlsx).

Development aid: the workbooks are the product's input and are committed; this script is how
they were written, so a change to shared ADaM metadata (ADSL, ADAE) is made once for both
studies. Usage::

    .venv/bin/python tools/adam_spec.py            # writes specs/ms_exo_adam.xlsx, specs/t2dm_exo_adam.xlsx
    .venv/bin/python tools/adam_spec.py --check    # fails when a committed workbook differs from a fresh one

Codelists: CDISC SDTM terms (NY, SEX, RACE, ...) are copied from the study's SDTM workbook; ADaM CT
terms (DATEFL, DTYPE, SBJTSTAT) come from ../shared/reference/ct/ADaM_CT_2025-09-26.csv (read here,
never by the product); sponsor codelists are written below.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from subgen.core.spec.adam import ADAM_SHEETS  # noqa: E402
from subgen.core.spec.workbook import SheetTable, read_workbook, tables_to_text, write_workbook  # noqa: E402

ADAM_CT = ROOT.parent / "shared" / "reference" / "ct" / "ADaM_CT_2025-09-26.csv"
ADAM_CT_VERSION = "2025-09-26"


# ------------------------------------------------------------------------------------------ variables


@dataclass(frozen=True)
class V:
    """One Variables-sheet row (Dataset and Order are filled in by position)."""

    name: str
    label: str
    type: str = "text"
    length: int | None = None
    codelist: str = ""
    origin: str = "Derived"
    method: str = ""
    predecessor: str = ""
    core: str = "Perm"
    fmt: str = ""
    comment: str = ""


def date(name: str, label: str, method: str = "", predecessor: str = "", core: str = "Perm") -> V:
    """A SAS date variable (integer days since 1960-01-01, DATE9.): Derived by a method, or a Predecessor copy."""
    origin = "Predecessor" if predecessor and not method else "Derived"
    return V(name, label, "integer", 8, origin=origin, method=method, predecessor=predecessor, core=core,
             fmt="DATE9.")


def pred(name: str, label: str, source: str, type_: str = "text", length: int | None = None, codelist: str = "",
         core: str = "Perm") -> V:
    """A variable copied from SDTM or ADSL (Origin Predecessor)."""
    return V(name, label, type_, length if length else (8 if type_ != "text" else None), codelist, "Predecessor",
             predecessor=source, core=core)


def adsl_variables(baselines: list[V]) -> list[V]:
    """ADSL Variables rows shared by both studies, then the study's baseline variables."""
    return [
        pred("STUDYID", "Study Identifier", "DM.STUDYID", length=12, core="Req"),
        pred("USUBJID", "Unique Subject Identifier", "DM.USUBJID", length=30, core="Req"),
        pred("SUBJID", "Subject Identifier for the Study", "DM.SUBJID", length=10, core="Req"),
        pred("SITEID", "Study Site Identifier", "DM.SITEID", length=10, core="Req"),
        pred("AGE", "Age", "DM.AGE", "integer", core="Req"),
        pred("AGEU", "Age Units", "DM.AGEU", length=5, codelist="AGEU", core="Req"),
        V("AGEGR1", "Pooled Age Group 1", length=10, codelist="AGEGR1", method="MT.AGEGR1"),
        V("AGEGR1N", "Pooled Age Group 1 (N)", "integer", 8, codelist="AGEGR1N", method="MT.CODE"),
        pred("SEX", "Sex", "DM.SEX", length=1, codelist="SEX", core="Req"),
        pred("RACE", "Race", "DM.RACE", length=41, codelist="RACE", core="Req"),
        pred("ETHNIC", "Ethnicity", "DM.ETHNIC", length=22, codelist="ETHNIC"),
        pred("COUNTRY", "Country", "DM.COUNTRY", length=3, codelist="COUNTRY"),
        pred("ARMCD", "Planned Arm Code", "DM.ARMCD", length=20, codelist="ARMCD"),
        pred("ARM", "Description of Planned Arm", "DM.ARM", length=200),
        pred("ACTARMCD", "Actual Arm Code", "DM.ACTARMCD", length=20, codelist="ARMCD"),
        pred("ACTARM", "Description of Actual Arm", "DM.ACTARM", length=200),
        V("TRT01P", "Planned Treatment for Period 01", length=200, method="MT.TRT01P", comment="COM.SCRNFAIL"),
        V("TRT01PN", "Planned Treatment for Period 01 (N)", "integer", 8, codelist="TRT01PN", method="MT.CODE"),
        V("TRT01A", "Actual Treatment for Period 01", length=200, method="MT.TRT01A"),
        V("TRT01AN", "Actual Treatment for Period 01 (N)", "integer", 8, codelist="TRT01PN", method="MT.CODE"),
        V("RANDFL", "Randomized Population Flag", length=1, codelist="NY", method="MT.RANDFL"),
        V("ITTFL", "Intent-To-Treat Population Flag", length=1, codelist="NY", method="MT.ITTFL"),
        V("SAFFL", "Safety Population Flag", length=1, codelist="NY", method="MT.SAFFL"),
        V("EFFFL", "Efficacy Population Flag", length=1, codelist="NY", method="MT.EFFFL"),
        V("COMPLFL", "Completers Population Flag", length=1, codelist="NY", method="MT.COMPLFL"),
        date("RFICDT", "Date of Informed Consent", "MT.DTISO", "DM.RFICDTC"),
        date("RANDDT", "Date of Randomization", "MT.RANDDT"),
        date("TRTSDT", "Date of First Exposure to Treatment", "MT.DTISO", "DM.RFXSTDTC"),
        date("TRTEDT", "Date of Last Exposure to Treatment", "MT.DTISO", "DM.RFXENDTC"),
        V("TRTDURD", "Total Treatment Duration (Days)", "integer", 8, method="MT.TRTDURD"),
        V("EOSSTT", "End of Study Status", length=12, codelist="SBJTSTAT", method="MT.EOSSTT"),
        date("EOSDT", "End of Study Date", "MT.EOSDT"),
        V("DCSREAS", "Reason for Discontinuation from Study", length=40, codelist="NCOMPLT", method="MT.DCSREAS"),
        *baselines,
    ]


def adsl_derivations(baseline_rows: list[tuple], efficacy_filter: tuple[str, str]) -> list[tuple]:
    """ADSL Derivations rows (Variables, Function, Arguments, Condition, Comment); ``{agecut}`` is filled per study."""
    dom, flt = efficacy_filter
    return [
        ("STUDYID, USUBJID, SUBJID, SITEID, AGE, AGEU, SEX, RACE, ETHNIC, COUNTRY, ARMCD, ARM, ACTARMCD, ACTARM",
         "derive_records_sdtm", "source=DM", "", "one record per DM subject, screen failures included"),
        ("AGEGR1", "derive_var_cat", "source=AGE; cuts={agecut}; codelist=AGEGR1", "", ""),
        ("AGEGR1N", "derive_var_code", "source=AGEGR1; codelist=AGEGR1N", "", ""),
        ("TRT01P", "derive_var_copy", "source=ARM", "", ""),
        ("TRT01PN", "derive_var_code", "source=TRT01P; codelist=TRT01PN", "", ""),
        ("TRT01A", "derive_var_copy", "source=ACTARM", "", ""),
        ("TRT01AN", "derive_var_code", "source=TRT01A; codelist=TRT01PN", "", ""),
        ("RFICDT, TRTSDT, TRTEDT", "derive_vars_merged_dt", "dataset_add=DM; source_vars=RFICDTC, RFXSTDTC, RFXENDTC",
         "", ""),
        ("RANDDT", "derive_vars_merged_dt", "dataset_add=DS; source_vars=DSSTDTC; filter=DSDECOD = 'RANDOMIZED'", "",
         ""),
        ("TRTDURD", "derive_var_duration", "start=TRTSDT; end=TRTEDT", "", ""),
        ("EOSSTT", "derive_var_eosstt", "dataset_add=DS; filter=DSCAT = 'DISPOSITION EVENT'", "", ""),
        ("EOSDT", "derive_vars_merged_dt", "dataset_add=DS; source_vars=DSSTDTC; filter=DSCAT = 'DISPOSITION EVENT'",
         "", ""),
        ("DCSREAS", "derive_vars_merged", "dataset_add=DS; source_vars=DSDECOD; "
         "filter=DSCAT = 'DISPOSITION EVENT' and DSDECOD != 'COMPLETED'", "", ""),
        ("RANDFL", "derive_var_exist_flag", "dataset_add=DS; filter=DSDECOD = 'RANDOMIZED'", "", ""),
        ("ITTFL", "derive_var_copy", "source=RANDFL", "", ""),
        ("SAFFL", "derive_var_exist_flag", "dataset_add=EX", "", ""),
        ("EFFFL", "derive_var_constant", "value=N", "", ""),
        ("EFFFL", "derive_var_exist_flag", f"dataset_add={dom}; filter={flt}", "RANDFL = 'Y' and SAFFL = 'Y'",
         "randomized, dosed, and assessed for the primary endpoint after day 1"),
        ("COMPLFL", "derive_var_exist_flag", "dataset_add=DS; filter=DSCAT = 'DISPOSITION EVENT' and "
         "DSDECOD = 'COMPLETED'", "", ""),
        *baseline_rows,
    ]


ADAE_VARIABLES = [
    pred("STUDYID", "Study Identifier", "AE.STUDYID", length=12, core="Req"),
    pred("USUBJID", "Unique Subject Identifier", "AE.USUBJID", length=30, core="Req"),
    pred("SITEID", "Study Site Identifier", "ADSL.SITEID", length=10, core="Req"),
    pred("TRTA", "Actual Treatment", "ADSL.TRT01A", length=200, core="Req"),
    pred("TRTAN", "Actual Treatment (N)", "ADSL.TRT01AN", "integer", codelist="TRT01PN"),
    pred("SAFFL", "Safety Population Flag", "ADSL.SAFFL", length=1, codelist="NY"),
    date("TRTSDT", "Date of First Exposure to Treatment", predecessor="ADSL.TRTSDT"),
    date("TRTEDT", "Date of Last Exposure to Treatment", predecessor="ADSL.TRTEDT"),
    date("EOSDT", "End of Study Date", predecessor="ADSL.EOSDT"),
    pred("AESEQ", "Sequence Number", "AE.AESEQ", "integer", core="Req"),
    pred("AETERM", "Reported Term for the Adverse Event", "AE.AETERM", length=200, core="Req"),
    pred("AEDECOD", "Dictionary-Derived Term", "AE.AEDECOD", length=200, core="Req"),
    pred("AEBODSYS", "Body System or Organ Class", "AE.AEBODSYS", length=200, core="Req"),
    pred("AESOC", "Primary System Organ Class", "AE.AESOC", length=200),
    pred("AESEV", "Severity/Intensity", "AE.AESEV", length=10, codelist="AESEV"),
    pred("AESER", "Serious Event", "AE.AESER", length=1, codelist="NY"),
    pred("AEREL", "Causality", "AE.AEREL", length=20, codelist="AEREL"),
    pred("AEACN", "Action Taken with Study Treatment", "AE.AEACN", length=30, codelist="ACN"),
    pred("AEOUT", "Outcome of Adverse Event", "AE.AEOUT", length=30, codelist="OUT"),
    pred("AESTDTC", "Start Date/Time of Adverse Event", "AE.AESTDTC", "date", 10),
    pred("AEENDTC", "End Date/Time of Adverse Event", "AE.AEENDTC", "date", 10),
    date("ASTDT", "Analysis Start Date", "MT.ASTDT", core="Req"),
    V("ASTDTF", "Analysis Start Date Imputation Flag", length=1, codelist="DATEFL", method="MT.ASTDT"),
    V("ASTDY", "Analysis Start Relative Day", "integer", 8, method="MT.ADY"),
    date("AENDT", "Analysis End Date", "MT.AENDT"),
    V("AENDTF", "Analysis End Date Imputation Flag", length=1, codelist="DATEFL", method="MT.AENDT"),
    V("AENDY", "Analysis End Relative Day", "integer", 8, method="MT.ADY"),
    V("ADURN", "Analysis Duration (N)", "integer", 8, method="MT.ADURN"),
    V("ADURU", "Analysis Duration Units", length=4, method="MT.ADURN"),
    V("TRTEMFL", "Treatment Emergent Analysis Flag", length=1, codelist="NY", method="MT.TRTEMFL"),
    V("ASEV", "Analysis Severity/Intensity", length=10, codelist="AESEV", method="MT.COPY"),
    V("ASEVN", "Analysis Severity/Intensity (N)", "integer", 8, codelist="ASEVN", method="MT.CODE"),
    V("AREL", "Analysis Causality", length=20, codelist="AEREL", method="MT.COPY"),
    V("ARELGR1", "Pooled Causality Group 1", length=11, codelist="ARELGR1", method="MT.ARELGR1"),
    V("ARELGR1N", "Pooled Causality Group 1 (N)", "integer", 8, codelist="ARELGR1N", method="MT.CODE"),
]


def adae_derivations(trtem_args: str) -> list[tuple]:
    """ADAE Derivations rows; ``trtem_args`` is the study's treatment-emergent rule."""
    return [
        ("STUDYID, USUBJID, AESEQ, AETERM, AEDECOD, AEBODSYS, AESOC, AESEV, AESER, AEREL, AEACN, AEOUT, AESTDTC, "
         "AEENDTC", "derive_records_sdtm", "source=AE", "", "one record per AE record (after the SDTM data cut)"),
        ("SITEID, TRTA, TRTAN, SAFFL, TRTSDT, TRTEDT, EOSDT", "derive_vars_merged",
         "dataset_add=ADSL; source_vars=SITEID, TRT01A, TRT01AN, SAFFL, TRTSDT, TRTEDT, EOSDT", "", ""),
        ("ASTDT, ASTDTF", "derive_vars_dt", "source=AESTDTC; imputation=first; highest=M; min_dates=TRTSDT", "", ""),
        ("AENDT, AENDTF", "derive_vars_dt", "source=AEENDTC; imputation=last; highest=M; max_dates=EOSDT", "", ""),
        ("ASTDY", "derive_var_dy", "date=ASTDT; reference=TRTSDT", "", ""),
        ("AENDY", "derive_var_dy", "date=AENDT; reference=TRTSDT", "", ""),
        ("ADURN", "derive_var_duration", "start=ASTDT; end=AENDT", "", ""),
        ("ADURU", "derive_var_constant", "value=DAYS", "ADURN is not blank", ""),
        ("TRTEMFL", "derive_var_trtemfl", trtem_args, "", ""),
        ("ASEV", "derive_var_copy", "source=AESEV", "", ""),
        ("ASEVN", "derive_var_code", "source=ASEV; codelist=ASEVN", "", ""),
        ("AREL", "derive_var_copy", "source=AEREL", "", ""),
        ("ARELGR1", "derive_var_codelist", "source=AREL; codelist=ARELGR1", "", ""),
        ("ARELGR1N", "derive_var_code", "source=ARELGR1; codelist=ARELGR1N", "", ""),
    ]


def bds_variables(domain: str, extra: list[V], ranges: bool = False, basec: bool = False, crit: bool = False,
                  pchg: bool = True) -> list[V]:
    """Variables rows of a BDS dataset built from SDTM ``domain`` (``extra`` after AVALC)."""
    out = [
        pred("STUDYID", "Study Identifier", f"{domain}.STUDYID", length=12, core="Req"),
        pred("USUBJID", "Unique Subject Identifier", f"{domain}.USUBJID", length=30, core="Req"),
        pred("SITEID", "Study Site Identifier", "ADSL.SITEID", length=10, core="Req"),
        pred("TRTP", "Planned Treatment", "ADSL.TRT01P", length=200),
        pred("TRTPN", "Planned Treatment (N)", "ADSL.TRT01PN", "integer", codelist="TRT01PN"),
        pred("TRTA", "Actual Treatment", "ADSL.TRT01A", length=200),
        pred("TRTAN", "Actual Treatment (N)", "ADSL.TRT01AN", "integer", codelist="TRT01PN"),
        pred("SAFFL", "Safety Population Flag", "ADSL.SAFFL", length=1, codelist="NY"),
        pred("EFFFL", "Efficacy Population Flag", "ADSL.EFFFL", length=1, codelist="NY"),
        date("TRTSDT", "Date of First Exposure to Treatment", predecessor="ADSL.TRTSDT"),
        V("PARAMCD", "Parameter Code", length=8, method="MT.PARAM", core="Req"),
        V("PARAM", "Parameter", length=80, method="MT.PARAM", core="Req"),
        V("PARAMN", "Parameter (N)", "integer", 8, method="MT.PARAM"),
        V("PARCAT1", "Parameter Category 1", length=40, method="MT.PARAM"),
        V("AVAL", "Analysis Value", "float", 8, method="MT.AVAL"),
        V("AVALC", "Analysis Value (C)", length=20, method="MT.AVAL"),
        *extra,
        date("ADT", "Analysis Date", "MT.ADT"),
        V("ADY", "Analysis Relative Day", "integer", 8, method="MT.ADY"),
        V("AVISIT", "Analysis Visit", length=20, method="MT.AVISIT"),
        V("AVISITN", "Analysis Visit (N)", "integer", 8, method="MT.AVISIT"),
        pred("VISIT", "Visit Name", f"{domain}.VISIT", length=40),
        pred("VISITNUM", "Visit Number", f"{domain}.VISITNUM", "float"),
        V("ABLFL", "Baseline Record Flag", length=1, codelist="NY", method="MT.ABLFL"),
        V("BASE", "Baseline Value", "float", 8, method="MT.BASE"),
    ]
    if basec:
        out.append(V("BASEC", "Baseline Value (C)", length=20, method="MT.BASE"))
    out.append(V("CHG", "Change from Baseline", "float", 8, method="MT.CHG"))
    if pchg:
        out.append(V("PCHG", "Percent Change from Baseline", "float", 8, method="MT.PCHG"))
    if ranges:
        out += [V("ANRLO", "Analysis Normal Range Lower Limit", "float", 8, method="MT.ANRLO"),
                V("ANRHI", "Analysis Normal Range Upper Limit", "float", 8, method="MT.ANRLO"),
                V("ANRIND", "Analysis Reference Range Indicator", length=6, codelist="NRIND", method="MT.ANRIND"),
                V("BNRIND", "Baseline Reference Range Indicator", length=6, codelist="NRIND", method="MT.BASE")]
    if crit:
        out += [V("CRIT1", "Analysis Criterion 1", length=60, method="MT.CRIT1"),
                V("CRIT1FL", "Criterion 1 Evaluation Result Flag", length=1, codelist="NY", method="MT.CRIT1")]
    out += [V("ANL01FL", "Analysis Flag 01", length=1, codelist="NY", method="MT.ANL01FL"),
            V("SRCDOM", "Source Data", length=8, method="MT.SRC"),
            V("SRCVAR", "Source Variable", length=8, method="MT.SRC"),
            V("SRCSEQ", "Source Sequence Number", "integer", 8, method="MT.SRC"),
            V("ASEQ", "Analysis Sequence Number", "integer", 8, method="MT.ASEQ")]
    return out


def bds_derivations(records: str, extra_rows: list[tuple], chg_condition: str = "ADY > 1",
                    pchg_condition: str = "ADY > 1", ranges: bool = False, basec: bool = False,
                    after_base: list[tuple] = (), pchg: bool = True) -> list[tuple]:
    """Derivations rows of a BDS dataset: records, ``extra_rows``, ADSL variables, day, windows, baseline,
    change, ``after_base`` rows, ANL01FL and ASEQ."""
    rows = [(records, "derive_param_sdtm", "", "", "records of every Parameters-sheet parameter with a source"),
            *extra_rows,
            ("SITEID, TRTP, TRTPN, TRTA, TRTAN, SAFFL, EFFFL, TRTSDT", "derive_vars_merged",
             "dataset_add=ADSL; source_vars=SITEID, TRT01P, TRT01PN, TRT01A, TRT01AN, SAFFL, EFFFL, TRTSDT", "", ""),
            ("ADY", "derive_var_dy", "date=ADT; reference=TRTSDT", "", ""),
            ("AVISIT, AVISITN", "derive_vars_windows", "", "", "windows of the Windows sheet"),
            ("ABLFL", "derive_var_extreme_flag", "order=ADT, SRCSEQ; mode=last; filter=ADY <= 1; "
             "value_vars=AVAL, AVALC", "", "")]
    rows.append(("BASE", "derive_var_base", "source=AVAL", "", ""))
    if basec:
        rows.append(("BASEC", "derive_var_base", "source=AVALC", "", ""))
    rows.append(("CHG", "derive_var_chg", "", chg_condition, "post-baseline records only"))
    if pchg:
        rows.append(("PCHG", "derive_var_pchg", "", pchg_condition, ""))
    if ranges:
        rows += [("ANRIND", "derive_var_anrind", "", "", ""),
                 ("BNRIND", "derive_var_base", "source=ANRIND", "", "")]
    rows += list(after_base)
    rows += [("ANL01FL", "derive_var_anl01fl", "", "", "selection rule of the Windows sheet"),
             ("ASEQ", "derive_var_aseq", "order=PARAMCD, ADT, SRCSEQ", "", "in key order")]
    return rows


# ------------------------------------------------------------------------------------------ methods


COMMON_METHODS = [
    ("MT.DTISO", "Date from ISO 8601", "Computation", "The SAS date of the date part of the SDTM ISO 8601 value named "
     "in Predecessor; a partial date gives no value (reported as a warning)."),
    ("MT.CODE", "Numeric code", "Computation", "The term of the variable's codelist whose Decoded Value is the paired "
     "character variable's value (e.g. TRT01PN from TRT01P)."),
    ("MT.COPY", "Copy", "Computation", "The value of the paired SDTM variable (ASEV = AESEV, AREL = AEREL)."),
    ("MT.AGEGR1", "Age group", "Computation", "AGE grouped at the cut point given in the Derivations sheet: the k-th "
     "AGEGR1 term (in codelist order) for the k-th interval, intervals closed below."),
    ("MT.TRT01P", "Planned treatment", "Computation", "TRT01P = DM.ARM (null for subjects never randomized)."),
    ("MT.TRT01A", "Actual treatment", "Computation", "TRT01A = DM.ACTARM (null for subjects never treated)."),
    ("MT.RANDFL", "Randomized flag", "Computation", "Y when DS has a RANDOMIZED protocol milestone for the subject, "
     "else N."),
    ("MT.ITTFL", "Intent-to-treat flag", "Computation", "ITTFL = RANDFL: every randomized subject, analysed as "
     "randomized."),
    ("MT.SAFFL", "Safety flag", "Computation", "Y when the subject has at least one EX record (received any study "
     "treatment), else N."),
    ("MT.EFFFL", "Efficacy flag", "Computation", "Y when randomized (RANDFL = Y), treated (SAFFL = Y) and assessed "
     "for the primary endpoint after day 1 (the SDTM filter in the Derivations sheet); else N."),
    ("MT.COMPLFL", "Completers flag", "Computation", "Y when the subject's end-of-study disposition (DSCAT = "
     "DISPOSITION EVENT) is COMPLETED, else N."),
    ("MT.RANDDT", "Randomization date", "Computation", "Date of the DS record with DSDECOD = RANDOMIZED."),
    ("MT.TRTDURD", "Treatment duration", "Computation", "TRTEDT - TRTSDT + 1 (days)."),
    ("MT.EOSSTT", "End of study status", "Computation", "COMPLETED when the end-of-study disposition event is "
     "COMPLETED, DISCONTINUED for any other disposition event (screen failures included), ONGOING without one."),
    ("MT.EOSDT", "End of study date", "Computation", "Date of the end-of-study disposition event (DSCAT = "
     "DISPOSITION EVENT)."),
    ("MT.DCSREAS", "Discontinuation reason", "Computation", "DSDECOD of the end-of-study disposition event when it is "
     "not COMPLETED."),
    ("MT.BASELINE", "ADSL baseline value", "Computation", "The standard numeric result of the SDTM record flagged "
     "--LOBXFL = Y (last non-missing value on or before the first dose) for the test named in the Derivations "
     "sheet; equals BASE of the parameter in the BDS dataset."),
    ("MT.ASTDT", "AE start date", "Imputation", "Complete AESTDTC as is. A partial start date is imputed to the first "
     "day of its known month (flag D) or of its known year (flag M); if the subject's first dose date lies in the "
     "range the partial date allows and is after the imputed date, the first dose date is used (an AE in the month "
     "of first dose is not pushed before treatment). A date without a year is not imputed."),
    ("MT.AENDT", "AE end date", "Imputation", "Complete AEENDTC as is. A partial end date is imputed to the last day "
     "of its known month (flag D) or year (flag M), but not after the end-of-study date when that lies in the "
     "range. Ongoing AEs have no end date."),
    ("MT.TRTEMFL", "Treatment-emergent flag", "Computation", "Y when ASTDT >= TRTSDT (and, when the Derivations "
     "row gives end_window, ASTDT <= TRTEDT + end_window days; see the variable's comment); an AE without a start "
     "date counts unless it ended before TRTSDT; subjects never dosed: null."),
    ("MT.ADY", "Analysis day", "Computation", "Date - TRTSDT + 1 on or after TRTSDT, date - TRTSDT before (no day 0)."),
    ("MT.ADURN", "AE duration", "Computation", "AENDT - ASTDT + 1 days when both are known (imputed dates included); "
     "ADURU = DAYS."),
    ("MT.ARELGR1", "Causality group", "Computation", "RELATED for POSSIBLY RELATED and RELATED; NOT RELATED for NOT "
     "RELATED and UNLIKELY RELATED (codelist ARELGR1 synonyms)."),
    ("MT.PARAM", "Parameter", "Computation", "PARAMCD, PARAM, PARAMN and PARCAT1 of the Parameters sheet row whose "
     "filter the SDTM record meets (or which a derive_param_* row creates)."),
    ("MT.AVAL", "Analysis value", "Computation", "AVAL = the Parameters sheet's Result Variable of the SDTM record "
     "(standard units); AVALC = its Character Result Variable when one is named."),
    ("MT.ADT", "Analysis date", "Computation", "SAS date of the date part of the SDTM record's --DTC; a partial date "
     "gives no ADT (and no analysis visit), reported as a warning."),
    ("MT.AVISIT", "Analysis visit", "Computation", "The window of the Windows sheet whose Low Day..High Day "
     "(inclusive) holds ADY; windows listed for the parameter take precedence. No window: no AVISIT."),
    ("MT.ABLFL", "Baseline flag", "Computation", "Y on the last record (by ADT, then SRCSEQ) with ADY <= 1 and a "
     "non-missing AVAL or AVALC per subject and parameter: the last value on or before the day of first dose, "
     "including a value taken on that day."),
    ("MT.BASE", "Baseline value", "Computation", "The ABLFL = Y record's value (AVAL for BASE, AVALC for BASEC, "
     "ANRIND for BNRIND) on every record of the subject and parameter."),
    ("MT.CHG", "Change from baseline", "Computation", "AVAL - BASE on post-baseline records (ADY > 1)."),
    ("MT.PCHG", "Percent change from baseline", "Computation", "(AVAL - BASE) / BASE x 100 on post-baseline "
     "records; missing when BASE is 0."),
    ("MT.ANL01FL", "Analysis record flag", "Computation", "Y on one record per subject, parameter and analysis window "
     "with a non-missing AVAL or AVALC, chosen by the window's Selection (Windows sheet): CLOSEST-LATER = the "
     "record whose ADY is closest to the Target Day, the later one on a tie; LAST = the latest. Records on the "
     "same day: the higher SRCSEQ."),
    ("MT.SRC", "Traceability", "Computation", "SRCDOM = the SDTM dataset, SRCVAR = the result variable, SRCSEQ = "
     "--SEQ of the SDTM record the analysis value comes from (for a derived parameter: the record it is computed "
     "from; scores list their item records in reports/traceability.csv)."),
    ("MT.ASEQ", "Analysis sequence", "Computation", "1, 2, ... within the subject in PARAMCD, ADT, SRCSEQ order."),
    ("MT.ANRLO", "Analysis range", "Computation", "LBSTNRLO / LBSTNRHI of the source LB record (SRCDOM/SRCSEQ)."),
    ("MT.ANRIND", "Range indicator", "Computation", "LOW when AVAL < ANRLO, HIGH when AVAL > ANRHI, NORMAL otherwise; "
     "a one-sided range classifies on its side; no range or no AVAL: null."),
]


COMMON_COMMENTS = [
    ("COM.SCRNFAIL", "ADSL has one record per DM subject, screen failures included (RANDFL = N). As in DM (SDTMIG "
     "3.4, ARMNRS = SCREEN FAILURE) their ARM, ACTARM and TRT01P/TRT01A are null rather than an invented "
     "value, so these variables are Perm here although ADaMIG 1.3 lists ARM and TRTxxP as Req; every analysis "
     "population flag excludes them."),
]


# ------------------------------------------------------------------------------------------ studies


#: EDSS progression steps of the MSEXO01 protocol (low:high:minimum increase; blank high = open).
EDSS_STEPS = "0:0:1.5, 1.0:5.5:1.0, 6.0::0.5"
EDSS_PROGRESSION_ROWS = [
    ("PROGFL", "derive_var_progression", f"filter=PARAMCD = 'EDSS'; steps={EDSS_STEPS}", "",
     "increase of >= 1.5 from baseline 0, >= 1.0 from 1.0-5.5, >= 0.5 from 6.0 or more"),
    ("CDP12FL", "derive_var_confirmed", "min_gap_days=84; flag_var=PROGFL", "", "3 months = 12 weeks"),
    ("CDP24FL", "derive_var_confirmed", "min_gap_days=168; flag_var=PROGFL", "", "6 months = 24 weeks"),
]
TTE_RECORDS = ("STUDYID, USUBJID, PARAMCD, PARAM, PARAMN, PARCAT1, STARTDT, ADT, AVAL, CNSR, EVNTDESC, CNSDTDSC, "
               "SRCDOM, SRCVAR, SRCSEQ")


def tte_arguments(paramcd: str, flag: str, weeks: int) -> str:
    """derive_param_time_to_event arguments: first confirmed onset, else the last EDSS, else randomization."""
    return (f"paramcd={paramcd}; dataset_adsl=ADSL; dataset_add=ADEDSS; start_date=RANDDT; population=RANDFL = 'Y'; "
            f"event=ADEDSS.ADT where PARAMCD = 'EDSS' and {flag} = 'Y' order SRCSEQ set "
            f"EVNTDESC={weeks}-WEEK CONFIRMED DISABILITY PROGRESSION, SRCDOM=@SRCDOM, SRCVAR=RSDTC, SRCSEQ=@SRCSEQ; "
            "censor1=ADEDSS.ADT where PARAMCD = 'EDSS' and PROGFL is not blank order SRCSEQ set "
            "EVNTDESC=NO CONFIRMED PROGRESSION, CNSDTDSC=LAST EDSS ASSESSMENT, SRCDOM=@SRCDOM, SRCVAR=RSDTC, "
            "SRCSEQ=@SRCSEQ; "
            "censor2=ADSL.RANDDT set EVNTDESC=NO POST-BASELINE EDSS ASSESSMENT, CNSDTDSC=RANDOMIZATION DATE, "
            "SRCDOM=ADSL, SRCVAR=RANDDT")


ADTTE_ROWS = [
    (TTE_RECORDS, "derive_param_time_to_event", tte_arguments("TTCDP12", "CDP12FL", 12), "", ""),
    (TTE_RECORDS, "derive_param_time_to_event", tte_arguments("TTCDP24", "CDP24FL", 24), "", ""),
    ("SITEID, TRTP, TRTPN, TRTA, TRTAN, ITTFL, EFFFL", "derive_vars_merged",
     "dataset_add=ADSL; source_vars=SITEID, TRT01P, TRT01PN, TRT01A, TRT01AN, ITTFL, EFFFL", "", ""),
]
ADTTE_VARIABLES = [
    pred("STUDYID", "Study Identifier", "ADSL.STUDYID", length=12, core="Req"),
    pred("USUBJID", "Unique Subject Identifier", "ADSL.USUBJID", length=30, core="Req"),
    pred("SITEID", "Study Site Identifier", "ADSL.SITEID", length=10),
    pred("TRTP", "Planned Treatment", "ADSL.TRT01P", length=200),
    pred("TRTPN", "Planned Treatment (N)", "ADSL.TRT01PN", "integer", codelist="TRT01PN"),
    pred("TRTA", "Actual Treatment", "ADSL.TRT01A", length=200),
    pred("TRTAN", "Actual Treatment (N)", "ADSL.TRT01AN", "integer", codelist="TRT01PN"),
    pred("ITTFL", "Intent-To-Treat Population Flag", "ADSL.ITTFL", length=1, codelist="NY"),
    pred("EFFFL", "Efficacy Population Flag", "ADSL.EFFFL", length=1, codelist="NY"),
    V("PARAMCD", "Parameter Code", length=8, method="MT.PARAM", core="Req"),
    V("PARAM", "Parameter", length=80, method="MT.PARAM", core="Req"),
    V("PARAMN", "Parameter (N)", "integer", 8, method="MT.PARAM"),
    V("PARCAT1", "Parameter Category 1", length=40, method="MT.PARAM"),
    date("STARTDT", "Time-to-Event Origin Date for Subject", "MT.TTE", "ADSL.RANDDT"),
    date("ADT", "Analysis Date", "MT.TTE"),
    V("AVAL", "Analysis Value", "integer", 8, method="MT.TTE", core="Req"),
    V("CNSR", "Censor", "integer", 8, method="MT.TTE", core="Req"),
    V("EVNTDESC", "Event or Censoring Description", length=60, method="MT.TTE"),
    V("CNSDTDSC", "Censor Date Description", length=40, method="MT.TTE"),
    V("SRCDOM", "Source Data", length=8, method="MT.TTE"),
    V("SRCVAR", "Source Variable", length=8, method="MT.TTE"),
    V("SRCSEQ", "Source Sequence Number", "integer", 8, method="MT.TTE"),
]


def ms_study() -> dict:
    """Everything study-specific of the MS ADaM workbook."""
    agecut = 50
    baselines = [
        V("BEDSS", "Baseline EDSS", "float", 8, method="MT.BASELINE"),
        V("BEDSSGR1", "Baseline EDSS Group 1", length=8, codelist="BEDSSGR1", method="MT.BEDSSGR1"),
        V("BSDMT", "Baseline SDMT Total Score", "float", 8, method="MT.BASELINE"),
    ]
    baseline_rows = [
        ("BEDSS", "derive_vars_merged", "dataset_add=RS; source_vars=RSSTRESN; "
         "filter=RSTESTCD = 'EDSS0101' and RSLOBXFL = 'Y'", "", ""),
        ("BEDSSGR1", "derive_var_cat", "source=BEDSS; cuts=6; codelist=BEDSSGR1", "", "EDSS progression steps differ "
         "below and from 6.0"),
        ("BSDMT", "derive_vars_merged", "dataset_add=FT; source_vars=FTSTRESN; "
         "filter=FTTESTCD = 'SDMT0101' and FTLOBXFL = 'Y'", "", ""),
    ]
    datasets = [
        ("ADSL", "Subject-Level Analysis Dataset", "SUBJECT LEVEL ANALYSIS DATASET", "One record per subject",
         "STUDYID, USUBJID", "No"),
        ("ADAE", "Adverse Events Analysis Dataset", "OCCURRENCE DATA STRUCTURE",
         "One record per subject per adverse event", "STUDYID, USUBJID, AESEQ", "Yes"),
        ("ADLB", "Biomarker Analysis Dataset", "BASIC DATA STRUCTURE",
         "One record per subject per parameter per analysis date", "STUDYID, USUBJID, PARAMCD, ADT, SRCSEQ", "Yes"),
        ("ADEDSS", "EDSS Analysis Dataset", "BASIC DATA STRUCTURE",
         "One record per subject per parameter per analysis date", "STUDYID, USUBJID, PARAMCD, ADT, SRCSEQ", "Yes"),
        ("ADSDMT", "SDMT Analysis Dataset", "BASIC DATA STRUCTURE",
         "One record per subject per parameter per analysis date", "STUDYID, USUBJID, PARAMCD, ADT, SRCSEQ", "Yes"),
        ("ADMRI", "MRI Analysis Dataset", "BASIC DATA STRUCTURE",
         "One record per subject per parameter per analysis date", "STUDYID, USUBJID, PARAMCD, ADT, SRCSEQ", "Yes"),
        ("ADTTE", "Time-to-Event Analysis Dataset", "BASIC DATA STRUCTURE",
         "One record per subject per parameter", "STUDYID, USUBJID, PARAMCD", "Yes"),
    ]
    lb_records = ("STUDYID, USUBJID, PARAMCD, PARAM, PARAMN, PARCAT1, AVAL, AVALC, ADT, VISIT, VISITNUM, "
                  "SRCDOM, SRCVAR, SRCSEQ")
    variables = {
        "ADSL": adsl_variables(baselines),
        "ADAE": ADAE_VARIABLES,
        "ADLB": bds_variables("LB", [V("DTYPE", "Derivation Type", length=8, codelist="DTYPE", method="MT.BLQ")],
                              ranges=True, basec=True),
        "ADEDSS": bds_variables("RS", [], pchg=False) + [
            V("PROGFL", "EDSS Progression Flag", length=1, codelist="NY", method="MT.PROGFL"),
            V("CDP12FL", "12-Week Confirmed Progression Flag", length=1, codelist="NY", method="MT.CDP"),
            V("CDP24FL", "24-Week Confirmed Progression Flag", length=1, codelist="NY", method="MT.CDP")],
        "ADTTE": ADTTE_VARIABLES,
        "ADSDMT": bds_variables("FT", [], crit=True),
        "ADMRI": bds_variables("NV", []),
    }
    derivations = {
        "ADSL": [(v, f, a.replace("{agecut}", str(agecut)), c, k) for v, f, a, c, k in
                 adsl_derivations(baseline_rows, ("RS", "RSTESTCD = 'EDSS0101' and RSDY > 1"))],
        "ADAE": adae_derivations("start=ASTDT; end=AENDT; trt_start=TRTSDT; trt_end=TRTEDT"),
        "ADLB": bds_derivations(lb_records, [
            ("ANRLO, ANRHI", "derive_vars_merged_source", "source_vars=LBSTNRLO, LBSTNRHI", "", ""),
            ("AVAL, DTYPE", "derive_var_blq", "source=AVALC; factor=0.5; dtype=HALFLLOQ", "",
             "results reported as <LLOQ")], ranges=True, basec=True),
        "ADEDSS": bds_derivations(lb_records.replace(", PARCAT1", "").replace("AVALC, ", ""), [], pchg=False,
                                  after_base=EDSS_PROGRESSION_ROWS),
        "ADTTE": ADTTE_ROWS,
        "ADSDMT": bds_derivations(lb_records.replace(", PARCAT1", "").replace("AVALC, ", ""), [], after_base=[
            ("CRIT1, CRIT1FL", "derive_var_crit", "text=SDMT decrease from baseline >= 4 points; rule=CHG <= -4",
             "PARAMCD = 'SDMT'", "clinically meaningful worsening")]),
        "ADMRI": bds_derivations(lb_records.replace("AVALC, ", ""), [],
                                 pchg_condition="PARAMCD in ('BRAINVOL', 'T2LESVOL') and ADY > 1"),
    }
    for ds in ("ADEDSS", "ADSDMT"):
        variables[ds] = [v for v in variables[ds] if v.name not in ("PARCAT1", "AVALC")]
    variables["ADMRI"] = [v for v in variables["ADMRI"] if v.name != "AVALC"]
    params = [
        ("ADLB", "NFLSER", "Neurofilament Light Chain, Serum (ng/L)", 1, "BLOOD BIOMARKERS", "LB",
         "LBTESTCD = 'NFLP' and LBSPEC = 'SERUM'", "LBSTRESN", "LBSTRESC"),
        ("ADLB", "GFAPSER", "Glial Fibrillary Acidic Protein, Serum (ng/L)", 2, "BLOOD BIOMARKERS", "LB",
         "LBTESTCD = 'GFAP' and LBSPEC = 'SERUM'", "LBSTRESN", "LBSTRESC"),
        ("ADLB", "NFLCSF", "Neurofilament Light Chain, CSF (ng/L)", 3, "CSF BIOMARKERS", "LB",
         "LBTESTCD = 'NFLP' and LBSPEC = 'CEREBROSPINAL FLUID'", "LBSTRESN", "LBSTRESC"),
        ("ADLB", "GFAPCSF", "Glial Fibrillary Acidic Protein, CSF (ng/L)", 4, "CSF BIOMARKERS", "LB",
         "LBTESTCD = 'GFAP' and LBSPEC = 'CEREBROSPINAL FLUID'", "LBSTRESN", "LBSTRESC"),
        ("ADLB", "OLIGBAND", "Oligoclonal Bands, CSF", 5, "CSF BIOMARKERS", "LB",
         "LBTESTCD = 'OLIGBAND'", "", "LBSTRESC"),
        ("ADEDSS", "EDSS", "Expanded Disability Status Scale Score", 1, "", "RS", "RSTESTCD = 'EDSS0101'",
         "RSSTRESN", ""),
        ("ADSDMT", "SDMT", "SDMT Total Score (Correct Substitutions)", 1, "", "FT", "FTTESTCD = 'SDMT0101'",
         "FTSTRESN", ""),
        ("ADTTE", "TTCDP12", "Time to 12-Week Confirmed Disability Progression (Days)", 1, "EDSS", "", "", "", ""),
        ("ADTTE", "TTCDP24", "Time to 24-Week Confirmed Disability Progression (Days)", 2, "EDSS", "", "", "", ""),
        ("ADMRI", "T2LESN", "Number of T2 Lesions", 1, "T2 LESIONS", "NV", "NVTESTCD = 'T2LESN'", "NVSTRESN", ""),
        ("ADMRI", "T2LESVOL", "T2 Lesion Volume (uL)", 2, "T2 LESIONS", "NV",
         "NVTESTCD = 'VOLUME' and NVCAT = 'T2 LESIONS'", "NVSTRESN", ""),
        ("ADMRI", "NEWT2N", "Number of New or Enlarging T2 Lesions", 3, "T2 LESIONS", "NV", "NVTESTCD = 'NEWT2N'",
         "NVSTRESN", ""),
        ("ADMRI", "GDLESN", "Number of Gd-Enhancing Lesions", 4, "T2 LESIONS", "NV", "NVTESTCD = 'GDLESN'",
         "NVSTRESN", ""),
        ("ADMRI", "BRAINVOL", "Whole Brain Volume (mL)", 5, "BRAIN VOLUMETRY", "NV",
         "NVTESTCD = 'VOLUME' and NVCAT = 'BRAIN VOLUMETRY'", "NVSTRESN", ""),
    ]
    visits = [("SCREENING", -1, None, None, -1, "LAST"), ("BASELINE", 0, 1, 1, 1, "LAST"),
              ("MONTH 3", 3, 92, 2, 137, "CLOSEST-LATER"), ("MONTH 6", 6, 183, 138, 228, "CLOSEST-LATER"),
              ("MONTH 9", 9, 274, 229, 320, "CLOSEST-LATER"), ("MONTH 12", 12, 366, 321, 457, "CLOSEST-LATER"),
              ("MONTH 18", 18, 548, 458, 639, "CLOSEST-LATER"), ("MONTH 24", 24, 731, 640, 822, "CLOSEST-LATER")]
    mri = [("BASELINE", 0, 1, None, 1, "LAST")] + [v for v in visits if v[1] >= 3]
    windows = [(ds, *v) for ds in ("ADLB", "ADEDSS", "ADSDMT") for v in visits] + [("ADMRI", *v) for v in mri]
    methods = [
        ("MT.BLQ", "Below quantification limit", "Imputation", "A result reported as '<x' (LBSTRESC, no LBSTRESN) gets "
         "AVAL = x x 0.5 and DTYPE = HALFLLOQ (one half of the lower limit of quantification); AVALC keeps '<x'."),
        ("MT.BEDSSGR1", "Baseline EDSS group", "Computation", "BEDSS < 6.0: '<6.0'; BEDSS >= 6.0: '>=6.0' (the "
         "progression threshold changes at 6.0)."),
        ("MT.PROGFL", "EDSS progression", "Computation", "On EDSS records dated after the baseline record: Y when "
         "AVAL - BASE reaches the minimum increase of BASE's step (>= 1.5 from a baseline of 0, >= 1.0 from 1.0 to "
         "5.5, >= 0.5 from 6.0 or more; steps in the Derivations sheet), N otherwise. A baseline no step covers "
         "(0.5) or a missing one gives no flag and a warning. Records without AVAL are not rated."),
        ("MT.CDP", "Confirmed disability progression", "Computation", "Y on a progression record (PROGFL = Y) when "
         "the first assessment at least 84 (CDP12FL) / 168 (CDP24FL) days later exists and every assessment from "
         "the onset up to and including it is a progression against the same baseline (unscheduled assessments "
         "count; records without AVAL neither confirm nor break). No assessment that late (study end, early "
         "withdrawal): not confirmed. Several assessments on one date count as one, a progression only if all are "
         "(reported). See adam/progression.py."),
        ("MT.TTE", "Time to confirmed progression", "Computation", "Randomized subjects (RANDFL = Y). STARTDT = "
         "RANDDT. Event (CNSR 0): the first EDSS record with CDP12FL (CDP24FL) = Y, ADT = its date (the onset). "
         "Otherwise censored (CNSR 1) at the last rated post-baseline EDSS assessment, or (CNSR 2) at "
         "randomization when there is none. AVAL = ADT - STARTDT + 1 days. SRCDOM/SRCVAR/SRCSEQ point at the RS "
         "record (RSDTC) or at ADSL.RANDDT. See adam/tte.py."),
        ("MT.CRIT1", "SDMT worsening", "Computation", "CRIT1FL = Y when CHG <= -4 (a decrease of 4 points or more, "
         "a clinically meaningful SDMT worsening), N when CHG is known and greater; CRIT1 holds the text."),
    ]
    comments = [("COM.TEAE", "Every AE starting on or after the first infusion counts as treatment-emergent up to the "
                 "end of follow-up (no upper window): exosome effects may be long-lasting, so the whole follow-up is "
                 "the safety observation period.")]
    return dict(study="ms_exo", sdtm="ms_exo.xlsx", agecut=agecut, datasets=datasets, variables=variables,
                derivations=derivations, params=params, windows=windows, methods=methods, comments=comments,
                age_terms=("<50", ">=50"), sponsor=[
                    ("BEDSSGR1", "Baseline EDSS Group 1", [("<6.0", "", ""), (">=6.0", "", "")]),
                    ("TRT01PN", "Planned Treatment (N)", [("1", "Placebo", ""), ("2", "MSC-Derived Exosomes", "")])],
                trtem_comment="COM.TEAE")


DQOL_SUBSCALES = [("DQOLSAT", "SATISFACTION", 1, 15), ("DQOLIMP", "IMPACT", 16, 35),
                  ("DQOLDW", "DIABETES-RELATED WORRY", 36, 39), ("DQOLSVW", "SOCIAL/VOCATIONAL WORRY", 40, 46)]
#: (PARAMCD, PARAM, items, min_fraction, comment) of the DQoL score parameters, in PARAMN order.
DQOL_SCORES = [
    ("DQOLSAT", "DQoL Satisfaction Score (15-75)", "DQOL01..DQOL15", "0.5", "sum of items 1-15"),
    ("DQOLIMP", "DQoL Impact Score (20-100)", "DQOL16..DQOL35", "0.5", "sum of items 16-35"),
    ("DQOLDW", "DQoL Diabetes-Related Worry Score (4-20)", "DQOL36..DQOL39", "0.5", "sum of items 36-39"),
    ("DQOLSVW", "DQoL Social/Vocational Worry Score (7-35)", "DQOL40..DQOL46", "0.5", "sum of items 40-46"),
    ("DQOLTOT", "DQoL Total Score (46-230)", "DQOLSAT, DQOLIMP, DQOLDW, DQOLSVW", "1",
     "sum of the four subscales; missing when one is"),
]


def t2dm_study() -> dict:
    """Everything study-specific of the T2DM ADaM workbook."""
    agecut = 55
    baselines = [
        V("BHBA1C", "Baseline HbA1c (%)", "float", 8, method="MT.BASELINE"),
        V("BFPG", "Baseline Fasting Plasma Glucose (mmol/L)", "float", 8, method="MT.BASELINE"),
    ]
    baseline_rows = [
        ("BHBA1C", "derive_vars_merged", "dataset_add=LB; source_vars=LBSTRESN; "
         "filter=LBTESTCD = 'HBA1C' and LBLOBXFL = 'Y'", "", ""),
        ("BFPG", "derive_vars_merged", "dataset_add=LB; source_vars=LBSTRESN; "
         "filter=LBTESTCD = 'GLUC' and LBFAST = 'Y' and LBTPT is blank and LBLOBXFL = 'Y'", "", ""),
    ]
    datasets = [
        ("ADSL", "Subject-Level Analysis Dataset", "SUBJECT LEVEL ANALYSIS DATASET", "One record per subject",
         "STUDYID, USUBJID", "No"),
        ("ADAE", "Adverse Events Analysis Dataset", "OCCURRENCE DATA STRUCTURE",
         "One record per subject per adverse event", "STUDYID, USUBJID, AESEQ", "Yes"),
        ("ADLB", "Laboratory Analysis Dataset", "BASIC DATA STRUCTURE",
         "One record per subject per parameter per analysis date", "STUDYID, USUBJID, PARAMCD, ADT, SRCSEQ", "Yes"),
        ("ADQS", "DQoL Questionnaire Analysis Dataset", "BASIC DATA STRUCTURE",
         "One record per subject per parameter per analysis date", "STUDYID, USUBJID, PARAMCD, ADT, SRCSEQ", "Yes"),
    ]
    lb_records = ("STUDYID, USUBJID, PARAMCD, PARAM, PARAMN, PARCAT1, AVAL, AVALC, ADT, VISIT, VISITNUM, "
                  "SRCDOM, SRCVAR, SRCSEQ")
    variables = {
        "ADSL": adsl_variables(baselines),
        "ADAE": ADAE_VARIABLES,
        "ADLB": bds_variables("LB", [V("DTYPE", "Derivation Type", length=8, codelist="DTYPE", method="MT.BLQ")],
                              ranges=True),
        "ADQS": [v for v in bds_variables("QS", [], pchg=False) if v.name != "AVALC"],
    }
    derivations = {
        "ADSL": [(v, f, a.replace("{agecut}", str(agecut)), c, k) for v, f, a, c, k in
                 adsl_derivations(baseline_rows, ("LB", "LBTESTCD = 'HBA1C' and LBDY > 1"))],
        "ADAE": adae_derivations("start=ASTDT; end=AENDT; trt_start=TRTSDT; trt_end=TRTEDT; end_window=30"),
        "ADLB": bds_derivations(lb_records, [
            ("ANRLO, ANRHI", "derive_vars_merged_source", "source_vars=LBSTNRLO, LBSTNRHI", "", ""),
            ("AVAL, DTYPE", "derive_var_blq", "source=AVALC; factor=0.5; dtype=HALFLLOQ", "",
             "results reported as <LLOQ"),
            ("PARAMCD, PARAM, PARAMN, PARCAT1, AVAL, ANRLO, ANRHI", "derive_param_linear",
             "paramcd=HBA1CMMO; source_paramcd=HBA1C; offset=-2.15; factor=10.929; digits=0; vars=AVAL, ANRLO, ANRHI",
             "", "IFCC-NGSP master equation")], ranges=True),
        "ADQS": bds_derivations(lb_records.replace("AVALC, ", ""), [
            ("PARAMCD, PARAM, PARAMN, PARCAT1, AVAL, ADT, VISIT, VISITNUM", "derive_param_score",
             f"paramcd={cd}; items={items}; method=sum; min_fraction={frac}", "", why)
            for cd, _, items, frac, why in DQOL_SCORES], pchg=False),
    }
    p = [("GLUCF", "Fasting Plasma Glucose (mmol/L)", "GLYCEMIC", "LBTESTCD = 'GLUC' and LBFAST = 'Y' and "
          "LBTPT is blank"),
         ("GLUC2H", "2-Hour Postprandial Plasma Glucose (mmol/L)", "GLYCEMIC",
          "LBTESTCD = 'GLUC' and LBTPT = '2 HOURS POST MEAL'"),
         ("HBA1C", "Hemoglobin A1C (%)", "GLYCEMIC", "LBTESTCD = 'HBA1C'"),
         ("HBA1CMMO", "Hemoglobin A1C (mmol/mol)", "GLYCEMIC", ""),
         ("CPEPTIDE", "C-Peptide (ug/L)", "GLYCEMIC", "LBTESTCD = 'CPEPTIDE'"),
         ("INTLK6", "Interleukin 6 (ng/L)", "INFLAMMATORY", "LBTESTCD = 'INTLK6'"),
         ("INTLK10", "Interleukin 10 (ng/L)", "INFLAMMATORY", "LBTESTCD = 'INTLK10'"),
         ("DDIMER", "D-Dimer (ug/L)", "INFLAMMATORY", "LBTESTCD = 'DDIMER'"),
         ("CRP", "C Reactive Protein (mg/L)", "INFLAMMATORY", "LBTESTCD = 'CRP'")]
    params = [("ADLB", cd, name, i, cat, "LB" if flt else "", flt, "LBSTRESN" if flt else "",
               "LBSTRESC" if flt else "") for i, (cd, name, cat, flt) in enumerate(p, start=1)]
    item_names = {r["Term"]: r["Decoded Value"] for r in sdtm_codelists(ROOT / "specs" / "t2dm_exo.xlsx",
                                                                         {"DQOLTC": None})}
    subscale = {n: cat for _, cat, lo, hi in DQOL_SUBSCALES for n in range(lo, hi + 1)}
    params += [("ADQS", f"DQOL{n:02d}", item_names[f"DQOL{n:02d}"], n, subscale[n], "QS",
                f"QSCAT = 'DQOL' and QSTESTCD = 'DQOL{n:02d}'", "QSSTRESN", "") for n in range(1, 47)]
    params += [("ADQS", cd, name, 100 + i, "DQOL SCORES", "", "", "", "")
               for i, (cd, name, *_) in enumerate(DQOL_SCORES, start=1)]
    visits = [("SCREENING", -1, None, None, -1, "LAST"), ("BASELINE", 0, 1, 1, 1, "LAST"),
              ("MONTH 1", 1, 31, 2, 46, "CLOSEST-LATER"), ("MONTH 2", 2, 61, 47, 76, "CLOSEST-LATER"),
              ("MONTH 3", 3, 91, 77, 136, "CLOSEST-LATER")]
    windows = [(ds, *v) for ds in ("ADLB", "ADQS") for v in visits]
    methods = [
        ("MT.BLQ", "Below quantification limit", "Imputation", "A result reported as '<x' (LBSTRESC, no LBSTRESN) gets "
         "AVAL = x x 0.5 and DTYPE = HALFLLOQ (one half of the lower limit of quantification); AVALC keeps '<x'."),
        ("MT.DQOL", "DQoL scores", "Computation", "Jacobson et al. 1988 (Diabetes Care 11:725-732): every item is "
         "scored 1-5 as answered (lower is better on every item of this CRF); a subscale score is the sum of its "
         "items: satisfaction (items 1-15, range 15-75), impact (16-35, 20-100), diabetes-related worry (36-39, "
         "4-20), social/vocational worry (40-46, 7-35). Missing items (sponsor rule, stated in the Derivations "
         "sheet as min_fraction): when at least half of a subscale's items are answered, each missing item takes the "
         "mean of the answered items of that subscale (score = answered mean x number of items); otherwise the "
         "subscale is missing. The total (46-230) is the sum of the four subscales and is missing when any "
         "subscale is. Scores are not rounded."),
        ("MT.HBA1CMMO", "HbA1c in mmol/mol", "Computation", "HBA1CMMO = (HBA1C % - 2.15) x 10.929, rounded to a whole "
         "number (IFCC-NGSP master equation, Hoelzel et al., Clin Chem 2004; IFCC units are reported as whole "
         "mmol/mol); applied to AVAL and to the range limits; one record per HbA1c % record, same date and "
         "source record."),
    ]
    comments = [("COM.TEAE", "Treatment-emergent: starting on or after the first dose and at most 30 days after the "
                 "last dose (the Month 3 end-of-treatment visit is about 30 days after the third dose).")]
    return dict(study="t2dm_exo", sdtm="t2dm_exo.xlsx", agecut=agecut, datasets=datasets, variables=variables,
                derivations=derivations, params=params, windows=windows, methods=methods, comments=comments,
                age_terms=("<55", ">=55"), sponsor=[
                    ("TRT01PN", "Planned Treatment (N)", [("1", "Exo-HWS + Exo-HUVEC", ""), ("2", "Exo-HWS", "")])],
                trtem_comment="COM.TEAE", param_methods={"HBA1CMMO": "MT.HBA1CMMO",
                                                         **{cd: "MT.DQOL" for cd, *_ in DQOL_SCORES}})


# ------------------------------------------------------------------------------------------ assembling


def sdtm_codelists(sdtm_path: Path, wanted: dict[str, set[str] | None]) -> list[tuple[str, ...]]:
    """Codelists rows copied from the SDTM workbook (``wanted``: id -> terms to keep, None = all)."""
    table = read_workbook(sdtm_path)["Codelists"]
    out = []
    for _, rec in table.records():
        keep = wanted.get(rec["ID"], "absent")
        if keep == "absent" or (keep is not None and rec["Term"] not in keep):
            continue
        out.append(rec)
    return out


def adam_ct(codelist: str, terms: set[str] | None = None) -> list[dict[str, str]]:
    """Codelists rows for an ADaM CT codelist read from the reference CT file."""
    if not ADAM_CT.is_file():
        raise SystemExit(f"{ADAM_CT} not found: it is needed to write ADaM CT codelists")
    rows = list(csv.DictReader(ADAM_CT.open(encoding="utf-8")))
    head = next(r for r in rows if not r["Codelist Code"] and r["CDISC Submission Value"] == codelist)
    out = []
    for i, r in enumerate((r for r in rows if r["Codelist Code"] == head["Code"]
                           and (terms is None or r["CDISC Submission Value"] in terms)), start=1):
        out.append({"ID": codelist, "Name": head["Codelist Name"], "NCI Codelist Code": head["Code"],
                    "Data Type": "text", "Terminology": "CDISC/NCI",
                    "Extensible": "Yes" if head["Codelist Extensible (Yes/No)"] == "Yes" else "No",
                    "Order": str(i), "Term": r["CDISC Submission Value"], "NCI Term Code": r["Code"],
                    "Decoded Value": r["NCI Preferred Term"], "Extended Value": "No"})
    return out


def sponsor(cid: str, name: str, terms: list[tuple[str, str, str]], data_type: str = "text") -> list[dict]:
    """Codelists rows of a sponsor-defined codelist: (term, decoded value, synonyms) in order."""
    return [{"ID": cid, "Name": name, "Data Type": data_type, "Extensible": "No", "Order": str(i), "Term": t,
             "Decoded Value": d, "Synonyms": s} for i, (t, d, s) in enumerate(terms, start=1)]


def build_tables(cfg: dict) -> dict[str, SheetTable]:
    """The workbook's sheets as text tables, in the ADaM sheet order."""
    sdtm_path = ROOT / "specs" / cfg["sdtm"]
    sdtm_study = dict((r["Attribute"], r["Value"]) for _, r in read_workbook(sdtm_path)["Study"].records())
    study = [("StudyID", sdtm_study["StudyID"]), ("StudyName", sdtm_study["StudyName"]),
             ("StudyDescription", sdtm_study["StudyDescription"]), ("ProtocolName", sdtm_study["ProtocolName"]),
             ("StandardName", "ADaMIG"), ("ADaMIGVersion", "1.3"), ("ADaMCTVersion", ADAM_CT_VERSION),
             ("SDTMIGVersion", sdtm_study["SDTMIGVersion"]), ("SDTMVersion", sdtm_study["SDTMVersion"]),
             ("CTVersion", sdtm_study["CTVersion"]), ("DataCutDate", sdtm_study["DataCutDate"]), ("Language", "en")]
    ds_rows = [{"Dataset": n, "Description": lbl, "Class": cls, "Structure": st, "Purpose": "Analysis",
                "Key Variables": keys, "Repeating": rep, "Reference Data": "No"}
               for n, lbl, cls, st, keys, rep in cfg["datasets"]]
    var_rows = []
    for ds, *_ in cfg["datasets"]:
        for order, v in enumerate(cfg["variables"][ds], start=1):
            comment = cfg["trtem_comment"] if (ds, v.name) == ("ADAE", "TRTEMFL") else v.comment
            var_rows.append({"Order": str(order), "Dataset": ds, "Variable": v.name, "Label": v.label,
                             "Data Type": v.type, "Length": "" if v.length is None else str(v.length),
                             "Format": v.fmt, "Mandatory": "Yes" if v.core == "Req" else "No", "Core": v.core,
                             "Codelist": v.codelist, "Origin": v.origin, "Method": v.method,
                             "Predecessor": v.predecessor, "Comment": comment})
    used = {r["Codelist"] for r in var_rows if r["Codelist"]}
    sdtm_ids = {"NY": None, "SEX": None, "RACE": None, "ETHNIC": None, "AGEU": None, "COUNTRY": None,
                "ARMCD": None, "AESEV": None, "AEREL": None, "ACN": None, "OUT": None, "NRIND": None}
    cl_rows = sdtm_codelists(sdtm_path, {k: v for k, v in sdtm_ids.items() if k in used})
    ncomplt = [r for r in sdtm_codelists(sdtm_path, {"DSDECOD": None})
               if r["Term"] not in ("INFORMED CONSENT OBTAINED", "RANDOMIZED", "COMPLETED")]
    for i, r in enumerate(ncomplt, start=1):
        cl_rows.append({**r, "ID": "NCOMPLT", "Name": "Completion/Reason for Non-Completion",
                        "NCI Codelist Code": "C66727", "Order": str(i)})
    for cid, terms in (("DATEFL", {"D", "M", "Y"}), ("DTYPE", {"HALFLLOQ"}),
                       ("SBJTSTAT", {"COMPLETED", "DISCONTINUED", "ONGOING"})):
        if cid in used:
            cl_rows += adam_ct(cid, terms)
    lo, hi = cfg["age_terms"]
    cl_rows += sponsor("AGEGR1", "Pooled Age Group 1", [(lo, "", ""), (hi, "", "")])
    cl_rows += sponsor("AGEGR1N", "Pooled Age Group 1 (N)", [("1", lo, ""), ("2", hi, "")], "integer")
    for cid, name, terms in cfg["sponsor"]:
        cl_rows += sponsor(cid, name, terms, "integer" if cid.endswith("N") else "text")
    cl_rows += sponsor("ASEVN", "Analysis Severity/Intensity (N)",
                       [("1", "MILD", ""), ("2", "MODERATE", ""), ("3", "SEVERE", "")], "integer")
    cl_rows += sponsor("ARELGR1", "Pooled Causality Group 1",
                       [("RELATED", "", "POSSIBLY RELATED|PROBABLY RELATED"),
                        ("NOT RELATED", "", "UNLIKELY RELATED")])
    cl_rows += sponsor("ARELGR1N", "Pooled Causality Group 1 (N)", [("1", "RELATED", ""), ("2", "NOT RELATED", "")],
                       "integer")
    methods = [dict(zip(("ID", "Name", "Type", "Description"), m)) for m in COMMON_METHODS + cfg["methods"]]
    comments = [dict(zip(("ID", "Description"), c)) for c in COMMON_COMMENTS + cfg["comments"]]
    pm = cfg.get("param_methods", {})
    par_rows = [{"Dataset": ds, "PARAMCD": cd, "PARAM": name, "PARAMN": str(n), "PARCAT1": cat,
                 "Source Dataset": src, "Filter": flt, "Result Variable": res, "Character Result Variable": resc,
                 "Method": pm.get(cd, "")} for ds, cd, name, n, cat, src, flt, res, resc in cfg["params"]]
    win_rows = [{"Dataset": ds, "AVISITN": str(n), "AVISIT": name, "Target Day": "" if t is None else str(t),
                 "Low Day": "" if lo_ is None else str(lo_), "High Day": "" if hi_ is None else str(hi_),
                 "Selection": sel} for ds, name, n, t, lo_, hi_, sel in cfg["windows"]]
    der_rows = [{"Dataset": ds, "Variable": v, "Function": f, "Arguments": a, "Condition": c, "Comment": k}
                for ds, *_ in cfg["datasets"] for v, f, a, c, k in cfg["derivations"][ds]]
    sheets = {"Study": [dict(zip(("Attribute", "Value"), a)) for a in study], "Datasets": ds_rows,
              "Variables": var_rows, "ValueLevel": [], "Codelists": cl_rows, "Methods": methods,
              "Comments": comments, "Parameters": par_rows, "Windows": win_rows, "Derivations": der_rows}
    tables = {}
    for layout in ADAM_SHEETS:
        rows = sheets[layout.name]
        tables[layout.name] = SheetTable(layout.columns, tuple(
            (i, tuple(r.get(c, "") for c in layout.columns)) for i, r in enumerate(rows, start=2)))
    return tables


STUDIES = {"ms_exo": ms_study, "t2dm_exo": t2dm_study}


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check compare) both ADaM workbooks; 1 when a committed one differs."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with the committed workbooks instead of writing")
    args = ap.parse_args(argv)
    from subgen.core.spec.loader import spec_from_tables

    status = 0
    for name, make in STUDIES.items():
        tables = build_tables(make())
        path = ROOT / "specs" / f"{name}_adam.xlsx"
        spec_from_tables(tables, path)  # validate before writing
        if args.check:
            same = path.is_file() and tables_to_text(read_workbook(path)) == tables_to_text(tables)
            print(f"{path}: {'up to date' if same else 'DIFFERS from tools/adam_spec.py'}")
            status |= 0 if same else 1
        else:
            write_workbook(tables, path)
            print(f"wrote {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
