"""The submission package: the eCTD module 5 dataset folders of a validated study.

``run_package`` turns ``<out>/<study>/sdtm`` and ``<out>/<study>/adam`` into::

    <out>/<study>/m5/
      datasets/<studyid>/tabulations/sdtm/           *.xpt, *.json, define.xml, define2-1.xsl (+ acrf.pdf)
      datasets/<studyid>/analysis/adam/datasets/     *.xpt, *.json, define.xml, define2-1.xsl
      validation/      the validation reports that cleared the package (Excel, CSV, JSON, suites)
      manifest.json    every file's SHA-256 and size; tool, spec, raw-input, standard and CT versions

``datasets/<studyid>/`` is what a regulatory team copies into module 5 of the eCTD (eCTD folder
structure of the FDA Technical Conformance Guide: ``m5/datasets/<study>/tabulations/sdtm`` and
``m5/datasets/<study>/analysis/adam/datasets``; folder names lower case). Those folders hold only
the datasets, define.xml and its stylesheet, and ``acrf.pdf`` (the annotated CRF) when the SDTM
spec's Study sheet names one in its ``AnnotatedCRF`` attribute. The validation reports are not an
eCTD document (the reviewer's guides summarise conformance findings), so they sit beside
``datasets/`` in the package, with the manifest, for QA and the SDRG/ADRG authors, never inside
the eCTD folders.

The steps, each of which stops the package with a clear message:

1. the validation gate: ``<out>/<study>/validation`` is reused when its report names exactly the
   current XPT files, specs and waivers (by SHA-256), otherwise ``subgen validate`` runs first;
   unwaived Reject/Error findings refuse the package (:class:`ExportBlocked`, exit code 1);
2. every dataset is read from its XPT file in ``<out>/<study>/sdtm`` (or ``adam``), split when its
   XPT file would pass the size limit (:mod:`export.split`), and put in the package: copied as it
   is when it is the file validation checked (same SHA-256) and its headers are those the spec
   gives (:func:`take_verified_xpt`; the SDTM/ADaM stage read it back with both readers when it
   wrote it), otherwise re-written with :func:`subgen.core.xpt.write.write_xpt` (which reads the file back
   with pyreadstat and pandas and compares names, labels, types, widths and every value with the
   frame meant to be written); it is written as Dataset-JSON beside it (read back and compared
   the same way); the SHA-256 of every verified file is kept;
3. define.xml is generated from the spec for the files actually written and validated against
   the Define-XML 2.1 XSD; the CDISC stylesheet is copied beside it;
4. the staged package is checked in place (every dataset file still has its verified SHA-256,
   define.xml is schema-valid and names exactly the files of its folder, nothing else is there),
   the manifest is written and compared with the files.

Everything happens in a staging folder beside ``m5`` that replaces it in one atomic step
(:func:`subgen.core.atomic.staged_folder`): a refused, failed or interrupted run leaves the previous
package exactly as it was. Timestamps come from the data cut or ``SOURCE_DATE_EPOCH``, so the
same inputs give a byte-identical package.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd
from lxml import etree

from export.datasetjson import (
    DATASET_JSON_VERSION,
    column_type,
    dataset_json_header,
    json_rows,
    read_written_blocks,
    write_dataset_json,
)
from export.define import (
    DEFINE_VERSION,
    STYLESHEET,
    DefineGroup,
    item_oid,
    study_oids,
    stylesheet_path,
    write_define,
    xsd_problems,
)
from export.manifest import check_manifest, dependency_versions, sha256_file, write_manifest
from export.split import FDA_MAX_BYTES, SplitPlan, part_frames, plan_split
from subgen import __version__
from subgen.core.atomic import staged_folder
from subgen.core.problems import Problem, ProblemError
from subgen.core.spec.loader import load_spec
from subgen.core.spec.model import Dataset, Spec
from subgen.core.study import StudyConfig, load_study
from subgen.core.xpt.header import read_header_bytes
from subgen.core.xpt.read import read_xpt
from subgen.core.xpt.timestamps import xpt_timestamp
from subgen.core.xpt.values import expected_widths, xpt_frame
from subgen.core.xpt.verify import header_problems
from subgen.core.xpt.write import write_xpt
from validation.report import JSON_NAME, write_reports
from validation.run import may_export, validate_study

FORMATS = ("xpt", "json")
PACKAGE_FOLDER = "m5"
VALIDATION_FOLDER = "validation"
#: The annotated CRF's file name in the SDTM folder (eCTD convention).
ACRF_NAME = "acrf.pdf"


class ExportBlocked(Exception):
    """Validation has unwaived Reject/Error findings: the package is refused (exit code 1)."""


@dataclass(frozen=True)
class Layer:
    """One standard's datasets: spec, the folder they are read from, the eCTD folder they go to."""

    kind: str  # "SDTM" or "ADaM"
    spec: Spec
    source: Path
    target: Path  # relative to the package root


