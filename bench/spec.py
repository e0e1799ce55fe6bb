"""The benchmark's study folder: the MS spec plus the safety laboratory panel, as a spec copy.

The benchmark simulates the MS design with the 30-test haematology/chemistry panel
(``simulate.safety_labs``). The product spec ``specs/ms_exo.xlsx`` does not map those
tests (the demo data has none), so the benchmark writes its own copy of the SDTM and ADaM specs
with rows appended through the spec's text tables (the same round trip as ``subgen spec-text`` /
``spec-from-text``), and validated by the spec loader before use:

* Codelists: the panel's LBTESTCD/LBTEST terms, units and the BLOOD specimen, exactly as in
  CDISC CT 2025-03-28 (``bench/safety_panel_ct.tsv``, written from the CT file by
  ``python -m bench.spec --ct-rows CT_FILE``); the lab's own test names are synonyms;
* Units: reported unit -> standard unit and factor, one row per test (from the panel table);
* Mappings: LBCAT HEMATOLOGY / CHEMISTRY by test;
* ADaM Parameters: one ADLB parameter per test (PARAMCD = LBTESTCD).

Usage::

    python -m bench.spec --study-dir DIR --raw RAW_DIR   # writes DIR/study.toml and DIR/specs/*.xlsx
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from pathlib import Path

from simulate.safety_labs import PANEL
from subgen.core.spec.workbook import SheetTable, read_workbook, write_workbook

ROOT = Path(__file__).resolve().parents[1]
CT_ROWS = Path(__file__).with_name("safety_panel_ct.tsv")
SDTM_SPEC = ROOT / "specs" / "ms_exo.xlsx"
ADAM_SPEC = ROOT / "specs" / "ms_exo_adam.xlsx"
CODELISTS = ("LBTESTCD", "LBTEST", "UNIT", "SPECTYPE")


# --------------------------------------------------------------------------- CT rows
def panel_ct_rows(ct_path: Path) -> list[list[str]]:
    """Codelists-sheet rows for the panel from a CDISC CT release file (development aid).

    LBTESTCD rows decode to the paired LBTEST submission value (same NCI code), as the MS
    spec's own LB terms do, so ``derive_decode`` gives LBTEST.
    """
    sys.path.insert(0, str(ROOT))
    from tools.ct_codelist import codelist_rows, read_ct

    codes = sorted({t.testcd for t in PANEL}, key=[t.testcd for t in PANEL].index)
    units = sorted({u for t in PANEL for u in (t.unit, t.si_unit)})
    testcd = codelist_rows(ct_path, "LBTESTCD:" + ",".join(codes))
    lists, terms = read_ct(ct_path)
    names = {t["Code"]: t["CDISC Submission Value"] for t in terms[lists["LBTEST"]["Code"]]}
    missing = [r[9] for r in testcd if r[9] not in names]
    if missing:
        raise SystemExit(f"LBTEST: no term with NCI code {missing}")
    for r in testcd:
        r[10] = names[r[9]]
    test = codelist_rows(ct_path, "LBTEST:" + ",".join(names[r[9]] for r in testcd))
    return (testcd + test + codelist_rows(ct_path, "UNIT:" + ",".join(units))
            + codelist_rows(ct_path, "SPECTYPE:BLOOD"))


def read_ct_rows(path: Path = CT_ROWS) -> list[list[str]]:
    """The committed CT rows (tab-separated, Codelists-sheet layout without header)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return [row for row in csv.reader(fh, delimiter="\t")]


def write_ct_rows(rows: list[list[str]], path: Path = CT_ROWS) -> None:
    """Write CT rows as tab-separated text (LF line ends)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter="\t", lineterminator="\n").writerows(rows)


# --------------------------------------------------------------------------- spec tables
def _append(table: SheetTable, records: list[dict[str, str]]) -> SheetTable:
    """``table`` with ``records`` (dicts keyed by header; missing cells empty) appended."""
    last = max((n for n, _ in table.rows), default=1)
    rows = list(table.rows)
    for i, rec in enumerate(records, start=1):
        unknown = set(rec) - set(table.header)
        if unknown:
            raise KeyError(f"columns {sorted(unknown)} are not in the sheet ({table.header})")
        rows.append((last + i, tuple(rec.get(h, "") for h in table.header)))
    return SheetTable(table.header, tuple(rows))


def _codelist_records(table: SheetTable, ct_rows: list[list[str]]) -> list[dict[str, str]]:
    """Panel terms not already in the spec, numbered after each codelist's last Order, with synonyms."""
    existing = {(r["ID"], r["Term"]) for _, r in table.records()}
    order: dict[str, int] = {}
    for _, r in table.records():
        if r["Order"].isdigit():
            order[r["ID"]] = max(order.get(r["ID"], 0), int(r["Order"]))
    lab_names = {t.testcd: t.name for t in PANEL}
    out = []
    for row in ct_rows:
        rec = dict(zip(table.header, row))
        if (rec["ID"], rec["Term"]) in existing:
            continue
        order[rec["ID"]] = order.get(rec["ID"], 0) + 1
        rec["Order"] = str(order[rec["ID"]])
        if rec["ID"] == "LBTESTCD":
            name = lab_names[rec["Term"]]
            if name.upper() not in (rec["Term"].upper(), rec["Decoded Value"].upper()):
                rec["Synonyms"] = name
        out.append(rec)
    return out


