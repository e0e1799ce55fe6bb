"""The floor of a pipeline stage: the same input and output work done by the libraries alone.

A stage's floor is what no implementation on this stack can avoid: reading the same inputs with
pandas or pyreadstat, running the same Great Expectations suites on the same frames (one whole
suite per dataset, as the product does), and writing the same frames with pyreadstat (and, for
the package's Dataset-JSON, the same rows with the ``json`` module). The figures are measured
in a process of their own, right after the stage ran, on the stage's own output:

=========  ===========================================================================
stage      floor components
=========  ===========================================================================
sdtm       read the raw CSVs (pandas) + GX suites on the SDTM frames + write SDTM XPT
adam       read the SDTM XPT files + GX suites on the ADaM frames + write ADaM XPT
validate   read the SDTM and ADaM XPT files + GX suites on every dataset
package    read the SDTM and ADaM XPT files + write them as XPT (+ rows as JSON)
=========  ===========================================================================

``startup`` (interpreter start and importing pandas, pyreadstat and GX) is part of every floor,
because every stage pays it too. Preparing the frames the suites run on (loading them from the
stage's XPT output, blank text as null) is not timed. Usage::

    python -m bench.floors STAGE --out OUT/ms_exo [--raw RAW] [--json-too] > floor.json
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()
_C0 = time.process_time()  # CPU seconds of this process so far (interpreter start before this is negligible)

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import pandas as pd  # noqa: E402
import pyreadstat  # noqa: E402

COMPONENTS = {
    "sdtm": ("read_csv", "gx", "write_xpt"),
    "adam": ("read_xpt", "gx", "write_xpt"),
    "validate": ("read_xpt", "gx"),
    "package": ("read_xpt", "write_xpt"),
}


def _import_gx():
    """Import GX quietly (analytics off, logger at CRITICAL) and return the module."""
    import logging
    import warnings

    logging.getLogger("great_expectations").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        import great_expectations.expectations  # noqa: F401
        from great_expectations.execution_engine import pandas_execution_engine
    pandas_execution_engine.HASH_THRESHOLD = 0  # no batch fingerprint (metadata only), as in the product
    return gx


def read_csvs(raw: Path) -> tuple[dict[str, pd.DataFrame], int]:
    """Every raw CSV read as text with empty cells kept empty (as the product reads them)."""
    frames = {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(raw.glob("*.csv"))}
    return frames, sum(len(f) for f in frames.values())


def read_xpts(*folders: Path) -> dict[str, tuple[pd.DataFrame, object]]:
    """Every ``*.xpt`` of ``folders`` read with pyreadstat: name -> (frame, metadata)."""
    out = {}
    for folder in folders:
        for p in sorted(folder.glob("*.xpt")):
            out[p.stem.upper()] = pyreadstat.read_xport(str(p), disable_datetime_conversion=True)
    return out


def write_xpts(frames: dict[str, tuple[pd.DataFrame, object]], folder: Path) -> None:
    """Write each frame as XPT v5 with pyreadstat (table name, dataset and variable labels).

    Text columns go to pyreadstat as plain object columns, the fastest form it walks (the
    conversion is timed with the write).
    """
    for name, (frame, meta) in frames.items():
        plain = frame.astype({c: object for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])})
        pyreadstat.write_xport(plain, str(folder / f"{name.lower()}.xpt"), file_label=meta.file_label or "",
                               column_labels=list(meta.column_labels), table_name=name, file_format_version=5)


def write_json(frames: dict[str, tuple[pd.DataFrame, object]], folder: Path) -> None:
    """Write each frame's rows as JSON with the ``json`` module (the floor of Dataset-JSON)."""
    for name, (frame, _) in frames.items():
        rows = [[None if isinstance(v, float) and math.isnan(v) else v for v in row]
                for row in frame.itertuples(index=False, name=None)]
        with open(folder / f"{name.lower()}.json", "w", encoding="utf-8") as fh:
            json.dump({"name": name, "rows": rows}, fh)


def gx_frames(frames: dict[str, tuple[pd.DataFrame, object]]) -> dict[str, pd.DataFrame]:
    """The frames as the suites see them: blank text as null (XPT stores blank and missing alike)."""
    out = {}
    for name, (frame, _) in frames.items():
        data = frame.copy()
        for col in data.columns:
            if data[col].dtype == object or isinstance(data[col].dtype, pd.StringDtype):
                s = data[col]
                data[col] = s.mask(s.astype("string").str.strip().eq("").fillna(False))
        out[name] = data
    return out


