"""Load and validate a spec workbook into a :class:`~subgen.core.spec.model.Spec`.

Every problem in the workbook is collected (sheet, row, column, value, the nearest valid name
when something looks misspelt) and raised together, so a data manager fixes them in one pass.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from subgen.core.problems import ProblemError
from subgen.core.spec import model as m
from subgen.core.spec.adam import adam_spec_from_tables, is_adam_workbook
from subgen.core.spec.layout import SHEET_BY_NAME, SHEETS
from subgen.core.spec.sheets import (
    _codelists,
    _Collector,
    _datasets,
    _Refs,
    _study,
    _unique_ids,
    _value_level,
    check_sheets,
    expression,
    suggest,
)
from subgen.core.spec.workbook import SheetTable, read_workbook

FORM_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def load_spec(path: Path | str) -> m.Spec:
    """Read, validate and return the spec at ``path``; raise ProblemError listing every problem."""
    path = Path(path)
    tables = read_workbook(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return spec_from_tables(tables, path, sha)


def spec_from_tables(tables: dict[str, SheetTable], path: Path, sha256: str = "") -> m.Spec:
    """Build a Spec from text tables (see :mod:`subgen.core.spec.workbook`), validating as it goes.

    An ADaM workbook (Derivations sheet, no Mappings sheet) is loaded by :mod:`subgen.core.spec.adam`.
    """
    if is_adam_workbook(tables):
        return adam_spec_from_tables(tables, path, sha256)
    c = _Collector(path)
    _check_sheets(tables, c)
    if c.problems:
        raise ProblemError(c.problems, f"{path}: the spec workbook is incomplete")
    recs = {s.name: _records(tables.get(s.name), s.name, c) for s in SHEETS}

    study = _study(recs["Study"], c)
    codelists = _codelists(recs["Codelists"], c)
    methods = tuple(m.Method(r["ID"], r["Name"], r["Type"], r["Description"], r.get("Expression Context") or None,
                             r.get("Expression Code") or None, r.get("Document") or None,
                             r.get("Pages") or None) for _, r in recs["Methods"])
    comments = tuple(m.Comment(r["ID"], r["Description"], r.get("Document") or None, r.get("Pages") or None)
                     for _, r in recs["Comments"])
    _unique_ids("Methods", recs["Methods"], c)
    _unique_ids("Comments", recs["Comments"], c)
    refs = _Refs({cl.id for cl in codelists}, {x.id for x in methods}, {x.id for x in comments})
    datasets = _datasets(recs["Datasets"], recs["Variables"], refs, c)
    ds_vars = {d.name: set(d.variable_names) for d in datasets}
    value_level = _value_level(recs["ValueLevel"], datasets, refs, c)
    forms = _forms(recs["Forms"], c)
    sources = _sources(recs["Sources"], ds_vars, {f.name for f in forms}, c)
    qnams: dict[str, set[str]] = {}
    for vl in value_level:
        if vl.qnam:
            qnams.setdefault(vl.dataset[4:], set()).add(vl.qnam)
    mappings = _mappings(recs["Mappings"], {d: v | qnams.get(d, set()) for d, v in ds_vars.items()}, sources, c)
    units = _units(recs["Units"], c)
    design = _design_data(tables, ds_vars, c)
    if c.problems:
        raise ProblemError(c.problems, f"{path}: {len(c.problems)} problem(s) in the spec")
    return m.Spec(str(path), sha256, study, datasets, codelists, value_level, methods, comments, forms,
                  sources, mappings, units, design)


def _check_sheets(tables: dict[str, SheetTable], c: _Collector) -> None:
    """The SDTM workbook's sheets and columns (:func:`~subgen.core.spec.sheets.check_sheets`)."""
    check_sheets(tables, SHEETS, SHEET_BY_NAME, c)


def _records(table: SheetTable | None, sheet: str, c: _Collector) -> list[tuple[int, dict[str, str]]]:
    if table is None:
        return []
    layout = SHEET_BY_NAME[sheet]
    out = []
    for rownum, rec in table.records():
        ok = True
        for col in layout.required_values:
            if not rec.get(col):
                c.add(sheet, rownum, col, "", f"{col} is empty", f"fill in {col} or delete the row",
                      "SPEC-REQUIRED")
                ok = False
        if ok:
            out.append((rownum, rec))
    return out


def _forms(rows: list[tuple[int, dict[str, str]]], c: _Collector) -> tuple[m.Form, ...]:
    out, seen = [], set()
    for n, r in rows:
        name, file = r["Form"], r["File"]
        if not FORM_RE.match(name):
            c.add("Forms", n, "Form", name, "form names are letters, digits and _", "rename the form", "SPEC-NAME")
        if name in seen:
            c.add("Forms", n, "Form", name, "form listed twice", "delete the duplicate row", "SPEC-DUPLICATE")
        seen.add(name)
        p = Path(file)
        if p.is_absolute() or ".." in p.parts or len(p.parts) != 1:
            c.add("Forms", n, "File", file, "a form file must be a plain file name inside the study's raw folder",
                  "give the file name only, e.g. dm.csv", "SPEC-PATH")
        pii = tuple(x.strip() for x in r.get("Personal Data Columns", "").split(",") if x.strip())
        out.append(m.Form(name, file, r.get("Description", ""), r["Subject Column"], r.get("Visit Column") or None,
                          pii, n))
    return tuple(out)


