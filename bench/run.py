"""``make bench``: the whole path on simulated MS studies, per stage against its floor.

For each size (randomised subjects) the benchmark simulates the MS design with the safety
laboratory panel (``--safety-labs``: 30 tests at every visit, over a million LB records at 5,000
subjects), writes the bench spec copies (:mod:`bench.spec`), and runs the path as a user does,
one ``subgen`` command per stage in a process of its own::

    sdtm -> adam -> validate -> package

Per stage it records wall seconds, CPU seconds (user + system: what the stage cost, even on a
busy machine), peak resident memory of the stage's process (``wait4`` resource usage), records
processed and records per second; then, in another process on the same output, the stage's floor
(:mod:`bench.floors`) and the ratio stage/floor. Results go to ``bench/results/<commit>.json``
(or ``--json PATH``) for comparison across commits. Usage::

    python -m bench.run [--sizes 500 5000 20000] [--work DIR] [--json PATH] [--no-floors]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("sdtm", "adam", "validate", "package")
DEFAULT_SIZES = (500, 5000, 20000)
#: exit codes a stage may end with and still count as done (validate: 1 = findings block export)
OK_CODES = {"sdtm": {0}, "adam": {0}, "validate": {0, 1}, "package": {0}}


#: address-space limit (bytes) for every measured process, or None (``--mem-limit-gb``)
MEM_LIMIT: int | None = None


def _limit_memory() -> None:
    """In the child before exec: cap its address space, so a stage that outgrows the machine fails alone."""
    import resource

    if MEM_LIMIT:
        resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))


def run_measured(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> dict:
    """Run ``cmd`` (stdout/stderr to ``log``); wall and CPU seconds, peak RSS (MB) and exit code."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
                                preexec_fn=_limit_memory if MEM_LIMIT else None)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"wall_s": round(wall, 3), "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "exit_code": proc.returncode}


def stage_command(stage: str, study: Path, out: Path) -> list[str]:
    """The ``subgen`` command line of a stage."""
    return [sys.executable, "-m", "subgen_cli.cli", stage, "--study", str(study), "--out", str(out)]


