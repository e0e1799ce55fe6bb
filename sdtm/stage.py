"""The SDTM stage: raw EDC exports + spec -> checked SDTM XPT files and their reports.

``run_sdtm`` loads the study, builds every dataset the spec declares, checks each one (XPT
constraints and the spec-generated Great Expectations suite), and only when nothing blocks
writes the XPT files and reports into ``<out>/<study>/sdtm/``. The folder is assembled aside
and swapped into place at the end, so a failed or interrupted run leaves the previous output
as it was.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sdtm.checks import (
    duplicate_keys,
    non_finite_numbers,
    personal_columns,
    scan_personal_data,
    unenrolled_subjects,
    with_origin,
)
from sdtm.design import design_needs
from sdtm.engine import (
    CYCLE_COLUMN,
    CYCLE_FIX,
    BuildContext,
    build_dataset,
    check_mappings,
    dependency_graph,
    strip_lineage,
)
from sdtm.registry import dependencies
from subgen import __version__
from subgen.core import progress
from subgen.core.atomic import staged_folder
from subgen.core.conformance.ranges import declared_ranges, ranges_for
from subgen.core.conformance.suite import build_suite, check_before_write, suite_to_json
from subgen.core.order import build_order
from subgen.core.problems import Problem, ProblemError, problems_frame
from subgen.core.raw import FILE_COL, ROW_COL
from subgen.core.safe_text import write_csv as safe_write_csv
from subgen.core.spec.loader import load_spec
from subgen.core.spec.model import Spec
from subgen.core.study import StudyConfig, load_study
from subgen.core.xpt.checks import check_xpt_frame
from subgen.core.xpt.timestamps import xpt_timestamp
from subgen.core.xpt.write import write_xpt


@dataclass
class SdtmResult:
    """What an SDTM run produced."""

    study: StudyConfig
    spec: Spec
    out_dir: Path
    datasets: dict[str, pd.DataFrame]
    problems: list[Problem] = field(default_factory=list)
    reconciliation: pd.DataFrame | None = None


def build_sdtm(study: StudyConfig) -> tuple[Spec, BuildContext]:
    """Load the spec and build every SDTM dataset in memory (frames keep their lineage columns).

    Raises ProblemError for spec problems and for data problems of severity Error. Every raw
    form the spec reads is read first, so all unreadable files are reported together; a
    dataset whose keys repeat stops the build before a later dataset looks records up in it.
    """
    spec = load_spec(study.spec_path)
    static = check_mappings(spec)
    if static:
        raise ProblemError(static, f"{spec.path}: the Mappings/Sources sheets cannot be run")
    ctx = BuildContext(spec, study.raw_dir)
    read_forms(ctx)
    misspelt = personal_columns(ctx)
    if misspelt:
        raise ProblemError(misspelt, f"{spec.path}: Personal Data Columns name columns the raw files do not have "
                                     "(nothing was written)")
    order = build_order(dependency_graph(spec, [d.name for d in spec.datasets]), f"{spec.path} [Mappings]",
                        CYCLE_COLUMN, CYCLE_FIX)
    for i, name in enumerate(progress.track(order, f"{study.name}: SDTM")):
        ctx.datasets[name] = build_dataset(ctx, spec.dataset(name))
        duplicates = duplicate_keys(ctx, spec.dataset(name))
        ctx.problems.extend(duplicates)
        if duplicates and name in needed_by(spec, order[i + 1:]):
            raise ProblemError(ctx.problems, f"{study.name}: {name} has records with the same key, so the datasets "
                                             "that look records up in it cannot be built (nothing was written)")
    ctx.problems.extend(unenrolled_subjects(ctx))
    ctx.problems.extend(non_finite_numbers(ctx))
    ctx.problems.extend(scan_personal_data(ctx))
    blocking = [p for p in ctx.problems if p.severity in ("Reject", "Error")]
    if blocking:
        raise ProblemError(ctx.problems, f"{study.name}: {len(blocking)} problem(s) in the raw data or spec stop "
                                         "the SDTM build (nothing was written)")
    return spec, ctx


def read_forms(ctx: BuildContext) -> None:
    """Read every raw form a Sources or Mappings row names; raise one ProblemError listing every unreadable file."""
    names = {s.form for s in ctx.spec.sources}
    known = {f.name for f in ctx.spec.forms}
    for mp in ctx.spec.mappings:
        if mp.raw is not None and mp.raw.reads_other_form:
            names.update(p.form for p in mp.raw.resolved("") if p.form in known)
    problems: list[Problem] = []
    for name in sorted(names & known):
        try:
            ctx.form_frame(name)
        except ProblemError as exc:
            problems.extend(exc.problems)
    if problems:
        files = sorted({p.where for p in problems})
        raise ProblemError(problems, f"{len(files)} raw file(s) cannot be used as they are ({', '.join(files)}); "
                                     "nothing was written")


def needed_by(spec: Spec, names: list[str]) -> set[str]:
    """Datasets that the mappings or design sheets of ``names`` read."""
    wanted = set(names)
    out = {d for mp in spec.mappings if mp.dataset in wanted for d in dependencies(mp)}
    for n in names:
        out |= design_needs(spec, n)
    return out


def check_datasets(spec: Spec, datasets: dict[str, pd.DataFrame], ranges: tuple | None = None) -> list[Problem]:
    """XPT constraints and the spec-generated GX suite for every dataset, all problems collected.

    The suite includes the value ranges the spec's ValueLevel sheet declares (EDSS 0 to 10 by 0.5,
    SDMT 0 to 110, plausible lab results), so an impossible value stops the write.
    """
    codelists = {c.id: c for c in spec.codelists}
    ranges = declared_ranges(spec) if ranges is None else ranges
    problems: list[Problem] = []
    for name, frame in datasets.items():
        clean = strip_lineage(frame)
        problems += check_xpt_frame(clean, spec.dataset(name))
        problems += check_before_write(clean, spec.dataset(name), codelists, spec.value_level, ranges_for(name, ranges))
    return problems


def run_sdtm(study_dir: Path | str, out_root: Path | str, spec_path: Path | str | None = None) -> SdtmResult:
    """Build, check and write SDTM for the study in ``study_dir`` into ``out_root/<study>/sdtm``."""
    study = load_study(study_dir, spec_path)
    spec, ctx = build_sdtm(study)
    ranges = declared_ranges(spec)
    problems = with_origin(check_datasets(spec, ctx.datasets, ranges), ctx.datasets)
    blocking = [p for p in problems if p.severity in ("Reject", "Error")]
    if blocking:
        raise ProblemError(problems, f"{study.name}: {len(blocking)} conformance problem(s) stop the write "
                                     "(nothing was written)")
    all_problems = ctx.problems + problems
    final = Path(out_root) / study.name / "sdtm"
    created = xpt_timestamp(spec.study.data_cut)
    recon = reconciliation(ctx)
    with staged_folder(final, private=study.private) as stage:
        for name in sorted(ctx.datasets):
            write_xpt(strip_lineage(ctx.datasets[name]), spec.dataset(name), stage / f"{name.lower()}.xpt", created,
                      checked=True)  # check_datasets ran check_xpt_frame on these frames and nothing blocked
        reports = stage / "reports"
        reports.mkdir()
        write_csv(problems_frame(all_problems), reports / "problems.csv")
        write_csv(lineage(ctx), reports / "lineage.csv")
        write_csv(recon, reports / "reconciliation.csv")
        write_suites(spec, ctx.datasets, reports / "suites", ranges)
        (reports / "run.json").write_text(json.dumps(provenance(study, spec), indent=2, sort_keys=True) + "\n",
                                          encoding="utf-8")
    return SdtmResult(study, spec, final, ctx.datasets, all_problems, recon)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Deterministic CSV (UTF-8, LF, no index), formula-like text cells neutralised (subgen.core.safe_text)."""
    safe_write_csv(frame, path)