@dataclass
class PackageResult:
    """What a package run produced."""

    study: StudyConfig
    out_dir: Path
    manifest: dict
    warnings: list[Problem] = field(default_factory=list)
    validation_reused: bool = False


@dataclass(frozen=True)
class _Written:
    """One dataset file group as written and read back: its define.xml group and the verified files' hashes."""

    layer: Layer
    dataset: Dataset  # as written (split parts carry their own name and label)
    stem: str
    group: DefineGroup
    sha256: dict[str, str]  # file name -> SHA-256 of the bytes that were read back and matched


def ectd_folder_name(study_id: str) -> str:
    """The study's eCTD folder name: lower case letters, digits and hyphens (``MSEXO01`` -> ``msexo01``)."""
    name = re.sub(r"[^a-z0-9-]+", "-", study_id.lower()).strip("-")
    return name or "study"


# --------------------------------------------------------------------------------------------
# Validation gate


def _provenance_matches(prov: dict, study: StudyConfig, layers: list[Layer]) -> bool:
    """True when a validation report's provenance names exactly the current inputs."""
    expected = {}
    for layer in layers:
        label = layer.source.name
        for path in sorted(layer.source.glob("*.xpt")):
            expected[f"input {label}/{path.name} sha256"] = sha256_file(path)
    listed = {k: v for k, v in prov.items() if k.startswith("input ")}
    if listed != expected or prov.get("tool version") != __version__:
        return False
    for layer in layers:
        key = "spec sha256" if layer.kind == "SDTM" else "ADaM spec sha256"
        if prov.get(key) != layer.spec.sha256:
            return False
    waivers = study.folder / "waivers.toml"
    if waivers.is_file():
        return prov.get("waivers sha256") == sha256_file(waivers)
    return "waivers sha256" not in prov


def validation_gate(study: StudyConfig, out_root: Path, layers: list[Layer], revalidate: bool = False
                    ) -> tuple[bool, Path, bool, int]:
    """May the study be exported? Returns (may export, report folder, report reused, open blocking findings).

    Reuses ``<out>/<study>/validation`` when its JSON report was made from exactly the current
    XPT files, specs and waivers; otherwise validates (``validation.run.validate_study``) and
    writes the reports there first, as ``subgen validate`` does. The verdict is
    validation's own (:func:`validation.run.may_export`).
    """
    folder = out_root / study.name / VALIDATION_FOLDER
    report = folder / JSON_NAME
    if not revalidate and report.is_file():
        try:
            data = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if data is not None and _provenance_matches(data.get("provenance", {}), study, layers):
            return bool(data.get("may_export")), folder, True, _blocking_count(data)
    result = validate_study(study.folder, out_root)
    write_reports(result, folder)
    return may_export(result), folder, False, int(result.blocking["count"].fillna(1).sum())


def _blocking_count(report: dict) -> int:
    findings = report.get("findings", [])
    return sum(int(f.get("Count") or 1) for f in findings
               if f.get("Severity") in ("Reject", "Error") and f.get("Waived") != "Yes")


# --------------------------------------------------------------------------------------------
# Reading the datasets


