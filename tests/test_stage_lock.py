"""Who owns a staging folder: a lock that holds across PID namespaces and hosts, not a PID.

A run in a container (another PID namespace) or on another host sharing the output volume has
a PID the recovering run cannot see; before, its live staging folder was taken for a killed
run's and deleted. Each staging folder now has an owner file beside it, flock-ed by its run for
as long as the folder exists and recording host, boot id, PID namespace and PID. These tests
check the lock, the record, the cross-namespace case for real (``unshare``, when permitted) and
the fallback for file systems without flock.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from bad_input_kit import ROOT

from subgen.core import atomic

HOLD = r"""
import sys, time
from pathlib import Path
from subgen.core import atomic
stage = Path(sys.argv[1])
fd = atomic.claim(stage)
stage.mkdir()
print("held", flush=True)
time.sleep(600)
"""


def _hold(stage: Path, *prefix: str) -> subprocess.Popen:
    """Another process (optionally under ``prefix``, e.g. unshare) that owns ``stage`` until killed."""
    proc = subprocess.Popen([*prefix, sys.executable, "-c", HOLD, str(stage)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if line.strip() != "held":
        proc.kill()
        pytest.skip(f"could not start the owning process: {proc.communicate()[1][-300:]}")
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)


def test_owner_file_records_host_boot_and_pid_and_is_locked(tmp_path: Path) -> None:
    final = tmp_path / "s" / "sdtm"
    with atomic.staged_folder(final) as stage:
        owner = atomic.owner_path(stage)
        record = json.loads(owner.read_text(encoding="ascii"))
        assert record["host"] == socket.gethostname() and record["pid"] == os.getpid()
        boot = Path("/proc/sys/kernel/random/boot_id")
        if boot.is_file():
            assert record["boot_id"] == boot.read_text(encoding="ascii").strip()
        atomic.recover(final)  # another run starting now must leave this one alone
        assert stage.is_dir() and owner.is_file()
        (stage / "dm.xpt").write_bytes(b"new")
    assert (final / "dm.xpt").read_bytes() == b"new"
    assert sorted(p.name for p in final.parent.iterdir()) == ["sdtm"]  # no owner file left


def test_live_stage_with_an_invisible_pid_is_kept_until_its_owner_ends(tmp_path: Path) -> None:
    # PID 999999999 in the name: no such process here, as for a run in another container or on another host.
    final = tmp_path / "s" / "sdtm"
    final.parent.mkdir(parents=True)
    stage = final.with_name(".sdtm.999999999.abcd1234.partial")
    proc = _hold(stage)
    try:
        atomic.recover(final)
        assert stage.is_dir() and atomic.owner_path(stage).is_file()
    finally:
        _stop(proc)
    atomic.recover(final)  # the owner is gone (SIGKILL releases the lock): now it is abandoned
    assert list(final.parent.iterdir()) == []


def test_half_swapped_output_is_left_alone_while_another_run_is_live(tmp_path: Path) -> None:
    final = tmp_path / "s" / "sdtm"
    backup = final.with_name(".sdtm.old")
    backup.mkdir(parents=True)  # a live run between its two fallback renames has exactly this
    stage = final.with_name(".sdtm.999999999.abcd1234.partial")
    proc = _hold(stage)
    try:
        atomic.recover(final)
        assert backup.is_dir() and not final.exists() and stage.is_dir()
    finally:
        _stop(proc)
    atomic.recover(final)
    assert final.is_dir() and not backup.exists() and not stage.exists()


def test_orphan_owner_file_of_a_run_killed_while_tidying_up_is_removed(tmp_path: Path) -> None:
    final = tmp_path / "s" / "sdtm"
    final.parent.mkdir(parents=True)
    atomic.owner_path(final.with_name(".sdtm.999999999.abcd1234.partial")).write_text("{}", encoding="ascii")
    atomic.recover(final)
    assert list(final.parent.iterdir()) == []


def test_without_flock_only_a_dead_pid_of_this_host_boot_and_namespace_counts(tmp_path: Path, monkeypatch) -> None:
    final = tmp_path / "s" / "sdtm"
    final.parent.mkdir(parents=True)
    me = atomic.owner_record()
    dead_pid = 999999999
    cases = {"here-dead": {**me, "pid": dead_pid}, "here-alive": me,
             "other-host": {**me, "host": me["host"] + "-x", "pid": dead_pid},
             "other-boot": {**me, "boot_id": "0", "pid": dead_pid},
             "other-namespace": {**me, "pid_ns": "pid:[1]", "pid": dead_pid}, "unreadable": None}
    stages = {}
    for i, (name, record) in enumerate(cases.items()):
        stage = final.with_name(f".sdtm.{dead_pid}.{i:08x}.partial")
        stage.mkdir()
        atomic.owner_path(stage).write_text("garbage" if record is None else json.dumps(record), encoding="ascii")
        stages[name] = stage
    monkeypatch.setattr(atomic, "_flock", lambda fd, blocking: None)  # a file system without flock
    atomic.recover(final)
    kept = {name for name, stage in stages.items() if stage.exists()}
    if not me["boot_id"] or not me["pid_ns"]:
        pytest.skip("no boot id or PID namespace to compare on this system")
    assert kept == set(cases) - {"here-dead"}


def test_run_in_another_pid_namespace_keeps_a_live_runs_staging_folder(tmp_path: Path) -> None:
    """The reported case for real: a live run here, a recovering run in a new PID namespace (unshare)."""
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare or "unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True)
    if unshare is None or probe.returncode != 0:
        pytest.skip("unshare --pid is not available or not permitted here")
    final = tmp_path / "out" / "s" / "sdtm"
    final.parent.mkdir(parents=True)
    # The name carries this test's PID: running here, so the old PID check kept it, but not visible
    # from inside the new namespace, where the old check took the folder for a dead run's.
    stage = final.with_name(f".sdtm.{os.getpid()}.abcd1234.partial")
    proc = _hold(stage)
    try:
        recover = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; "
                   f"from subgen.core import atomic; atomic.recover(Path({str(final)!r}))")
        done = subprocess.run([unshare, "--pid", "--fork", "--mount-proc", sys.executable, "-c", recover],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        assert stage.is_dir(), "a run in another PID namespace deleted a live run's staging folder"
    finally:
        _stop(proc)
