"""Shared fixtures (project paths, the demo studies built once per session, helpers) and the test tiers.

Tiers (markers declared in pyproject.toml):

* fast (unmarked): no whole demo-study build; ``make test-fast`` runs these, in under 2 minutes.
* ``study``: needs a built demo study. Every test that requests a fixture in ``STUDY_FIXTURES`` (directly or
  through another fixture) is marked here, at collection; a test or module fixture that builds a demo study
  of its own carries ``@pytest.mark.study`` (or ``pytestmark``) in its file.
* ``slow``: the whole pipeline, a clean clone, the benchmark (marked in the test files).

``make test`` runs all three.
"""

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
# Session fixtures that build the demo studies: a test that requests one of them is in the ``study`` tier.
STUDY_FIXTURES = frozenset({"built", "adam_built"})
# A fast-tier test that takes longer than this is named at the end of the run (it may need a marker).
FAST_LIMIT_SECONDS = 10.0


@pytest.hookimpl(tryfirst=True)  # before -m deselects, so that -m "not study" sees the marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses a demo-study build ``study``; run slow modules first, then study, then fast.

    The order only changes which module starts first (each module's tests stay together and in file order),
    so that under ``pytest -n 2`` the longest modules do not start last and leave one worker idle.
    """
    for item in items:
        if STUDY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.study)
    rank: dict[str, int] = {}
    for item in items:
        tier = 0 if item.get_closest_marker("slow") else 1 if item.get_closest_marker("study") else 2
        module = item.nodeid.split("::")[0]
        rank[module] = min(rank.get(module, 2), tier)
    items[:] = sorted(items, key=lambda item: rank[item.nodeid.split("::")[0]])


_SLOW_FAST_TESTS: list[tuple[str, float]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Note unmarked (fast-tier) tests whose setup or call took longer than ``FAST_LIMIT_SECONDS``."""
    if report.duration > FAST_LIMIT_SECONDS and not {"study", "slow"} & set(report.keywords):
        _SLOW_FAST_TESTS.append((f"{report.nodeid} ({report.when})", report.duration))


def pytest_terminal_summary(terminalreporter) -> None:
    """Name the fast-tier tests that were slow: a whole-study build there belongs in the ``study`` tier."""
    if _SLOW_FAST_TESTS:
        terminalreporter.section(f"fast-tier tests over {FAST_LIMIT_SECONDS:.0f} s (mark them study or slow?)")
        for name, seconds in sorted(_SLOW_FAST_TESTS, key=lambda x: -x[1]):
            terminalreporter.line(f"{seconds:6.1f} s  {name}")


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