def _layers(study: StudyConfig, out_root: Path) -> list[Layer]:
    """The study's SDTM layer and, when it has an ADaM spec, its ADaM layer."""
    sdtm_spec = load_spec(study.spec_path)
    sid = ectd_folder_name(sdtm_spec.study.study_id)
    base = out_root / study.name
    layers = [Layer("SDTM", sdtm_spec, base / "sdtm", Path("datasets") / sid / "tabulations" / "sdtm")]
    if study.adam_spec_path is not None:
        adam_spec = load_spec(study.adam_spec_path)
        if adam_spec.standard != "ADaM":
            raise ProblemError([Problem(str(study.adam_spec_path), None, None, None, "adam_spec names an SDTM "
                                        "workbook", "point adam_spec in study.toml at the ADaM workbook",
                                        rule="PKG-INPUT")])
        layers.append(Layer("ADaM", adam_spec, base / "adam",
                            Path("datasets") / sid / "analysis" / "adam" / "datasets"))
    return layers


def _check_inputs(study: StudyConfig, out_root: Path, layers: list[Layer]) -> None:
    """Every dataset the specs declare has its XPT file; raise one ProblemError naming every missing one."""
    problems = []
    for layer in layers:
        command = "sdtm" if layer.kind == "SDTM" else "adam"
        for ds in layer.spec.datasets:
            path = layer.source / f"{ds.name.lower()}.xpt"
            if not path.is_file():
                problems.append(Problem(str(path), None, None, None, f"{layer.kind} dataset {ds.name} has not been "
                                        "built", f"run: subgen {command} --study {study.folder} --out {out_root}",
                                        rule="PKG-INPUT"))
    if problems:
        raise ProblemError(problems, f"{study.name}: the package needs every dataset the specs declare "
                                     "(nothing was written)")


def annotated_crf(study: StudyConfig, spec: Spec) -> Path | None:
    """The annotated CRF the SDTM spec's Study sheet names (attribute ``AnnotatedCRF``: a PDF file, relative to
    the study folder), or None when it names none. It goes beside the SDTM define.xml as ``acrf.pdf``.

    It is taken only when it is a regular file (not a symlink, nor under a symlinked folder) inside the
    study folder and starts like a PDF (``%PDF-``); anything else is a located error, so no file from
    elsewhere on the machine can be packaged and referenced from define.xml.
    """
    name = dict(spec.study.attributes).get("AnnotatedCRF", "").strip()
    if not name:
        return None
    path = study.folder / name

    def refuse(message: str, fix: str) -> ProblemError:
        return ProblemError([Problem(f"{spec.path} [Study]", None, "AnnotatedCRF", name, message, fix,
                                     rule="PKG-INPUT")])

    if path.suffix.lower() != ".pdf" or not (path.is_file() or path.is_symlink()):
        raise refuse(f"no PDF file {path}", "give the annotated CRF's PDF file, relative to the study folder, or "
                                            "leave the attribute empty")
    inside = Path(os.path.abspath(path))
    folder = Path(os.path.abspath(study.folder))
    copy_it = ("copy the annotated CRF (the PDF itself, not a link to it) into the study folder and name it "
               "relative to that folder, e.g. AnnotatedCRF = acrf.pdf")
    if folder not in inside.parents:
        raise refuse(f"{path} lies outside the study folder {study.folder}", copy_it)
    if path.is_symlink() or inside.resolve() != Path(os.path.realpath(folder)) / inside.relative_to(folder):
        raise refuse(f"{path} is a symbolic link (or lies in a linked folder), not a file of the study", copy_it)
    try:
        mode = os.lstat(path).st_mode
        head = path.read_bytes()[:5] if stat.S_ISREG(mode) else b""
    except OSError as exc:
        raise refuse(f"cannot read {path} ({exc.strerror})", "check the file's permissions") from exc
    if not stat.S_ISREG(mode):
        raise refuse(f"{path} is not a regular file", "give the annotated CRF's PDF file itself")
    if head != b"%PDF-":
        raise refuse(f"{path} is not a PDF (it does not start with %PDF-)",
                     "export the annotated CRF as PDF (File > Save as PDF) and give that file")
    return path