def lineage(ctx: BuildContext) -> pd.DataFrame:
    """One row per SDTM record: dataset, USUBJID, --SEQ (or record number), raw file and CSV row."""
    parts = []
    for name, frame in sorted(ctx.datasets.items()):
        seq_var = next((v for v in frame.columns if v.endswith("SEQ") and len(v) == len(name) + 3), None)
        parts.append(pd.DataFrame({
            "dataset": name,
            "USUBJID": frame["USUBJID"] if "USUBJID" in frame else pd.NA,
            "seq_variable": seq_var or "",
            "seq": frame[seq_var].astype("Int64") if seq_var else pd.NA,
            "record": range(1, len(frame) + 1),
            "raw_file": frame[FILE_COL],
            "raw_row": frame[ROW_COL].astype("Int64"),
        }))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def reconciliation(ctx: BuildContext) -> pd.DataFrame:
    """Per raw form: rows in, rows that became records, rows used otherwise, and rows not used (with why).

    A raw row is accounted for when it became a record, was read by a derivation (look-up or
    summary), or was excluded by a source filter; rows no Sources/Mappings row reads are listed
    as not mapped, so nothing disappears without a line in this report.
    """
    usage = pd.concat(ctx.usage, ignore_index=True) if ctx.usage else pd.DataFrame(
        columns=["file", "row", "dataset", "how"])
    rows = []
    for form in ctx.spec.forms:
        path = ctx.raw_dir / form.file
        if form.name not in ctx.forms and not path.is_file():
            rows.append({"form": form.name, "file": form.file, "rows_in": 0, "as_records": 0, "read_only": 0,
                         "excluded": 0, "not_mapped": 0, "datasets": "", "status": "file absent"})
            continue
        frame = ctx.form_frame(form.name)
        used = usage[usage["file"] == form.file]
        rec = used[used["how"].str.startswith("record")]
        excl = used[used["how"].str.startswith("excluded")]
        read = used[~used["how"].str.startswith(("record", "excluded"))]
        as_rec = set(rec["row"])
        after_cut = set(used.loc[used["how"].str.startswith("excluded: starts after the data cut"), "row"])
        read_only = set(read["row"]) - as_rec - after_cut  # a row after the cut is excluded even if summaries saw it
        excluded = set(excl["row"]) - as_rec - read_only
        n = len(frame)
        not_mapped = n - len(as_rec) - len(read_only) - len(excluded)
        rows.append({"form": form.name, "file": form.file, "rows_in": n, "as_records": len(as_rec),
                     "read_only": len(read_only), "excluded": len(excluded), "not_mapped": not_mapped,
                     "datasets": ", ".join(sorted(set(used["dataset"]))),
                     "status": "complete" if not_mapped == 0 else "rows not mapped to any dataset"})
    declared = {f.file for f in ctx.spec.forms}
    for extra in sorted(p for p in ctx.raw_dir.glob("*.csv") if p.name not in declared):
        n = max(sum(1 for _ in extra.open(encoding="utf-8", errors="replace")) - 1, 0)
        rows.append({"form": "", "file": extra.name, "rows_in": n, "as_records": 0, "read_only": 0, "excluded": 0,
                     "not_mapped": n, "datasets": "", "status": "file not declared in the spec's Forms sheet"})
    return pd.DataFrame(rows)


