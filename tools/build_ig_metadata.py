"""Build the compact standards tables validation ships for packages without define.xml or spec.

Reads ``../shared/reference`` (development only; the product never reads it) and writes, sorted and
byte-stable, into ``subgen/core/standards/data/``:

* ``ig_variables.csv``: one row per variable of SDTMIG v3.4 (datasets and SUPPQUAL) and ADaMIG v1.3
  (ADSL and BDS structures): standard, dataset, order, variable, label, type (Char/Num), core
  (Req/Exp/Perm; ADaM Cond), codelist (NCI C-code of the CDISC codelist, if any). No CDISC notes.
* ``ig_datasets.csv``: SDTMIG v3.4 datasets and ADaMIG v1.3 structures: standard, dataset, label, class,
  structure.
* ``ct_codelists.csv``: every codelist of SDTM CT 2025-03-28 and ADaM CT 2025-09-26: NCI code,
  submission value (short name) and whether it is extensible.

Usage::

    python tools/build_ig_metadata.py [REFERENCE_DIR] [OUT_DIR]
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADAM_STRUCTURES = {"Subject-Level Analysis Dataset": "ADSL", "Basic Data Structure": "BDS"}


def _read(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def variables(reference: Path) -> list[list[str]]:
    """SDTMIG and ADaMIG variable rows."""
    rows = []
    for r in _read(reference / "ig" / "sdtmig_v3.4" / "Variables.csv"):
        rows.append(["SDTMIG 3.4", r["Dataset Name"], r["Variable Order"], r["Variable Name"], r["Variable Label"],
                     r["Type"], r["Core"], r["CDISC CT Codelist Code(s)"].split(";")[0].strip()])
    order: dict[str, int] = {}
    for r in _read(reference / "ig" / "adamig_v1.3" / "Variables.csv"):
        dataset = ADAM_STRUCTURES[r["Data Structure Name"]]
        order[dataset] = order.get(dataset, 0) + 1
        rows.append(["ADaMIG 1.3", dataset, str(order[dataset]), r["Variable Name"], r["Variable Label"],
                     r["Type"], r["Core"], r["CDISC CT Codelist Code(s)"].split(";")[0].strip()])
    return rows


def datasets(reference: Path) -> list[list[str]]:
    """SDTMIG datasets and ADaMIG structures."""
    rows = [["SDTMIG 3.4", r["Dataset Name"], r["Dataset Label"], r["Class"], r["Structure"]]
            for r in _read(reference / "ig" / "sdtmig_v3.4" / "Datasets.csv")]
    for r in _read(reference / "ig" / "adamig_v1.3" / "DataStructures.csv"):
        if r["Data Structure Name"] in ("ADSL", "BDS"):
            rows.append(["ADaMIG 1.3", r["Data Structure Name"], r["Data Structure Description"], r["Class"],
                         r["CDISC Notes"].split(".")[0] + "."])
    return rows


def codelists(reference: Path) -> list[list[str]]:
    """Codelist rows (code, short name, extensible) from SDTM and ADaM CT."""
    out: dict[str, list[str]] = {}
    sources = [(reference / "ct" / "SDTM_Terminology_2025-03-28.txt", "\t"),
               (reference / "ct" / "ADaM_CT_2025-09-26.csv", ",")]
    for path, delimiter in sources:
        for r in _read(path, delimiter):
            if not r["Codelist Code"]:
                out[r["Code"]] = [r["Code"], r["CDISC Submission Value"], r["Codelist Extensible (Yes/No)"]]
    return [out[k] for k in sorted(out)]


def main(argv: list[str]) -> int:
    """Write the three tables; returns the exit code."""
    reference = Path(argv[0]) if argv else ROOT.parent / "shared" / "reference"
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "subgen" / "core" / "standards" / "data"
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "ig_variables.csv", ["standard", "dataset", "order", "variable", "label", "type", "core", "codelist"],
           variables(reference))
    _write(out / "ig_datasets.csv", ["standard", "dataset", "label", "class", "structure"], datasets(reference))
    _write(out / "ct_codelists.csv", ["code", "name", "extensible"], codelists(reference))
    print(f"wrote {out}/ig_variables.csv, ig_datasets.csv, ct_codelists.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