def read_dataset(path: Path, dataset: Dataset) -> pd.DataFrame:
    """The records of an XPT file as :func:`~subgen.core.xpt.read.read_xpt` reads them (dates stay numbers),
    columns checked against the spec."""
    frame, _ = read_xpt(path)
    if list(frame.columns) != list(dataset.variable_names):
        raise ProblemError([Problem(str(path), None, None, ", ".join(map(str, frame.columns)),
                                    f"the file's variables are not the spec's variables of {dataset.name} in spec "
                                    f"order ({', '.join(dataset.variable_names)})",
                                    "rebuild the dataset with the current spec", rule="PKG-INPUT")])
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Writing


def validated_hashes(report_folder: Path) -> dict[str, str]:
    """SHA-256 of every XPT file the validation report was made from, by ``<layer folder>/<file>``."""
    prov = json.loads((report_folder / JSON_NAME).read_text(encoding="utf-8")).get("provenance", {})
    return {k[len("input "):-len(" sha256")]: v for k, v in prov.items()
            if k.startswith("input ") and k.endswith(" sha256")}


def take_verified_xpt(source: Path, target: Path, dataset: Dataset, widths: dict[str, int], created: datetime,
                      validated_sha256: str | None) -> bool:
    """Copy the stage's XPT file into the package when it is exactly the file the package would write.

    That is: its SHA-256 is the one validation checked, and its headers (name, labels, types,
    widths, display formats, stamps) are those :func:`write_xpt` gives these records
    (:func:`subgen.core.xpt.verify.header_problems`; ``widths``: :func:`expected_widths` of the records).
    The SDTM and ADaM stages read every file back with both readers when they wrote it, so the
    copy needs no second write and read-back. Returns False (nothing at ``target``) when the file
    has to be written again.
    """
    if validated_sha256 is None or header_problems(read_header_bytes(source), dataset, widths, created):
        return False
    shutil.copyfile(source, target)
    if sha256_file(target) != validated_sha256:  # changed since validation (or while copied): write it again
        target.unlink()
        return False
    return True


def _write_layer(layer: Layer, stage: Path, created: datetime, threshold: int, formats: tuple[str, ...],
                 acrf: Path | None = None, validated: dict[str, str] | None = None
                 ) -> tuple[list[_Written], list[Problem], list[dict]]:
    """Write one layer's datasets, Dataset-JSON files, define.xml and stylesheet into the stage.

    Every dataset file is verified and its SHA-256 kept, so the final check only has to prove
    that the bytes in place are the bytes that were verified. An XPT file the stage wrote and
    validation checked (``validated``: :func:`validated_hashes`) is copied as it is when
    :func:`take_verified_xpt` allows; any other (a split part, a file changed since validation,
    headers not as the spec gives them) is written with :func:`write_xpt`, which reads it back
    with both readers. Dataset-JSON is read back with :func:`_json_problems`.
    """
    folder = stage / layer.target
    folder.mkdir(parents=True, exist_ok=True)
    study_oid, mdv_oid = study_oids(layer.spec)
    written: list[_Written] = []
    entries: list[dict] = []
    for ds in layer.spec.datasets:
        source = layer.source / f"{ds.name.lower()}.xpt"
        frame = read_dataset(source, ds)
        whole = xpt_frame(frame, ds)  # the records as written
        del frame
        whole_widths = expected_widths(whole, ds)
        plan = plan_split(whole, ds, threshold, whole_widths)
        parts = ([(ds, whole, whole_widths)] if plan is None else
                 [(dataclasses.replace(ds, name=p.name, label=p.label), f, None)
                  for p, f in zip(plan.parts, part_frames(whole, plan))])
        files = []
        for part_ds, prepared, widths in parts:
            stem = part_ds.name.lower()
            hashes = {}
            if "xpt" in formats:
                target = folder / f"{stem}.xpt"
                if not (plan is None and widths is not None and take_verified_xpt(
                        source, target, part_ds, widths, created,
                        (validated or {}).get(f"{layer.source.name}/{source.name}"))):
                    # raises unless it reads back as written; returns the frame as written
                    prepared = write_xpt(prepared, part_ds, target, created)
                hashes[target.name] = sha256_file(target)
            if widths is None:
                widths = expected_widths(prepared, part_ds)
            href = f"{stem}.xpt" if "xpt" in formats else f"{stem}.json"
            group = DefineGroup(part_ds.name, ds, part_ds.label, href, prepared, widths, plan)
            if "json" in formats:
                header = dataset_json_header(part_ds, name=part_ds.name, label=part_ds.label, records=len(prepared),
                                             widths=widths, study_oid=study_oid, mdv_oid=mdv_oid, created=created,
                                             item_oid={v.name: item_oid(part_ds.name, v.name) for v in ds.variables})
                path = folder / f"{stem}.json"
                write_dataset_json(path, header, prepared, part_ds)
                problems = _json_problems(path, part_ds, group)
                if problems:
                    raise ProblemError(problems, f"{path.name} does not read back as written (nothing was replaced)")
                hashes[path.name] = sha256_file(path)
            written.append(_Written(layer, part_ds, stem, group, hashes))
            files += [f"{stem}.{ext}" for ext in formats]
        entries.append(_dataset_entry(layer, ds, len(whole), files, plan))
    if acrf is not None:
        shutil.copyfile(acrf, folder / ACRF_NAME)
    warnings = write_define(layer.spec, [w.group for w in written], folder / "define.xml", created,
                            acrf=ACRF_NAME if acrf is not None else None)
    shutil.copyfile(stylesheet_path(), folder / STYLESHEET)
    return written, warnings, entries