def _sources(rows: list[tuple[int, dict[str, str]]], ds_vars: dict[str, set[str]], forms: set[str],
             c: _Collector) -> tuple[m.Source, ...]:
    out, seen = [], set()
    for n, r in rows:
        ds, name, form = r["Dataset"], r["Source"], r["Form"]
        if ds not in ds_vars:
            c.add("Sources", n, "Dataset", ds, "dataset not in the Datasets sheet." + suggest(ds, ds_vars), "",
                  "SPEC-REFERENCE")
        if form not in forms:
            c.add("Sources", n, "Form", form, "form not in the Forms sheet." + suggest(form, forms),
                  "add the form to the Forms sheet or correct the name", "SPEC-REFERENCE")
        if (ds, name) in seen or name == "*":
            c.add("Sources", n, "Source", name, f"source name {name!r} is used twice in {ds} (or is '*')",
                  "give each source of a dataset its own name", "SPEC-DUPLICATE")
        seen.add((ds, name))
        topic_var = r.get("Topic Variable") or None
        if topic_var and topic_var not in ds_vars.get(ds, set()):
            c.add("Sources", n, "Topic Variable", topic_var, f"not a variable of {ds}", "", "SPEC-REFERENCE")
        source = m.Source(ds, name, form, expression("Sources", n, "Filter", r.get("Filter"), c), topic_var,
                          r.get("Topic Value") or None,
                          r.get("Result Column") or None, n)
        try:
            columns = source.result_columns
        except ValueError as exc:
            c.add("Sources", n, "Result Column", source.result_column, str(exc), "", "SPEC-SOURCE")
            columns = ()
        if len(columns) > 1 and "{n}" not in (source.topic_value or ""):
            c.add("Sources", n, "Topic Value", source.topic_value or "", "a source with several result columns "
                  "needs a Topic Value template with {n} (the item number)", "e.g. DQOL{n} or MSQL1{n}",
                  "SPEC-SOURCE")
        out.append(source)
    return tuple(out)


def _mappings(rows: list[tuple[int, dict[str, str]]], ds_vars: dict[str, set[str]], sources: tuple[m.Source, ...],
              c: _Collector) -> tuple[m.Mapping, ...]:
    src = {(s.dataset, s.name) for s in sources}
    out = []
    for n, r in rows:
        ds, var, source = r["Dataset"], r["Variable"], r["Source"]
        if ds not in ds_vars:
            c.add("Mappings", n, "Dataset", ds, "dataset not in the Datasets sheet." + suggest(ds, ds_vars), "",
                  "SPEC-REFERENCE")
            continue
        if var not in ds_vars[ds]:
            c.add("Mappings", n, "Variable", var, f"{var} is not a variable of {ds} in the Variables sheet."
                  + suggest(var, ds_vars[ds]), "declare the variable first or correct the name", "SPEC-REFERENCE")
        if source != "*" and (ds, source) not in src:
            c.add("Mappings", n, "Source", source, f"{ds} has no source {source!r} in the Sources sheet."
                  + suggest(source, {s for d, s in src if d == ds}), "use a source name from the Sources sheet or *",
                  "SPEC-REFERENCE")
        out.append(m.Mapping(ds, source, var, r["Algorithm"], r.get("Raw Column") or None, r.get("Value") or None,
                             expression("Mappings", n, "Condition", r.get("Condition"), c), n))
    return tuple(out)


def _units(rows: list[tuple[int, dict[str, str]]], c: _Collector) -> tuple[m.UnitConversion, ...]:
    out = []
    for n, r in rows:
        try:
            factor = float(r["Factor"])
        except ValueError:
            c.add("Units", n, "Factor", r["Factor"], "Factor must be a number", "write e.g. 0.0555 or 1", "SPEC-VALUE")
            continue
        out.append(m.UnitConversion(r["Test"], r["From Unit"], r["To Unit"], factor, n))
    return tuple(out)


def _design_data(tables: dict[str, SheetTable], ds_vars: dict[str, set[str]],
                 c: _Collector) -> tuple[tuple[str, tuple[tuple[tuple[str, str], ...], ...]], ...]:
    out = []
    for name, table in tables.items():
        if name in SHEET_BY_NAME or name not in ds_vars:
            continue
        for col in table.header:
            if col and col not in ds_vars[name]:
                c.add(name, 1, col, col, f"column {col!r} is not a variable of {name}." + suggest(col, ds_vars[name]),
                      "rename the column to a variable of the dataset", "SPEC-COLUMN")
        rows = tuple(tuple((k, v) for k, v in rec.items() if k) for _, rec in table.records())
        out.append((name, rows))
    return tuple(sorted(out))
