"""subgen package end to end on both demo studies: layout, define.xml against the XPT files, Dataset-JSON
against the XPT files, manifest, splits, byte-identical rebuilds, an interrupted run, the validation gate,
and define.xml rendered in headless Chromium as a reviewer opens it."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pyreadstat
import pytest
from browser import FLAGS, chromium
from lxml import etree, html

from export.datasetjson import read_dataset_json
from export.manifest import check_manifest
from export.package import ExportBlocked, run_package
from subgen.core.problems import ProblemError
from subgen.core.spec.loader import load_spec
from subgen.core.xpt.header import parse_xpt_header
from subgen.core.xpt.timestamps import xpt_timestamp
from subgen.core.xpt.write import write_xpt
from subgen_cli.cli import main

STUDIES = ("ms_exo", "t2dm_exo")
SID = {"ms_exo": "msexo01", "t2dm_exo": "t2dmexo01"}
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
XLINK = "{http://www.w3.org/1999/xlink}href"
ISO_TYPES = {"date", "datetime", "time", "partialDate", "partialTime", "partialDatetime", "incompleteDatetime",
             "durationDatetime"}


def _copy_outputs(src_root: Path, dst_root: Path, study: str, with_validation: bool = True) -> None:
    for part in ("sdtm", "adam") + (("validation",) if with_validation else ()):
        if (src_root / study / part).is_dir():
            shutil.copytree(src_root / study / part, dst_root / study / part)


@pytest.fixture(scope="module")
def packaged(root: Path, built: dict, adam_built: dict, tmp_path_factory) -> Path:
    """Both demo studies packaged once (validation runs first, in the package step) into a private out root."""
    base = tmp_path_factory.mktemp("package")
    for study in STUDIES:
        _copy_outputs(built[study].parent.parent, base, study)
        result = run_package(root / "studies" / study, base)
        assert not result.validation_reused  # no reports yet: the gate validated
    return base


def _folders(base: Path, study: str) -> dict[str, Path]:
    m5 = base / study / "m5" / "datasets" / SID[study]
    return {"SDTM": m5 / "tabulations" / "sdtm", "ADaM": m5 / "analysis" / "adam" / "datasets"}


def _specs(root: Path, study: str) -> dict:
    return {"SDTM": load_spec(root / "specs" / f"{study}.xlsx"),
            "ADaM": load_spec(root / "specs" / f"{study}_adam.xlsx")}


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------------------------
# Layout and define.xml


@pytest.mark.slow
@pytest.mark.parametrize("study", STUDIES)
def test_layout_holds_exactly_the_ectd_files(packaged, root, study):
    m5 = packaged / study / "m5"
    assert sorted(p.name for p in m5.iterdir()) == ["datasets", "manifest.json", "validation"]
    assert sorted(p.name for p in (m5 / "datasets").iterdir()) == [SID[study]]
    for kind, folder in _folders(packaged, study).items():
        names = [d.name.lower() for d in _specs(root, study)[kind].datasets]
        expected = {f"{n}.{ext}" for n in names for ext in ("xpt", "json")} | {"define.xml", "define2-1.xsl"}
        assert {p.name for p in folder.iterdir()} == expected
        # the stylesheet carries its MIT notice
        assert b"The MIT License (MIT)" in (folder / "define2-1.xsl").read_bytes()[:2000]
    assert (m5 / "validation" / "validation-report.xlsx").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("study", STUDIES)
def test_define_xml_is_valid_define_xml_2_1(packaged, reference, study):
    schema = etree.XMLSchema(etree.parse(str(reference / "define-xml-2.1" / "schema" / "cdisc-define-2.1" /
                                             "define2-1-0.xsd")))
    for kind, folder in _folders(packaged, study).items():
        doc = etree.parse(str(folder / "define.xml"))
        assert schema.validate(doc), (kind, schema.error_log)
        std = doc.xpath("//def:Standard[@Type='IG']", namespaces=NS)[0]
        assert (std.get("Name"), std.get("Version")) == (("SDTMIG", "3.4") if kind == "SDTM" else ("ADaMIG", "1.3"))


def _define(folder: Path):
    root = etree.parse(str(folder / "define.xml")).getroot()
    items = {i.get("OID"): i for i in root.xpath("//odm:ItemDef", namespaces=NS)}
    groups = {g.get("Name"): g for g in root.xpath("//odm:ItemGroupDef", namespaces=NS)}
    return root, groups, items


def _text(element, path: str = "odm:Description/odm:TranslatedText") -> str:
    return element.xpath(f"string({path})", namespaces=NS)


@pytest.mark.slow
@pytest.mark.parametrize("study", STUDIES)
def test_define_describes_every_xpt_dataset_variable_and_codelist_and_nothing_else(packaged, root, study):
    for kind, folder in _folders(packaged, study).items():
        spec = _specs(root, study)[kind]
        define, groups, items = _define(folder)
        files = sorted(p.name for p in folder.glob("*.xpt"))
        assert sorted(g.find("def:leaf", NS).get(XLINK) for g in groups.values()) == files
        for path in sorted(folder.glob("*.xpt")):
            header = parse_xpt_header(path.read_bytes())
            group = groups[header.dataset_name]
            assert group.find("def:leaf", NS).get(XLINK) == path.name
            assert _text(group) == header.dataset_label
            refs = sorted(group.findall("odm:ItemRef", NS), key=lambda r: int(r.get("OrderNumber")))
            assert [items[r.get("ItemOID")].get("Name") for r in refs] == [v.name for v in header.variables]
            for ref, var in zip(refs, header.variables):
                item = items[ref.get("ItemOID")]
                assert _text(item) == var.label, (path.name, var.name)
                dtype = item.get("DataType")
                assert (var.type == "num") == (dtype in ("integer", "float")), (path.name, var.name, dtype)
                if dtype in ISO_TYPES:
                    assert item.get("Length") is None
                else:
                    assert int(item.get("Length")) == var.length, (path.name, var.name)
        # codelists: exactly those the variables (and values) refer to, each with the spec's terms
        used = {c.get("CodeListOID") for c in define.xpath("//odm:ItemDef/odm:CodeListRef", namespaces=NS)}
        defined = {c.get("OID"): c for c in define.xpath("//odm:CodeList", namespaces=NS)}
        assert set(defined) == used
        by_id = {c.id: c for c in spec.codelists}
        for ds in spec.datasets:
            for var in ds.variables:
                if var.codelist:
                    oids = {items[r.get("ItemOID")].find("odm:CodeListRef", NS).get("CodeListOID")
                            for g in groups.values() for r in g.findall("odm:ItemRef", NS)
                            if items[r.get("ItemOID")].get("Name") == var.name and g.get("Name").startswith(ds.name)}
                    assert oids == {f"CL.{var.codelist}"}, (ds.name, var.name)
                    terms = [i.get("CodedValue") for i in defined[f"CL.{var.codelist}"]
                             if i.tag.endswith("Item")]
                    assert sorted(terms) == sorted(t.term for t in by_id[var.codelist].terms)


@pytest.mark.slow
def test_define_values_worked_out_by_hand(packaged):
    sdtm = _folders(packaged, "ms_exo")["SDTM"]
    define, groups, items = _define(sdtm)
    # USUBJID = STUDYID-SUBJID = 'MSEXO01-101001': 14 characters in every dataset
    assert items["IT.DM.USUBJID"].get("Length") == "14" and items["IT.AE.USUBJID"].get("Length") == "14"
    dm_keys = {items[r.get("ItemOID")].get("Name"): r.get("KeySequence")
               for r in groups["DM"].findall("odm:ItemRef", NS)}
    assert dm_keys["STUDYID"] == "1" and dm_keys["USUBJID"] == "2"
    supp = define.xpath("//odm:ItemDef[@OID='IT.SUPPDM.QVAL.RANDNO']", namespaces=NS)[0]
    assert (supp.get("Name"), _text(supp)) == ("RANDNO", "Randomization Number")
    lb_where = define.xpath("//def:WhereClauseDef[@OID='WC.LB.LBSTRESN.NFLP.SERUM']/odm:RangeCheck", namespaces=NS)
    assert [(r.get("{http://www.cdisc.org/ns/def/v2.1}ItemOID"), _text(r, "odm:CheckValue")) for r in lb_where] == [
        ("IT.LB.LBTESTCD", "NFLP"), ("IT.LB.LBSPEC", "SERUM")]
    adam = _folders(packaged, "ms_exo")["ADaM"]
    define, groups, items = _define(adam)
    assert [_text(items[f"IT.ADLB.AVAL.{p}"]) for p in ("NFLSER", "GFAPCSF")] == [
        "Neurofilament Light Chain, Serum (ng/L)", "Glial Fibrillary Acidic Protein, CSF (ng/L)"]
    assert items["IT.ADSL.TRTSDT"].get("{http://www.cdisc.org/ns/def/v2.1}DisplayFormat") == "DATE9."


@pytest.mark.slow
def test_the_package_validates_against_its_own_define_xml(packaged):
    """define.xml is complete enough to be the metadata a validator checks the package against."""
    from validation.run import validate_folder

    folder = _folders(packaged, "ms_exo")["SDTM"]
    result = validate_folder(folder, define=folder / "define.xml")
    prov = dict(result.provenance)
    assert {k: v for k, v in prov.items() if k.startswith("metadata ")} == {
        f"metadata {p.stem.upper()}": "define.xml define.xml" for p in folder.glob("*.xpt")}
    assert result.may_export, result.blocking[["dataset", "rule", "message"]].to_string()


# --------------------------------------------------------------------------------------------
# Dataset-JSON


@pytest.mark.slow
@pytest.mark.parametrize("study", STUDIES)
def test_dataset_json_is_schema_valid_and_equal_to_the_xpt_files(packaged, reference, study):
    schema = json.loads((reference / "dataset-json-1.1" / "schema" / "dataset.schema.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)
    for folder in _folders(packaged, study).values():
        _, groups, items = _define(folder)
        for path in sorted(folder.glob("*.json")):
            doc = json.loads(path.read_text(encoding="utf-8"))
            errors = list(validator.iter_errors(doc))
            assert not errors, (path.name, errors[:3])
            xpt, meta = pyreadstat.read_xport(str(path.with_suffix(".xpt")), disable_datetime_conversion=True)
            header = parse_xpt_header(path.with_suffix(".xpt").read_bytes())
            frame, jmeta = read_dataset_json(path)
            assert (jmeta["name"], jmeta["label"], jmeta["records"]) == (meta.table_name, meta.file_label, len(xpt))
            assert jmeta["itemGroupOID"] == groups[jmeta["name"]].get("OID")
            for col, var in zip(jmeta["columns"], header.variables):
                assert (col["name"], col["label"]) == (var.name, var.label)
                assert col["itemOID"] in items and items[col["itemOID"]].get("Name") == var.name
                if col["dataType"] == "string":
                    assert col["length"] == var.length
                if var.type == "num":
                    a, b = xpt[var.name].to_numpy(dtype="float64"), frame[var.name].to_numpy(dtype="float64")
                    assert np.array_equal(a, b, equal_nan=True), (path.name, var.name)
                else:
                    assert xpt[var.name].astype(str).str.rstrip(" ").tolist() == frame[var.name].tolist(), \
                        (path.name, var.name)


# --------------------------------------------------------------------------------------------
# Manifest


@pytest.mark.slow
@pytest.mark.parametrize("study", STUDIES)
def test_manifest_lists_every_file_and_the_inputs(packaged, root, study):
    m5 = packaged / study / "m5"
    manifest = json.loads((m5 / "manifest.json").read_text())
    assert check_manifest(m5) == []
    assert len(manifest["files"]) == sum(1 for p in m5.rglob("*") if p.is_file()) - 1
    raw = root / "studies" / study / "raw"
    assert manifest["raw_inputs"] and all(r["sha256"] == hashlib.sha256((raw / r["file"]).read_bytes()).hexdigest()
                                          for r in manifest["raw_inputs"])
    assert {s["role"]: s["sha256"] for s in manifest["specs"]} == {
        "SDTM": hashlib.sha256((root / "specs" / f"{study}.xlsx").read_bytes()).hexdigest(),
        "ADaM": hashlib.sha256((root / "specs" / f"{study}_adam.xlsx").read_bytes()).hexdigest()}
    assert manifest["standards"]["SDTMIG"] == "3.4" and manifest["standards"]["ADaMIG"] == "1.3"
    assert manifest["standards"]["Define-XML"] == "2.1.0" and manifest["standards"]["Dataset-JSON"] == "1.1.0"
    assert manifest["controlled_terminology"]["SDTM"] == "2025-03-28"
    for entry in manifest["datasets"]:
        path = m5 / entry["folder"] / entry["files"][0]
        assert len(pyreadstat.read_xport(str(path), metadataonly=False)[0]) == entry["records"]


# --------------------------------------------------------------------------------------------
# Reproducibility and atomicity


@pytest.mark.slow
def test_rebuild_is_byte_identical_in_place_and_elsewhere(packaged, root, tmp_path):
    m5 = packaged / "t2dm_exo" / "m5"
    before = _hashes(m5)
    result = run_package(root / "studies" / "t2dm_exo", packaged)
    assert result.validation_reused and _hashes(m5) == before
    _copy_outputs(packaged, tmp_path, "t2dm_exo")
    run_package(root / "studies" / "t2dm_exo", tmp_path)
    assert _hashes(tmp_path / "t2dm_exo" / "m5") == before


@pytest.mark.slow
def test_an_interrupted_run_leaves_the_previous_package(packaged, root):
    m5 = packaged / "ms_exo" / "m5"
    before = _hashes(m5)
    half = len(before) // 2
    env = dict(os.environ, PYTHONPATH=str(root))
    proc = subprocess.Popen([sys.executable, "-m", "subgen_cli.cli", "package", "--study",
                             str(root / "studies" / "ms_exo"), "--out", str(packaged)], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed_at = None
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            stages = list(m5.parent.glob(".m5.*.partial"))
            count = sum(1 for s in stages for p in s.rglob("*") if p.is_file())
            if count >= half:
                proc.send_signal(signal.SIGKILL)
                killed_at = count
                break
            time.sleep(0.002)
    finally:
        if proc.poll() is None and killed_at is None:
            proc.kill()
        proc.wait()
    assert killed_at is not None, "the run ended before half of the files were written"
    assert proc.returncode == -signal.SIGKILL
    assert _hashes(m5) == before and check_manifest(m5) == []
    assert list(m5.parent.glob(".m5.*.partial"))  # what the killed run left aside, not in m5
    run_package(root / "studies" / "ms_exo", packaged)
    assert not list(m5.parent.glob(".m5.*.partial")) and _hashes(m5) == before


@pytest.mark.slow
def test_validated_stage_files_are_copied_not_written_again(packaged, root, tmp_path, monkeypatch):
    """With a matching validation report every unsplit XPT file is the stage's file, byte for byte."""
    import export.package as package

    _copy_outputs(packaged, tmp_path, "t2dm_exo")

    def no_write(*args, **kwargs):
        raise AssertionError("an XPT file was written again although validation checked it")

    monkeypatch.setattr(package, "write_xpt", no_write)
    run_package(root / "studies" / "t2dm_exo", tmp_path)
    for kind, folder in _folders(tmp_path, "t2dm_exo").items():
        source = tmp_path / "t2dm_exo" / ("sdtm" if kind == "SDTM" else "adam")
        files = sorted(folder.glob("*.xpt"))
        assert [p.name for p in files] == sorted(p.name for p in source.glob("*.xpt"))
        assert all(p.read_bytes() == (source / p.name).read_bytes() for p in files)


