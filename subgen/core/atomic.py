"""Atomic output folders: assemble the new output aside, then swap it into place in one step.

``staged_folder(final)`` yields an empty staging folder beside ``final``
(``.<name>.<pid>.<random>.partial``). When the body finishes, the staging folder and ``final``
are exchanged with one ``renameat2(RENAME_EXCHANGE)`` call (Linux), so at every instant
``final`` is either the complete previous output or the complete new one; where the call is
not available (another OS, a file system without it) two renames are used and the short gap
between them is repaired by the next run. A run that fails or is interrupted removes its
staging folder; one that is killed (SIGKILL, power loss) leaves it behind, and the next run
removes staging folders whose owner is gone, so re-running needs no cleaning up by hand.
Write errors (read-only folder, full disk) become a ProblemError naming the folder.

Who owns a staging folder is decided by a lock, not by its PID: a run that may be in another
PID namespace (a container) or on another host sharing the volume has a PID this process
cannot see. Each staging folder has an owner file beside it (``<staging name>.lock``) that
records host name, boot id, PID namespace and PID, and that its run holds an exclusive
``flock`` on from before the folder exists until after it is gone. The lock is released by the
kernel when the run ends in any way (SIGKILL, a crash), and it is seen by every host that shares
the file system (flock on NFS is a byte-range lock the server keeps). A staging folder is
removed only when its owner file's lock can be taken, i.e. the owning process is gone; on a file
system without flock, only when the recorded host, boot and PID namespace are this process's
and the PID is not running. A folder without an owner file was left by a run that no longer
owns it (the file is created and locked before the folder, and removed after it).

Permissions: outputs follow the process umask (0644 files and 0755 folders under the usual 022).
``staged_folder(final, private=True)`` (study.toml ``private = true``) makes the staging folder 0700
from the start and, before the swap, every file in it 0600 and every folder 0700 (also what was
copied in, e.g. a validation report from an earlier run); a study folder it creates is 0700 too.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import secrets
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

from subgen.core.problems import Problem, ProblemError

try:
    import fcntl
except ImportError:  # not a POSIX system: ownership falls back to the recorded host, boot and PID
    fcntl = None  # type: ignore[assignment]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_STAGE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]+\.partial$")
_OWNER = ".lock"  # suffix of a staging folder's owner file


def _renameat2() -> Callable[..., int] | None:
    """libc's renameat2 (None where the C library has none)."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    fn.restype = ctypes.c_int
    return fn


_RENAMEAT2 = _renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically; False when this system cannot (the caller falls back)."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_first_line(path: str) -> str:
    try:
        with open(path, encoding="ascii") as f:
            return f.readline().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def owner_record() -> dict[str, object]:
    """Who this process is, across hosts and containers: host name, boot id, PID namespace and PID."""
    try:
        pid_ns = os.readlink("/proc/self/ns/pid")
    except OSError:
        pid_ns = ""
    return {"host": socket.gethostname(), "boot_id": _read_first_line("/proc/sys/kernel/random/boot_id"),
            "pid_ns": pid_ns, "pid": os.getpid()}


def owner_path(stage: Path) -> Path:
    """The owner file of a staging folder (beside it, ``<staging name>.lock``)."""
    return stage.with_name(stage.name + _OWNER)


def _flock(fd: int, blocking: bool) -> bool | None:
    """Take the exclusive lock: True taken, False held by another run, None when the file system has no flock."""
    if fcntl is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    except OSError as exc:
        if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.ENOSYS):
            return None
        raise
    return True


