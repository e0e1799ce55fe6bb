"""Writing XPT v5 files with pyreadstat: checked first, deterministic, verified before they appear.

:func:`write_xpt` refuses a frame :func:`~subgen.core.xpt.checks.check_xpt_frame` finds anything in,
writes the values as written (:func:`~subgen.core.xpt.values.xpt_frame`) with
``pyreadstat.write_xport(file_format_version=5)`` to a temporary file, stamps the reproducible
created/modified time into its headers (:mod:`subgen.core.xpt.timestamps`), reads it back with two
readers (:func:`~subgen.core.xpt.verify.verify_xpt`) and only then renames it into place.
"""

from __future__ import annotations

import errno
import os
import secrets
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyreadstat

from subgen.core.problems import ProblemError
from subgen.core.spec.model import Dataset
from subgen.core.xpt.checks import check_xpt_frame
from subgen.core.xpt.timestamps import TIMESTAMP_RANGES, patch_timestamps
from subgen.core.xpt.values import xpt_frame
from subgen.core.xpt.verify import verify_xpt


def write_xpt(frame: pd.DataFrame, dataset: Dataset, path: Path, created: datetime,
              verify: bool = True, checked: bool = False) -> pd.DataFrame:
    """Write ``frame`` as the XPT v5 file of ``dataset`` at ``path``, atomically.

    Raises :class:`ProblemError` when :func:`check_xpt_frame` finds anything (nothing is written,
    an existing file at ``path`` is left alone). Otherwise writes a temporary file in the same
    folder with pyreadstat (table name, dataset label and variable labels from the spec, character
    widths = longest value in bytes), stamps ``created`` into the headers, and - when ``verify``
    - reads it back with both readers (:func:`verify_xpt`, errors raise :class:`ProblemError`)
    before ``os.replace`` puts it at ``path``. Returns the frame as written (:func:`xpt_frame`).
    ``checked=True`` says the caller has just run :func:`check_xpt_frame` on this frame and stopped
    on any problem, so it is not run a second time.
    """
    problems = [] if checked else check_xpt_frame(frame, dataset)
    if problems:
        raise ProblemError(problems, f"{dataset.name}: {len(problems)} problem(s) stop the XPT file")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prepared = xpt_frame(frame, dataset)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        # Display formats from the spec (e.g. DATE9. on ADaM dates) go into the NAMESTR format fields;
        # they never change a value or a width. Variables without one get none (the SDTM default).
        formats = {v.name: v.display_format for v in dataset.variables if v.display_format}
        # pyreadstat iterates the values one by one: a plain object column is much faster to walk than a
        # pandas string array (same values, same bytes written)
        plain = prepared.astype({v.name: object for v in dataset.variables if not v.is_numeric})
        try:
            pyreadstat.write_xport(plain, str(tmp), file_label=dataset.label,
                                   column_labels=[v.label for v in dataset.variables],
                                   table_name=dataset.name, file_format_version=5,
                                   variable_format=formats or None)
        except pyreadstat.ReadstatError as exc:  # the C writer's I/O failure (disk full, size limit)
            raise OSError(errno.EIO, f"the XPT writer could not write {path.name} ({exc}; is the disk full?)",
                          str(path)) from exc
        del plain
        data = patch_timestamps(tmp.read_bytes(), created)
        with open(tmp, "r+b") as fh:
            for start, end in TIMESTAMP_RANGES:
                fh.seek(start)
                fh.write(data[start:end])
            fh.flush()
            os.fsync(fh.fileno())
        if tmp.read_bytes() != data:
            raise RuntimeError(f"{tmp}: timestamps were not rewritten")
        if verify:
            errors = [p for p in verify_xpt(tmp, frame, dataset, prepared) if p.severity != "Notice"]
            if errors:
                raise ProblemError(errors, f"{dataset.name}: the written XPT file does not read back as written")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return prepared


def _fsync_dir(folder: Path) -> None:
    """Best-effort fsync of a folder so a rename survives a crash (no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
