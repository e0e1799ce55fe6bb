"""``subgen init``: a new study folder from the shipped template.

The folder gets ``study.toml``, a spec workbook and ``raw/`` with one example CSV per form the
template declares (header and one example row). The workbook's Datasets, Variables and Codelists
sheets are made here from SDTMIG 3.4 metadata: variables, labels, types, core and codelist codes
from the table validation ships (``subgen/core/standards/data/ig_variables.csv``, via
:func:`subgen.core.standards.ig_variables`), roles and CDISC CT terms from the compact tables beside
the standards tables (``subgen/core/standards/data/*.csv``, written by ``tools/build_init_template.py``). The other
sheets (Study, Forms, Sources, Mappings, Units, trial design) come from
``subgen_cli/template/spec_template.txt``, in the text form of ``subgen spec-text``.

Each domain lists its SDTMIG Req and Exp variables and the Perm ones the template maps;
``from_sdtmig=True`` lists every Perm variable too. A listed variable nothing maps gets a
``no_data`` row naming comment COM.EMPTY, so the study builds as it is and the gaps are visible.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from subgen.core.problems import Problem, ProblemError
from subgen.core.spec.layout import SHEET_BY_NAME
from subgen.core.spec.workbook import SheetTable, text_to_tables, write_workbook
from subgen.core.standards import SDTMIG, IgVariable, ig_datasets, ig_variables
from subgen.core.study import NAME_RE

DOMAINS = ("DM", "AE", "CM", "MH", "DS", "EX", "LB", "VS", "SV", "TA", "TE", "TV", "TI", "TS")
TRIAL_DESIGN = frozenset({"TA", "TE", "TV", "TI", "TS"})
KEYS = {
    "DM": "STUDYID, USUBJID", "AE": "STUDYID, USUBJID, AEDECOD, AESTDTC, AESEQ",
    "CM": "STUDYID, USUBJID, CMTRT, CMSTDTC, CMSEQ", "MH": "STUDYID, USUBJID, MHTERM, MHSTDTC, MHSEQ",
    "DS": "STUDYID, USUBJID, DSSTDTC, DSDECOD", "EX": "STUDYID, USUBJID, EXTRT, EXSTDTC",
    "LB": "STUDYID, USUBJID, LBTESTCD, LBSPEC, VISITNUM, LBDTC", "VS": "STUDYID, USUBJID, VSTESTCD, VISITNUM, VSDTC",
    "SV": "STUDYID, USUBJID, VISITNUM", "TA": "STUDYID, ARMCD, TAETORD", "TE": "STUDYID, ETCD",
    "TV": "STUDYID, VISITNUM, ARMCD", "TI": "STUDYID, IETESTCD", "TS": "STUDYID, TSPARMCD, TSSEQ",
}
#: Codelist ID a variable uses instead of the CT list SDTMIG names (sponsor lists, combined lists) or none.
CODELIST_OVERRIDES = {"ARMCD": "ARMCD", "ACTARMCD": "ARMCD", "ETCD": "ETCD", "COUNTRY": "COUNTRY",
                      "DSDECOD": "DSDECOD", "ARM": "", "ACTARM": "", "ELEMENT": "", "TSPARM": "",
                      "LBTEST": "", "VSTEST": "", "DOMAIN": "",
                      "LBSTRESC": ""}  # LBSTRESC: numbers as text too; its CT list fits character results only
ORIGIN = {"study_id": "Assigned", "domain": "Assigned", "hardcode_ct": "Assigned", "hardcode_no_ct": "Assigned",
          "no_data": "Not Available"}
METHOD = {"usubjid": "MT.USUBJID", "derive_seq": "MT.SEQ", "derive_study_day": "MT.DY", "derive_decode": "MT.DECODE",
          "derive_visitnum": "MT.VISITNUM", "derive_epoch": "MT.EPOCH", "derive_stresc": "MT.STRES",
          "derive_stresn": "MT.STRES", "derive_stresu": "MT.STRES", "derive_strnr": "MT.STNR",
          "derive_nrind": "MT.NRIND", "derive_lobxfl": "MT.LOBXFL", "study_id": "MT.STUDYID"}
METHOD_BY_VARIABLE = {"RFSTDTC": "MT.RFXSTDTC", "RFXSTDTC": "MT.RFXSTDTC", "RFENDTC": "MT.RFXENDTC",
                      "RFXENDTC": "MT.RFXENDTC", "RFPENDTC": "MT.RFPENDTC", "ARM": "MT.ARM", "ACTARM": "MT.ARM",
                      "ACTARMCD": "MT.ACTARMCD", "ARMNRS": "MT.ARMNRS"}
INTEGER = re.compile(r"^(.*SEQ|.*DY|AGE|TAETORD|VISITDY|.*CD)$")


def _template(name: str) -> Traversable:
    return resources.files("subgen_cli").joinpath("template", name)


def _standard(name: str) -> Traversable:
    """A standards table shared with mapping and validation (``subgen/core/standards/data``)."""
    return resources.files("subgen.core.standards").joinpath("data", name)


@functools.lru_cache(maxsize=1)
def _roles() -> dict[tuple[str, str], str]:
    with io.TextIOWrapper(_standard("sdtmig_roles.csv").open("rb"), encoding="utf-8", newline="") as fh:
        return {(r["dataset"], r["variable"]): r["role"] for r in csv.DictReader(fh)}


@functools.lru_cache(maxsize=1)
def _ct() -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    with io.TextIOWrapper(_standard("ct_terms.csv").open("rb"), encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["codelist"], []).append(r)
    return out


def _data_type(name: str, ig_type: str) -> tuple[str, str]:
    if ig_type == "Num":
        return ("float", "8") if name in ("VISITNUM",) or not INTEGER.match(name) else ("integer", "8")
    if name.endswith("DTC"):
        return "datetime", "19"
    return "text", "200"


def _general_variable(name: str) -> IgVariable:
    """The SDTMIG definition of a variable a domain's table does not list (VISITNUM, VISIT, EPOCH in EX, ...)."""
    for (standard, _), variables in sorted(ig_variables().items()):
        for v in variables:
            if standard == SDTMIG and v.name == name:
                return v
    raise ProblemError([Problem("subgen_cli/template/spec_template.txt", None, "Variable", name,
                                "the template maps a variable SDTMIG 3.4 does not define", rule="SPEC-REFERENCE")])