def claim(stage: Path) -> int:
    """Create and lock ``stage``'s owner file before the folder exists; returns the descriptor to keep open.

    The lock lasts as long as the descriptor (until :func:`release`, or the process ends). A file a
    recovering run removed between this run's open and lock is not the owner file any more, so the
    claim starts again.
    """
    owner = owner_path(stage)
    while True:
        fd = os.open(owner, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            _flock(fd, blocking=True)
            mine, there = os.fstat(fd), os.stat(owner)
            if (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino):
                os.ftruncate(fd, 0)
                os.write(fd, (json.dumps(owner_record(), sort_keys=True) + "\n").encode("ascii"))
                return fd
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(owner)
            raise
        os.close(fd)


def release(stage: Path, fd: int) -> None:
    """Remove ``stage``'s owner file and drop its lock (the folder is already gone or swapped in)."""
    with contextlib.suppress(OSError):
        os.unlink(owner_path(stage))
    os.close(fd)


def _gone_by_record(fd: int) -> bool:
    """Without flock: the owner is gone only if it ran on this host, boot and PID namespace and its PID has ended."""
    try:
        record = json.loads(os.pread(fd, 4096, 0).decode("ascii"))
        me = owner_record()
        here = all(record[k] == me[k] and me[k] for k in ("host", "boot_id", "pid_ns"))
        return here and not _alive(int(record["pid"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False  # unreadable: it may be owned, so keep it


def _reap(stage: Path) -> bool:
    """Remove ``stage`` and its owner file when no run owns them; False (nothing touched) when one does."""
    owner = owner_path(stage)
    try:
        fd = os.open(owner, os.O_RDONLY)
    except FileNotFoundError:
        shutil.rmtree(stage, ignore_errors=True)  # no owner file: no run holds this folder
        return True
    except OSError:
        return False  # cannot even look (another user's run?): leave it alone
    try:
        taken = _flock(fd, blocking=False)
        if taken is False or (taken is None and not _gone_by_record(fd)):
            return False
        shutil.rmtree(stage, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(owner)
        return True
    finally:
        os.close(fd)


def _stages(final: Path) -> list[Path]:
    """Staging folders of ``final`` that exist or still have an owner file, by name."""
    if not final.parent.is_dir():
        return []
    names = set()
    for p in final.parent.iterdir():
        name = p.name[:-len(_OWNER)] if p.name.endswith(_OWNER) else p.name
        m = _STAGE.match(name)
        if m and m["name"] == final.name and (name != p.name or p.is_dir()):
            names.add(name)
    return [final.with_name(n) for n in sorted(names)]


def recover(final: Path) -> None:
    """Undo what a killed run left beside ``final``: drop abandoned staging folders, restore a half-swapped output.

    A staging folder whose owner still runs (here, in another container or on another host) is
    kept, and while one does the half-swapped output is not touched either: that run may be
    between its two fallback renames.
    """
    live = [stage for stage in _stages(final) if not _reap(stage)]
    backup = final.with_name(f".{final.name}.old")
    if backup.exists() and not live:
        if final.exists():
            shutil.rmtree(backup)
        else:
            os.replace(backup, final)


def _write_error(where: Path, exc: OSError, during: str) -> ProblemError:
    reason = exc.strerror or str(exc)
    return ProblemError([Problem(str(where), None, None, None, f"{during} failed ({reason}); the previous output is "
                                 "unchanged", "make the folder writable and free some disk space, or choose another "
                                 "--out; then run again (nothing needs cleaning up)", rule="OUT-WRITE")],
                        f"cannot write the output ({reason})")


PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def make_private(folder: Path) -> None:
    """Every file under ``folder`` 0600 and every folder (``folder`` included) 0700; symlinks are left alone."""
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            p = os.path.join(root, d)
            if not os.path.islink(p):
                os.chmod(p, PRIVATE_FOLDER)
        for f in files:
            p = os.path.join(root, f)
            if not os.path.islink(p):
                os.chmod(p, PRIVATE_FILE)
    os.chmod(folder, PRIVATE_FOLDER)


@contextlib.contextmanager
def staged_folder(final: Path, private: bool = False) -> Iterator[Path]:
    """Yield an empty folder beside ``final``; when the body succeeds it replaces ``final`` atomically.

    ``private``: the new output is readable by its owner only (files 0600, folders 0700) instead of
    following the umask.
    """
    owner = None
    try:
        if private and not final.parent.exists():
            final.parent.parent.mkdir(parents=True, exist_ok=True)
            final.parent.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
        final.parent.mkdir(parents=True, exist_ok=True)
        recover(final)
        stage = final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
        owner = claim(stage)  # held until the staging folder is gone
        stage.mkdir(mode=PRIVATE_FOLDER if private else 0o777)
    except OSError as exc:
        if owner is not None:
            release(stage, owner)
        raise _write_error(final.parent, exc, "creating the output folder") from exc
    try:
        yield stage
        if private:
            make_private(stage)
        if final.exists() and exchange(stage, final):
            shutil.rmtree(stage, ignore_errors=True)  # now holds the previous output
        else:
            backup = final.with_name(f".{final.name}.old")
            if final.exists():
                os.replace(final, backup)
            os.replace(stage, final)
            shutil.rmtree(backup, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        with contextlib.suppress(OSError):
            recover(final)  # put the previous output back if the fallback rename stopped half-way
        raise _write_error(final, exc, "writing the output") from exc
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    finally:
        release(stage, owner)
