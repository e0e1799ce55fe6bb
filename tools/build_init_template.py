"""Build the compact tables ``subgen init`` ships beside its spec template (``subgen/core/standards/data/``).

The variables, labels, types, core and codelist codes of SDTMIG 3.4 come from the table validation
already ships (``subgen/core/standards/data/ig_variables.csv``); this script adds only what that table lacks,
for the template's domains, from the development reference copy (``../shared/reference``; the
product never reads it):

* ``sdtmig_roles.csv``: dataset, variable, role (SDTMIG v3.4 Variables.csv)
* ``ct_terms.csv``: the CDISC CT 2025-03-28 terms of every codelist the template domains' variables
  name: whole codelists up to ``MAX_TERMS`` terms; for longer ones (UNIT, LBTESTCD, ROUTE, ...)
  only the terms listed in ``SUBSETS`` (the template's example rows and common choices). A study
  adds the terms it needs to its own spec.

Usage::

    python tools/build_init_template.py [REFERENCE_DIR]       # writes subgen/core/standards/data/*.csv
    python tools/build_init_template.py --check [REFERENCE_DIR]  # exit 1 when the shipped files differ
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from ct_codelist import decode, read_ct  # noqa: E402

DOMAINS = ("DM", "AE", "CM", "MH", "DS", "EX", "LB", "VS", "SV", "TA", "TE", "TV", "TI", "TS")
MAX_TERMS = 100
#: Codelists the template uses that no SDTMIG variable names directly (DSDECOD combines NCOMPLT + PROTMLST).
EXTRA = ("PROTMLST", "NCOMPLT")
SUBSETS = {
    "UNIT": ("mg", "g", "mL", "L", "%", "mg/dL", "mmol/L", "g/dL", "g/L", "umol/L", "U/L", "10^9/L", "mg/L", "ug/L",
             "ng/L", "mmHg", "beats/min", "kg", "cm", "C", "TABLET", "CAPSULE"),
    "LBTESTCD": ("GLUC", "HBA1C", "ALT", "AST", "BILI", "CREAT", "HGB", "WBC", "PLAT", "SODIUM", "K", "CRP"),
    "ROUTE": ("ORAL", "INTRAVENOUS", "SUBCUTANEOUS", "INTRAMUSCULAR", "TOPICAL", "RESPIRATORY (INHALATION)"),
    "FRM": ("TABLET", "CAPSULE", "INJECTION", "SOLUTION", "CREAM", "POWDER"),
    "FREQ": ("QD", "BID", "TID", "QID", "ONCE", "PRN", "QOD", "QM"),
    "SPECTYPE": ("BLOOD", "SERUM", "PLASMA", "URINE"),
    "TSPARMCD": ("ACTSUB", "ADDON", "AGEMAX", "AGEMIN", "DCUTDTC", "INDIC", "LENGTH", "NARMS", "OBJPRIM", "PLANSUB",
                 "RANDOM", "REGID", "SDTIGVER", "SDTMVER", "SEXPOP", "SPONSOR", "SSTDTC", "STYPE", "TBLIND",
                 "TCNTRL", "TITLE", "TPHASE", "TTYPE"),
    "LOC": ("ARM", "CHEST", "HEAD", "LEG"),
    "METHOD": ("AUSCULTATION", "PALPATION"),
}


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def build(reference: Path) -> dict[str, str]:
    """File name -> content of the two shipped tables."""
    with (reference / "ig" / "sdtmig_v3.4" / "Variables.csv").open(encoding="utf-8-sig", newline="") as fh:
        ig = [r for r in csv.DictReader(fh) if r["Dataset Name"] in DOMAINS]
    roles = sorted([[r["Dataset Name"], r["Variable Name"], r["Role"]] for r in ig],
                   key=lambda r: (DOMAINS.index(r[0]), r[1]))
    lists, terms = read_ct(reference / "ct" / "SDTM_Terminology_2025-03-28.txt")
    by_code = {cl["Code"]: name for name, cl in lists.items()}
    names = sorted({by_code[c.split(";")[0].strip()] for c in (r["CDISC CT Codelist Code(s)"] for r in ig)
                    if c.split(";")[0].strip() in by_code} | set(EXTRA))
    rows = []
    for name in names:
        cl = lists[name]
        items = sorted(terms[cl["Code"]], key=lambda t: t["CDISC Submission Value"])
        if len(items) > MAX_TERMS:
            keep = SUBSETS.get(name, ())
            if name.endswith("TEST"):  # the test-name list pairs with its code list: the same NCI term codes
                codes = {t["Code"] for t in terms[lists[name + "CD"]["Code"]]
                         if t["CDISC Submission Value"] in SUBSETS.get(name + "CD", ())}
                keep = tuple(t["CDISC Submission Value"] for t in items if t["Code"] in codes)
            items = [t for t in items if t["CDISC Submission Value"] in keep]
            missing = set(keep) - {t["CDISC Submission Value"] for t in items}
            if missing:
                raise SystemExit(f"{name}: not in CT: {sorted(missing)}")
        paired = {}  # --TESTCD terms decode to the paired --TEST list's submission value (same NCI code)
        if name.endswith("TESTCD") and name[:-2] in lists:
            paired = {t["Code"]: t["CDISC Submission Value"] for t in terms[lists[name[:-2]]["Code"]]}
        for i, t in enumerate(items, start=1):
            rows.append([name, cl["Code"], cl["Codelist Name"], cl["Codelist Extensible (Yes/No)"], str(i),
                         t["CDISC Submission Value"], t["Code"], paired.get(t["Code"]) or decode(name, t)])
    return {
        "sdtmig_roles.csv": _csv(["dataset", "variable", "role"], roles),
        "ct_terms.csv": _csv(["codelist", "codelist_code", "codelist_name", "extensible", "order", "term",
                              "term_code", "decode"], rows),
    }


def main(argv: list[str]) -> int:
    """Write (or with --check compare) the shipped tables."""
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    reference = Path(args[0]) if args else ROOT.parent / "shared" / "reference"
    out = ROOT / "subgen" / "core" / "standards" / "data"
    differ = []
    for name, text in build(reference).items():
        if check:
            if (out / name).read_text(encoding="utf-8") != text:
                differ.append(name)
        else:
            (out / name).write_text(text, encoding="utf-8")
    if differ:
        print("differ from a fresh build: " + ", ".join(differ))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