def test_take_verified_xpt_copies_only_the_file_it_would_write(built, root, tmp_path):
    """take_verified_xpt: right hash and headers -> a copy; a changed hash, label, display format or stamp ->
    no copy."""
    import dataclasses

    from export.package import read_dataset, take_verified_xpt
    from subgen.core.xpt.header import read_header_bytes
    from subgen.core.xpt.values import expected_widths, xpt_frame
    from subgen.core.xpt.verify import header_problems

    spec = load_spec(root / "specs" / "t2dm_exo.xlsx")
    dm = spec.dataset("DM")
    source = built["t2dm_exo"] / "dm.xpt"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    created = xpt_timestamp(spec.study.data_cut)
    widths = expected_widths(xpt_frame(read_dataset(source, dm), dm), dm)
    target = tmp_path / "dm.xpt"
    assert take_verified_xpt(source, target, dm, widths, created, digest)
    assert target.read_bytes() == source.read_bytes()
    target.unlink()
    assert not take_verified_xpt(source, target, dm, widths, created, "0" * 64) and not target.exists()
    assert not take_verified_xpt(source, target, dm, widths, created, None) and not target.exists()
    relabelled = dataclasses.replace(dm, label="Demographics (draft)")
    assert not take_verified_xpt(source, target, relabelled, widths, created, digest) and not target.exists()
    head = read_header_bytes(source)
    assert header_problems(head, dm, widths, created) == []
    later = created.replace(year=created.year + 1)
    assert [p.message for p in header_problems(head, dm, widths, later)] == [
        f"the file's created/modified stamps are not {later.isoformat()}"]
    first = dm.variables[0]
    formatted = dataclasses.replace(dm, variables=(dataclasses.replace(first, display_format="$8."),)
                                    + tuple(dm.variables[1:]))
    assert [(p.column, p.value) for p in header_problems(head, formatted, widths, created)] == [(first.name, "")]
    wider = dict(widths, USUBJID=widths["USUBJID"] + 1)
    assert [p.column for p in header_problems(head, dm, wider, created)] == ["USUBJID"]