def _dataset_entry(layer: Layer, ds: Dataset, records: int, files: list[str], plan: SplitPlan | None) -> dict:
    entry = {"dataset": ds.name, "standard": layer.kind, "records": records, "folder": layer.target.as_posix(),
             "files": files, "split": None}
    if plan is not None:
        entry["split"] = {"by": plan.variable or "USUBJID", "whole_xpt_bytes": plan.whole_size,
                          "description": plan.describe,
                          "parts": [{"dataset": p.name, "records": len(p.rows), "xpt_bytes": p.size,
                                     "holds": p.content} for p in plan.parts]}
    return entry


# --------------------------------------------------------------------------------------------
# Reading everything back


def _json_problems(path: Path, ds: Dataset, group: DefineGroup) -> list[Problem]:
    """Differences between a Dataset-JSON file and the frame (as written to XPT) and metadata meant to be written.

    The file is parsed again with the ``json`` module a block of records at a time
    (:func:`export.datasetjson.read_written_blocks`) and every block must equal the records
    :func:`export.datasetjson.json_rows` makes of the frame: values, nulls, integers and ISO dates
    exactly. Up to 20 differing values are reported, each with its record number and variable.
    """
    where = str(path)
    prepared = group.frame
    out: list[Problem] = []
    done = 0
    try:
        blocks = read_written_blocks(path)
        meta = next(blocks)
        if not isinstance(meta, dict):
            raise ValueError("the metadata line is not a JSON object")
        if meta.get("name") != ds.name or meta.get("label") != ds.label or meta.get("records") != len(prepared):
            out.append(Problem(where, None, None, None, f"name/label/records read back as {meta.get('name')!r}/"
                               f"{meta.get('label')!r}/{meta.get('records')}, written {ds.name!r}/{ds.label!r}/"
                               f"{len(prepared)}", rule="JSON-VERIFY"))
        columns = meta.get("columns", [])
        if [c.get("name") for c in columns] != list(ds.variable_names):
            return out + [Problem(where, None, None, None, "the columns read back are not the spec's variables",
                                  rule="JSON-VERIFY")]
        for col, var in zip(columns, ds.variables):
            kind, _target = column_type(var)
            if col.get("label") != var.label or col.get("dataType") != kind or \
                    (kind == "string" and col.get("length") != group.widths[var.name]):
                out.append(Problem(where, None, var.name, None, "label, data type or length read back differs "
                                   "from the spec and the XPT file", rule="JSON-VERIFY"))
        wrong = 0
        for rows in blocks:
            expected = json_rows(prepared.iloc[done:done + len(rows)], ds)
            if rows != expected and wrong < 20:
                for i, (got, exp) in enumerate(zip(rows, expected)):
                    for var, a, e in zip(ds.variables, got, exp):
                        if a != e and wrong < 20:
                            wrong += 1
                            out.append(Problem(where, done + i + 1, var.name, str(a), f"reads back {a!r}, "
                                               f"written {e!r}", rule="JSON-VERIFY"))
            done += len(rows)
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        return out + [Problem(where, None, None, None, f"cannot be read back: {exc}", rule="JSON-VERIFY")]
    if done != len(prepared):
        out.append(Problem(where, None, None, str(done), f"{done} records read back, {len(prepared)} written",
                           rule="JSON-VERIFY"))
    return out


