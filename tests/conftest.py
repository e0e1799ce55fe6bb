"""Shared fixtures: project paths, the demo specs, and helpers to make corrupted copies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def root() -> Path:
    """The project root."""
    return ROOT


@pytest.fixture(scope="session")
def reference() -> Path:
    """../shared/reference (tests may read it; the product must not need it)."""
    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference is not beside the project")
    return REFERENCE


STUDIES = ("ms_exo", "t2dm_exo")


@pytest.fixture(scope="session")
def built(root: Path, tmp_path_factory) -> dict[str, Path]:
    """The demo studies' SDTM output folders, built once per test session."""
    from sdtm.stage import run_sdtm

    out = tmp_path_factory.mktemp("sdtm")
    return {s: run_sdtm(root / "studies" / s, out).out_dir for s in STUDIES}


@pytest.fixture(scope="session")
def adam_built(built: dict[str, Path]) -> dict[str, Path]:
    """The demo studies' ADaM output folders, built once per session from the session's SDTM output."""
    from adam.stage import run_adam

    root = Path(__file__).resolve().parents[1]
    return {s: run_adam(root / "studies" / s, built[s].parent.parent).out_dir for s in STUDIES}


def read(folder: Path, name: str):
    """One XPT file of a build, read with pyreadstat."""
    import pyreadstat

    frame, _ = pyreadstat.read_xport(str(folder / f"{name}.xpt"))
    return frame


def subject(frame, usubjid: str) -> dict:
    """The single record of ``usubjid`` as a dict, blanks and NaN as None."""
    import math

    row = frame[frame["USUBJID"] == usubjid]
    assert len(row) == 1
    return {k: (None if (isinstance(v, float) and math.isnan(v)) or v == "" else v) for k, v in row.iloc[0].items()}