def commit() -> tuple[str, bool]:
    """The current commit (short hash) and whether tracked files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                                    capture_output=True, text=True, check=True).stdout.strip())
        return head, dirty
    except (OSError, subprocess.CalledProcessError):
        return "unknown", True


def count_rows(raw: Path) -> dict[str, int]:
    """Data rows per raw CSV (lines minus the header)."""
    out = {}
    for p in sorted(raw.glob("*.csv")):
        with p.open("rb") as fh:
            out[p.stem] = max(sum(1 for _ in fh) - 1, 0)
    return out


def bench_size(subjects: int, work: Path, seed: int | None, floors: bool, stages: tuple[str, ...],
               echo: Callable[[str], object] = print) -> dict:
    """Simulate one study of ``subjects`` randomised subjects and run every stage (and its floor)."""
    from bench.spec import write_study

    base = work / f"ms_{subjects}"
    if base.exists():
        shutil.rmtree(base)
    raw, study, out, logs = base / "raw", base / "study", base / "out", base / "logs"
    sim = [sys.executable, "-m", "simulate", "--study", "ms_exo", "--subjects", str(subjects),
           "--safety-labs", "--out", str(raw)] + (["--seed", str(seed)] if seed is not None else [])
    setup = run_measured(sim, logs / "simulate.log")
    if setup["exit_code"] != 0:
        raise RuntimeError(f"simulation failed, see {logs / 'simulate.log'}")
    write_study(study, raw)
    rows = count_rows(raw)
    result: dict[str, Any] = {"subjects": subjects, "raw_rows": sum(rows.values()), "raw_lab_rows": rows.get("lab", 0),
              "simulate": setup, "stages": {}}
    echo(f"== {subjects} subjects: {result['raw_rows']:,} raw rows ({result['raw_lab_rows']:,} lab), "
         f"simulated in {setup['wall_s']:.1f} s")
    for stage in stages:
        m = run_measured(stage_command(stage, study, out), logs / f"{stage}.log")
        if m["exit_code"] not in OK_CODES[stage]:  # recorded; the later stages need this one's output
            m["error"] = (logs / f"{stage}.log").read_text(encoding="utf-8", errors="replace")[-2000:]
            result["stages"][stage] = m
            result["failed_stage"] = stage
            echo(f"  {stage:9} FAILED (exit code {m['exit_code']}) after {m['wall_s']:.1f} s, "
                 f"{m['peak_rss_mb']:.0f} MB peak: see {logs / (stage + '.log')}")
            break
        if floors:
            fl = floor(stage, out / "ms_exo", raw, logs)
            m["floor"] = fl
            m["records"] = fl["records"]
            m["ratio"] = round(m["wall_s"] / fl["seconds"], 2) if fl["seconds"] else None
            m["cpu_ratio"] = round(m["cpu_s"] / fl["cpu_seconds"], 2) if fl["cpu_seconds"] else None
        else:
            m["records"] = output_records(stage, out / "ms_exo")
        m["rows_per_s"] = round(m["records"] / m["wall_s"]) if m["wall_s"] else None
        result["stages"][stage] = m
        echo(format_stage(stage, m))
    st = [m for m in result["stages"].values() if "error" not in m]
    result["total"] = {"wall_s": round(sum(s["wall_s"] for s in st), 3),
                       "cpu_s": round(sum(s["cpu_s"] for s in st), 3),
                       "peak_rss_mb": max((s["peak_rss_mb"] for s in st), default=0.0)}
    if floors and st:
        result["total"]["floor_s"] = round(sum(s["floor"]["seconds"] for s in st), 3)
        result["total"]["floor_cpu_s"] = round(sum(s["floor"]["cpu_seconds"] for s in st), 3)
        result["total"]["ratio"] = round(result["total"]["wall_s"] / result["total"]["floor_s"], 2)
        result["total"]["cpu_ratio"] = round(result["total"]["cpu_s"] / result["total"]["floor_cpu_s"], 2)
    echo(format_stage("total", result["total"]))
    return result


def floor(stage: str, out: Path, raw: Path, logs: Path) -> dict:
    """The floor of ``stage`` measured in its own process (:mod:`bench.floors`)."""
    path = logs / f"floor_{stage}.json"
    cmd = [sys.executable, "-m", "bench.floors", stage, "--out", str(out), "--raw", str(raw)]
    if stage == "package":
        cmd.append("--json-too")
    with path.open("wb") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.PIPE, cwd=ROOT,
                              preexec_fn=_limit_memory if MEM_LIMIT else None)
    if proc.returncode != 0:
        raise RuntimeError(f"floor of {stage} failed: {proc.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(path.read_text(encoding="utf-8"))


def output_records(stage: str, out: Path) -> int:
    """Records a stage processed, counted from the XPT files (when floors are not measured)."""
    from subgen.core.xpt.header import parse_xpt_header, readstat_row_count

    folders = {"sdtm": ["sdtm"], "adam": ["adam"]}.get(stage, ["sdtm", "adam"])
    total = 0
    for p in (p for f in folders for p in sorted((out / f).glob("*.xpt"))):
        data = p.read_bytes()
        total += readstat_row_count(parse_xpt_header(data), data)
    return total


def format_stage(name: str, m: dict) -> str:
    """One line of the printed table."""
    line = f"  {name:9} {m['wall_s']:8.1f} s wall {m['cpu_s']:8.1f} s cpu {m['peak_rss_mb']:8.0f} MB peak"
    if "rows_per_s" in m and m["rows_per_s"] is not None:
        line += f" {m['rows_per_s']:>10,} rec/s"
    if "floor" in m:
        line += (f"   floor {m['floor']['seconds']:7.1f} s ({m['floor']['cpu_seconds']:.1f} cpu)"
                 f"  ratio {m['ratio']:.2f} (cpu {m['cpu_ratio']:.2f})")
    elif "floor_s" in m:
        line += (f"   floor {m['floor_s']:7.1f} s ({m['floor_cpu_s']:.1f} cpu)"
                 f"  ratio {m['ratio']:.2f} (cpu {m['cpu_ratio']:.2f})")
    return line


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for every size and write the results JSON."""
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES),
                    help="randomised subjects per simulated study (default: 500 5000 20000)")
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "subgen-bench",
                    help="scratch folder for the simulated studies and their output")
    ap.add_argument("--json", type=Path, help="results file (default bench/results/<commit>.json)")
    ap.add_argument("--seed", type=int, help="simulator seed (default: the MS study's seed)")
    ap.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    ap.add_argument("--no-floors", action="store_true", help="skip the floor measurements")
    ap.add_argument("--keep", action="store_true", help="keep the simulated studies and outputs in --work")
    ap.add_argument("--mem-limit-gb", type=float, help="cap each measured process's address space (GB), so a "
                    "stage too big for the machine fails instead of pushing others out of memory")
    args = ap.parse_args(argv)
    global MEM_LIMIT
    MEM_LIMIT = int(args.mem_limit_gb * 2**30) if args.mem_limit_gb else None
    if any(s < 1 for s in args.sizes):
        ap.error("sizes must be >= 1")
    stages = tuple(s for s in STAGES if s in args.stages)
    head, dirty = commit()
    path = args.json or ROOT / "bench" / "results" / f"{head}{'-dirty' if dirty else ''}.json"
    results: dict[str, Any] = {
        "commit": head, "dirty": dirty,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "stages": list(stages), "sizes": {},
    }
    args.work.mkdir(parents=True, exist_ok=True)
    try:
        for n in args.sizes:
            results["sizes"][str(n)] = bench_size(n, args.work, args.seed, not args.no_floors, stages)
            write_results(results, path)
        complete = [n for n in args.sizes if "failed_stage" not in results["sizes"][str(n)]]
        if len(complete) > 1:
            ordered = sorted(complete)
            results["scaling"] = {
                f"{a}->{b}": {"subjects_x": round(b / a, 2),
                              "wall_x": round(results["sizes"][str(b)]["total"]["wall_s"]
                                              / results["sizes"][str(a)]["total"]["wall_s"], 2),
                              "cpu_x": round(results["sizes"][str(b)]["total"]["cpu_s"]
                                             / results["sizes"][str(a)]["total"]["cpu_s"], 2)}
                for a, b in zip(ordered, ordered[1:])}
            for k, v in results["scaling"].items():
                print(f"scaling {k}: {v['subjects_x']}x subjects -> {v['wall_x']}x wall, {v['cpu_x']}x cpu")
        results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        write_results(results, path)
    finally:
        if not args.keep:
            for n in args.sizes:
                shutil.rmtree(args.work / f"ms_{n}", ignore_errors=True)
    print(f"results -> {path}")
    failed = [n for n, r in results["sizes"].items() if "failed_stage" in r]
    if failed:
        print(f"stage failures at {', '.join(failed)} subjects: see 'failed_stage' and 'error' in the results")
    return 1 if failed else 0


def write_results(results: dict, path: Path) -> None:
    """Write the results JSON (sorted keys, indented) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
