"""Whole validation of a study's outputs or of any folder of XPT files, and the export gate.

:func:`validate_study` checks ``<out>/<study>/sdtm/*.xpt`` against the study spec and
``<out>/<study>/adam/*.xpt`` (when built) against the ADaM spec; :func:`validate_folder` checks any
folder of XPT files against a define.xml, a spec, or the SDTMIG 3.4 / ADaMIG 1.3 fallback. Both
run, per dataset, the Great Expectations suite generated from the metadata, then every rule across
datasets, then apply the study's waivers, and return a :class:`ValidationResult`: every check's
outcome, every finding, and the run's provenance. :func:`write_reports` writes the reports;
:func:`may_export` is the gate the packaging step asks ("no unwaived Reject or Error finding").
"""

from __future__ import annotations

import hashlib
import os
import platform
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from subgen import __version__
from subgen.core import progress
from subgen.core.conformance import gx_runner
from subgen.core.conformance.outcomes import (
    FINDING_COLUMNS,
    ISSUES,
    MAX_LISTED,
    NOT_APPLICABLE,
    PASSED,
    CheckRun,
    empty_findings,
)
from subgen.core.conformance.ranges import RangeRule, declared_ranges
from subgen.core.conformance.suite import build_suite, suite_to_json
from subgen.core.problems import SEVERITIES, Problem, ProblemError
from subgen.core.spec.loader import load_spec
from subgen.core.spec.model import Codelist, Dataset, Spec, ValueLevel
from subgen.core.standards import FALLBACK_SOURCE, define_metadata
from subgen.core.study import load_study
from subgen.core.xpt.timestamps import xpt_timestamp
from validation.catalogue import CROSS_RULES, RULES
from validation.package import XptFolder, codelist_map, metadata_for, read_xpt_folder
from validation.rulebase import Package, run_rule
from validation.waivers import INVALID_RULE, UNUSED_RULE, apply_waivers, load_waivers, unused_findings

BLOCKING = ("Reject", "Error")


@dataclass
class Layer:
    """One folder of XPT files with the metadata it is checked against."""

    label: str  # "sdtm", "adam" or the package folder name (prefix of input names in provenance)
    xpt: XptFolder
    declared: dict[str, Dataset] = field(default_factory=dict)  # from a spec or define.xml
    source: str = FALLBACK_SOURCE
    codelists: dict[str, Codelist] = field(default_factory=dict)
    value_level: tuple[ValueLevel, ...] = ()
    ranges: tuple[RangeRule, ...] = ()


@dataclass
class ValidationResult:
    """Everything a validation run found, ready for the reports."""

    name: str
    runs: list[CheckRun]
    findings: pd.DataFrame  # FINDING_COLUMNS + waived, waiver, justification, approved_by, approved_on
    provenance: list[tuple[str, str]]
    suites: dict[str, str]  # dataset -> suite JSON (what was checked)
    stamp: datetime  # report time: data cut or SOURCE_DATE_EPOCH, never the wall clock
    private: bool = False  # the study's private mode (study.toml private = true): reports 0600, folders 0700

    @property
    def blocking(self) -> pd.DataFrame:
        """Unwaived Reject/Error findings: what stops export."""
        f = self.findings
        return f[f["severity"].isin(BLOCKING) & ~f["waived"].astype(bool)]

    @property
    def may_export(self) -> bool:
        """True when no unwaived Reject or Error finding remains."""
        return self.blocking.empty


def may_export(result: ValidationResult) -> bool:
    """May this study be exported? False while any Reject/Error finding is not waived."""
    return result.may_export


# --------------------------------------------------------------------------------------------
# Findings from the GX suite


def _suite_runs(name: str, frame: pd.DataFrame, suite: Any) -> list[CheckRun]:
    """One CheckRun per expectation, with its Problems turned into findings (USUBJID looked up)."""
    subjects = frame["USUBJID"].reset_index(drop=True).astype("string") if "USUBJID" in frame else None
    out = []
    for run in gx_runner.run_suite_checks(frame, suite, max_records=MAX_LISTED):
        meta = run.meta
        rows = []
        for problem in run.problems:
            rows.append(_problem_row(name, problem, meta.get("check") or run.check, subjects))
        if run.unexpected_count is not None and rows and rows[-1]["record"] is None:
            listed = sum(1 for r in rows if r["record"] is not None)
            rows[-1]["count"] = max(run.unexpected_count - listed, 0)
        findings = _frame(rows)
        reason = run.reason
        if run.outcome == NOT_APPLICABLE:
            reason = f"{run.reason} (the absence is reported by the column checks)"
        out.append(CheckRun(str(meta.get("rule") or run.config.type), run.check, name, run.outcome, reason, findings))
    return out


