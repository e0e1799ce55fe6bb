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
