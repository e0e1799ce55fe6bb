"""Faults: runs killed part-way, read-only and full output folders, and re-running afterwards.

A real ``subgen sdtm`` process is stopped at each stage (built and checked, writing, right
after the swap). To stop it exactly there, the process runs the real command
line with one pipeline function wrapped so that it pauses (``PAUSED`` below); the test then
kills it. A last test kills the full demo build by time alone, with no pause points.

The previous output must be byte-identical after every failure; a killed run may leave its
staging folder behind, and the next run removes it by itself (no cleaning up by hand).
"""

from __future__ import annotations

import errno
import os
import pathlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyreadstat
import pytest
from bad_input_kit import (
    ROOT,
    copy_study,
    keep_datasets,
    leftovers,
    run_cli,
    save_spec,
    small_study,
    spec_tables,
    tree_digest,
)
from spec_edit import set_cell

from subgen.core import atomic

PAUSED = r"""
import os, sys, time
from pathlib import Path
flag, stage, argv = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]

def pause():
    flag.write_text(str(os.getpid()))
    time.sleep(600)

import subgen.core.atomic as at
import sdtm.stage as pl

def after(module, name):
    orig = getattr(module, name)
    def hook(*args):
        result = orig(*args)
        pause()
        return result
    setattr(module, name, hook)

if stage == "checking":
    after(pl, "check_datasets")  # built and checked, nothing written yet
elif stage == "writing":
    after(pl, "write_csv")       # XPT files and the first report written into the staging folder
elif stage == "swapped":
    after(at, "exchange")        # the new output swapped in, the old one not yet deleted
from subgen_cli.cli import main
sys.exit(main(argv))
"""