def write_suites(spec: Spec, datasets: dict[str, pd.DataFrame], folder: Path, ranges: tuple | None = None) -> None:
    """Save each dataset's generated GX suite as JSON so QA can read exactly what was checked.

    ``ranges`` (ValueLevel Range rules) are included when given, with the spec's value-level rows,
    as :func:`check_datasets` ran them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    codelists = {c.id: c for c in spec.codelists}
    for name in sorted(datasets):
        suite = (build_suite(spec.dataset(name), codelists) if ranges is None else
                 build_suite(spec.dataset(name), codelists, spec.value_level, ranges_for(name, ranges)))
        (folder / f"{name.lower()}.json").write_text(suite_to_json(suite), encoding="utf-8")


def provenance(study: StudyConfig, spec: Spec) -> dict:
    """Tool and standard versions, the spec's hash and every raw input's hash."""
    raw = {}
    for form in spec.forms:
        p = study.raw_dir / form.file
        if p.is_file():
            raw[form.file] = hashlib.sha256(p.read_bytes()).hexdigest()
    return {"tool": "subgen", "tool_version": __version__, "study_id": spec.study.study_id,
            "sdtmig_version": spec.study.sdtmig_version, "sdtm_version": spec.study.sdtm_version,
            "ct_version": spec.study.ct_version, "data_cut": spec.study.data_cut.isoformat(),
            "spec_file": Path(spec.path).name, "spec_sha256": spec.sha256, "raw_sha256": raw}