def _leaf_href(group: etree._Element, ns: dict[str, str]) -> str | None:
    """The file an ItemGroupDef's def:leaf points at (None without a def:leaf)."""
    leaf = group.find("def:leaf", ns)
    return None if leaf is None else leaf.get("{http://www.w3.org/1999/xlink}href")


def verify_package(stage: Path, written: list[_Written], formats: tuple[str, ...], acrf: bool = False) -> None:
    """Check the staged package in place; raise ProblemError listing every difference.

    Every dataset file must still have the SHA-256 of the bytes that were read back and matched
    when it was written; each define.xml must be schema-valid and name exactly the files of its
    folder; each folder must hold nothing but its datasets, define.xml and the stylesheet (and the
    annotated CRF beside the SDTM define.xml when the spec names one).
    """
    problems: list[Problem] = []
    folders: dict[Path, list[_Written]] = {}
    for w in written:
        folder = stage / w.layer.target
        folders.setdefault(folder, []).append(w)
        for name, digest in w.sha256.items():
            if sha256_file(folder / name) != digest:
                problems.append(Problem(str(folder / name), None, None, None, "the file changed after it was read "
                                        "back and verified", "run again; check that nothing else writes there",
                                        rule="PKG-VERIFY"))
    for folder, items in folders.items():
        define = folder / "define.xml"
        data = define.read_bytes()
        problems += xsd_problems(data, str(define))
        ns = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
        root = etree.fromstring(data)
        leaves = {g.get("Name"): _leaf_href(g, ns) for g in root.iterfind(".//odm:ItemGroupDef", ns)}
        expected = {w.dataset.name: w.group.href for w in items}
        if leaves != expected:
            problems.append(Problem(str(define), None, None, None, f"datasets and files read back {leaves}, "
                                    f"written {expected}", rule="DEFINE-VERIFY"))
        allowed = {f"{w.stem}.{ext}" for w in items for ext in formats} | {"define.xml", STYLESHEET}
        if acrf and items[0].layer.kind == "SDTM":
            allowed.add(ACRF_NAME)
        present = {p.name for p in folder.iterdir()}
        if present != allowed:
            problems.append(Problem(str(folder), None, None, ", ".join(sorted(present ^ allowed)),
                                    "the folder does not hold exactly the datasets, define.xml and its stylesheet",
                                    rule="PKG-VERIFY"))
    if problems:
        raise ProblemError(problems, "the package does not read back as written (nothing was replaced)")


# --------------------------------------------------------------------------------------------
# The run


def _raw_inputs(study: StudyConfig, spec: Spec) -> list[dict]:
    out = []
    for form in spec.forms:
        path = study.raw_dir / form.file
        out.append({"file": form.file, "sha256": sha256_file(path) if path.is_file() else None})
    return sorted(out, key=lambda r: r["file"])