def _problem_row(dataset: str, problem: Problem, check: str, subjects: pd.Series | None) -> dict:
    usubjid = None
    if problem.row is not None and subjects is not None and 0 < problem.row <= len(subjects):
        value = subjects.iloc[problem.row - 1]
        usubjid = None if pd.isna(value) else str(value)
    return {"dataset": dataset, "record": problem.row, "USUBJID": usubjid, "variables": problem.column,
            "values": problem.value, "rule": problem.rule, "check": check, "severity": problem.severity,
            "message": problem.message, "fix": problem.fix, "count": 1}


def _frame(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return empty_findings()
    frame = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    for col in FINDING_COLUMNS:
        if col in ("record", "count"):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
        else:
            frame[col] = frame[col].astype("string")
    return frame


def _stamp_rule(findings: pd.DataFrame, rule_id: str, check: str) -> pd.DataFrame:
    info = RULES[rule_id]
    out = findings.copy()
    out["rule"] = rule_id
    out["check"] = check
    out["severity"] = info.severity
    out["fix"] = info.fix
    out["count"] = 1
    return _frame(out[list(FINDING_COLUMNS)].to_dict("records"))


def _package_run(rule_id: str, names: list[str], message: str) -> CheckRun:
    rows = [{"dataset": n, "record": None, "USUBJID": None, "variables": None, "values": None, "message": message}
            for n in names]
    findings = _stamp_rule(pd.DataFrame(rows, columns=["dataset", "record", "USUBJID", "variables", "values",
                                                       "message"]), rule_id, rule_id)
    return CheckRun(rule_id, rule_id, "*", ISSUES if names else PASSED, "", findings)


# --------------------------------------------------------------------------------------------
# The run


def validate_layers(name: str, layers: list[Layer], *, waivers: Path | None = None,
                    provenance: list[tuple[str, str]] | None = None,
                    extra_runs: list[CheckRun] | None = None, stamp: datetime | None = None) -> ValidationResult:
    """Validate the datasets of ``layers`` (suites, then rules across datasets), then apply waivers."""
    datasets: dict[str, pd.DataFrame] = {}
    metadata: dict[str, Dataset] = {}
    sources: dict[str, str] = {}
    codelists: dict[str, Codelist] = {}
    value_level: list[ValueLevel] = []
    ranges: list[RangeRule] = []
    runs: list[CheckRun] = list(extra_runs or [])
    missing: list[str] = []
    undeclared: list[str] = []
    for layer in layers:
        meta, src, extra = metadata_for(layer.xpt, layer.declared, layer.source)
        duplicate = set(meta) & set(datasets)
        if duplicate:
            raise ProblemError([Problem(str(layer.xpt.folder), None, None, ", ".join(sorted(duplicate)),
                                        "the same dataset name appears in two folders", "", rule="PKG-READ")])
        datasets.update(layer.xpt.frames)
        metadata.update(meta)
        sources.update(src)
        codelists.update(layer.codelists)
        value_level.extend(layer.value_level)
        ranges.extend(layer.ranges)
        undeclared.extend(extra)
        missing.extend(n for n in layer.declared if n not in layer.xpt.frames)
    package = Package(datasets, metadata, sources, codelists, tuple(value_level), tuple(ranges))
    suites: dict[str, str] = {}
    for ds in progress.track(sorted(datasets), "validation: datasets"):
        exclude = ("COLS-SPEC",) if sources[ds] == FALLBACK_SOURCE else ()
        layer_codelists = codelists if sources[ds] != FALLBACK_SOURCE else {}
        suite = build_suite(metadata[ds], layer_codelists, package.value_level, package.ranges, exclude)
        suites[ds] = suite_to_json(suite)
        runs.extend(_suite_runs(ds, datasets[ds], suite))
        for excluded in exclude:
            runs.append(CheckRun(excluded, f"{excluded}:*", ds, NOT_APPLICABLE,
                                 "no spec or define.xml gives the variable order (checked against "
                                 "SDTMIG 3.4 / ADaMIG 1.3 metadata)"))
    runs.append(_package_run("PKG-MISSING-DATASET", sorted(missing),
                             "declared in the spec/define.xml but there is no XPT file for it"))
    runs.append(_package_run("PKG-UNDECLARED-DATASET", sorted(undeclared),
                             "not declared in the spec/define.xml; checked against SDTMIG 3.4 / ADaMIG 1.3 metadata"))
    for rule in progress.track(CROSS_RULES, "validation: cross-dataset rules", unit="rule"):
        runs.extend(run_rule(rule, package))
    findings = pd.concat([r.findings for r in runs if len(r.findings)] or [empty_findings()], ignore_index=True)
    findings, waiver_runs, waiver_info = _waive(findings, waivers)
    runs.extend(waiver_runs)
    findings = sort_findings(findings)
    prov = list(provenance or []) + waiver_info
    prov += [(f"metadata {ds}", sources[ds]) for ds in sorted(sources)]
    return ValidationResult(name, runs, findings, prov, suites, stamp or datetime(1970, 1, 1))


def _waive(findings: pd.DataFrame, path: Path | None) -> tuple[pd.DataFrame, list[CheckRun], list[tuple[str, str]]]:
    waiver_file = load_waivers(path, RULES)
    findings, unused = apply_waivers(findings, waiver_file.waivers)
    invalid = _stamp_rule(waiver_file.problems, INVALID_RULE, INVALID_RULE)
    unused_f = _stamp_rule(unused_findings(unused), UNUSED_RULE, UNUSED_RULE)
    runs = []
    for rule_id, frame in ((INVALID_RULE, invalid), (UNUSED_RULE, unused_f)):
        if waiver_file.path is None or not waiver_file.path.is_file():
            runs.append(CheckRun(rule_id, rule_id, "waivers.toml", NOT_APPLICABLE, "the study has no waiver file"))
        else:
            runs.append(CheckRun(rule_id, rule_id, "waivers.toml", ISSUES if len(frame) else PASSED, "", frame))
    extra = pd.concat([invalid, unused_f], ignore_index=True)
    extra = apply_waivers(extra, ())[0]
    findings = pd.concat([findings, extra], ignore_index=True) if len(extra) else findings
    info = []
    if waiver_file.path is not None and waiver_file.path.is_file():
        info = [("waivers", waiver_file.path.name), ("waivers sha256", waiver_file.sha256),
                ("waivers applied", str(len(waiver_file.waivers) - len(unused)))]
    return findings, runs, info


def sort_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings in report order: severity, dataset, rule, record, then the rest (stable across runs)."""
    order = {s: i for i, s in enumerate(SEVERITIES)}
    keyed = findings.assign(_sev=findings["severity"].map(order).fillna(9),
                            _rec=findings["record"].astype("Float64").fillna(-1))
    cols = ["_sev", "dataset", "rule", "_rec", "check", "variables", "values", "message"]
    keyed = keyed.sort_values(cols, kind="stable", na_position="first")
    return keyed.drop(columns=["_sev", "_rec"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Study and folder entry points


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def report_time(data_cut: date | None) -> datetime:
    """The reports' time: ``SOURCE_DATE_EPOCH`` when set, else the data cut at 00:00 (never the clock)."""
    return xpt_timestamp(data_cut or date(1970, 1, 1))


def _versions() -> list[tuple[str, str]]:
    return [("Great Expectations version", gx_runner.import_gx().__version__), ("pandas version", pd.__version__),
            ("Python version", platform.python_version())]


def _inputs(layers: list[Layer]) -> list[tuple[str, str]]:
    out = []
    for layer in layers:
        for ds in sorted(layer.xpt.files):
            out.append((f"input {layer.label}/{layer.xpt.files[ds].name} sha256", layer.xpt.sha256[ds]))
    return out


def _spec_layer(label: str, xpt: XptFolder, spec: Spec) -> Layer:
    return Layer(label, xpt, {d.name: d for d in spec.datasets}, f"spec {Path(spec.path).name}",
                 codelist_map(spec.codelists), spec.value_level, declared_ranges(spec))


def validate_study(study_dir: Path | str, out_root: Path | str, spec_path: Path | str | None = None
                   ) -> ValidationResult:
    """Validate a study's SDTM (and ADaM, when built) output in ``out_root/<study>/``."""
    study = load_study(study_dir, spec_path)
    spec = load_spec(study.spec_path)
    base = Path(out_root) / study.name
    sdtm_dir = base / "sdtm"
    if not sdtm_dir.is_dir():
        raise ProblemError([Problem(str(sdtm_dir), None, None, None, "no SDTM output to validate",
                                    f"build it first: subgen sdtm --study {study_dir} --out {out_root}",
                                    rule="VALIDATE-INPUT")])
    layers = [_spec_layer("sdtm", read_xpt_folder(sdtm_dir), spec)]
    prov = [("tool", "subgen"), ("tool version", __version__), ("validated", f"study {study.name}"),
            ("study id", spec.study.study_id), ("SDTMIG version", spec.study.sdtmig_version),
            ("SDTM version", spec.study.sdtm_version), ("CT version", spec.study.ct_version),
            ("data cut", spec.study.data_cut.isoformat()), ("spec", Path(spec.path).name),
            ("spec sha256", spec.sha256)]
    extra: list[CheckRun] = []
    adam_path = getattr(study, "adam_spec_path", None)
    adam_dir = base / "adam"
    if adam_path is not None:
        adam_spec = load_spec(adam_path)
        prov += [("ADaMIG version", adam_spec.study.adamig_version or ""), ("ADaM spec", Path(adam_spec.path).name),
                 ("ADaM spec sha256", adam_spec.sha256)]
        if adam_dir.is_dir() and any(adam_dir.glob("*.xpt")):
            layers.append(_spec_layer("adam", read_xpt_folder(adam_dir), adam_spec))
        else:
            extra.append(_package_run("PKG-LAYER-ABSENT", ["ADAM"], f"the study has an ADaM spec but {adam_dir.name}/ "
                                      "holds no XPT files: ADaM was not validated"))
    elif adam_dir.is_dir() and any(adam_dir.glob("*.xpt")):
        layers.append(Layer("adam", read_xpt_folder(adam_dir)))
    if not any(r.rule == "PKG-LAYER-ABSENT" for r in extra):
        extra.append(CheckRun("PKG-LAYER-ABSENT", "PKG-LAYER-ABSENT", "*", PASSED))
    stamp = report_time(spec.study.data_cut)
    prov += [("report time", stamp.isoformat(timespec="seconds") + (" (SOURCE_DATE_EPOCH)"
                                                                      if os.environ.get("SOURCE_DATE_EPOCH") else
                                                                      " (data cut)"))]
    prov += _versions() + _inputs(layers)
    result = validate_layers(study.name, layers, waivers=study.folder / "waivers.toml", provenance=prov,
                             extra_runs=extra, stamp=stamp)
    result.private = study.private
    return result


def _package_data_cut(xpt: XptFolder) -> date | None:
    ts = xpt.frames.get("TS")
    if ts is not None and {"TSPARMCD", "TSVAL"} <= set(ts.columns):
        rows = ts[ts["TSPARMCD"].astype(str) == "DCUTDTC"]["TSVAL"].astype(str)
        for value in rows:
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                pass
    if xpt.created:
        return max(xpt.created.values()).date()
    return None


def validate_folder(folder: Path | str, *, define: Path | str | None = None, spec_path: Path | str | None = None,
                    waivers: Path | str | None = None) -> ValidationResult:
    """Validate any folder of XPT files against ``define`` (define.xml), ``spec_path``, or the fallback."""
    if define is not None and spec_path is not None:
        raise ProblemError([Problem("--define/--spec", None, None, None, "give either a define.xml or a spec, not both",
                                    "drop one of the two options", rule="VALIDATE-INPUT")])
    folder = Path(folder)
    xpt = read_xpt_folder(folder)
    label = folder.name
    prov = [("tool", "subgen"), ("tool version", __version__), ("validated", f"package {label}")]
    data_cut = None
    if spec_path is not None:
        spec = load_spec(spec_path)
        layer = _spec_layer(label, xpt, spec)
        data_cut = spec.study.data_cut
        prov += [("metadata", f"spec {Path(spec.path).name}"), ("spec sha256", spec.sha256),
                 ("SDTMIG version", spec.study.sdtmig_version), ("CT version", spec.study.ct_version)]
    elif define is not None:
        declared, codelists = define_metadata(define)
        layer = Layer(label, xpt, declared, f"define.xml {Path(define).name}", codelists)
        prov += [("metadata", f"define.xml {Path(define).name}"), ("define.xml sha256", _sha(Path(define)))]
    else:
        layer = Layer(label, xpt)
        prov += [("metadata", FALLBACK_SOURCE)]
    data_cut = data_cut or _package_data_cut(xpt)
    stamp = report_time(data_cut)
    prov += [("data cut", data_cut.isoformat() if data_cut else "unknown"),
             ("report time", stamp.isoformat(timespec="seconds"))]
    prov += _versions() + _inputs([layer])
    return validate_layers(label, [layer], waivers=Path(waivers) if waivers else None, provenance=prov,
                           extra_runs=[], stamp=stamp)


__all__ = ["BLOCKING", "Layer", "ValidationResult", "may_export", "report_time", "sort_findings",
           "validate_folder", "validate_layers", "validate_study"]
