"""Benchmark: validate an LB dataset of 1,000,000 rows (not a test; prints seconds and peak memory).

Builds the ms_exo demo SDTM in a temporary folder, then replicates its subjects (DM, SE) and their LB
records until LB has ``--rows`` records (new USUBJIDs, same dates and values), and validates DM, LB, SE,
TA, TV and TS in memory against the study spec: the spec-generated Great Expectations suites, then
every rule across datasets. Usage::

    .venv/bin/python tools/bench_validate.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def build_frames(rows: int):
    """The demo's DM, LB, SE, TA, TV, TS, with subjects replicated until LB has ``rows`` records."""
    import pandas as pd

    from sdtm.stage import run_sdtm
    from subgen.core.xpt.read import read_xpt

    with tempfile.TemporaryDirectory() as tmp:
        out = run_sdtm(ROOT / "studies" / "ms_exo", tmp).out_dir
        frames = {n.upper(): read_xpt(out / f"{n}.xpt", convert_dates=True)[0]
                  for n in ("dm", "lb", "se", "ta", "tv", "ts")}
    copies = math.ceil(rows / len(frames["LB"]))

    def replicate(frame: pd.DataFrame) -> pd.DataFrame:
        parts = []
        for i in range(copies):
            part = frame.copy()
            part["USUBJID"] = part["USUBJID"] + f"-R{i:05d}"
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    for name in ("DM", "LB", "SE"):
        frames[name] = replicate(frames[name])
    frames["LB"] = frames["LB"].iloc[:rows].reset_index(drop=True)
    return frames


def main(argv: list[str]) -> int:
    """Run the benchmark; prints the timings and the peak resident memory."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)

    from subgen.core.conformance.ranges import declared_ranges
    from subgen.core.spec.loader import load_spec
    from validation.package import XptFolder, codelist_map
    from validation.run import Layer, validate_layers

    start = time.perf_counter()
    frames = build_frames(args.rows)
    built = time.perf_counter()
    spec = load_spec(ROOT / "specs" / "ms_exo.xlsx")
    xpt = XptFolder(Path("bench"), frames=frames, files={n: Path(f"{n.lower()}.xpt") for n in frames},
                    sha256={n: "" for n in frames})
    layer = Layer("bench", xpt, {d.name: d for d in spec.datasets if d.name in frames}, "spec ms_exo.xlsx",
                  codelist_map(spec.codelists), spec.value_level, declared_ranges(spec))
    before = _peak_mb()
    result = validate_layers("bench", [layer])
    done = time.perf_counter()
    lb_runs = [r for r in result.runs if r.dataset == "LB"]
    print(f"LB records: {len(frames['LB']):,}; DM subjects: {len(frames['DM']):,}")
    print(f"building the frames: {built - start:.1f} s")
    print(f"validation (suites + rules across datasets): {done - built:.1f} s; "
          f"{len(lb_runs)} checks on LB, {len(result.findings)} finding rows")
    print(f"peak resident memory: {_peak_mb():.0f} MB (before validation: {before:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
