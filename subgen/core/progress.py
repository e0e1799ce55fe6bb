"""Progress bars for the command line (tqdm on stderr), off unless the command line turns them on.

Stages wrap their main loop in :func:`track`; it returns the items unchanged, and shows a bar only
when :func:`configure` enabled it (``subgen`` does so when stderr is a terminal and ``--quiet`` is
not given). Library calls and tests therefore never print a bar, and a bar never reaches a log file.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")
_enabled = False


def configure(enabled: bool) -> None:
    """Turn the bars on or off for this process."""
    global _enabled
    _enabled = bool(enabled)


def enabled() -> bool:
    """Whether bars are shown."""
    return _enabled


def track(items: Iterable[T], desc: str, unit: str = "dataset") -> Iterator[T]:
    """Yield ``items``; with bars on, show one named ``desc`` with the current item as its postfix."""
    if not _enabled:
        yield from items
        return

    items = list(items)
    with tqdm(total=len(items), desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True) as bar:
        for item in items:
            bar.set_postfix_str(str(item), refresh=False)
            yield item
            bar.update()
