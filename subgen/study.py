"""A study folder: ``study.toml`` naming the spec workbook and the raw folder.

::

    [study]
    spec = "../../specs/ms_exo.xlsx"   # relative to the study folder
    raw = "raw"                        # folder of raw EDC CSV exports

Everything else about the study (id, versions, data cut) is in the spec's Study sheet.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from subgen.problems import Problem, ProblemError


@dataclass(frozen=True)
class StudyConfig:
    """Where a study's spec and raw data are."""

    folder: Path
    name: str
    spec_path: Path
    raw_dir: Path


def load_study(folder: Path | str, spec: Path | str | None = None) -> StudyConfig:
    """Read ``folder/study.toml``; ``spec`` overrides the workbook it names."""
    folder = Path(folder)
    cfg_path = folder / "study.toml"
    if not cfg_path.is_file():
        raise ProblemError([Problem(str(cfg_path), None, None, None, "study.toml not found",
                                    "point --study at a study folder (e.g. studies/ms_exo) or create one with "
                                    "'subgen init'", rule="STUDY-CONFIG")])
    try:
        cfg = tomllib.loads(cfg_path.read_text(encoding="utf-8")).get("study", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProblemError([Problem(str(cfg_path), None, None, None, f"cannot read study.toml: {exc}",
                                    "fix the TOML syntax", rule="STUDY-CONFIG")]) from exc
    missing = [k for k in ("spec", "raw") if k not in cfg]
    if missing:
        raise ProblemError([Problem(str(cfg_path), None, k, None, f"[study] has no {k} entry",
                                    f'add {k} = "..." under [study]', rule="STUDY-CONFIG") for k in missing])
    spec_path = Path(spec) if spec else Path(os.path.normpath(folder / cfg["spec"]))
    return StudyConfig(folder, cfg.get("name", folder.resolve().name), spec_path,
                       Path(os.path.normpath(folder / cfg["raw"])))
