"""Whole validation (validation.run, validation.report, subgen validate): the demo studies, planted
defects in a copy of their output, waivers, byte-identical reports, and vendor packages without a spec."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from openpyxl import load_workbook

from subgen.core.conformance.outcomes import EXECUTION_ERROR, NOT_APPLICABLE, PASSED
from validation import catalogue
from validation.report import HTML_NAME, JSON_NAME, XLSX_NAME, rules_frame, write_reports
from validation.run import validate_folder, validate_study

STUDIES = ("ms_exo", "t2dm_exo")


@pytest.fixture(scope="module")
def validated(root: Path, built: dict, adam_built: dict, tmp_path_factory) -> dict:
    """Both demo studies validated once (SDTM and ADaM), reports written beside a copy of their output (the
    session's build stays as built for the other modules, whatever the order they run in)."""
    out, out_root = {}, tmp_path_factory.mktemp("validated")
    for study in STUDIES:
        shutil.copytree(built[study], out_root / study / "sdtm")
        shutil.copytree(adam_built[study], out_root / study / "adam")
        result = validate_study(root / "studies" / study, out_root)
        out[study] = (result, write_reports(result, out_root / study / "validation"), out_root)
    return out


def _sheet(path: Path, name: str) -> pd.DataFrame:
    ws = load_workbook(path, read_only=True)[name]
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


# --------------------------------------------------------------------------------------------
# The demo studies


@pytest.mark.slow
@pytest.mark.parametrize("study", STUDIES)
def test_demo_studies_have_no_reject_or_error_findings(validated, study):
    result, folder, _ = validated[study]
    assert result.may_export, result.blocking[["dataset", "rule", "record", "message"]].to_string()
    assert not any(r.outcome == EXECUTION_ERROR for r in result.runs)
    outcome = {(r.rule, r.dataset): r.outcome for r in result.runs}
    # the rules across datasets really ran on the demo (SDTM with SE, and ADaM)
    for rule, dataset in (("XD-USUBJID-DM", "AE"), ("XD-DY-CALC", "LB"), ("XD-VISIT-TV", "LB"), ("XD-ARM-TA", "DM"),
                          ("XD-EPOCH-SE", "LB"), ("XD-TS-SSTDTC", "TS"), ("XD-SUPP-PARENT", "SUPPDM"),
                          ("AD-ADSL-ONE", "ADSL"), ("AD-ADSL-DM", "ADSL"), ("AD-CHG", "ADLB"), ("AD-TRACE", "ADLB")):
        assert outcome[(rule, dataset)] == PASSED, (rule, dataset)
    assert (folder / XLSX_NAME).is_file() and (folder / "suites" / "dm.json").is_file()


@pytest.mark.slow
def test_excel_report_sheets_rules_and_provenance(validated, root):
    result, folder, out_root = validated["ms_exo"]
    wb = load_workbook(folder / XLSX_NAME, read_only=True)
    assert wb.sheetnames == ["Issue Summary", "Details", "Rules", "Provenance"]
    rules = _sheet(folder / XLSX_NAME, "Rules")
    assert set(catalogue.RULES) - {"GX-EXECUTION-ERROR", "GX-NOT-RUN"} <= set(rules["Rule"])
    assert set(rules["Outcome"]) <= {"passed", "issues found", "not applicable", "execution error"}
    assert rules["Citation"].notna().all()
    na = rules[rules["Outcome"] == NOT_APPLICABLE]
    assert na["Reason"].notna().all() and (na["Reason"].str.len() > 0).all()
    prov = dict(_sheet(folder / XLSX_NAME, "Provenance").itertuples(index=False))
    spec = root / "specs" / "ms_exo.xlsx"
    assert prov["spec sha256"] == hashlib.sha256(spec.read_bytes()).hexdigest()
    study_out = out_root / "ms_exo"
    for xpt in sorted((study_out / "sdtm").glob("*.xpt")) + sorted((study_out / "adam").glob("*.xpt")):
        key = f"input {xpt.parent.name}/{xpt.name} sha256"
        assert prov[key] == hashlib.sha256(xpt.read_bytes()).hexdigest(), key
    assert prov["data cut"] == "2026-10-31" and prov["may be exported"] == "yes"
    assert prov["metadata DM"] == "spec ms_exo.xlsx" and prov["metadata ADSL"] == "spec ms_exo_adam.xlsx"


@pytest.mark.slow
def test_reports_are_byte_identical_across_runs(validated, root, tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    _, folder, out_root = validated["t2dm_exo"]
    again = write_reports(validate_study(root / "studies" / "t2dm_exo", out_root), tmp_path / "again")
    first = sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    second = sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert first == second
    for rel in first:
        assert (folder / rel).read_bytes() == (again / rel).read_bytes(), rel
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z
    stamped = validate_study(root / "studies" / "t2dm_exo", out_root)
    assert dict(stamped.provenance)["report time"] == "2026-01-01T00:00:00 (SOURCE_DATE_EPOCH)"


# --------------------------------------------------------------------------------------------
# Planted defects in a copy of the demo output, ranges from the spec, waivers


def _rewrite(path: Path, change) -> pd.DataFrame:
    frame, meta = pyreadstat.read_xport(str(path))
    frame = change(frame)
    pyreadstat.write_xport(frame, str(path), table_name=path.stem.upper(), file_format_version=5,
                           column_labels=[meta.column_names_to_labels.get(c) or c for c in frame.columns])
    return frame


def _spec_with_ranges(src: Path, dst: Path) -> None:
    """The demo spec with the ValueLevel Range for EDSS (0 to 10 by 0.5) and SDMT (0 to 110 by 1) set,
    whether or not the spec already declares them (Range column and rows added when absent)."""
    wb = load_workbook(src)
    ws = wb["ValueLevel"]
    header = [c.value for c in ws[1]]
    if "Range" not in header:
        col = header.index(None) + 1 if None in header else len(header) + 1
        ws.cell(1, col, "Range")
        header = [c.value for c in ws[1]]
    names = {h: i + 1 for i, h in enumerate(header) if h}
    for values in (("RS", "RSSTRESN", "RSTESTCD EQ EDSS0101", "float", "0 to 10 by 0.5"),
                   ("FT", "FTSTRESN", "FTTESTCD EQ SDMT0101", "integer", "0 to 110 by 1")):
        row = next((r for r in range(2, ws.max_row + 1)
                    if (ws.cell(r, names["Dataset"]).value, ws.cell(r, names["Variable"]).value,
                        ws.cell(r, names["Where Clause"]).value) == values[:3]), None)
        if row is None:
            row = ws.max_row + 1
            for key, value in zip(("Dataset", "Variable", "Where Clause", "Data Type"), values[:4]):
                ws.cell(row, names[key], value)
            ws.cell(row, names["Order"], row)
            ws.cell(row, names["Origin"], "Collected")
        ws.cell(row, names["Range"], values[4])
    wb.save(dst)


@pytest.fixture(scope="module")
def planted(root: Path, built: dict, adam_built: dict, tmp_path_factory) -> dict:
    """A copy of ms_exo's output with known defects, and a study folder (spec with ranges) to validate it."""
    base = tmp_path_factory.mktemp("planted")
    out_root, study = base / "out", base / "study"
    shutil.copytree(built["ms_exo"], out_root / "ms_exo" / "sdtm")
    shutil.copytree(adam_built["ms_exo"], out_root / "ms_exo" / "adam")
    study.mkdir()
    _spec_with_ranges(root / "specs" / "ms_exo.xlsx", study / "ms_exo.xlsx")
    (study / "study.toml").write_text(textwrap.dedent(f"""\
        [study]
        name = "ms_exo"
        spec = "ms_exo.xlsx"
        raw = "{(root / 'studies' / 'ms_exo' / 'raw').as_posix()}"
        adam_spec = "{(root / 'specs' / 'ms_exo_adam.xlsx').as_posix()}"
        """), encoding="utf-8")
    sdtm, adam = out_root / "ms_exo" / "sdtm", out_root / "ms_exo" / "adam"
    planted = {}

    def lb(frame):
        i = int(frame.index[frame["LBDY"].notna()][5])
        frame.loc[i, "LBDY"] = frame.loc[i, "LBDY"] + 1
        planted["LB"] = (i + 1, frame.loc[i, "USUBJID"])
        return frame

    def rs(frame):
        edss = frame.index[frame["RSTESTCD"].eq("EDSS0101") & frame["RSSTRESN"].notna()]
        frame.loc[edss[0], "RSSTRESN"] = 6.3     # within 0-10, off the 0.5 steps
        frame.loc[edss[1], "RSSTRESN"] = 10.5    # above 10: RANGE-VALUE only (one defect, one finding)
        planted["RS"] = (int(edss[0]) + 1, int(edss[1]) + 1)
        return frame

    def adedss(frame):
        i = int(frame.index[frame["CHG"].notna()][0])
        frame.loc[i, "CHG"] = frame.loc[i, "CHG"] + 0.5
        planted["ADEDSS"] = (i + 1, frame.loc[i, "USUBJID"])
        return frame

    _rewrite(sdtm / "lb.xpt", lb)
    _rewrite(sdtm / "rs.xpt", rs)
    _rewrite(adam / "adedss.xpt", adedss)
    return {"out": out_root, "study": study, "planted": planted}


@pytest.mark.slow
def test_planted_defects_are_found_exactly(planted):
    result = validate_study(planted["study"], planted["out"])
    blocking = result.blocking
    got = sorted(zip(blocking["rule"], blocking["dataset"], blocking["record"].astype(int)))
    lb_rec, _ = planted["planted"]["LB"]
    off_step, too_high = planted["planted"]["RS"]
    chg_rec, _ = planted["planted"]["ADEDSS"]
    assert got == sorted([("XD-DY-CALC", "LB", lb_rec), ("RANGE-STEP", "RS", off_step),
                          ("RANGE-VALUE", "RS", too_high), ("AD-CHG", "ADEDSS", chg_rec)])
    lb_row = blocking[blocking["rule"] == "XD-DY-CALC"].iloc[0]
    assert lb_row["USUBJID"] == planted["planted"]["LB"][1] and lb_row["severity"] == "Error"
    step_row = blocking[blocking["rule"] == "RANGE-STEP"].iloc[0]
    assert step_row["values"] == "6.3" and step_row["variables"] == "RSSTRESN"
    assert not result.may_export

    folder = write_reports(result, planted["out"] / "ms_exo" / "validation")
    summary = _sheet(folder / XLSX_NAME, "Issue Summary")
    counts = {(r.Dataset, r.Rule): (r.Severity, r.Issues) for r in summary.itertuples()}
    assert counts[("LB", "XD-DY-CALC")] == ("Error", 1) and counts[("RS", "RANGE-STEP")] == ("Error", 1)
    assert counts[("RS", "RANGE-VALUE")] == ("Error", 1) and counts[("ADEDSS", "AD-CHG")] == ("Error", 1)
    details = _sheet(folder / XLSX_NAME, "Details")
    assert len(details) == len(result.findings)
    row = details[details["Rule"] == "AD-CHG"].iloc[0]
    assert (row["Dataset"], row["Record"], row["USUBJID"]) == ("ADEDSS", chg_rec, planted["planted"]["ADEDSS"][1])
    rules = _sheet(folder / XLSX_NAME, "Rules")
    assert rules[(rules["Rule"] == "RANGE-STEP") & (rules["Dataset"] == "RS")]["Outcome"].tolist() == ["issues found"]
    # CSV and JSON carry the same findings
    assert len(pd.read_csv(folder / "findings.csv")) == len(details)
    assert (folder / JSON_NAME).read_text(encoding="utf-8").count('"rule": "AD-CHG"') >= 1


@pytest.mark.slow
def test_waivers_suppress_exactly_the_waived_findings(planted):
    lb_rec, lb_subject = planted["planted"]["LB"]
    waivers = planted["study"] / "waivers.toml"
    waivers.write_text(textwrap.dedent(f"""\
        [[waiver]]
        rule = "XD-DY-CALC"
        dataset = "LB"
        usubjid = "{lb_subject}"
        justification = "Date corrected by the site after the data cut; confirmed with data management"
        approved_by = "QA reviewer"
        approved_on = 2026-11-05

        [[waiver]]
        rule = "XD-USUBJID-DM"
        dataset = "AE"
        justification = "stale"
        approved_by = "QA reviewer"
        approved_on = 2026-11-05
        """), encoding="utf-8")
    try:
        result = validate_study(planted["study"], planted["out"])
        f = result.findings
        waived = f[f["waived"]]
        assert waived[["rule", "dataset", "record"]].values.tolist() == [["XD-DY-CALC", "LB", lb_rec]]
        assert waived["justification"].iloc[0].startswith("Date corrected")
        assert waived["waiver"].iloc[0] == "waivers.toml #1"
        assert sorted(result.blocking["rule"]) == ["AD-CHG", "RANGE-STEP", "RANGE-VALUE"]
        unused = f[f["rule"] == "WAIVER-UNUSED"]
        assert unused[["record", "severity"]].values.tolist() == [[2, "Warning"]]
        folder = write_reports(result, planted["out"] / "ms_exo" / "validation-waived")
        summary = _sheet(folder / XLSX_NAME, "Issue Summary")
        lb = summary[(summary["Dataset"] == "LB") & (summary["Rule"] == "XD-DY-CALC")].iloc[0]
        assert (lb["Issues"], lb["Waived"]) == (0, 1)
        details = _sheet(folder / XLSX_NAME, "Details")
        assert details[details["Rule"] == "XD-DY-CALC"]["Waived"].tolist() == ["Yes"]
    finally:
        waivers.unlink()


# --------------------------------------------------------------------------------------------
# A vendor package without a spec: define.xml or the SDTMIG/ADaMIG fallback


def _write(folder: Path, name: str, frame: pd.DataFrame) -> None:
    pyreadstat.write_xport(frame, str(folder / f"{name.lower()}.xpt"), table_name=name, file_format_version=5)


def vendor_package(folder: Path) -> Path:
    """DM, AE (no AETERM; an impossible date; a wrong study day), SUPPAE (an orphan), TS without SSTDTC."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder, "DM", pd.DataFrame({
        "STUDYID": ["V1"] * 2, "DOMAIN": ["DM"] * 2, "USUBJID": ["V1-01", "V1-02"], "SUBJID": ["01", "02"],
        "RFSTDTC": ["2024-03-01", "2024-03-05"], "SITEID": ["10", "10"], "SEX": ["F", "X"], "AGE": [40.0, 52.0],
        "AGEU": ["YEARS"] * 2, "COUNTRY": ["USA"] * 2}))
    _write(folder, "AE", pd.DataFrame({
        "STUDYID": ["V1"] * 3, "DOMAIN": ["AE"] * 3, "USUBJID": ["V1-01", "V1-02", "V1-03"], "AESEQ": [1.0, 1.0, 1.0],
        "AEDECOD": ["HEADACHE", "NAUSEA", "RASH"], "AESTDTC": ["2024-03-02", "2024-02-30", "2024-03-07"],
        # 2024-03-02 against RFSTDTC 2024-03-01 is day 2; 5 is planted
        "AESTDY": [5.0, None, None]}))
    _write(folder, "SUPPAE", pd.DataFrame({
        "STUDYID": ["V1"], "RDOMAIN": ["AE"], "USUBJID": ["V1-01"], "IDVAR": ["AESEQ"], "IDVARVAL": ["9"],
        "QNAM": ["AETRTEM"], "QLABEL": ["Treatment Emergent Flag"], "QVAL": ["Y"], "QORIG": ["Derived"]}))
    _write(folder, "TS", pd.DataFrame({"STUDYID": ["V1"], "DOMAIN": ["TS"], "TSSEQ": [1.0], "TSPARMCD": ["TITLE"],
                                       "TSPARM": ["Trial Title"], "TSVAL": ["A vendor study"]}))
    return folder


def test_vendor_package_validated_with_the_fallback_metadata(tmp_path):
    result = validate_folder(vendor_package(tmp_path / "vendor"))
    f = result.findings
    found = set(zip(f["rule"], f["dataset"]))
    assert {("REQ-COLUMN", "AE"), ("DTC-CALENDAR", "AE"), ("XD-DY-CALC", "AE"), ("XD-USUBJID-DM", "AE"),
            ("XD-SUPP-PARENT", "SUPPAE"), ("XD-TS-SSTDTC", "TS"), ("EXP-COLUMN", "AE")} <= found
    req = f[(f["rule"] == "REQ-COLUMN") & (f["dataset"] == "AE")]
    assert "AETERM" in set(req["variables"])
    dy = f[f["rule"] == "XD-DY-CALC"].iloc[0]
    assert (dy["record"], dy["message"]) == (1, "AESTDY is 5 but AESTDTC against DM.RFSTDTC gives 2")
    assert f[f["rule"] == "XD-TS-SSTDTC"]["severity"].tolist() == ["Reject"]
    assert ("CT-NONEXT", "DM") not in found  # no codelist terms without define.xml or spec
    outcome = {(r.rule, r.dataset): (r.outcome, r.reason) for r in result.runs}
    assert outcome[("COLS-SPEC", "AE")][0] == NOT_APPLICABLE and "variable order" in outcome[("COLS-SPEC", "AE")][1]
    prov = dict(result.provenance)
    assert prov["metadata AE"] == "SDTMIG 3.4 / ADaMIG 1.3 metadata (no define.xml or spec)"
    assert prov["metadata"].startswith("SDTMIG 3.4 / ADaMIG 1.3")
    assert not result.may_export


DEFINE = """<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:def="http://www.cdisc.org/ns/def/v2.1" ODMVersion="1.3.2">
 <Study OID="V1"><MetaDataVersion OID="MDV" Name="m">
  <ItemGroupDef OID="IG.DM" Name="DM" Domain="DM" Repeating="No" Purpose="Tabulation" """ \
    """def:Structure="One record per subject">
   <Description><TranslatedText xml:lang="en">Demographics</TranslatedText></Description>
   {refs}
  </ItemGroupDef>
  <ItemGroupDef OID="IG.VS" Name="VS" Domain="VS" Repeating="Yes" Purpose="Tabulation" def:Structure="x">
   <ItemRef ItemOID="IT.STUDYID" Mandatory="Yes" OrderNumber="1"/>
  </ItemGroupDef>
  {items}
  <CodeList OID="CL.SEX" Name="Sex" DataType="text">
   <CodeListItem CodedValue="F"/><CodeListItem CodedValue="M"/><Alias Context="nci:ExtCodeID" Name="C66731"/>
  </CodeList>
 </MetaDataVersion></Study></ODM>
"""


def test_vendor_package_validated_against_its_define_xml(tmp_path):
    folder = vendor_package(tmp_path / "vendor")
    names = ["STUDYID", "DOMAIN", "USUBJID", "SUBJID", "RFSTDTC", "SITEID", "SEX", "AGE", "AGEU", "COUNTRY"]
    refs = "\n".join(f'<ItemRef ItemOID="IT.{n}" Mandatory="{"Yes" if n in ("STUDYID", "USUBJID") else "No"}" '
                     f'OrderNumber="{i}"{" KeySequence=" + chr(34) + "1" + chr(34) if n == "USUBJID" else ""}/>'
                     for i, n in enumerate(names, 1))
    items = "\n".join(f'<ItemDef OID="IT.{n}" Name="{n}" DataType="{"integer" if n == "AGE" else "text"}">'
                      + ('<CodeListRef CodeListOID="CL.SEX"/>' if n == "SEX" else "") + "</ItemDef>" for n in names)
    define = tmp_path / "define.xml"
    define.write_text(DEFINE.format(refs=refs, items=items), encoding="utf-8")
    result = validate_folder(folder, define=define)
    f = result.findings
    ct = f[f["rule"] == "CT-NONEXT"]
    assert ct[["dataset", "record", "values", "severity"]].values.tolist() == [["DM", 2, "X", "Error"]]
    assert f[f["rule"] == "PKG-MISSING-DATASET"]["dataset"].tolist() == ["VS"]
    assert set(f[f["rule"] == "PKG-UNDECLARED-DATASET"]["dataset"]) == {"AE", "SUPPAE", "TS"}
    prov = dict(result.provenance)
    assert prov["metadata DM"] == "define.xml define.xml" and prov["metadata AE"].startswith("SDTMIG 3.4")
    assert prov["define.xml sha256"] == hashlib.sha256(define.read_bytes()).hexdigest()


def test_an_internal_error_in_a_rule_shows_as_execution_error(tmp_path, monkeypatch):
    import validation.run as run_module

    def broken(package):
        raise RuntimeError("planted failure")

    patched = tuple(dataclasses.replace(r, func=broken) if r.id == "XD-ARM-TA" else r for r in catalogue.CROSS_RULES)
    monkeypatch.setattr(run_module, "CROSS_RULES", patched)
    result = validate_folder(vendor_package(tmp_path / "vendor"))
    rules = rules_frame(result)
    row = rules[rules["Rule"] == "XD-ARM-TA"].iloc[0]
    assert (row["Outcome"], row["Reason"]) == (EXECUTION_ERROR, "RuntimeError: planted failure")
    f = result.findings[result.findings["rule"] == "XD-ARM-TA"]
    assert f["severity"].tolist() == ["Error"] and "planted failure" in f["message"].iloc[0]
    folder = write_reports(result, tmp_path / "report")
    sheet = _sheet(folder / XLSX_NAME, "Rules")
    assert sheet[sheet["Rule"] == "XD-ARM-TA"]["Outcome"].tolist() == [EXECUTION_ERROR]


def test_a_failing_suite_is_an_execution_error_for_every_check(tmp_path, monkeypatch):
    from subgen.core.conformance import gx_runner

    def explode(*args, **kwargs):
        raise RuntimeError("metric engine exploded")

    monkeypatch.setattr(gx_runner, "_validate", explode)
    result = validate_folder(vendor_package(tmp_path / "vendor"))
    suite_runs = [r for r in result.runs if r.dataset == "DM" and r.rule in ("REQ-NULL", "DTC-FORMAT", "CHAR-ASCII")]
    ran = [r for r in suite_runs if r.outcome != NOT_APPLICABLE]  # the others read a column DM does not have
    assert len(ran) > 5 and {r.outcome for r in ran} == {EXECUTION_ERROR}
    assert all("metric engine exploded" in r.reason for r in ran)
    assert all("is absent" in r.reason for r in suite_runs if r.outcome == NOT_APPLICABLE)
    assert not result.may_export


def test_cli_validate_package_exit_code_and_reports(tmp_path, capsys):
    from subgen_cli.cli import main

    code = main(["validate", "--package", str(vendor_package(tmp_path / "vendor")), "--out", str(tmp_path / "out")])
    assert code == 1
    out = capsys.readouterr().out
    assert "vendor: 1 Reject" in out and "export is blocked" in out
    folder = tmp_path / "out" / "vendor" / "validation"
    assert {p.name for p in folder.iterdir()} >= {XLSX_NAME, JSON_NAME, HTML_NAME, "findings.csv", "rules.csv",
                                                  "summary.csv", "provenance.csv", "suites"}
    assert main(["validate", "--study", "studies/ms_exo", "--define", "x.xml"]) == 2


def test_html_report_is_self_contained(tmp_path):
    import re

    result = validate_folder(vendor_package(tmp_path / "vendor"))
    page = (write_reports(result, tmp_path / "report") / HTML_NAME).read_text(encoding="utf-8")
    # nothing is fetched from anywhere: no scripts, stylesheets, images, fonts or URLs of any kind
    assert not re.search(r"https?:|<script|<link|<img|src=|url\(|@import|//[a-z]", page, flags=re.IGNORECASE)
    assert "Export is blocked" in page and "XD-TS-SSTDTC" in page
    assert page.count("<h2>") == 4  # Issue Summary, Details, Rules, Provenance
    assert "&lt;" not in page.split("<body>")[0]


@pytest.mark.slow
def test_a_package_folder_validated_against_a_spec(built, root):
    # without the study's waivers, the two judgement waivers of t2dm_exo (SR-000289/299: '<0.5' results of a
    # continuous test with a normal range) block; with them the folder may be exported, as the study is
    bare = validate_folder(built["t2dm_exo"], spec_path=root / "specs" / "t2dm_exo.xlsx")
    assert set(bare.blocking["rule"]) == {"SR-000289", "SR-000299"}
    result = validate_folder(built["t2dm_exo"], spec_path=root / "specs" / "t2dm_exo.xlsx",
                             waivers=root / "studies" / "t2dm_exo" / "waivers.toml")
    assert result.may_export, result.blocking[["dataset", "rule", "message"]].to_string()
    prov = dict(result.provenance)
    from subgen.core.spec.loader import load_spec

    cut = load_spec(root / "specs" / "t2dm_exo.xlsx").study.data_cut.isoformat()
    assert prov["metadata DM"] == "spec t2dm_exo.xlsx" and prov["data cut"] == cut
    assert prov["input sdtm/dm.xpt sha256"] == hashlib.sha256((built["t2dm_exo"] / "dm.xpt").read_bytes()).hexdigest()


@pytest.mark.parametrize("study", STUDIES)
def test_html_report_opens_in_headless_chromium_without_requests(validated, study, tmp_path):
    """The QA reviewer's page renders offline: Chromium shows the tables and the page asks for nothing."""
    from browser import page_requests, render

    _, folder, _ = validated[study]
    rendered = render(folder / HTML_NAME, tmp_path / "browser", width=1280, height=2000)
    assert rendered.screenshot.stat().st_size > 10_000  # a real page was painted, not a blank window
    assert page_requests(rendered.netlog) == []
    assert "Issue Summary" in rendered.dom and "Provenance" in rendered.dom and "XD-USUBJID-DM" in rendered.dom