def sdtm_tables(tables: dict[str, SheetTable], ct_rows: list[list[str]]) -> dict[str, SheetTable]:
    """The MS SDTM spec tables with the panel's codelist terms, Units rows and LBCAT mappings."""
    out = dict(tables)
    out["Codelists"] = _append(tables["Codelists"], _codelist_records(tables["Codelists"], ct_rows))
    out["Units"] = _append(tables["Units"], [
        {"Test": t.testcd, "From Unit": t.unit, "To Unit": t.si_unit, "Factor": f"{t.factor:g}",
         "Comment": "same unit, factor 1" if t.factor == 1 else f"{t.unit} x {t.factor:g} = {t.si_unit}"}
        for t in PANEL])
    maps = []
    for cat in dict.fromkeys(t.category for t in PANEL):
        names = ", ".join(f"'{t.name}'" for t in PANEL if t.category == cat)
        maps.append({"Dataset": "LB", "Source": "lab", "Variable": "LBCAT", "Algorithm": "hardcode_no_ct",
                     "Value": cat, "Condition": f"LBTEST in ({names})"})
    out["Mappings"] = _insert_after(tables["Mappings"], maps,
                                    lambda r: r["Dataset"] == "LB" and r["Variable"] == "LBCAT")
    return out


def _insert_after(table: SheetTable, records: list[dict[str, str]],
                  match: Callable[[dict[str, str]], bool]) -> SheetTable:
    """``table`` with ``records`` inserted after the last row for which ``match(record)`` holds."""
    rows = list(table.rows)
    at = max(i for i, (_, cells) in enumerate(rows) if match(dict(zip(table.header, cells)))) + 1
    new = [(0, tuple(rec.get(h, "") for h in table.header)) for rec in records]
    merged = rows[:at] + new + rows[at:]
    return SheetTable(table.header, tuple((i + 2, cells) for i, (_, cells) in enumerate(merged)))


def adam_tables(tables: dict[str, SheetTable]) -> dict[str, SheetTable]:
    """The MS ADaM spec tables with one ADLB parameter per panel test (in standard units)."""
    params = tables["Parameters"]
    n = max(int(r["PARAMN"]) for _, r in params.records() if r["Dataset"] == "ADLB" and r["PARAMN"].isdigit())
    recs = []
    for i, t in enumerate(PANEL, start=1):
        spec = "BLOOD" if t.specimen == "Blood" else t.specimen.upper()
        recs.append({"Dataset": "ADLB", "PARAMCD": t.testcd, "PARAM": f"{t.name} ({t.si_unit})",
                     "PARAMN": str(n + i), "PARCAT1": t.category, "Source Dataset": "LB",
                     "Filter": f"LBTESTCD = '{t.testcd}' and LBSPEC = '{spec}'",
                     "Result Variable": "LBSTRESN", "Character Result Variable": "LBSTRESC"})
    out = dict(tables)
    out["Parameters"] = _insert_after(params, recs, lambda r: r["Dataset"] == "ADLB")
    return out


# --------------------------------------------------------------------------- study folder
def write_study(study_dir: Path, raw_dir: Path) -> Path:
    """Write ``study_dir/study.toml`` and the two bench spec workbooks; returns ``study_dir``.

    Both workbooks are loaded by the spec loaders before they are used, so a row this script
    adds that the product would refuse stops here with the loader's message.
    """
    from subgen.core.spec.adam import adam_spec_from_tables
    from subgen.core.spec.loader import load_spec

    study_dir = Path(study_dir)
    specs = study_dir / "specs"
    sdtm_path, adam_path = specs / "ms_exo_bench.xlsx", specs / "ms_exo_bench_adam.xlsx"
    write_workbook(sdtm_tables(read_workbook(SDTM_SPEC), read_ct_rows()), sdtm_path)
    adam = adam_tables(read_workbook(ADAM_SPEC))
    write_workbook(adam, adam_path)
    load_spec(sdtm_path)
    adam_spec_from_tables(read_workbook(adam_path), adam_path)
    (study_dir / "study.toml").write_text(
        "[study]\n"
        'name = "ms_exo"\n'
        f'spec = "{sdtm_path.resolve()}"\n'
        f'raw = "{Path(raw_dir).resolve()}"\n'
        f'adam_spec = "{adam_path.resolve()}"\n', encoding="utf-8")
    return study_dir


def main(argv: list[str] | None = None) -> int:
    """Write the bench study folder, or refresh the CT rows from a CT release file."""
    ap = argparse.ArgumentParser(prog="python -m bench.spec", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--study-dir", type=Path, help="folder for study.toml and specs/")
    ap.add_argument("--raw", type=Path, help="folder of the simulated raw CSVs")
    ap.add_argument("--ct-rows", type=Path, metavar="CT_FILE",
                    help=f"rewrite {CT_ROWS.name} from a CDISC CT release (tab-delimited NCI EVS file)")
    args = ap.parse_args(argv)
    if args.ct_rows:
        write_ct_rows(panel_ct_rows(args.ct_rows))
        print(f"wrote {CT_ROWS}")
        return 0
    if not (args.study_dir and args.raw):
        ap.error("--study-dir and --raw are required")
    print(write_study(args.study_dir, args.raw))
    return 0


if __name__ == "__main__":
    sys.exit(main())
