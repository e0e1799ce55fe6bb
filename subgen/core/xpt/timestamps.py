"""The reproducible created/modified stamp of XPT v5 files (the policy validation shares).

The library header (bytes 144-160 and 160-176) and the member header (464-480 and 480-496) carry
"created" and "modified" as ``ddMMMyy:hh:mm:ss`` from the wall clock. :func:`patch_timestamps`
rewrites them with the caller's ``created`` (the data-cut date or ``SOURCE_DATE_EPOCH``, see
:func:`xpt_timestamp`), so two writes of the same frame are byte-identical.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime

from subgen.core.problems import Problem, ProblemError

#: (start, end) of the created and modified stamps in the library and member headers.
TIMESTAMP_RANGES = ((144, 160), (160, 176), (464, 480), (480, 496))
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_STAMP = re.compile(rb"\d\d(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)\d\d:\d\d:\d\d:\d\d")


def xpt_timestamp(data_cut: date) -> datetime:
    """The created/modified stamp for XPT headers.

    ``SOURCE_DATE_EPOCH`` (seconds since 1970-01-01 UTC, reproducible-builds convention) wins when
    set; otherwise the study's data-cut date at 00:00:00. Raises :class:`ProblemError` when
    ``SOURCE_DATE_EPOCH`` is set but not a whole number of seconds.
    """
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is not None and raw.strip() != "":
        try:
            seconds = int(raw.strip())
            return datetime.fromtimestamp(seconds, tz=UTC).replace(tzinfo=None)
        except (ValueError, OverflowError, OSError):
            raise ProblemError([Problem(
                where="SOURCE_DATE_EPOCH", row=None, column=None, value=raw,
                message="is not a whole number of seconds since 1970-01-01 UTC",
                fix="unset SOURCE_DATE_EPOCH or set it to an integer such as 1709251200",
                rule="XPT-TIMESTAMP")]) from None
    return datetime(data_cut.year, data_cut.month, data_cut.day)


def format_xpt_timestamp(created: datetime) -> bytes:
    """``created`` as the 16-byte XPT stamp ``ddMMMyy:hh:mm:ss`` (English month, upper case)."""
    text = (f"{created.day:02d}{_MONTHS[created.month - 1]}{created.year % 100:02d}:"
            f"{created.hour:02d}:{created.minute:02d}:{created.second:02d}")
    return text.encode("ascii")


def patch_timestamps(data: bytes, created: datetime) -> bytes:
    """``data`` (a whole XPT file) with its four created/modified stamps set to ``created``.

    Raises RuntimeError when a range does not hold a stamp: the layout is not what pyreadstat
    writes, and patching blindly would corrupt the file.
    """
    stamp = format_xpt_timestamp(created)
    out = bytearray(data)
    for start, end in TIMESTAMP_RANGES:
        if not _STAMP.fullmatch(bytes(out[start:end])):
            raise RuntimeError(f"no XPT timestamp at bytes {start}-{end}: found {bytes(out[start:end])!r}")
        out[start:end] = stamp
    return bytes(out)