def start_paused(copy, stage: str, tmp: Path, **popen) -> tuple[subprocess.Popen, Path]:
    """Start ``subgen sdtm`` on ``copy`` in a process that pauses at ``stage``; wait until it is there."""
    flag = tmp / f"paused-{stage}"
    proc = subprocess.Popen([sys.executable, "-c", PAUSED, str(flag), stage, *copy.argv()], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    deadline = time.monotonic() + 180
    while not flag.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before reaching {stage}: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the run did not reach {stage}")
        time.sleep(0.02)
    return proc, flag


def stages(copy) -> list[str]:
    """The staging folders beside the output."""
    return [p for p in leftovers(copy) if p.endswith(".partial")]


@pytest.fixture
def previous(tmp_path: Path):
    """A small study (the MS spec reduced to TE: a real run in about a second) with a real earlier
    output; then an input change, so that a new run would write different bytes."""
    copy = small_study(tmp_path, frozenset({"TE"}))
    code, out, err = run_cli(copy.argv())
    assert code == 0, err
    tables = spec_tables(copy)
    keep_datasets(tables, {"TE"})
    set_cell(tables, "TE", {"ETCD": "SCRN"}, "TEDUR", "P21D")  # was P28D
    save_spec(copy, tables)
    return copy, tree_digest(copy.final)


def new_output(copy) -> bool:
    """True when the output is the complete new one (TE.TEDUR of SCRN changed to P21D)."""
    te, _ = pyreadstat.read_xport(str(copy.final / "te.xpt"))
    return te.set_index("ETCD").at["SCRN", "TEDUR"] == "P21D" and (copy.final / "reports" / "run.json").is_file()


@pytest.mark.parametrize("stage", ["checking", "writing"])
def test_sigkill_leaves_previous_output_and_rerun_needs_no_cleanup(previous, tmp_path: Path, stage: str) -> None:
    copy, before = previous
    proc, _ = start_paused(copy, stage, tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert tree_digest(copy.final) == before
    if stage == "writing":
        assert len(stages(copy)) == 1  # a killed process cannot tidy up; the next run does
    code, out, err = run_cli(copy.argv())
    assert code == 0, err
    assert leftovers(copy) == [] and new_output(copy)


def test_sigkill_right_after_the_swap_leaves_the_complete_new_output(previous, tmp_path: Path) -> None:
    copy, before = previous
    if not atomic.exchange(*_two_dirs(tmp_path)):
        pytest.skip("this file system has no atomic directory exchange (renameat2)")
    proc, _ = start_paused(copy, "swapped", tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    (stale,) = stages(copy)  # holds the previous output, to be deleted by the next run
    assert tree_digest(copy.out / copy.name / stale) == before
    assert new_output(copy)  # complete, not a mixture
    assert run_cli(copy.argv())[0] == 0 and leftovers(copy) == []


def _two_dirs(tmp: Path) -> tuple[Path, Path]:
    a, b = tmp / "swap-a", tmp / "swap-b"
    a.mkdir()
    b.mkdir()
    (a / "f").write_text("a")
    return a, b


def test_exchange_swaps_two_folders(tmp_path: Path) -> None:
    a, b = _two_dirs(tmp_path)
    if not atomic.exchange(a, b):
        pytest.skip("this file system has no atomic directory exchange (renameat2)")
    assert not (a / "f").exists() and (b / "f").read_text() == "a"


def test_sigterm_while_writing_removes_the_staging_folder(previous, tmp_path: Path) -> None:
    copy, before = previous
    proc, _ = start_paused(copy, "writing", tmp_path)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert tree_digest(copy.final) == before and leftovers(copy) == []


def test_recover_after_a_kill_between_the_fallback_renames(tmp_path: Path) -> None:
    # Without renameat2 the swap is two renames; a kill between them leaves only .sdtm.old.
    final = tmp_path / "out" / "s" / "sdtm"
    backup = final.with_name(".sdtm.old")
    backup.mkdir(parents=True)
    (backup / "dm.xpt").write_bytes(b"previous")
    dead = final.with_name(".sdtm.999999999.abcd1234.partial")  # no such process
    dead.mkdir()
    atomic.recover(final)
    assert (final / "dm.xpt").read_bytes() == b"previous"
    assert not backup.exists() and not dead.exists()
    mine = final.with_name(f".sdtm.{os.getpid()}.abcd1234.partial")  # a live run's (it holds its lock): kept
    owner = atomic.claim(mine)
    mine.mkdir()
    try:
        atomic.recover(final)
        assert mine.exists()
    finally:
        atomic.release(mine, owner)


def test_fallback_swap_without_renameat2(previous, monkeypatch) -> None:
    copy, before = previous
    monkeypatch.setattr(atomic, "exchange", lambda a, b: False)
    code, out, err = run_cli(copy.argv())
    assert code == 0, err
    assert leftovers(copy) == [] and new_output(copy)


# ------------------------------------------------------------------------ read-only and full
def _write_error(err: str, copy, reason: str) -> list[str]:
    return [line for line in err.splitlines() if "[OUT-WRITE]" in line and reason in line
            and str(copy.out / copy.name) in line and "the previous output is unchanged" in line
            and "choose another --out" in line]


def test_read_only_output_folder(previous, monkeypatch) -> None:
    copy, before = previous
    real_mkdir = pathlib.Path.mkdir
    guarded = copy.out / copy.name

    def mkdir(self, *args, **kwargs):  # what a read-only folder does to a new sub-folder (also for root)
        if self.parent == guarded:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "mkdir", mkdir)
    code, out, err = run_cli(copy.argv())
    assert code == 4, err
    assert _write_error(err, copy, "creating the output folder failed (Permission denied)"), err
    assert "Traceback" not in err and tree_digest(copy.final) == before and leftovers(copy) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions; the test above simulates them")
def test_read_only_output_folder_for_real(previous) -> None:
    copy, before = previous
    parent = copy.out / copy.name
    parent.chmod(0o555)
    try:
        code, out, err = run_cli(copy.argv())
    finally:
        parent.chmod(0o755)
    assert code == 4, err
    assert _write_error(err, copy, "Permission denied"), err
    assert tree_digest(copy.final) == before and leftovers(copy) == []


def test_disk_full_while_writing_reports(previous, monkeypatch) -> None:
    copy, before = previous
    import sdtm.stage as pipeline

    def full(frame, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pipeline, "write_csv", full)
    code, out, err = run_cli(copy.argv())
    assert code == 4, err
    assert [line for line in err.splitlines() if "[OUT-WRITE]" in line and str(copy.final) in line
            and "writing the output failed (No space left on device)" in line
            and "free some disk space" in line], err
    assert "Traceback" not in err and tree_digest(copy.final) == before and leftovers(copy) == []


def test_file_size_limit_cuts_files_short(previous) -> None:
    """A real write failure from the operating system (RLIMIT_FSIZE), not a patch: files end early."""
    import resource

    copy, before = previous

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    proc = subprocess.run([sys.executable, "-m", "subgen_cli.cli", *copy.argv()], cwd=ROOT, capture_output=True,
                          text=True, preexec_fn=limit, timeout=300)
    assert proc.returncode == 4, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert ("File too large" in proc.stderr or "a full disk or a file-size limit" in proc.stderr), proc.stderr
    assert tree_digest(copy.final) == before and leftovers(copy) == []


# ------------------------------------------------------------------------ the full demo study
@pytest.mark.slow
def test_sigkill_of_full_demo_build_while_writing(tmp_path: Path) -> None:
    """The whole MS build, killed by time (no pause points) once it is writing its staging folder."""
    copy = copy_study(tmp_path)
    before = tree_digest(copy.final)
    proc = subprocess.Popen([sys.executable, "-m", "subgen_cli.cli", *copy.argv()], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        staging = [copy.out / copy.name / s for s in stages(copy)]
        if staging and any(p.suffix == ".xpt" for s in staging for p in s.iterdir()):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed while writing"
    assert tree_digest(copy.final) == before
    assert len(stages(copy)) == 1  # removed by the next run (shown on the small study above)
