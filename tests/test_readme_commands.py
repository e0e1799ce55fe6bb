"""The README's two commands work from a clean clone with nothing installed by hand."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which("git") is None or shutil.which("make") is None, reason="needs git and make")
def test_make_all_and_make_test_from_clean_clone(root: Path, tmp_path: Path) -> None:
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(root), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    run = subprocess.run(["make", "all"], cwd=clone, env=env, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    from subgen.core.spec.loader import load_spec

    for study in ("ms_exo", "t2dm_exo"):
        names = sorted(p.name for p in (clone / "out" / study / "sdtm").glob("*.xpt"))
        declared = sorted(f"{d.name.lower()}.xpt" for d in load_spec(clone / "specs" / f"{study}.xlsx").datasets)
        assert names == declared and "dm.xpt" in names and "lb.xpt" in names
        assert any((clone / "out" / study / "adam").glob("adsl.xpt"))
        assert list((clone / "out" / study).glob("m5/datasets/*/tabulations/sdtm/define.xml"))
        assert list((clone / "out" / study).glob("m5/datasets/*/analysis/adam/datasets/define.xml"))
        assert (clone / "out" / study / "review" / "review.html").is_file()
    test = subprocess.run(["make", "test", "PYTEST_ARGS=tests/test_dates.py tests/test_conditions.py"], cwd=clone,
                          env=env, capture_output=True, text=True, timeout=900)
    assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-3000:]
    assert " passed" in test.stdout
