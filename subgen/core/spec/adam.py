"""ADaM specification workbooks: the P21 sheets plus Parameters, Windows and Derivations.

An ADaM workbook (``specs/<study>_adam.xlsx``) has the same first seven sheets as the SDTM
workbook (Study, Datasets, Variables, ValueLevel, Codelists, Methods, Comments) and, instead of
Forms/Sources/Mappings, three extension sheets:

Parameters
    one row per BDS parameter: PARAMCD, PARAM, PARAMN, PARCAT1 and, for a collected parameter,
    the SDTM dataset, the filter on its records, the result and date variables. A derived
    parameter (no Source Dataset) is created by a ``derive_param_*`` row of the Derivations sheet.
Windows
    analysis visits as ranges of analysis day (ADY), per dataset (and optionally per parameter),
    with the rule that picks one record per window for ANL01FL.
Derivations
    one row per variable (or group of variables one function gives together), in the order they
    run: ``variables <- function(arguments) [where condition]``. The functions are the
    registered ``derive_*`` functions of the ``adam`` package (``subgen adam-functions`` lists them).

The loader collects every problem (sheet, row, column, value) as the SDTM loader does.
"""

from __future__ import annotations

from pathlib import Path

from subgen.core.problems import ProblemError
from subgen.core.spec import model as m
from subgen.core.spec import sheets as base
from subgen.core.spec.cells import CONDITION_ARGUMENTS, argument_values
from subgen.core.spec.layout import SHEET_BY_NAME, SheetLayout
from subgen.core.spec.workbook import SheetTable

#: The sheets an ADaM workbook holds, in order.
ADAM_SHEETS: tuple[SheetLayout, ...] = tuple(SHEET_BY_NAME[n] for n in (
    "Study", "Datasets", "Variables", "ValueLevel", "Codelists", "Methods", "Comments")) + (
    SheetLayout("Parameters", ("Dataset", "PARAMCD", "PARAM", "PARAMN", "PARCAT1", "Source Dataset", "Filter",
                               "Result Variable", "Character Result Variable", "Date Variable", "Method",
                               "Comment"),
                ("Dataset", "PARAMCD", "PARAM"),
                doc="One row per BDS parameter; Source Dataset/Filter/Result Variable say which SDTM records "
                    "give it. A parameter without a source is created by a derive_param_* derivation."),
    SheetLayout("Windows", ("Dataset", "Parameters", "AVISITN", "AVISIT", "Target Day", "Low Day", "High Day",
                            "Selection", "Comment"),
                ("Dataset", "AVISITN", "AVISIT", "Selection"),
                doc="Analysis visits as analysis-day ranges (Low Day..High Day inclusive; blank = open) and "
                    "the rule choosing one record per window for ANL01FL."),
    SheetLayout("Derivations", ("Dataset", "Variable", "Function", "Arguments", "Condition", "Method", "Comment"),
                ("Dataset", "Variable", "Function"),
                doc="Variables <- Function(Arguments) [Condition], run in sheet order per dataset."),
)
ADAM_SHEET_BY_NAME = {s.name: s for s in ADAM_SHEETS}

#: Window selection rules (see adam.bds.derive_var_anl01fl).
SELECTIONS = ("CLOSEST-LATER", "CLOSEST-EARLIER", "FIRST", "LAST")

#: Study attributes an ADaM workbook must give besides the SDTM ones (the SDTM it reads).
REQUIRED_ADAM_ATTRIBUTES = ("ADaMIGVersion",)


def is_adam_workbook(tables: dict[str, SheetTable]) -> bool:
    """True for an ADaM workbook: it has a Derivations sheet and no Mappings sheet."""
    return "Derivations" in tables and "Mappings" not in tables


def adam_spec_from_tables(tables: dict[str, SheetTable], path: Path, sha256: str = "") -> m.Spec:
    """Build an ADaM Spec from text tables; raise ProblemError listing every problem."""
    c = base._Collector(path)
    _check_sheets(tables, c)
    if c.problems:
        raise ProblemError(c.problems, f"{path}: the ADaM spec workbook is incomplete")
    recs = {s.name: _records(tables.get(s.name), s, c) for s in ADAM_SHEETS}
    study = base._study(recs["Study"], c)
    attrs = dict(study.attributes)
    for a in REQUIRED_ADAM_ATTRIBUTES:
        if not attrs.get(a):
            c.add("Study", None, "Attribute", a, f"study attribute {a} is missing or empty",
                  f"add a row with Attribute {a} and its value (1.3)", "SPEC-STUDY")
    codelists = base._codelists(recs["Codelists"], c)
    methods = tuple(m.Method(r["ID"], r["Name"], r["Type"], r["Description"], r.get("Expression Context") or None,
                             r.get("Expression Code") or None, r.get("Document") or None,
                             r.get("Pages") or None) for _, r in recs["Methods"])
    comments = tuple(m.Comment(r["ID"], r["Description"], r.get("Document") or None, r.get("Pages") or None)
                     for _, r in recs["Comments"])
    base._unique_ids("Methods", recs["Methods"], c)
    base._unique_ids("Comments", recs["Comments"], c)
    refs = base._Refs({cl.id for cl in codelists}, {x.id for x in methods}, {x.id for x in comments})
    datasets = base._datasets(recs["Datasets"], recs["Variables"], refs, c)
    ds_vars = {d.name: set(d.variable_names) for d in datasets}
    value_level = base._value_level(recs["ValueLevel"], datasets, refs, c)
    parameters = _parameters(recs["Parameters"], ds_vars, refs, c)
    windows = _windows(recs["Windows"], ds_vars, {p.paramcd for p in parameters}, c)
    derivations = _derivations(recs["Derivations"], ds_vars, refs, c)
    _check_coverage(datasets, derivations, c)
    if c.problems:
        raise ProblemError(c.problems, f"{path}: {len(c.problems)} problem(s) in the ADaM spec")
    return m.Spec(str(path), sha256, study, datasets, codelists, value_level, methods, comments,
                  parameters=parameters, windows=windows, derivations=derivations, standard="ADaM")


