"""What the review report reads: the study's written XPT files and reports, never raw data.

:func:`load_inputs` gathers ``<out>/<study>/sdtm/*.xpt``, ``adam/*.xpt``, their ``run.json`` and the
validation report (``validation/validation-report.json``) with the SHA-256 of every file read, and
the ``[report]`` section of ``study.toml`` (the plots to draw). Anything missing is simply absent;
the report says what to run instead of failing.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from subgen.core.problems import Problem, ProblemError
from subgen.core.study import StudyConfig
from subgen.core.xpt.read import read_xpt


@dataclass(frozen=True)
class PlotSpec:
    """One ``[[report.plot]]`` entry of study.toml: a parameter of an ADaM BDS dataset over time by arm."""

    dataset: str  # e.g. ADEDSS
    param: str  # PARAMCD
    value: str = "AVAL"  # AVAL, CHG or PCHG
    title: str = ""


@dataclass
class ReviewInputs:
    """Everything the report is made from, with where it came from."""

    study: StudyConfig
    out_dir: Path  # <out>/<study>
    sdtm: dict[str, pd.DataFrame] = field(default_factory=dict)  # upper-case name -> frame
    adam: dict[str, pd.DataFrame] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # dataset -> variable -> label
    sdtm_run: dict = field(default_factory=dict)  # sdtm/reports/run.json
    adam_run: dict = field(default_factory=dict)
    validation: dict | None = None  # validation/validation-report.json
    plots: tuple[PlotSpec, ...] = ()
    files: dict[str, str] = field(default_factory=dict)  # path relative to out_dir -> SHA-256

    @property
    def data_cut(self) -> str:
        """The data-cut date the outputs were built with ('' when unknown)."""
        return str(self.sdtm_run.get("data_cut") or self.adam_run.get("data_cut") or "")

    @property
    def study_id(self) -> str:
        """STUDYID of the outputs (the study folder name when no SDTM is built)."""
        return str(self.sdtm_run.get("study_id") or self.study.name)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_plot_specs(study: StudyConfig) -> tuple[PlotSpec, ...]:
    """The ``[[report.plot]]`` entries of the study's study.toml (empty when there are none)."""
    path = study.folder / "study.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return ()  # load_study already read it; nothing more to say here
    entries = data.get("report", {}).get("plot", [])
    problems, plots = [], []
    for i, entry in enumerate(entries if isinstance(entries, list) else [], start=1):
        missing = [k for k in ("dataset", "param") if not entry.get(k)]
        value = str(entry.get("value", "AVAL")).upper()
        if missing or value not in ("AVAL", "CHG", "PCHG"):
            problems.append(Problem(str(path), i, ", ".join(missing) or "value", str(entry),
                                    f"[[report.plot]] number {i} needs dataset and param, and value AVAL, CHG or PCHG",
                                    'write e.g. dataset = "ADLB"  param = "HBA1C"  value = "CHG"',
                                    rule="STUDY-CONFIG"))
            continue
        plots.append(PlotSpec(str(entry["dataset"]).upper(), str(entry["param"]), value, str(entry.get("title", ""))))
    if problems:
        raise ProblemError(problems, f"{path}: the [report] section cannot be read")
    return tuple(plots)


def _read_folder(folder: Path, inputs: ReviewInputs, layer: str) -> dict[str, pd.DataFrame]:
    frames = {}
    for path in sorted(folder.glob("*.xpt")):
        frame, meta = read_xpt(path, convert_dates=True)
        name = path.stem.upper()
        frames[name] = frame
        inputs.labels[name] = dict(meta.column_labels)
        inputs.files[f"{layer}/{path.name}"] = _sha256(path)
    return frames


def _read_json(path: Path, inputs: ReviewInputs, key: str) -> dict | None:
    if not path.is_file():
        return None
    inputs.files[key] = _sha256(path)
    return json.loads(path.read_text(encoding="utf-8"))


def load_inputs(study: StudyConfig, out: Path | str) -> ReviewInputs:
    """Read what exists of ``<out>/<study>/{sdtm,adam,validation}``; absent parts stay empty."""
    out_dir = Path(out) / study.name
    inputs = ReviewInputs(study, out_dir, plots=read_plot_specs(study))
    inputs.sdtm = _read_folder(out_dir / "sdtm", inputs, "sdtm")
    inputs.adam = _read_folder(out_dir / "adam", inputs, "adam")
    inputs.sdtm_run = _read_json(out_dir / "sdtm" / "reports" / "run.json", inputs, "sdtm/reports/run.json") or {}
    inputs.adam_run = _read_json(out_dir / "adam" / "reports" / "run.json", inputs, "adam/reports/run.json") or {}
    inputs.validation = _read_json(out_dir / "validation" / "validation-report.json", inputs,
                                   "validation/validation-report.json")
    return inputs