# --------------------------------------------------------------------------------------------
# Splits and formats


@pytest.mark.slow
def test_split_with_a_tiny_threshold(packaged, root, tmp_path):
    _copy_outputs(packaged, tmp_path, "ms_exo")
    threshold = 100_000
    result = run_package(root / "studies" / "ms_exo", tmp_path, split_threshold=threshold)
    folders = _folders(tmp_path, "ms_exo")
    sdtm = folders["SDTM"]
    assert all(p.stat().st_size <= threshold for f in folders.values() for p in f.glob("*.xpt"))
    lb, _ = pyreadstat.read_xport(str(packaged / "ms_exo" / "sdtm" / "lb.xpt"))
    counts = lb["LBCAT"].value_counts().sort_index()  # CSF IMMUNOLOGY, NEUROLOGICAL BIOMARKERS
    assert not (sdtm / "lb.xpt").exists()
    parts = [pyreadstat.read_xport(str(sdtm / f"lb{i}.xpt"))[0] for i in (1, 2)]
    assert [(p["LBCAT"].unique().tolist(), len(p)) for p in parts] == [([c], n) for c, n in counts.items()]
    together = pd.concat(parts).sort_values(["USUBJID", "LBSEQ"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(together, lb.sort_values(["USUBJID", "LBSEQ"]).reset_index(drop=True))
    define, groups, _ = _define(sdtm)
    assert "LB" not in groups and groups["LB1"].get("Domain") == groups["LB2"].get("Domain") == "LB"
    assert groups["LB1"].get("{http://www.cdisc.org/ns/def/v2.1}CommentOID") == "COM.LB.SPLIT"
    assert "split by LBCAT" in define.xpath("string(//def:CommentDef[@OID='COM.LB.SPLIT'])", namespaces=NS)
    entry = next(d for d in result.manifest["datasets"] if d["dataset"] == "LB")
    assert entry["files"] == ["lb1.xpt", "lb1.json", "lb2.xpt", "lb2.json"] and entry["split"]["by"] == "LBCAT"
    assert [p["records"] for p in entry["split"]["parts"]] == counts.tolist()
    # QS has one QSCAT larger than the limit: divided by subject, every subject's records in one file
    qs = [pyreadstat.read_xport(str(p))[0] for p in sorted(sdtm.glob("qs*.xpt"))]
    assert len(qs) > 1 and sum(len(q) for q in qs) == entry_records(result, "QS")
    subjects = [set(q["USUBJID"]) for q in qs]
    assert all(not (a & b) for i, a in enumerate(subjects) for b in subjects[i + 1:])
    adam_groups = _define(folders["ADaM"])[1]
    assert {"ADLB1", "ADLB2"} <= set(adam_groups) and "ADLB" not in adam_groups


def entry_records(result, name: str) -> int:
    return next(d["records"] for d in result.manifest["datasets"] if d["dataset"] == name)


@pytest.mark.slow
def test_dataset_json_instead_of_xpt(packaged, root, tmp_path):
    _copy_outputs(packaged, tmp_path, "t2dm_exo")
    run_package(root / "studies" / "t2dm_exo", tmp_path, formats=("json",))
    sdtm = _folders(tmp_path, "t2dm_exo")["SDTM"]
    assert not list(sdtm.glob("*.xpt")) and (sdtm / "dm.json").is_file()
    _, groups, _ = _define(sdtm)
    assert groups["DM"].find("def:leaf", NS).get(XLINK) == "dm.json"


# --------------------------------------------------------------------------------------------
# The validation gate


@pytest.mark.slow
def test_refused_while_validation_has_unwaived_errors(packaged, root, tmp_path, capsys):
    study = root / "studies" / "t2dm_exo"
    _copy_outputs(packaged, tmp_path, "t2dm_exo", with_validation=False)
    shutil.copytree(packaged / "t2dm_exo" / "m5", tmp_path / "t2dm_exo" / "m5")
    before = _hashes(tmp_path / "t2dm_exo" / "m5")
    spec = load_spec(root / "specs" / "t2dm_exo.xlsx")
    lb_path = tmp_path / "t2dm_exo" / "sdtm" / "lb.xpt"
    lb, _ = pyreadstat.read_xport(str(lb_path), disable_datetime_conversion=True)
    first = int(lb.index[lb["LBDY"].notna()][0])
    lb.loc[first, "LBDY"] = 0.0  # there is no study day 0 (DY-ZERO), and it contradicts LBDTC (XD-DY-CALC)
    write_xpt(lb, spec.dataset("LB"), lb_path, xpt_timestamp(spec.study.data_cut))
    code = main(["package", "--study", str(study), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "export is blocked" in err and "unwaived Reject/Error" in err and "waivers.toml" in err
    assert _hashes(tmp_path / "t2dm_exo" / "m5") == before
    report = json.loads((tmp_path / "t2dm_exo" / "validation" / "validation-report.json").read_text())
    assert report["may_export"] is False
    assert {f["Rule"] for f in report["findings"] if f["Dataset"] == "LB" and f["Record"] == first + 1} >= {"DY-ZERO"}
    with pytest.raises(ExportBlocked):  # the stored verdict is reused: still refused, no second validation
        run_package(study, tmp_path)


def test_missing_inputs_are_named(root, tmp_path):
    with pytest.raises(ProblemError) as err:
        run_package(root / "studies" / "ms_exo", tmp_path)
    problems = err.value.problems
    assert {p.rule for p in problems} == {"PKG-INPUT"} and any(p.where.endswith("dm.xpt") for p in problems)
    assert all(("subgen sdtm" if "/sdtm/" in p.where else "subgen adam") in p.fix for p in problems)
    assert len(problems) == 20 + 7  # every SDTM (20: MS has no SUPPEX) and ADaM (7) dataset of the specs, at once
    assert not (tmp_path / "ms_exo" / "m5").exists()


# --------------------------------------------------------------------------------------------
# A reviewer opens define.xml in a browser


def _render(folder: Path, tmp_path: Path) -> html.HtmlElement:
    """define.xml as Chromium shows it: served over HTTP (as from a review share), XSLT applied by the browser."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/define.xml"
        out = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'chromium'}", "--dump-dom", url],
                             capture_output=True, text=True, timeout=180)
    finally:
        server.shutdown()
        server.server_close()
    assert out.returncode == 0, out.stderr[-2000:]
    return html.fromstring(out.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("study, kind, dataset, codelist, terms", [
    ("ms_exo", "SDTM", "DM", "CL.SEX", [("F", "Female"), ("INTERSEX", "Intersex"), ("M", "Male"), ("U", "Unknown")]),
    ("t2dm_exo", "ADaM", "ADSL", "CL.NY", [("Y", "Yes"), ("N", "No")]),
])
def test_define_renders_in_a_browser(packaged, tmp_path, study, kind, dataset, codelist, terms):
    page = _render(_folders(packaged, study)[kind], tmp_path)
    tables = page.xpath("//table[caption[normalize-space()='Datasets']]")
    assert tables, "no Datasets table: the browser did not apply define2-1.xsl"
    rows = {r.xpath("string(td[1]/a)").strip(): r for r in tables[0].xpath(".//tr[td]")}
    assert dataset in rows
    assert rows[dataset].xpath("string(.//a[@class='external']/@href)") == f"{dataset.lower()}.xpt"
    listed = _folders(packaged, study)[kind].glob("*.xpt")
    assert set(rows) == {p.stem.upper() for p in listed}
    box = page.xpath(f"//div[@class='codelist'][@id='CL.{codelist}']")
    assert box, f"codelist {codelist} is not shown"
    shown = [(r.xpath("string(td[1])").split(" [")[0].strip(), r.xpath("string(td[2])").strip())
             for r in box[0].xpath(".//tr[td]")]
    assert shown == terms
