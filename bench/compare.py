"""Compare two benchmark results (``bench/results/<commit>.json``, ``bench/reference/*.json``).

For every size and stage both files measured, prints wall seconds, peak memory and the ratio to
the floor, before and after, with the change in per cent; then each size's total. A stage whose
wall time or peak memory grew by more than ``--tolerance`` per cent (default 10) is marked
``SLOWER`` or ``BIGGER``, and the exit code is then 1, so a reviewer (or a script) sees a
regression at once. Usage::

    python -m bench.compare bench/reference/5000-0f6784e.json bench/results/<commit>.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

#: (key in a stage's or total's figures, label, regression mark)
FIGURES = (("wall_s", "wall s", "SLOWER"), ("peak_rss_mb", "peak MB", "BIGGER"), ("ratio", "ratio", ""))


def change(before: float | None, after: float | None) -> float | None:
    """Per cent change from ``before`` to ``after`` (None when either is missing or ``before`` is 0)."""
    if before is None or after is None or before == 0:
        return None
    return (after - before) / before * 100.0


def compare(before: dict, after: dict, tolerance: float = 10.0) -> tuple[list[str], list[str]]:
    """Lines of the comparison table and the regressions (stage figures that grew beyond ``tolerance`` %)."""
    lines = [f"before {before.get('commit', '?')}  after {after.get('commit', '?')}"]
    regressions: list[str] = []
    for size in sorted(set(before.get("sizes", {})) & set(after.get("sizes", {})), key=int):
        b_size, a_size = before["sizes"][size], after["sizes"][size]
        lines.append(f"== {int(size):,} subjects")
        order = after.get("stages") or list(b_size.get("stages", {}))  # the path's order: sdtm, adam, ...
        names = [s for s in order if s in b_size.get("stages", {}) and s in a_size.get("stages", {})]
        rows = [(s, b_size["stages"][s], a_size["stages"][s]) for s in names]
        if "total" in b_size and "total" in a_size:
            rows.append(("total", b_size["total"], a_size["total"]))
        for name, b, a in rows:
            cells = []
            for key, label, mark in FIGURES:
                pct = change(b.get(key), a.get(key))
                if pct is None:
                    continue
                cells.append(f"{label} {b[key]:,.2f} -> {a[key]:,.2f} ({pct:+.0f}%)")
                if mark and name != "total" and pct > tolerance:
                    regressions.append(f"{int(size):,} subjects, {name}: {label} {pct:+.0f}% ({mark})")
            lines.append(f"  {name:9} " + "   ".join(cells))
    return lines, regressions


def main(argv: list[str] | None = None) -> int:
    """Print the comparison of two results files; exit 1 when a stage got slower or bigger beyond the tolerance."""
    ap = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--tolerance", type=float, default=10.0, help="per cent growth allowed (default 10)")
    args = ap.parse_args(argv)
    try:
        before, after = (json.loads(p.read_text(encoding="utf-8")) for p in (args.before, args.after))
    except (OSError, ValueError) as exc:
        print(f"cannot read the results: {exc}", file=sys.stderr)
        return 2
    lines, regressions = compare(before, after, args.tolerance)
    print("\n".join(lines))
    for r in regressions:
        print(f"regression: {r}")
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