def _manifest_content(study: StudyConfig, layers: list[Layer], created: datetime, threshold: int,
                      formats: tuple[str, ...], entries: list[dict], warnings: list[Problem]) -> dict:
    sdtm = layers[0].spec
    attrs = {k: v for layer in layers for k, v in layer.spec.study.attributes}
    standards: dict[str, str | None] = {"SDTMIG": sdtm.study.sdtmig_version, "SDTM": sdtm.study.sdtm_version,
                                        "Define-XML": DEFINE_VERSION, "XPT": "SAS Version 5 transport"}
    if "json" in formats:
        standards["Dataset-JSON"] = DATASET_JSON_VERSION
    ct = {"SDTM": sdtm.study.ct_version}
    if len(layers) > 1:
        standards["ADaMIG"] = layers[1].spec.study.adamig_version
        if attrs.get("ADaMCTVersion"):
            ct["ADaM"] = attrs["ADaMCTVersion"]
    waivers = study.folder / "waivers.toml"
    return {
        "tool": "subgen", "tool_version": __version__, "dependencies": dependency_versions(),
        "study": {"name": study.name, "study_id": sdtm.study.study_id, "data_cut": sdtm.study.data_cut.isoformat(),
                  "ectd_folder": f"datasets/{ectd_folder_name(sdtm.study.study_id)}"},
        "created": created.isoformat(timespec="seconds"),
        "standards": standards, "controlled_terminology": ct,
        "specs": [{"role": layer.kind, "file": Path(layer.spec.path).name, "sha256": layer.spec.sha256}
                  for layer in layers],
        "raw_inputs": _raw_inputs(study, sdtm),
        "waivers": {"file": waivers.name, "sha256": sha256_file(waivers)} if waivers.is_file() else None,
        "validation": {"may_export": True, "reports": f"{VALIDATION_FOLDER}/"},
        "formats": list(formats), "split_threshold_bytes": threshold,
        "datasets": entries, "warnings": [str(p) for p in warnings],
    }


def run_package(study_dir: Path | str, out_root: Path | str, *, split_threshold: int = FDA_MAX_BYTES,
                formats: tuple[str, ...] = FORMATS, revalidate: bool = False) -> PackageResult:
    """Build ``<out_root>/<study>/m5`` from the study's validated SDTM and ADaM output (see the module doc).

    Raises :class:`ExportBlocked` when validation has unwaived Reject/Error findings and
    :class:`ProblemError` for missing inputs or anything that does not read back as written; in
    every case the previous package is left as it was.
    """
    formats = tuple(f for f in FORMATS if f in formats)
    if not formats:
        raise ValueError("at least one of the formats xpt, json is needed")
    if split_threshold <= 0:
        raise ProblemError([Problem("--split-threshold-bytes", None, None, str(split_threshold),
                                    "the split threshold must be a positive number of bytes",
                                    f"give e.g. {FDA_MAX_BYTES} (the FDA limit)", rule="PKG-INPUT")])
    out_root = Path(out_root)
    study = load_study(study_dir)
    layers = _layers(study, out_root)
    _check_inputs(study, out_root, layers)
    allowed, report_folder, reused, blocking = validation_gate(study, out_root, layers, revalidate)
    if not allowed:
        raise ExportBlocked(f"{study.name}: export is blocked: validation has {blocking} unwaived Reject/Error "
                            f"finding(s) (see {report_folder / 'validation-report.xlsx'}, Details sheet). Fix them, "
                            f"or waive them with a justification in {study.folder / 'waivers.toml'}; the previous "
                            "package is unchanged.")
    acrf = annotated_crf(study, layers[0].spec)
    created = xpt_timestamp(layers[0].spec.study.data_cut)
    validated = validated_hashes(report_folder)
    final = out_root / study.name / PACKAGE_FOLDER
    with staged_folder(final, private=study.private) as stage:
        written: list[_Written] = []
        warnings: list[Problem] = []
        entries: list[dict] = []
        for layer in layers:
            w, warn, e = _write_layer(layer, stage, created, split_threshold, formats,
                                      acrf if layer.kind == "SDTM" else None, validated)
            written += w
            warnings += warn
            entries += e
        shutil.copytree(report_folder, stage / VALIDATION_FOLDER)
        verify_package(stage, written, formats, acrf is not None)
        manifest = write_manifest(stage, _manifest_content(study, layers, created, split_threshold, formats,
                                                           entries, warnings))
        mismatch = check_manifest(stage)
        if mismatch:
            raise ProblemError([Problem(str(stage), None, None, None, m, rule="PKG-VERIFY") for m in mismatch],
                               "the manifest does not match the package")
    return PackageResult(study, final, manifest, warnings, reused)


__all__ = ["ACRF_NAME", "ExportBlocked", "FORMATS", "Layer", "PACKAGE_FOLDER", "PackageResult", "VALIDATION_FOLDER",
           "annotated_crf", "ectd_folder_name", "read_dataset", "run_package", "take_verified_xpt",
           "validated_hashes", "validation_gate", "verify_package"]