def _check_sheets(tables: dict[str, SheetTable], c: base._Collector) -> None:
    """The ADaM workbook's sheets and columns (:func:`~subgen.core.spec.sheets.check_sheets`)."""
    base.check_sheets(tables, ADAM_SHEETS, ADAM_SHEET_BY_NAME, c)


def _records(table: SheetTable | None, layout: SheetLayout, c: base._Collector) -> list[tuple[int, dict[str, str]]]:
    """Non-empty rows as dicts; rows missing a required value are reported and skipped."""
    if table is None:
        return []
    out = []
    for rownum, rec in table.records():
        missing = [col for col in layout.required_values if not rec.get(col)]
        for col in missing:
            c.add(layout.name, rownum, col, "", f"{col} is empty", f"fill in {col} or delete the row",
                  "SPEC-REQUIRED")
        if not missing:
            out.append((rownum, rec))
    return out


def _number(value: str, sheet: str, n: int, col: str, c: base._Collector) -> float | None:
    """A number cell (blank = None); a non-number is reported."""
    if value == "":
        return None
    try:
        return float(value)
    except ValueError:
        c.add(sheet, n, col, value, f"{col} must be a number", f"write {col} as digits (e.g. 92 or -7)",
              "SPEC-VALUE")
        return None


def _parameters(rows: list[tuple[int, dict[str, str]]], ds_vars: dict[str, set[str]], refs: base._Refs,
                c: base._Collector) -> tuple[m.AnalysisParameter, ...]:
    out: list[m.AnalysisParameter] = []
    seen: dict[tuple[str, str], int] = {}
    for n, r in rows:
        ds, cd = r["Dataset"], r["PARAMCD"]
        if ds not in ds_vars:
            c.add("Parameters", n, "Dataset", ds, "dataset not in the Datasets sheet." + base.suggest(ds, ds_vars),
                  "", "SPEC-REFERENCE")
            continue
        base._name("Parameters", n, "PARAMCD", cd, "parameter", c)
        if (ds, cd) in seen:
            c.add("Parameters", n, "PARAMCD", cd, f"{ds} parameter {cd} is listed twice (first on row "
                  f"{seen[(ds, cd)]})", "delete the duplicate row", "SPEC-DUPLICATE")
            continue
        seen[(ds, cd)] = n
        if len(r["PARAM"]) > 200 or not r["PARAM"].isascii():
            c.add("Parameters", n, "PARAM", r["PARAM"], "PARAM must be ASCII and at most 200 characters", "",
                  "SPEC-VALUE")
        src = r.get("Source Dataset") or None
        if src and not r.get("Result Variable") and not r.get("Character Result Variable"):
            c.add("Parameters", n, "Result Variable", "", f"parameter {cd} reads {src} but names no result "
                  "variable", "name the numeric (e.g. LBSTRESN) or character result variable", "SPEC-REQUIRED")
        refs.check("Parameters", n, {"Method": r.get("Method", "")}, c)  # Comment is free text
        paramn = base._int(r.get("PARAMN", ""), "Parameters", n, "PARAMN", c)
        out.append(m.AnalysisParameter(ds, cd, r["PARAM"], paramn, r.get("PARCAT1") or None, src,
                                       base.expression("Parameters", n, "Filter", r.get("Filter"), c),
                                       r.get("Result Variable") or None,
                                       r.get("Character Result Variable") or None, r.get("Date Variable") or None,
                                       r.get("Method") or None, r.get("Comment") or None, n))
    return tuple(out)


