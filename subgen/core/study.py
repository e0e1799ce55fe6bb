"""A study folder: ``study.toml`` naming the spec workbook and the raw folder.

::

    [study]
    spec = "../../specs/ms_exo.xlsx"   # relative to the study folder
    raw = "raw"                        # folder of raw EDC CSV exports
    adam_spec = "../../specs/ms_exo_adam.xlsx"   # optional: the ADaM spec workbook
    private = true                     # optional: outputs readable by their owner only (files 0600, folders 0700)

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
    private: bool = False  # study.toml private = true: every output file 0600 and folder 0700 (else the umask)


def load_study(folder: Path | str, spec: Path | str | None = None) -> StudyConfig:
    """Read ``folder/study.toml``; ``spec`` overrides the workbook it names."""
    folder = Path(folder)
    cfg_path = folder / "study.toml"
    if not cfg_path.is_file():
        raise ProblemError([Problem(str(cfg_path), None, None, None, "study.toml not found",
                                    "point --study at a study folder (e.g. studies/ms_exo) holding a study.toml "
                                    "as the README describes", rule="STUDY-CONFIG")])
    cfg = _study_table(cfg_path)
    missing = [k for k in ("spec", "raw") if k not in cfg]
    if missing:
        raise ProblemError([Problem(str(cfg_path), None, k, None, f"[study] has no {k} entry",
                                    f'add {k} = "..." under [study]', rule="STUDY-CONFIG") for k in missing])
    problems = entry_problems(cfg, str(cfg_path))
    if problems:
        raise ProblemError(problems, f"{cfg_path}: the [study] section cannot be used")
    name = cfg.get("name", folder.resolve().name)
    if not NAME_RE.match(name) or ".." in name:
        raise ProblemError([Problem(str(cfg_path), None, "name", name, "the study name becomes an output folder name, "
                                    "so it must be one folder name (no / or \\, not starting with a dot), not a path",
                                    'write e.g. name = "ms_exo"', rule="STUDY-CONFIG")])
    spec_path = Path(spec) if spec else Path(os.path.normpath(folder / cfg["spec"]))
    adam = Path(os.path.normpath(folder / cfg["adam_spec"])) if "adam_spec" in cfg else None
    raw_dir = Path(os.path.normpath(folder / cfg["raw"]))
    problems = path_problems(str(cfg_path), {"spec": None if spec else spec_path, "adam_spec": adam, "raw": raw_dir},
                             cfg)
    if problems:
        raise ProblemError(problems, f"{cfg_path}: the [study] section cannot be used")
    private = cfg.get("private", False)
    if not isinstance(private, bool):
        raise ProblemError([Problem(str(cfg_path), None, "private", _toml_value(private),
                                    "private must be true or false",
                                    "write private = true (outputs readable by their owner only) or remove the line",
                                    rule="STUDY-CONFIG")])
    return StudyConfig(folder, name, spec_path, raw_dir, adam, private)


def _study_table(cfg_path: Path) -> dict:
    """The ``[study]`` table of study.toml ({} when there is none); ProblemError when the file cannot be read."""
    shown = str(cfg_path)
    data = cfg_path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        raise ProblemError([Problem(shown, 1, None, "UTF-8 byte-order mark",
                                    "study.toml starts with a UTF-8 byte-order mark (BOM), which TOML does not allow",
                                    "save it as UTF-8 without BOM (or delete the first 3 bytes)",
                                    rule="STUDY-CONFIG")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProblemError([Problem(shown, data[:exc.start].count(b"\n") + 1, None, None,
                                    f"study.toml is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                                    "save it as UTF-8", rule="STUDY-CONFIG")]) from exc
    try:
        cfg = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProblemError([Problem(shown, None, None, None, f"cannot read study.toml: {exc}",
                                    "fix the TOML syntax", rule="STUDY-CONFIG")]) from exc
    study = cfg.get("study", {})
    if not isinstance(study, dict):
        raise ProblemError([Problem(shown, None, "study", _toml_value(study),
                                    f"study must be a section ([study]), not {_toml_type(study)}",
                                    'write a section: a line [study], then spec = "..." and raw = "raw" below it',
                                    rule="STUDY-CONFIG")])
    return study


#: what each [study] entry holds, for the fix of a wrong entry
EXAMPLES = {"name": 'name = "ms_exo"', "spec": 'spec = "../../specs/ms_exo.xlsx"', "raw": 'raw = "raw"',
            "adam_spec": 'adam_spec = "../../specs/ms_exo_adam.xlsx"'}
WHAT = {"name": "the study name", "spec": "the path of the spec workbook, relative to the study folder",
        "raw": "the path of the folder of raw CSV exports, relative to the study folder",
        "adam_spec": "the path of the ADaM spec workbook, relative to the study folder"}


def entry_problems(cfg: dict, shown: str) -> list[Problem]:
    """Problems of the ``[study]`` entries' types: each must be non-empty text in quotes."""
    problems = []
    for key in [k for k in EXAMPLES if k in cfg]:
        value = cfg[key]
        if not isinstance(value, str):
            problems.append(Problem(shown, None, key, _toml_value(value), f"{key} must be text in quotes "
                                    f"({WHAT[key]}), not {_toml_type(value)}", f"write e.g. {EXAMPLES[key]}",
                                    rule="STUDY-CONFIG"))
        elif not value.strip():
            gone = "; remove the line if the study has none" if key == "adam_spec" else ""
            problems.append(Problem(shown, None, key, value, f"{key} is empty (it must be {WHAT[key]})",
                                    f"write e.g. {EXAMPLES[key]}{gone}", rule="STUDY-CONFIG"))
    return problems


def path_problems(shown: str, paths: dict[str, Path | None], cfg: dict) -> list[Problem]:
    """Problems of paths that exist but are the wrong kind: a workbook entry naming a folder, raw naming a file."""
    problems = []
    for key, path in paths.items():
        if path is None:
            continue
        if key == "raw" and path.exists() and not path.is_dir():
            problems.append(Problem(shown, None, key, cfg[key], f"raw names a file ({path}), not a folder",
                                    f"write {EXAMPLES['raw']}: raw names the folder holding one CSV per form, "
                                    "relative to the study folder", rule="STUDY-CONFIG"))
        elif key != "raw" and path.is_dir():
            problems.append(Problem(shown, None, key, cfg[key], f"{key} names a folder ({path}), not a workbook",
                                    f"write e.g. {EXAMPLES[key]}: the .xlsx file, relative to the study folder",
                                    rule="STUDY-CONFIG"))
    return problems


def _toml_type(value: object) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", dict: "a table", list: "a list"}
    return next((n for t, n in names.items() if isinstance(value, t)), f"a {type(value).__name__}")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