def _table(sheet: str, rows: list[list[str]]) -> SheetTable:
    header = SHEET_BY_NAME[sheet].columns
    return SheetTable(tuple(header),
                      tuple((i + 2, tuple(r + [""] * (len(header) - len(r)))) for i, r in enumerate(rows)))


def template_tables(study_id: str, from_sdtmig: bool = False) -> dict[str, SheetTable]:
    """The new study's spec as tables (see the module docstring)."""
    text = _template("spec_template.txt").read_text(encoding="utf-8").replace("{STUDYID}", study_id)
    tables = text_to_tables(text)
    mappings = [dict(zip(tables["Mappings"].header, cells)) for _, cells in tables["Mappings"].rows]
    mapped: dict[tuple[str, str], str] = {}
    for m in mappings:
        mapped.setdefault((m["Dataset"], m["Variable"]), m["Algorithm"])
    ct = _ct()
    by_code: dict[str | None, str] = {terms[0]["codelist_code"]: name for name, terms in ct.items()}
    datasets, variables, extra_mappings, used_lists = [], [], [], set()
    for domain in DOMAINS:
        info = ig_datasets()[(SDTMIG, domain)]
        datasets.append([domain, info["label"], info["class"].upper(), info["structure"], "Tabulation", KEYS[domain],
                         "No" if domain == "DM" else "Yes", "Yes" if domain in TRIAL_DESIGN else "No"])
        sheet_columns = set(tables[domain].header) if domain in tables else set()
        order = 0
        for v in ig_variables()[(SDTMIG, domain)]:
            algorithm = mapped.get((domain, v.name))
            if not (v.core in ("Req", "Exp") or algorithm or v.name in sheet_columns or from_sdtmig):
                continue
            order += 1
            dtype, length = _data_type(v.name, v.type)
            codelist = CODELIST_OVERRIDES.get(v.name, by_code.get(v.codelist, ""))
            if codelist:
                used_lists.add(codelist)
            comment = ""
            if domain in TRIAL_DESIGN and (v.name in sheet_columns or algorithm):
                origin = "Protocol" if v.name in sheet_columns or not algorithm else ORIGIN.get(algorithm, "Derived")
            elif algorithm is None:
                origin, comment = "Not Available", "COM.EMPTY"
                extra_mappings.append([domain, "*", v.name, "no_data", "", "", "", "COM.EMPTY"])
            else:
                origin = ORIGIN.get(algorithm, "Collected" if algorithm.startswith("assign") else "Derived")
            method = METHOD_BY_VARIABLE.get(v.name, METHOD.get(algorithm or "", "")) if origin == "Derived" else ""
            if v.name == "STUDYID":
                method = "MT.STUDYID"
            variables.append([str(order), domain, v.name, v.label, dtype, length, "", "",
                              "Yes" if v.core == "Req" else "No", v.core, codelist, origin, "", "", method, "",
                              _roles().get((domain, v.name), ""), comment])
        listed = {row[2] for row in variables if row[1] == domain}
        for (ds, name), algorithm in mapped.items():  # general timing variables SDTMIG lists in other domains
            if ds == domain and name not in listed:
                general = _general_variable(name)
                order += 1
                dtype, length = _data_type(name, general.type)
                origin = ORIGIN.get(algorithm, "Collected" if algorithm.startswith("assign") else "Derived")
                codelist = by_code.get(general.codelist, "")
                used_lists.update({codelist} - {""})
                variables.append([str(order), domain, name, general.label, dtype, length, "", "", "No", "Perm",
                                  codelist, origin, "", "", METHOD.get(algorithm, "") if origin == "Derived" else "",
                                  "", "Timing", ""])
    codelists = [list(cells) for _, cells in tables["Codelists"].rows]
    sponsor = {r[0] for r in codelists}
    for name in sorted(used_lists - sponsor - {"DSDECOD"}):
        codelists += [[name, t["codelist_name"], t["codelist_code"], "text", "CDISC/NCI", t["extensible"], "",
                       t["order"], t["term"], t["term_code"], t["decode"], "No", ""] for t in ct[name]]
    for i, t in enumerate([*ct["PROTMLST"], *ct["NCOMPLT"]], start=1):
        codelists.append(["DSDECOD", "Standardized Disposition Term", "", "text", "CDISC/NCI", "No",
                          "PROTMLST (C114118) for protocol milestones, NCOMPLT (C66727) for disposition events",
                          str(i), t["term"], t["term_code"], t["decode"], "No", ""])
    tables["Datasets"] = _table("Datasets", datasets)
    tables["Variables"] = _table("Variables", variables)
    tables["Codelists"] = _table("Codelists", codelists)
    tables["Mappings"] = _table("Mappings", [list(c) for _, c in tables["Mappings"].rows] + extra_mappings)
    sheet_order = ["Study", "Datasets", "Variables", "ValueLevel", "Codelists", "Methods", "Comments", "Forms",
                   "Sources", "Mappings", "Units", *sorted(TRIAL_DESIGN, key=DOMAINS.index)]
    return {name: tables[name] for name in sheet_order}


