"""A study folder: ``study.toml`` naming the spec workbook and the raw folder.

::

    [study]
    spec = "../../specs/ms_exo.xlsx"   # relative to the study folder
    raw = "raw"                        # folder of raw EDC CSV exports
    adam_spec = "../../specs/ms_exo_adam.xlsx"   # optional: the ADaM spec workbook

Everything else about the study (id, versions, data cut) is in the spec's Study sheet.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from subgen.core.problems import Problem, ProblemError

NAME_RE = re.compile(r"^[^./\\\x00-\x1f][^/\\\x00-\x1f]*$")  # one folder name: no path separator, not hidden


@dataclass(frozen=True)
class StudyConfig:
    """Where a study's spec and raw data are."""

    folder: Path
    name: str
    spec_path: Path
    raw_dir: Path
    adam_spec_path: Path | None = None  # the ADaM workbook (study.toml adam_spec), when the study has one


def load_study(folder: Path | str, spec: Path | str | None = None) -> StudyConfig:
    """Read ``folder/study.toml``; ``spec`` overrides the workbook it names."""
    folder = Path(folder)
    cfg_path = folder / "study.toml"
    if not cfg_path.is_file():
        raise ProblemError([Problem(str(cfg_path), None, None, None, "study.toml not found",
                                    "point --study at a study folder (e.g. studies/ms_exo) holding a study.toml "
                                    "as the README describes", rule="STUDY-CONFIG")])
    try:
        cfg = tomllib.loads(cfg_path.read_text(encoding="utf-8")).get("study", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProblemError([Problem(str(cfg_path), None, None, None, f"cannot read study.toml: {exc}",
                                    "fix the TOML syntax", rule="STUDY-CONFIG")]) from exc
    missing = [k for k in ("spec", "raw") if k not in cfg]
    if missing:
        raise ProblemError([Problem(str(cfg_path), None, k, None, f"[study] has no {k} entry",
                                    f'add {k} = "..." under [study]', rule="STUDY-CONFIG") for k in missing])
    name = str(cfg.get("name", folder.resolve().name))
    if not NAME_RE.match(name) or ".." in name:
        raise ProblemError([Problem(str(cfg_path), None, "name", name, "the study name becomes an output folder name, "
                                    "so it must be one folder name (no / or \\, not starting with a dot), not a path",
                                    'write e.g. name = "ms_exo"', rule="STUDY-CONFIG")])
    spec_path = Path(spec) if spec else Path(os.path.normpath(folder / cfg["spec"]))
    adam = Path(os.path.normpath(folder / cfg["adam_spec"])) if cfg.get("adam_spec") else None
    return StudyConfig(folder, name, spec_path,
                       Path(os.path.normpath(folder / cfg["raw"])), adam)
