"""Print spec Codelists-sheet rows for CDISC codelists, taken from an NCI EVS CT release file.

Development aid for writing a study spec (the product never reads CT files at run time: the spec
carries the terms it uses). Usage::

    python tools/ct_codelist.py CT_FILE SEX RACE:WHITE,ASIAN ...

Each argument is a codelist short name (CDISC submission value of the codelist), optionally
followed by ``:`` and the terms to keep; output is tab-separated rows in the Codelists layout.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path


def read_ct(path: Path) -> tuple[dict[str, dict], dict[str, list[dict]]]:
    """Codelists by short name and their terms, from an NCI EVS tab-delimited CT file."""
    lists: dict[str, dict] = {}
    terms: dict[str, list[dict]] = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if not row["Codelist Code"]:
                lists[row["CDISC Submission Value"]] = row
            else:
                terms.setdefault(row["Codelist Code"], []).append(row)
    return lists, terms


def decode(codelist: str, term: dict) -> str:
    """The Decoded Value: for a test-code list (..TC) the paired test name (the CDISC synonym), else the NCI term."""
    if codelist.endswith("TC") and term["CDISC Synonym(s)"]:
        return term["CDISC Synonym(s)"].split(";")[0].strip()
    return term["NCI Preferred Term"]


def codelist_rows(ct_path: Path, spec: str) -> list[list[str]]:
    """Rows for one ``NAME[:TERM,TERM]`` argument."""
    lists, terms = read_ct(ct_path)
    name, _, wanted = spec.partition(":")
    cl = lists[name]
    keep = [t.strip() for t in wanted.split(",") if t.strip()] if wanted else None
    items = terms[cl["Code"]]
    if keep is not None:
        by_value = {t["CDISC Submission Value"]: t for t in items}
        missing = [k for k in keep if k not in by_value]
        if missing:
            raise SystemExit(f"{name}: not in CT: {missing}")
        items = [by_value[k] for k in keep]
    rows = []
    for i, t in enumerate(items, start=1):
        rows.append([name, cl["Codelist Name"], cl["Code"], "text", "CDISC/NCI", cl["Codelist Extensible (Yes/No)"], "",
                     str(i), t["CDISC Submission Value"], t["Code"], decode(name, t), "No", ""])
    return rows


if __name__ == "__main__":
    ct = Path(sys.argv[1])
    writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    for arg in sys.argv[2:]:
        writer.writerows(codelist_rows(ct, arg))