def _windows(rows: list[tuple[int, dict[str, str]]], ds_vars: dict[str, set[str]], paramcds: set[str],
             c: base._Collector) -> tuple[m.AnalysisWindow, ...]:
    out = []
    for n, r in rows:
        ds = r["Dataset"]
        if ds not in ds_vars:
            c.add("Windows", n, "Dataset", ds, "dataset not in the Datasets sheet." + base.suggest(ds, ds_vars), "",
                  "SPEC-REFERENCE")
            continue
        params = tuple(p.strip() for p in r.get("Parameters", "").split(",") if p.strip() and p.strip() != "*")
        for p in params:
            if p not in paramcds:
                c.add("Windows", n, "Parameters", p, "not a PARAMCD of the Parameters sheet."
                      + base.suggest(p, paramcds), "", "SPEC-REFERENCE")
        sel = r["Selection"].upper()
        if sel not in SELECTIONS:
            c.add("Windows", n, "Selection", r["Selection"], "unknown selection rule." + base.suggest(sel, SELECTIONS),
                  f"use one of: {', '.join(SELECTIONS)}", "SPEC-VALUE")
        avisitn = _number(r["AVISITN"], "Windows", n, "AVISITN", c)
        low = _number(r.get("Low Day", ""), "Windows", n, "Low Day", c)
        high = _number(r.get("High Day", ""), "Windows", n, "High Day", c)
        target = _number(r.get("Target Day", ""), "Windows", n, "Target Day", c)
        if low is not None and high is not None and low > high:
            c.add("Windows", n, "Low Day", r["Low Day"], f"Low Day {low:g} is after High Day {high:g}",
                  "swap them", "SPEC-VALUE")
        if sel.startswith("CLOSEST") and target is None:
            c.add("Windows", n, "Target Day", "", f"selection {sel} needs a Target Day", "give the target day",
                  "SPEC-REQUIRED")
        out.append(m.AnalysisWindow(ds, params, avisitn if avisitn is not None else 0.0, r["AVISIT"],
                                    None if target is None else int(target), None if low is None else int(low),
                                    None if high is None else int(high), sel, n))
    _check_overlaps(out, c)
    return tuple(out)


def _check_overlaps(windows: list[m.AnalysisWindow], c: base._Collector) -> None:
    """Two windows of the same dataset and parameters must not share a day (a record gets one AVISIT)."""
    lo = float("-inf")
    hi = float("inf")
    for i, a in enumerate(windows):
        for b in windows[i + 1:]:
            if a.dataset != b.dataset or (a.parameters and b.parameters and not set(a.parameters) & set(b.parameters)):
                continue
            a_lo, a_hi = (lo if a.low is None else a.low), (hi if a.high is None else a.high)
            b_lo, b_hi = (lo if b.low is None else b.low), (hi if b.high is None else b.high)
            if a_lo <= b_hi and b_lo <= a_hi:
                c.add("Windows", b.row, "Low Day", str(b.low), f"window {b.avisit} overlaps window {a.avisit} "
                      f"(row {a.row}) of {a.dataset}", "make the day ranges disjoint", "SPEC-WINDOW")


def _derivations(rows: list[tuple[int, dict[str, str]]], ds_vars: dict[str, set[str]], refs: base._Refs,
                 c: base._Collector) -> tuple[m.DerivationStep, ...]:
    out = []
    for n, r in rows:
        ds = r["Dataset"]
        if ds not in ds_vars:
            c.add("Derivations", n, "Dataset", ds, "dataset not in the Datasets sheet." + base.suggest(ds, ds_vars),
                  "", "SPEC-REFERENCE")
            continue
        names = tuple(v.strip() for v in r["Variable"].split(",") if v.strip())
        for v in names:
            if v not in ds_vars[ds]:
                c.add("Derivations", n, "Variable", v, f"{v} is not a variable of {ds} in the Variables sheet."
                      + base.suggest(v, ds_vars[ds]), "declare the variable first or correct the name",
                      "SPEC-REFERENCE")
        refs.check("Derivations", n, {"Method": r.get("Method", "")}, c)  # Comment is free text
        out.append(m.DerivationStep(ds, names, r["Function"], r.get("Arguments") or None,
                                    base.expression("Derivations", n, "Condition", r.get("Condition"), c),
                                    r.get("Method") or None, r.get("Comment") or None, n,
                                    _arguments(n, r.get("Arguments") or None, c)))
    return tuple(out)


def _arguments(n: int, text: str | None, c: base._Collector) -> m.Arguments | None:
    """The Arguments cell parsed, its condition arguments too; None when unreadable (reported at the part)."""
    try:
        values = argument_values(text)
    except ValueError as exc:
        c.add("Derivations", n, "Arguments", text, str(exc), rule="SPEC-DERIVATION")
        return None
    conditions = []
    for name, value in values:
        if name in CONDITION_ARGUMENTS and value:
            parsed = base.expression("Derivations", n, "Arguments", value, c)
            if parsed is None:
                return None
            conditions.append((name, parsed))
    return m.Arguments(text or "", values, tuple(conditions))


def _check_coverage(datasets: tuple[m.Dataset, ...], steps: tuple[m.DerivationStep, ...], c: base._Collector) -> None:
    """Every declared variable of an ADaM dataset is given by at least one Derivations row."""
    given: dict[str, set[str]] = {}
    for s in steps:
        given.setdefault(s.dataset, set()).update(s.variables)
    for d in datasets:
        for v in d.variables:
            if v.name not in given.get(d.name, set()):
                c.add("Variables", v.row, "Variable", f"{d.name}.{v.name}", f"{d.name}.{v.name} is declared but no "
                      "Derivations row gives it", "add a Derivations row naming it (or remove the variable)",
                      "SPEC-UNMAPPED")

