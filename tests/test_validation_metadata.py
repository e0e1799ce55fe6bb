"""Metadata without a spec (subgen.core.standards): the shipped SDTMIG/ADaMIG tables and define.xml."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from subgen.core.standards import (
    ct_extensible,
    default_keys,
    define_metadata,
    fallback_dataset,
    ig_variables,
    standard_structure,
)

DATA = Path(__file__).resolve().parents[1] / "subgen" / "core" / "standards" / "data"


def test_shipped_tables_are_small_and_carry_no_notes():
    sizes = {p.name: p.stat().st_size for p in DATA.glob("*.csv")}
    # the IG tables (tools/build_ig_metadata.py) and the init template's tables (tools/build_init_template.py)
    ig_tables = {"ig_variables.csv", "ig_datasets.csv", "ct_codelists.csv"}
    assert set(sizes) == ig_tables | {"ct_terms.csv", "sdtmig_roles.csv"}
    assert sum(sizes[name] for name in ig_tables) < 250_000
    header = (DATA / "ig_variables.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "standard,dataset,order,variable,label,type,core,codelist"


def test_tables_are_regenerated_byte_for_byte_from_the_reference(reference, tmp_path):
    done = subprocess.run([sys.executable, str(DATA.parents[3] / "tools" / "build_ig_metadata.py"), str(reference),
                           str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for name in ("ig_variables.csv", "ig_datasets.csv", "ct_codelists.csv"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def test_ig_content_matches_the_standard():
    ae = {v.name: v for v in ig_variables()[("SDTMIG 3.4", "AE")]}
    assert (ae["AETERM"].core, ae["AETERM"].type, ae["AETERM"].label) == (
        "Req", "Char", "Reported Term for the Adverse Event")
    assert ae["AESTDY"].type == "Num" and ae["AESEV"].codelist == "C66769"
    adsl = {v.name: v for v in ig_variables()[("ADaMIG 1.3", "ADSL")]}
    assert adsl["USUBJID"].core == "Req" and adsl["TRTxxP"].core == "Req"
    assert ct_extensible()["C66731"] is False and ct_extensible()["C71620"] is True  # SEX closed, UNIT extensible


def test_which_table_describes_a_dataset():
    assert standard_structure("AE", ["AETERM"]) == ("SDTMIG 3.4", "AE")
    assert standard_structure("SUPPAE", ["QNAM"]) == ("SDTMIG 3.4", "SUPPQUAL")
    assert standard_structure("ADSL", []) == ("ADaMIG 1.3", "ADSL")
    assert standard_structure("ADLB", ["PARAMCD", "AVAL"]) == ("ADaMIG 1.3", "BDS")
    assert standard_structure("ADAE", ["AETERM"]) is None
    assert standard_structure("XY", ["XYTESTCD"]) is None
    assert default_keys("AE", ["STUDYID", "USUBJID", "AESEQ"]) == ("STUDYID", "USUBJID", "AESEQ")
    assert default_keys("TS", ["STUDYID", "TSPARMCD", "TSSEQ"]) == ("STUDYID", "TSPARMCD", "TSSEQ")
    assert default_keys("AE", ["STUDYID", "AESEQ"]) == ()


def test_fallback_dataset_adds_absent_req_and_exp_and_keeps_sponsor_variables():
    frame = pd.DataFrame({"STUDYID": ["S"], "DOMAIN": ["AE"], "USUBJID": ["S-1"], "AESEQ": [1.0],
                          "AEDECOD": ["HEADACHE"], "AEXTRA": ["x"]})
    ds = fallback_dataset("AE", frame, {"AEXTRA": "Sponsor Extra"}, "Adverse Events")
    names = [v.name for v in ds.variables]
    assert names[:4] == ["STUDYID", "DOMAIN", "USUBJID", "AESEQ"]
    assert "AETERM" in names and "AESTDTC" in names  # Req and Exp though absent from the file
    assert "AEGRPID" not in names                     # Perm and absent: not added
    extra = ds.variable("AEXTRA")
    assert (extra.label, extra.core, names[-1]) == ("Sponsor Extra", "Perm", "AEXTRA")
    assert ds.label == "Adverse Events" and ds.keys == ("STUDYID", "USUBJID", "AESEQ")
    assert all(v.codelist is None for v in ds.variables)  # no codelist terms are shipped


DEFINE = """<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:def="http://www.cdisc.org/ns/def/v2.1" ODMVersion="1.3.2">
 <Study OID="S"><MetaDataVersion OID="MDV" Name="m">
  <ItemGroupDef OID="IG.DM" Name="DM" Domain="DM" Repeating="No" Purpose="Tabulation"
                def:Structure="One record per subject">
   <Description><TranslatedText xml:lang="en">Demographics</TranslatedText></Description>
   <ItemRef ItemOID="IT.USUBJID" Mandatory="Yes" OrderNumber="2" KeySequence="2"/>
   <ItemRef ItemOID="IT.STUDYID" Mandatory="Yes" OrderNumber="1" KeySequence="1"/>
   <ItemRef ItemOID="IT.DM.SEX" Mandatory="Yes" OrderNumber="3"/>
   <ItemRef ItemOID="IT.DM.AGE" Mandatory="No" OrderNumber="4"/>
   <def:Class Name="SPECIAL PURPOSE"/>
  </ItemGroupDef>
  <ItemDef OID="IT.STUDYID" Name="STUDYID" DataType="text" Length="8">
   <Description><TranslatedText xml:lang="en">Study Identifier</TranslatedText></Description></ItemDef>
  <ItemDef OID="IT.USUBJID" Name="USUBJID" DataType="text" Length="20">
   <Description><TranslatedText xml:lang="en">Unique Subject Identifier</TranslatedText></Description></ItemDef>
  <ItemDef OID="IT.DM.SEX" Name="SEX" DataType="text" Length="1">
   <Description><TranslatedText xml:lang="en">Sex</TranslatedText></Description>
   <CodeListRef CodeListOID="CL.SEX"/></ItemDef>
  <ItemDef OID="IT.DM.AGE" Name="AGE" DataType="integer" Length="3">
   <Description><TranslatedText xml:lang="en">Age</TranslatedText></Description></ItemDef>
  <CodeList OID="CL.SEX" Name="Sex" DataType="text">
   <CodeListItem CodedValue="F"><Decode><TranslatedText xml:lang="en">Female</TranslatedText></Decode></CodeListItem>
   <CodeListItem CodedValue="M"><Decode><TranslatedText xml:lang="en">Male</TranslatedText></Decode></CodeListItem>
   <Alias Context="nci:ExtCodeID" Name="C66731"/>
  </CodeList>
 </MetaDataVersion></Study></ODM>