def init_study(name: str, parent: Path | str, from_sdtmig: bool = False, study_id: str | None = None) -> Path:
    """Create ``parent/name`` (study.toml, ``<name>.xlsx`` spec, raw/ with example CSVs); returns the folder.

    Refuses (ProblemError) a name that is not one folder name, or a folder that already exists.
    """
    if not NAME_RE.match(name) or ".." in name:
        raise ProblemError([Problem("subgen init", None, "NAME", name, "the study name must be one folder name "
                                    "(no / or \\, not starting with a dot)", "write e.g. subgen init my_study",
                                    rule="STUDY-CONFIG")])
    folder = Path(parent) / name
    if folder.exists():
        raise ProblemError([Problem(str(folder), None, None, None, "the folder already exists; init never "
                                    "overwrites a study", "choose another name or --dir", rule="STUDY-CONFIG")])
    study_id = study_id or re.sub(r"[^A-Z0-9]", "", name.upper())[:12] or "STUDY01"
    tables = template_tables(study_id, from_sdtmig)
    (folder / "raw").mkdir(parents=True)
    for entry in sorted(_template("raw").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".csv"):
            (folder / "raw" / entry.name).write_text(entry.read_text(encoding="utf-8").replace("{STUDYID}", study_id),
                                                     encoding="utf-8")
    write_workbook(tables, folder / f"{name}.xlsx")
    (folder / "study.toml").write_text(
        f'[study]\nname = "{name}"\nspec = "{name}.xlsx"   # the spec workbook (relative to this folder)\n'
        'raw = "raw"                # one CSV per CRF form, as the EDC exports it\n'
        '# adam_spec = "adam.xlsx"  # add an ADaM spec workbook when the study has one\n\n'
        "# Figures of the review report (subgen report): an ADaM parameter by arm over analysis visits.\n"
        '# [[report.plot]]\n# dataset = "ADLB"\n# param = "GLUC"\n# value = "CHG"\n', encoding="utf-8")
    return folder
