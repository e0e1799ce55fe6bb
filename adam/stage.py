"""The ADaM stage: SDTM XPT files + the ADaM spec -> checked ADaM XPT files and their reports.

``run_adam`` reads the SDTM datasets the SDTM stage wrote into ``<out>/<study>/sdtm/`` (never
raw data), runs the ADaM workbook's Derivations sheet dataset by dataset, checks every result
(XPT constraints and the spec-generated Great Expectations suite, as for SDTM) and only when
nothing blocks writes ``<out>/<study>/adam/*.xpt`` and ``reports/`` (problems.csv,
traceability.csv, suites/, run.json). The folder is assembled aside and swapped in at the end.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import adam.functions  # noqa: F401  (registers every derivation)
from adam.engine import (
    CYCLE_COLUMN,
    CYCLE_FIX,
    AdamContext,
    build_dataset,
    check_derivations,
    dependency_graph,
    strip_internal,
    traceability,
)
from sdtm.stage import write_csv, write_suites
from subgen import __version__
from subgen.core import progress
from subgen.core.atomic import staged_folder
from subgen.core.conformance.suite import check_before_write
from subgen.core.order import build_order
from subgen.core.problems import Problem, ProblemError, problems_frame
from subgen.core.spec.loader import load_spec
from subgen.core.spec.model import Spec
from subgen.core.study import StudyConfig, load_study
from subgen.core.xpt.checks import check_xpt_frame
from subgen.core.xpt.timestamps import xpt_timestamp
from subgen.core.xpt.write import write_xpt


@dataclass
class AdamResult:
    """What an ADaM run produced."""

    study: StudyConfig
    spec: Spec
    out_dir: Path
    datasets: dict[str, pd.DataFrame]
    problems: list[Problem] = field(default_factory=list)
    traceability: pd.DataFrame | None = None


def load_adam_spec(study: StudyConfig, spec_path: Path | str | None = None) -> Spec:
    """The study's ADaM workbook (``adam_spec`` in study.toml, or ``spec_path``), loaded and checked."""
    path = Path(spec_path) if spec_path else study.adam_spec_path
    if path is None:
        raise ProblemError([Problem(str(study.folder / "study.toml"), None, "adam_spec", None,
                                    "the study has no ADaM spec", 'add adam_spec = "../../specs/<study>_adam.xlsx" '
                                    "under [study]", rule="STUDY-CONFIG")])
    spec = load_spec(path)
    if spec.standard != "ADaM":
        raise ProblemError([Problem(str(path), None, None, None, "this workbook is an SDTM spec, not an ADaM spec "
                                    "(it has no Derivations sheet)", "point adam_spec at the ADaM workbook",
                                    rule="SPEC-FILE")])
    static = check_derivations(spec)
    if static:
        raise ProblemError(static, f"{spec.path}: the Derivations/Parameters sheets cannot be run")
    return spec


def build_adam(study: StudyConfig, sdtm_dir: Path, spec: Spec) -> AdamContext:
    """Build every ADaM dataset in memory (frames keep ``__trace``); raise ProblemError on blocking problems."""
    if not (sdtm_dir / "dm.xpt").is_file():
        raise ProblemError([Problem(str(sdtm_dir), None, None, None, "no SDTM output to read (dm.xpt is missing)",
                                    f"build SDTM first: subgen sdtm --study {study.folder} --out "
                                    f"{sdtm_dir.parent.parent}", rule="ADAM-INPUT")])
    ctx = AdamContext(spec, sdtm_dir)
    dm_study = set(ctx.dataset("DM")["STUDYID"].dropna())
    if dm_study and dm_study != {spec.study.study_id}:
        raise ProblemError([Problem(f"{spec.path} [Study]", None, "StudyID", spec.study.study_id,
                                    f"the ADaM spec is for {spec.study.study_id} but the SDTM in {sdtm_dir} is "
                                    f"for {', '.join(sorted(dm_study))}", "use the study's own ADaM spec",
                                    rule="ADAM-INPUT")])
    order = build_order(dependency_graph(spec), f"{spec.path} [Derivations]", CYCLE_COLUMN, CYCLE_FIX)
    for name in progress.track(order, f"{study.name}: ADaM"):
        frame = build_dataset(ctx, spec.dataset(name))
        frame.attrs["name"] = name
        ctx.adam[name] = frame
    blocking = [p for p in ctx.problems if p.severity in ("Reject", "Error")]
    if blocking:
        raise ProblemError(ctx.problems, f"{study.name}: {len(blocking)} problem(s) stop the ADaM build "
                                         "(nothing was written)")
    return ctx


def check_adam(spec: Spec, datasets: dict[str, pd.DataFrame]) -> list[Problem]:
    """XPT constraints and the spec-generated GX suite for every ADaM dataset, all problems collected."""
    codelists = {c.id: c for c in spec.codelists}
    problems: list[Problem] = []
    for name, frame in datasets.items():
        clean = strip_internal(frame)
        problems += check_xpt_frame(clean, spec.dataset(name))
        problems += check_before_write(clean, spec.dataset(name), codelists)
    return problems


def run_adam(study_dir: Path | str, out_root: Path | str, spec_path: Path | str | None = None) -> AdamResult:
    """Build, check and write ADaM for the study in ``study_dir`` from ``out_root/<study>/sdtm`` into
    ``out_root/<study>/adam``."""
    study = load_study(study_dir)
    spec = load_adam_spec(study, spec_path)
    sdtm_dir = Path(out_root) / study.name / "sdtm"
    ctx = build_adam(study, sdtm_dir, spec)
    problems = check_adam(spec, ctx.adam)
    blocking = [p for p in problems if p.severity in ("Reject", "Error")]
    if blocking:
        raise ProblemError(problems, f"{study.name}: {len(blocking)} conformance problem(s) stop the ADaM write "
                                     "(nothing was written)")
    all_problems = ctx.problems + problems
    final = Path(out_root) / study.name / "adam"
    created = xpt_timestamp(spec.study.data_cut)
    trace = traceability(ctx.adam)
    with staged_folder(final, private=study.private) as stage:
        for name in sorted(ctx.adam):
            write_xpt(strip_internal(ctx.adam[name]), spec.dataset(name), stage / f"{name.lower()}.xpt", created,
                      checked=True)  # check_adam ran check_xpt_frame on these frames and nothing blocked
        reports = stage / "reports"
        reports.mkdir()
        write_csv(problems_frame(all_problems), reports / "problems.csv")
        write_csv(trace, reports / "traceability.csv")
        write_suites(spec, {n: strip_internal(f) for n, f in ctx.adam.items()}, reports / "suites")
        (reports / "run.json").write_text(json.dumps(provenance(spec, sdtm_dir), indent=2, sort_keys=True) + "\n",
                                          encoding="utf-8")
    return AdamResult(study, spec, final, ctx.adam, all_problems, trace)


def provenance(spec: Spec, sdtm_dir: Path) -> dict:
    """Tool and standard versions, the ADaM spec's hash and the hash of every SDTM file read."""
    attrs = dict(spec.study.attributes)
    sdtm = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(sdtm_dir.glob("*.xpt"))}
    return {"tool": "subgen", "tool_version": __version__, "study_id": spec.study.study_id,
            "adamig_version": spec.study.adamig_version, "adam_ct_version": attrs.get("ADaMCTVersion", ""),
            "data_cut": spec.study.data_cut.isoformat(), "spec_file": Path(spec.path).name,
            "spec_sha256": spec.sha256, "sdtm_sha256": sdtm}
