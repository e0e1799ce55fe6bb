"""The package manifest: every file with its SHA-256 and size, and where the package came from.

``manifest.json`` sits at the package root (``<out>/<study>/m5/manifest.json``) and lists

* ``files``: every other file of the package (path relative to the root, SHA-256, size);
* ``datasets``: each dataset with its standard, records, the files it was written to, and how it
  was split (variable, parts, what each part holds) when it was;
* ``tool``/``tool_version``, the dependencies that shaped the bytes (pandas, pyreadstat, odmlib,
  lxml), the standards (SDTMIG, SDTM, ADaMIG, Define-XML, Dataset-JSON, XPT) and the CT versions;
* ``specs`` (file name, role, SHA-256), ``raw_inputs`` (every raw CSV the SDTM spec reads, with
  its SHA-256), the ``waivers`` file's hash, and the validation verdict.

Nothing in it depends on the clock, the machine's paths or whether validation ran in this run or
was reused: the same inputs give the same bytes (keys sorted, two-space indent, LF).
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
#: Packages whose versions decide the bytes of the package.
DEPENDENCIES = ("pandas", "pyreadstat", "odmlib", "lxml")


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_entries(root: Path) -> list[dict[str, Any]]:
    """Every file under ``root`` except the manifest: relative POSIX path, SHA-256 and bytes, sorted by path."""
    out = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel == MANIFEST_NAME:
            continue
        out.append({"path": rel, "sha256": sha256_file(path), "bytes": path.stat().st_size})
    return out


def dependency_versions() -> dict[str, str]:
    """Installed versions of :data:`DEPENDENCIES`."""
    out = {}
    for name in DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def manifest_text(content: dict[str, Any]) -> str:
    """The manifest as stable JSON text."""
    return json.dumps(content, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def write_manifest(root: Path, content: dict[str, Any]) -> dict[str, Any]:
    """Add ``files`` (everything under ``root``) to ``content`` and write ``root/manifest.json``."""
    full = dict(content)
    full["manifest_version"] = MANIFEST_VERSION
    full["files"] = file_entries(root)
    (root / MANIFEST_NAME).write_text(manifest_text(full), encoding="utf-8", newline="\n")
    return full


def check_manifest(root: Path) -> list[str]:
    """Differences between ``root`` and its manifest (missing, extra or changed files); empty when they agree."""
    data = json.loads((root / MANIFEST_NAME).read_text(encoding="utf-8"))
    listed = {f["path"]: f for f in data["files"]}
    actual = {f["path"]: f for f in file_entries(root)}
    out = [f"{p}: listed in the manifest but missing" for p in sorted(set(listed) - set(actual))]
    out += [f"{p}: not listed in the manifest" for p in sorted(set(actual) - set(listed))]
    for p in sorted(set(listed) & set(actual)):
        if listed[p]["sha256"] != actual[p]["sha256"] or listed[p]["bytes"] != actual[p]["bytes"]:
            out.append(f"{p}: SHA-256 or size differs from the manifest")
    return out


__all__ = ["DEPENDENCIES", "MANIFEST_NAME", "MANIFEST_VERSION", "check_manifest", "dependency_versions",
           "file_entries", "manifest_text", "sha256_file", "write_manifest"]