def run_suites(gx, frames: dict[str, pd.DataFrame], suites: Path) -> int:
    """Validate each frame against its suite JSON in one GX call; returns the expectations run."""
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(), analytics_enabled=False,
                               progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False))
    context = gx.get_context(mode="ephemeral", project_config=config)
    batch_def = (context.data_sources.add_pandas("floor").add_dataframe_asset("dataset")
                 .add_batch_definition_whole_dataframe("whole"))
    n = 0
    for name, frame in frames.items():
        path = suites / f"{name.lower()}.json"
        if not path.is_file():
            continue
        spec = json.loads(path.read_text(encoding="utf-8"))
        present = set(frame.columns)
        expectations = []
        for e in spec["expectations"]:
            kw = e["kwargs"]
            cols = [kw[k] for k in ("column", "column_A", "column_B") if kw.get(k)] + list(kw.get("column_list") or ())
            if e["type"] not in ("expect_table_columns_to_match_ordered_list", "expect_column_to_exist") \
                    and not set(cols) <= present:
                continue  # the product does not run these either (column absent)
            expectations.append(ExpectationConfiguration(type=e["type"], kwargs=kw, meta=e.get("meta"))
                                .to_domain_obj())
        suite = gx.ExpectationSuite(name=name, expectations=expectations)
        batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
        batch.validate(suite, result_format="COMPLETE")
        n += len(expectations)
    return n


class _Clock:
    """Wall and CPU seconds of named components, measured one after the other."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._t = self._c = 0.0

    def start(self) -> None:
        """Start timing a component."""
        self._t, self._c = time.perf_counter(), time.process_time()

    def stop(self, name: str) -> None:
        """Record the component started last under ``name``."""
        self.wall[name] = round(time.perf_counter() - self._t, 3)
        self.cpu[name] = round(time.process_time() - self._c, 3)


def measure(stage: str, out: Path, raw: Path | None, json_too: bool) -> dict:
    """Run the floor components of ``stage`` on the study output folder ``out``; seconds per component."""
    gx = _import_gx() if "gx" in COMPONENTS[stage] else None
    clock = _Clock()
    clock.wall["startup"] = round(time.perf_counter() - _T0, 3)
    clock.cpu["startup"] = round(time.process_time() - _C0, 3)
    result: dict = {"stage": stage}
    sdtm, adam = out / "sdtm", out / "adam"
    if stage == "sdtm":
        clock.start()
        read_csvs(raw)
        clock.stop("read_csv")
        frames = read_xpts(sdtm)
        suites = sdtm / "reports" / "suites"
    elif stage == "adam":
        clock.start()
        read_xpts(sdtm)
        clock.stop("read_xpt")
        frames = read_xpts(adam)
        suites = adam / "reports" / "suites"
    else:
        clock.start()
        frames = read_xpts(sdtm, adam)
        clock.stop("read_xpt")
        suites = out / "validation" / "suites"
    result["records"] = sum(len(f) for f, _ in frames.values())
    if gx is not None:
        prepared = gx_frames(frames)
        clock.start()
        result["expectations"] = run_suites(gx, prepared, suites)
        clock.stop("gx")
        del prepared
    if "write_xpt" in COMPONENTS[stage]:
        with tempfile.TemporaryDirectory() as tmp:
            clock.start()
            write_xpts(frames, Path(tmp))
            clock.stop("write_xpt")
            if stage == "package" and json_too:
                clock.start()
                write_json(frames, Path(tmp))
                clock.stop("write_json")
    result["components"] = clock.wall
    result["components_cpu"] = clock.cpu
    result["seconds"] = round(sum(clock.wall.values()), 3)
    result["cpu_seconds"] = round(sum(clock.cpu.values()), 3)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    """Print the floor of one stage as JSON."""
    ap = argparse.ArgumentParser(prog="python -m bench.floors", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", choices=sorted(COMPONENTS))
    ap.add_argument("--out", required=True, type=Path, help="the study's output folder (OUT/<study>)")
    ap.add_argument("--raw", type=Path, help="raw CSV folder (sdtm floor)")
    ap.add_argument("--json-too", action="store_true", help="package floor: also write the rows as JSON")
    args = ap.parse_args(argv)
    if args.stage == "sdtm" and args.raw is None:
        ap.error("the sdtm floor needs --raw")
    json.dump(measure(args.stage, args.out, args.raw, args.json_too), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
