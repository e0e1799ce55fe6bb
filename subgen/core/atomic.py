"""Atomic output folders: assemble the new output aside, then swap it into place in one step.

``staged_folder(final)`` yields an empty staging folder beside ``final``
(``.<name>.<pid>.<random>.partial``). When the body finishes, the staging folder and ``final``
are exchanged with one ``renameat2(RENAME_EXCHANGE)`` call (Linux), so at every instant
``final`` is either the complete previous output or the complete new one; where the call is
not available (another OS, a file system without it) two renames are used and the short gap
between them is repaired by the next run. A run that fails or is interrupted removes its
staging folder; one that is killed (SIGKILL, power loss) leaves it behind, and the next run
removes staging folders whose process is gone, so re-running needs no cleaning up by hand.
Write errors (read-only folder, full disk) become a ProblemError naming the folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Iterator

from subgen.core.problems import Problem, ProblemError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_STAGE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]+\.partial$")


def _renameat2():
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


def recover(final: Path) -> None:
    """Undo what a killed run left beside ``final``: restore a half-swapped output, drop dead staging folders."""
    backup = final.with_name(f".{final.name}.old")
    if backup.exists():
        if final.exists():
            shutil.rmtree(backup)
        else:
            os.replace(backup, final)
    if not final.parent.is_dir():
        return
    for p in final.parent.iterdir():
        m = _STAGE.match(p.name)
        if m and m["name"] == final.name and p.is_dir() and not _alive(int(m["pid"])):
            shutil.rmtree(p, ignore_errors=True)


def _write_error(where: Path, exc: OSError, during: str) -> ProblemError:
    reason = exc.strerror or str(exc)
    return ProblemError([Problem(str(where), None, None, None, f"{during} failed ({reason}); the previous output is "
                                 "unchanged", "make the folder writable and free some disk space, or choose another "
                                 "--out; then run again (nothing needs cleaning up)", rule="OUT-WRITE")],
                        f"cannot write the output ({reason})")


@contextlib.contextmanager
def staged_folder(final: Path) -> Iterator[Path]:
    """Yield an empty folder beside ``final``; when the body succeeds it replaces ``final`` atomically."""
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        recover(final)
        stage = final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
        stage.mkdir()
    except OSError as exc:
        raise _write_error(final.parent, exc, "creating the output folder") from exc
    try:
        yield stage
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
