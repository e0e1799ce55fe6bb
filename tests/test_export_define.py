"""export/define.py (+ define_terms, define_vlm): define.xml 2.1 from a hand-made spec and frames.

Every expected value below is read off the hand-made spec and frames, not off the generator.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from lxml import etree

from export.define import DefineGroup, build_define, define_bytes, write_define, xsd_problems
from export.split import SplitPart, SplitPlan
from subgen.core.problems import ProblemError
from subgen.core.spec.model import (
    AnalysisParameter,
    Codelist,
    CodelistTerm,
    Comment,
    Dataset,
    Method,
    Spec,
    StudyInfo,
    ValueLevel,
    Variable,
)
from subgen.core.xpt.values import expected_widths, xpt_frame

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1",
      "xlink": "http://www.w3.org/1999/xlink"}
CREATED = datetime(2026, 10, 31)
STUDY = StudyInfo("S1", "S1", "Demo study", "P1", "3.4", "2.0", "2025-03-28", date(2026, 10, 31), "1.3",
                  (("ADaMCTVersion", "2025-09-26"),))


def V(ds, name, label, dtype="text", order=1, **kw) -> Variable:
    return Variable(ds, name, label, dtype, 8 if dtype in ("integer", "float") else 20, order, **kw)


DM = Dataset("DM", "Demographics", "SPECIAL PURPOSE", "One record per subject", ("STUDYID", "USUBJID"), (
    V("DM", "STUDYID", "Study Identifier", order=1, origin="Assigned", method="MT.STUDYID", mandatory=True,
      role="Identifier"),
    V("DM", "USUBJID", "Unique Subject Identifier", order=2, origin="Derived", mandatory=True),
    V("DM", "AGE", "Age", "integer", 3, origin="Collected", source="Investigator"),
    V("DM", "SEX", "Sex", order=4, origin="Collected", source="Investigator", codelist="SEX"),
    V("DM", "RFSTDTC", "Subject Reference Start Date/Time", "datetime", 5, origin="Derived", method="MT.STUDYID"),
    V("DM", "ARMNRS", "Reason Arm and/or Actual Arm is Null", order=6, origin="Derived", method="MT.STUDYID",
      comment="COM.DM")), comment="COM.DM")
LB = Dataset("LB", "Laboratory Test Results", "FINDINGS", "One record per test per subject",
             ("STUDYID", "USUBJID", "LBTESTCD"), (
    V("LB", "STUDYID", "Study Identifier", order=1, origin="Assigned"),
    V("LB", "USUBJID", "Unique Subject Identifier", order=2, origin="Assigned"),
    V("LB", "LBTESTCD", "Lab Test or Examination Short Name", order=3, origin="Assigned", codelist="LBTESTCD"),
    V("LB", "LBCAT", "Category for Lab Test", order=4, origin="Assigned"),
    V("LB", "LBSPEC", "Specimen Type", order=5, origin="Collected"),
    V("LB", "LBSTRESN", "Numeric Result/Finding in Standard Units", "float", 6, origin="Derived", method="MT.STUDYID")))
SUPPDM = Dataset("SUPPDM", "Supplemental Qualifiers for DM", "RELATIONSHIP", "One record per QNAM per subject",
                 ("STUDYID", "USUBJID", "QNAM"), (
    V("SUPPDM", "STUDYID", "Study Identifier", order=1, origin="Assigned"),
    V("SUPPDM", "USUBJID", "Unique Subject Identifier", order=2, origin="Assigned"),
    V("SUPPDM", "QNAM", "Qualifier Variable Name", order=3, origin="Assigned"),
    V("SUPPDM", "QVAL", "Data Value", order=4, origin="Assigned")))
CODELISTS = (
    Codelist("SEX", "Sex", "C66731", "text", "CDISC/NCI", False,
             (CodelistTerm("F", "C16576", "Female", order=1), CodelistTerm("M", "C20197", "Male", order=2))),
    Codelist("LBTESTCD", "Laboratory Test Code", "C65047", "text", "CDISC/NCI", True,
             (CodelistTerm("GLUC", "C105585", None, order=1), CodelistTerm("MYTEST", None, None, True, order=2))),
    Codelist("UNUSED", "Not used by any variable", None, "text", None, False, (CodelistTerm("X"),)),
)
VALUE_LEVEL = (
    ValueLevel("LB", "LBSTRESN", 'LBTESTCD EQ GLUC AND LBSPEC EQ "SERUM"', "float", 8, 1, origin="Derived",
               method="MT.STUDYID", description="Serum glucose (mmol/L)"),
    # parsed, but define.xml cannot express it (the loader reports this for a workbook; define.xml too)
    ValueLevel("LB", "LBSTRESN", "LBTESTCD is blank", "float", 8, 2, description="unexpressible", row=7),
    ValueLevel("SUPPDM", "QVAL", "QNAM EQ RANDNO", "text", 8, 1, origin="Assigned", description="Randomization Number"),
)
SDTM_SPEC = Spec("demo.xlsx", "0" * 64, STUDY, (DM, LB, SUPPDM), CODELISTS, VALUE_LEVEL,
                 (Method("MT.STUDYID", "Study identifier", "Imputation", "STUDYID from the Study sheet."),
                  Method("MT.NOTUSED", "Not used", "Computation", "Nothing refers to it.")),
                 (Comment("COM.DM", "Demographics as collected at screening."),))


def _frames() -> dict[str, pd.DataFrame]:
    return {
        "DM": pd.DataFrame({"STUDYID": ["S1", "S1"], "USUBJID": ["S1-001", "S1-0002"], "AGE": [41.0, 57.0],
                            "SEX": ["F", "M"], "RFSTDTC": ["2024-01-02", ""], "ARMNRS": ["", ""]}),
        "LB": pd.DataFrame({"STUDYID": ["S1"] * 4, "USUBJID": ["S1-001"] * 2 + ["S1-0002"] * 2,
                            "LBTESTCD": ["GLUC", "MYTEST", "GLUC", "GLUC"], "LBCAT": ["CHEM", "OTHER", "CHEM", "CHEM"],
                            "LBSPEC": ["SERUM", "URINE", "SERUM", "PLASMA"],
                            "LBSTRESN": [5.55, 1.0, 6.1, 12.25]}),
        "SUPPDM": pd.DataFrame({"STUDYID": ["S1", "S1"], "USUBJID": ["S1-001", "S1-0002"],
                                "QNAM": ["RANDNO", "RANDNO"], "QVAL": ["R01", "R0002"]}),
    }


def _groups(spec: Spec, frames: dict[str, pd.DataFrame]) -> list[DefineGroup]:
    out = []
    for ds in spec.datasets:
        prepared = xpt_frame(frames[ds.name], ds)
        out.append(DefineGroup(ds.name, ds, ds.label, f"{ds.name.lower()}.xpt", prepared,
                               expected_widths(prepared, ds)))
    return out


@pytest.fixture(scope="module")
def sdtm():
    odm, problems = build_define(SDTM_SPEC, _groups(SDTM_SPEC, _frames()), CREATED)
    data = define_bytes(odm)
    return etree.fromstring(data), data, problems


def _one(root, xpath: str):
    found = root.xpath(xpath, namespaces=NS)
    assert len(found) == 1, (xpath, len(found))
    return found[0]


def test_sdtm_define_is_valid_against_both_xsd_sets(sdtm, reference):
    _, data, _ = sdtm
    assert xsd_problems(data, "define.xml") == []
    schema = etree.XMLSchema(etree.parse(str(reference / "define-xml-2.1" / "schema" / "cdisc-define-2.1" /
                                             "define2-1-0.xsd")))
    assert schema.validate(etree.fromstring(data)), schema.error_log
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet type="text/xsl" '
                           b'href="define2-1.xsl"?>\n<ODM ')


def test_standards_and_study(sdtm):
    root, _, _ = sdtm
    stds = root.xpath("//def:Standard", namespaces=NS)
    assert [(s.get("Name"), s.get("Type"), s.get("Version"), s.get("PublishingSet")) for s in stds] == [
        ("SDTMIG", "IG", "3.4", None), ("CDISC/NCI", "CT", "2025-03-28", "SDTM")]
    assert root.get("{http://www.cdisc.org/ns/def/v2.1}Context") == "Submission"
    assert root.get("CreationDateTime") == "2026-10-31T00:00:00"
    assert _one(root, "//odm:MetaDataVersion").get("{http://www.cdisc.org/ns/def/v2.1}DefineVersion") == "2.1.0"


def test_item_groups_keys_leaf_and_domain(sdtm):
    root, _, _ = sdtm
    dm = _one(root, "//odm:ItemGroupDef[@OID='IG.DM']")
    assert (dm.get("Name"), dm.get("Domain"), dm.get("Repeating"), dm.get("Purpose")) == ("DM", "DM", "Yes",
                                                                                          "Tabulation")
    assert dm.get("{http://www.cdisc.org/ns/def/v2.1}CommentOID") == "COM.DM"
    keys = {r.get("ItemOID"): r.get("KeySequence") for r in dm.xpath("odm:ItemRef", namespaces=NS)}
    assert keys["IT.DM.STUDYID"] == "1" and keys["IT.DM.USUBJID"] == "2" and keys["IT.DM.AGE"] is None
    assert _one(dm, "def:leaf").get("{http://www.w3.org/1999/xlink}href") == "dm.xpt"
    assert _one(dm, "def:Class").get("Name") == "SPECIAL PURPOSE"
    supp = _one(root, "//odm:ItemGroupDef[@OID='IG.SUPPDM']")
    assert supp.get("Domain") == "DM"
    assert _one(supp, "odm:Alias").attrib == {"Context": "DomainDescription", "Name": "Demographics"}


def test_item_defs_lengths_origins_and_no_data(sdtm):
    root, _, _ = sdtm
    usubjid = _one(root, "//odm:ItemDef[@OID='IT.DM.USUBJID']")
    assert usubjid.get("Length") == "7"  # longest value 'S1-0002'
    age = _one(root, "//odm:ItemDef[@OID='IT.DM.AGE']")
    assert (age.get("DataType"), age.get("Length")) == ("integer", "8")
    assert _one(age, "def:Origin").attrib == {"Type": "Collected", "Source": "Investigator"}
    rfstdtc = _one(root, "//odm:ItemDef[@OID='IT.DM.RFSTDTC']")
    assert rfstdtc.get("DataType") == "datetime" and rfstdtc.get("Length") is None
    lbstresn = _one(root, "//odm:ItemDef[@OID='IT.LB.LBSTRESN']")
    assert lbstresn.get("SignificantDigits") == "2"  # 5.55, 12.25
    refs = {r.get("ItemOID"): r for r in root.xpath("//odm:ItemGroupDef[@OID='IG.DM']/odm:ItemRef", namespaces=NS)}
    assert refs["IT.DM.ARMNRS"].get("{http://www.cdisc.org/ns/def/v2.1}HasNoData") == "Yes"
    assert refs["IT.DM.RFSTDTC"].get("{http://www.cdisc.org/ns/def/v2.1}HasNoData") is None
    assert refs["IT.DM.STUDYID"].get("MethodOID") == "MT.STUDYID" and refs["IT.DM.STUDYID"].get("Role") == "Identifier"
    assert _one(root, "//odm:ItemDef[@OID='IT.DM.SEX']/odm:CodeListRef").get("CodeListOID") == "CL.SEX"


def test_codelists_nci_codes_extended_terms_and_nothing_unused(sdtm):
    root, _, _ = sdtm
    assert [c.get("OID") for c in root.xpath("//odm:CodeList", namespaces=NS)] == ["CL.SEX", "CL.LBTESTCD"]
    sex = _one(root, "//odm:CodeList[@OID='CL.SEX']")
    assert _one(sex, "odm:Alias").attrib == {"Context": "nci:ExtCodeID", "Name": "C66731"}
    items = sex.xpath("odm:CodeListItem", namespaces=NS)
    assert [(i.get("CodedValue"), i.xpath("string(odm:Decode/odm:TranslatedText)", namespaces=NS),
             i.xpath("string(odm:Alias/@Name)", namespaces=NS)) for i in items] == [("F", "Female", "C16576"),
                                                                                 ("M", "Male", "C20197")]
    lbtestcd = _one(root, "//odm:CodeList[@OID='CL.LBTESTCD']")
    enum = {i.get("CodedValue"): i for i in lbtestcd.xpath("odm:EnumeratedItem", namespaces=NS)}
    assert enum["MYTEST"].get("{http://www.cdisc.org/ns/def/v2.1}ExtendedValue") == "Yes"
    assert not enum["MYTEST"].xpath("odm:Alias", namespaces=NS)
    assert enum["GLUC"].get("{http://www.cdisc.org/ns/def/v2.1}ExtendedValue") is None
    assert [m.get("OID") for m in root.xpath("//odm:MethodDef", namespaces=NS)] == ["MT.STUDYID"]
    assert [c.get("OID") for c in root.xpath("//def:CommentDef", namespaces=NS)] == ["COM.DM"]


def test_value_level_metadata_from_the_valuelevel_sheet(sdtm):
    root, _, problems = sdtm
    vl = _one(root, "//def:ValueListDef[@OID='VL.LB.LBSTRESN']")
    ref = _one(vl, "odm:ItemRef")
    assert ref.get("ItemOID") == "IT.LB.LBSTRESN.GLUC.SERUM" and ref.get("MethodOID") == "MT.STUDYID"
    wc = _one(root, "//def:WhereClauseDef[@OID='WC.LB.LBSTRESN.GLUC.SERUM']")
    assert [(r.get("Comparator"), r.get("{http://www.cdisc.org/ns/def/v2.1}ItemOID"),
             r.xpath("string(odm:CheckValue)", namespaces=NS)) for r in wc.xpath("odm:RangeCheck", namespaces=NS)] == [
        ("EQ", "IT.LB.LBTESTCD", "GLUC"), ("EQ", "IT.LB.LBSPEC", "SERUM")]
    item = _one(root, "//odm:ItemDef[@OID='IT.LB.LBSTRESN.GLUC.SERUM']")
    # selected records: 5.55 and 6.1 (the PLASMA glucose 12.25 is not selected): 2 decimals
    assert (item.get("Length"), item.get("SignificantDigits")) == ("8", "2")
    assert item.xpath("string(odm:Description/odm:TranslatedText)", namespaces=NS) == "Serum glucose (mmol/L)"
    assert _one(root, "//odm:ItemDef[@OID='IT.LB.LBSTRESN']/def:ValueListRef").get("ValueListOID") == "VL.LB.LBSTRESN"
    qval = _one(root, "//odm:ItemDef[@OID='IT.SUPPDM.QVAL.RANDNO']")
    assert (qval.get("Name"), qval.get("Length")) == ("RANDNO", "5")  # 'R0002'
    assert [(p.rule, p.row) for p in problems if p.rule == "DEFINE-WHERE"] == [("DEFINE-WHERE", 7)]
    assert [p.where for p in problems if p.rule == "DEFINE-METHOD"] == ["DM.USUBJID"]


def test_split_parts_are_item_groups_of_the_parent_domain():
    frames = _frames()
    lb = xpt_frame(frames["LB"], LB)
    # LB's 4 records make a 1,760-byte file (6 NAMESTRs: 880 + 720 header bytes, 136 record bytes -> 2 cards);
    # the plan is written out here (export.split has its own tests): CHEM records 1, 3, 4 and OTHER record 2
    plan = SplitPlan("LB", "LBCAT", 1700, 1760, (
        SplitPart("LB1", "Laboratory Test Results - CHEM", np.array([0, 2, 3]), ("CHEM",), False, 1760),
        SplitPart("LB2", "Laboratory Test Results - OTHER", np.array([1]), ("OTHER",), False, 1680)))
    groups = []
    for part in plan.parts:
        sub = lb.iloc[part.rows].reset_index(drop=True)
        groups.append(DefineGroup(part.name, LB, part.label, f"{part.name.lower()}.xpt", sub,
                                  expected_widths(sub, LB), plan))
    odm, _ = build_define(SDTM_SPEC, groups, CREATED)
    data = define_bytes(odm)
    assert xsd_problems(data, "define.xml") == []
    root = etree.fromstring(data)
    parts = root.xpath("//odm:ItemGroupDef", namespaces=NS)
    assert [(g.get("Name"), g.get("Domain"), g.get("{http://www.cdisc.org/ns/def/v2.1}CommentOID")) for g in parts] == [
        ("LB1", "LB", "COM.LB.SPLIT"), ("LB2", "LB", "COM.LB.SPLIT")]
    assert [g.xpath("string(odm:Alias[@Context='DomainDescription']/@Name)", namespaces=NS) for g in parts] == [
        "Laboratory Test Results"] * 2
    comment = root.xpath("string(//def:CommentDef[@OID='COM.LB.SPLIT'])", namespaces=NS)
    assert "split by LBCAT" in comment and "lb1.xpt: CHEM; lb2.xpt: OTHER" in comment
    # the OTHER part holds no glucose: its value-level item says so
    other = _one(root, "//def:ValueListDef[@OID='VL.LB2.LBSTRESN']/odm:ItemRef")
    assert other.get("{http://www.cdisc.org/ns/def/v2.1}HasNoData") == "Yes"
    assert _one(root, "//odm:ItemDef[@OID='IT.LB2.LBCAT']").get("Length") == "5"  # OTHER; LB1's CHEM is 4
    assert _one(root, "//odm:ItemDef[@OID='IT.LB1.LBCAT']").get("Length") == "4"


ADLB = Dataset("ADLB", "Lab Analysis Dataset", "BASIC DATA STRUCTURE", "One record per subject per parameter",
               ("STUDYID", "USUBJID", "PARAMCD"), (
    V("ADLB", "STUDYID", "Study Identifier", order=1, origin="Predecessor", predecessor="LB.STUDYID"),
    V("ADLB", "USUBJID", "Unique Subject Identifier", order=2, origin="Predecessor", predecessor="LB.USUBJID"),
    V("ADLB", "PARAMCD", "Parameter Code", order=3, origin="Derived", method="MT.PARAM"),
    V("ADLB", "AVAL", "Analysis Value", "float", 4, origin="Derived", method="MT.PARAM"),
    V("ADLB", "AVALC", "Analysis Value (C)", order=5, origin="Derived", method="MT.PARAM")), purpose="Analysis")
ADAM_SPEC = Spec("demo_adam.xlsx", "1" * 64, STUDY, (ADLB,), (), (),
                 (Method("MT.PARAM", "Parameter", "Computation", "From the Parameters sheet."),
                  Method("MT.CRPX", "CRP transform", "Computation", "log of CRP.")), (),
                 parameters=(AnalysisParameter("ADLB", "GLUC", "Glucose (mmol/L)", 1, None, "LB",
                                               "LBTESTCD = 'GLUC'", "LBSTRESN", None, "LBDTC"),
                             AnalysisParameter("ADLB", "LCRP", "log CRP", 2, method="MT.CRPX", comment="Natural log."),
                             AnalysisParameter("ADLB", "ABSENT", "Not in the data", 3)),
                 standard="ADaM")


def test_adam_define_parameters_value_level_and_codelist(reference):
    frame = pd.DataFrame({"STUDYID": ["S1"] * 3, "USUBJID": ["S1-001"] * 3, "PARAMCD": ["GLUC", "GLUC", "LCRP"],
                          "AVAL": [5.5, 6.0, np.log(3.0)], "AVALC": ["", "", ""]})
    prepared = xpt_frame(frame, ADLB)
    group = DefineGroup("ADLB", ADLB, ADLB.label, "adlb.xpt", prepared, expected_widths(prepared, ADLB))
    odm, _ = build_define(ADAM_SPEC, [group], CREATED)
    data = define_bytes(odm)
    assert xsd_problems(data, "define.xml") == []
    schema = etree.XMLSchema(etree.parse(str(reference / "define-xml-2.1" / "schema" / "cdisc-define-2.1" /
                                             "define2-1-0.xsd")))
    root = etree.fromstring(data)
    assert schema.validate(root), schema.error_log
    assert [(s.get("Name"), s.get("Version"), s.get("PublishingSet")) for s in
            root.xpath("//def:Standard", namespaces=NS)] == [
        ("ADaMIG", "1.3", None), ("CDISC/NCI", "2025-09-26", "ADaM"), ("CDISC/NCI", "2025-03-28", "SDTM")]
    ig = _one(root, "//odm:ItemGroupDef")
    assert ig.get("Domain") is None and ig.get("Purpose") == "Analysis"
    cl = _one(root, "//odm:CodeList[@OID='CL.ADLB.PARAMCD']")
    assert [(i.get("CodedValue"), i.xpath("string(odm:Decode/odm:TranslatedText)", namespaces=NS))
            for i in cl.xpath("odm:CodeListItem", namespaces=NS)] == [("GLUC", "Glucose (mmol/L)"), ("LCRP", "log CRP")]
    assert _one(root, "//odm:ItemDef[@OID='IT.ADLB.PARAMCD']/odm:CodeListRef").get("CodeListOID") == "CL.ADLB.PARAMCD"
    refs = root.xpath("//def:ValueListDef[@OID='VL.ADLB.AVAL']/odm:ItemRef", namespaces=NS)
    assert [(r.get("ItemOID"), r.get("MethodOID")) for r in refs] == [("IT.ADLB.AVAL.GLUC", None),
                                                                      ("IT.ADLB.AVAL.LCRP", "MT.CRPX")]
    gluc = _one(root, "//odm:ItemDef[@OID='IT.ADLB.AVAL.GLUC']")
    assert _one(gluc, "def:Origin").get("Type") == "Predecessor"
    assert gluc.xpath("string(def:Origin/odm:Description/odm:TranslatedText)", namespaces=NS) == "LB.LBSTRESN"
    assert gluc.get("SignificantDigits") == "1"
    assert root.xpath("string(//def:CommentDef[@OID='COM.ADLB.AVAL.GLUC'])", namespaces=NS).strip() == \
        "From LB.LBSTRESN where LBTESTCD = 'GLUC'."
    lcrp = _one(root, "//odm:ItemDef[@OID='IT.ADLB.AVAL.LCRP']")
    assert _one(lcrp, "def:Origin").get("Type") == "Derived"
    assert not root.xpath("//def:ValueListDef[@OID='VL.ADLB.AVALC']", namespaces=NS)  # AVALC has no values
    assert [m.get("OID") for m in root.xpath("//odm:MethodDef", namespaces=NS)] == ["MT.PARAM", "MT.CRPX"]


def test_schema_errors_stop_the_write(tmp_path):
    bad = Dataset("DM", "Demographics", "NOT A CLASS", "One record per subject", ("STUDYID",), DM.variables[:1])
    spec = Spec("demo.xlsx", "0" * 64, STUDY, (bad,), (), (), SDTM_SPEC.methods, ())
    frame = pd.DataFrame({"STUDYID": ["S1"]})
    prepared = xpt_frame(frame, bad)
    group = DefineGroup("DM", bad, bad.label, "dm.xpt", prepared, expected_widths(prepared, bad))
    with pytest.raises(ProblemError) as err:
        write_define(spec, [group], tmp_path / "define.xml", CREATED)
    assert err.value.problems[0].rule == "DEFINE-XSD" and "NOT A CLASS" in err.value.problems[0].message
    assert not (tmp_path / "define.xml").exists()


def test_annotated_crf_pages_link_collected_origins(reference):
    dm = Dataset("DM", "Demographics", "SPECIAL PURPOSE", "One record per subject", ("STUDYID",), (
        V("DM", "STUDYID", "Study Identifier", order=1, origin="Assigned"),
        V("DM", "AGE", "Age", "integer", 2, origin="Collected", source="Investigator", pages="12"),
        V("DM", "SEX", "Sex", order=3, origin="Collected", source="Investigator", pages="12, 14"),
        V("DM", "RACE", "Race", order=4, origin="Collected", pages="13-15"),
        V("DM", "ETHNIC", "Ethnicity", order=5, origin="Collected", pages="enrol")))
    spec = Spec("demo.xlsx", "0" * 64, STUDY, (dm,), (), (), (), ())
    frame = pd.DataFrame({"STUDYID": ["S1"], "AGE": [40.0], "SEX": ["F"], "RACE": ["ASIAN"], "ETHNIC": [""]})
    prepared = xpt_frame(frame, dm)
    group = DefineGroup("DM", dm, dm.label, "dm.xpt", prepared, expected_widths(prepared, dm))
    odm, _ = build_define(spec, [group], CREATED, acrf="acrf.pdf")
    data = define_bytes(odm)
    assert xsd_problems(data, "define.xml") == []
    root = etree.fromstring(data)
    assert _one(root, "//def:AnnotatedCRF/def:DocumentRef").get("leafID") == "LF.acrf"
    leaf = _one(root, "//odm:MetaDataVersion/def:leaf")
    assert (leaf.get("ID"), leaf.get("{http://www.w3.org/1999/xlink}href")) == ("LF.acrf", "acrf.pdf")
    refs = {name: _one(root, f"//odm:ItemDef[@OID='IT.DM.{name}']/def:Origin/def:DocumentRef/def:PDFPageRef").attrib
            for name in ("AGE", "SEX", "RACE", "ETHNIC")}
    assert refs == {"AGE": {"Type": "PhysicalRef", "PageRefs": "12"},
                    "SEX": {"Type": "PhysicalRef", "PageRefs": "12 14"},
                    "RACE": {"Type": "PhysicalRef", "FirstPage": "13", "LastPage": "15"},
                    "ETHNIC": {"Type": "NamedDestination", "PageRefs": "enrol"}}
    assert not root.xpath("//odm:ItemDef[@OID='IT.DM.STUDYID']//def:DocumentRef", namespaces=NS)
    # without an annotated CRF in the package the pages are not linked (no dangling leaf)
    odm, _ = build_define(spec, [group], CREATED)
    plain = etree.fromstring(define_bytes(odm))
    assert not plain.xpath("//def:DocumentRef | //def:AnnotatedCRF", namespaces=NS)


def test_annotated_crf_attribute_must_name_a_pdf(tmp_path):
    import dataclasses

    from export.package import annotated_crf
    from subgen.core.study import StudyConfig

    study = StudyConfig(tmp_path, "demo", tmp_path / "demo.xlsx", tmp_path / "raw")
    assert annotated_crf(study, SDTM_SPEC) is None
    named = dataclasses.replace(SDTM_SPEC, study=dataclasses.replace(STUDY, attributes=(("AnnotatedCRF", "acrf.pdf"),)))
    with pytest.raises(ProblemError) as err:
        annotated_crf(study, named)
    assert err.value.problems[0].column == "AnnotatedCRF" and err.value.problems[0].rule == "PKG-INPUT"
    (tmp_path / "acrf.pdf").write_bytes(b"%PDF-1.4\n")
    assert annotated_crf(study, named) == tmp_path / "acrf.pdf"


def test_has_values_blank_text_and_missing_numbers_are_no_values():
    from export.define import _has_values

    assert not _has_values(pd.Series(["", "", ""], dtype=object), numeric=False)
    assert not _has_values(pd.Series(["", "  ", "\t", None], dtype=object), numeric=False)
    assert _has_values(pd.Series(["", "  ", "x"], dtype=object), numeric=False)
    assert _has_values(pd.Series(["y"] * 3, dtype="str"), numeric=False)
    assert not _has_values(pd.Series([], dtype=object), numeric=False)
    assert not _has_values(pd.Series([np.nan, np.nan]), numeric=True)
    assert _has_values(pd.Series([np.nan, 0.0]), numeric=True)