"""


def test_define_xml_datasets_variables_keys_and_codelists(tmp_path):
    path = tmp_path / "define.xml"
    path.write_text(DEFINE, encoding="utf-8")
    datasets, codelists = define_metadata(path)
    dm = datasets["DM"]
    assert (dm.label, dm.class_, dm.structure, dm.keys) == ("Demographics", "SPECIAL PURPOSE",
                                                             "One record per subject", ("STUDYID", "USUBJID"))
    assert [(v.name, v.core, v.mandatory, v.data_type) for v in dm.variables] == [
        ("STUDYID", "Req", True, "text"), ("USUBJID", "Req", True, "text"), ("SEX", "Req", True, "text"),
        ("AGE", "Exp", False, "integer")]
    sex = codelists["CL.SEX"]
    assert (sex.nci_code, sex.extensible, sex.submission_values) == ("C66731", False, ("F", "M"))
    assert dm.variable("SEX").codelist == "CL.SEX"


def test_the_cdisc_example_define_reads(reference):
    datasets, codelists = define_metadata(reference / "define-xml-2.1" / "examples" / "DefineXML-2-1-SDTM" /
                                          "defineV21-SDTM.xml")
    assert {"DM", "TS", "LB", "VS", "SUPPDM"} <= set(datasets)
    assert datasets["TS"].keys == ("STUDYID", "TSPARMCD", "TSSEQ")
    assert codelists["CL.AGEU"].submission_values == ("YEARS",)


def test_unreadable_define_is_a_problem(tmp_path):
    from subgen.core.problems import ProblemError

    bad = tmp_path / "define.xml"
    bad.write_text("<ODM", encoding="utf-8")
    with pytest.raises(ProblemError, match="cannot read define.xml"):
        define_metadata(bad)
    other = tmp_path / "other.xml"
    other.write_text(textwrap.dedent("<root/>"), encoding="utf-8")
    with pytest.raises(ProblemError, match="not a define.xml"):
        define_metadata(other)


def test_adam_placeholder_names_match_numbered_variables():
    from subgen.core.standards import name_pattern

    assert name_pattern("TRTxxP").fullmatch("TRT01P") and not name_pattern("TRTxxP").fullmatch("TRT1P")
    assert name_pattern("ANLzzFL").fullmatch("ANL01FL") and name_pattern("CRITy").fullmatch("CRIT1")
    frame = pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["S-1"], "TRT01P": ["Drug"], "TRT02P": ["Placebo"]})
    ds = fallback_dataset("ADSL", frame)
    names = [v.name for v in ds.variables]
    assert "TRT01P" in names and "TRT02P" in names and "TRTxxP" not in names
    assert ds.variable("TRT01P").core == "Req" and ds.variable("TRT01P").label == "Planned Treatment for Period xx"
    assert "SUBJID" in names  # Req in ADSL and absent: kept so REQ-COLUMN reports it
