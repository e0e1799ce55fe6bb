"""The raw layout of a one-member XPT v5 file, parsed from its bytes (no reader involved).

:func:`parse_xpt_header` reads the library, member and NAMESTR headers; :func:`read_header_bytes`
reads only those from a file; :func:`readstat_row_count` and :func:`pandas_row_count` say, from the
bytes, how many records each reader reports.

Blank records look like padding
    Version 5 stores no record count: the data are padded with blanks to a multiple of 80 bytes.
    readstat (and SAS) therefore drop *trailing records that are blank in every byte*
    (:func:`readstat_row_count`).

pandas.read_sas record count (pandas 3.1.1, ``pandas/io/sas/sas_xport.py``)
    When the record length ``L`` (sum of widths) is at most 80, pandas takes the last 80-byte card
    of the data, counts ``k`` = its 8-byte words (at card offsets 0, 8, .., 72) that are eight
    blanks, *wherever they are*, and reports ``(D - 8*k) // L`` records, ``D`` being the data bytes
    including padding (``_record_count``). The padding ``P = D - n*L`` (< 80) holds ``P // 8`` such
    words, so pandas is right exactly when ``0 <= P - 8*k < L``. It reads too few records when
    blank character fields of the last card's records form aligned blank words (e.g. widths 8+8,
    three records, the last with a blank second variable: 48 data bytes, 4 padding words + 1 data
    word, (80-40)//16 = 2), and too many (extra blank records) when ``L < 8`` and ``P % 8 >= L``
    (one 1-byte variable, 73 records: 80 records read). For ``L > 80`` it uses ``D // L``, which is
    always right. :func:`pandas_row_count` reproduces the rule from the bytes.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CARD = 80
NAMESTR_LEN = 140
_NAMESTR = struct.Struct(">hhhh8s40s8shhh2s8shhl52s")
_HEADERS = {
    0: b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!",
    240: b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!",
    320: b"HEADER RECORD*******DSCRPTR HEADER RECORD!!!!!!!",
    560: b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!",
}
_OBS_HEADER = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"
_BLANK_WORD = b" " * 8


@dataclass(frozen=True)
class XptVariable:
    """One NAMESTR record."""

    name: str
    label: str
    type: str  # "char" or "num"
    length: int  # storage width in bytes
    varnum: int
    position: int  # offset within the record
    format: str


@dataclass(frozen=True)
class XptHeader:
    """The header of a single-member XPT v5 file, parsed from its bytes."""

    dataset_name: str
    dataset_label: str
    created: str
    modified: str
    member_created: str
    member_modified: str
    variables: tuple[XptVariable, ...]
    record_length: int
    data_offset: int
    data_length: int  # bytes after the OBS header, padding included

    @property
    def widths(self) -> dict[str, int]:
        """Storage width by variable name."""
        return {v.name: v.length for v in self.variables}


def _text(raw: bytes) -> str:
    return raw.decode("latin-1").rstrip(" \x00")


def parse_xpt_header(data: bytes) -> XptHeader:
    """Parse library, member and NAMESTR headers of a one-member XPT v5 file (ValueError if not)."""
    for offset, expected in _HEADERS.items():
        if data[offset:offset + len(expected)] != expected:
            raise ValueError(f"not an XPT v5 file: expected {expected!r} at byte {offset}")
    if data[80:88] != b"SAS     " or data[400:408] != b"SAS     ":
        raise ValueError("not an XPT v5 file: no SAS header records")
    count = int(data[614:618])
    variables = []
    for i in range(count):
        start = 640 + i * NAMESTR_LEN
        (ntype, _hfun, length, varnum, name, label, form, flen, fdec, _fj, _fill, _iform, _ifl, _ifd,
         pos, _rest) = _NAMESTR.unpack(data[start:start + NAMESTR_LEN])
        fmt = f"{_text(form)}{flen or ''}.{fdec or ''}" if (_text(form) or flen) else ""
        variables.append(XptVariable(name=_text(name), label=_text(label), type="num" if ntype == 1 else "char",
                                     length=length, varnum=varnum, position=pos, format=fmt))
    obs = 640 + math.ceil(count * NAMESTR_LEN / CARD) * CARD
    if data[obs:obs + len(_OBS_HEADER)] != _OBS_HEADER:
        raise ValueError(f"not a one-member XPT v5 file: no OBS header at byte {obs}")
    return XptHeader(dataset_name=_text(data[408:416]), dataset_label=_text(data[512:552]),
                     created=_text(data[144:160]), modified=_text(data[160:176]),
                     member_created=_text(data[464:480]), member_modified=_text(data[480:496]),
                     variables=tuple(variables), record_length=sum(v.length for v in variables),
                     data_offset=obs + CARD, data_length=len(data) - obs - CARD)


def read_header_bytes(path: Path) -> bytes:
    """The library, member and NAMESTR headers of an XPT v5 file and its OBS header (not the records)."""
    with open(path, "rb") as fh:
        head = fh.read(640)
        try:
            count = int(head[614:618])
        except ValueError:
            return head  # not an XPT file: parse_xpt_header says why
        return head + fh.read(math.ceil(count * NAMESTR_LEN / CARD) * CARD + CARD)


def readstat_row_count(header: XptHeader, data: bytes) -> int:
    """Records readstat (like SAS) finds: whole records, less the trailing ones blank in every byte."""
    length = header.record_length
    if length == 0:
        return 0
    n = header.data_length // length
    if n == 0:
        return 0
    body = np.frombuffer(data, dtype=np.uint8, count=n * length, offset=header.data_offset).reshape(n, length)
    blank = (body == 0x20).all(axis=1)
    return int(n - np.logical_and.accumulate(blank[::-1]).sum())


def pandas_row_count(header: XptHeader, data: bytes) -> int:
    """Records ``pandas.read_sas`` reports (its ``_record_count``, see the module docstring)."""
    length, total = header.record_length, header.data_length
    if length == 0:
        return 0
    if length > CARD:
        return total // length
    last = np.frombuffer(data[len(data) - CARD:], dtype=np.uint64)
    blank_words = int((last == np.frombuffer(_BLANK_WORD, dtype=np.uint64)[0]).sum())
    return (total - 8 * blank_words) // length
