"""The sheets an SDTM and an ADaM spec workbook share, and the checks of their cells.

Study, Datasets/Variables, ValueLevel, Codelists, Methods and Comments are read the same way for both
workbooks (:mod:`subgen.core.spec.loader` adds Forms, Sources, Mappings and the trial design sheets;
:mod:`subgen.core.spec.adam` adds Parameters, Windows and Derivations). Problems are collected with their sheet,
row, column and value by a :class:`_Collector`, misspelt names get the nearest valid one (:func:`suggest`), and
expression cells are parsed once here (:func:`expression`, :func:`where_clause`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from subgen.core.expr import ExprError, Expression, parse, parse_where_clause, where_clauses
from subgen.core.problems import Problem
from subgen.core.spec import model as m
from subgen.core.spec.cells import RANGE_FIX, parse_range
from subgen.core.spec.layout import REQUIRED_STUDY_ATTRIBUTES, SheetLayout
from subgen.core.spec.workbook import SheetTable

NAME_RE = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")
YES = {"YES", "Y", "TRUE"}
NO = {"NO", "N", "FALSE", ""}


def suggest(value: str, candidates: Iterable[str]) -> str:
    """' Did you mean X?' for the closest candidate, or '' when none is close."""
    match = difflib.get_close_matches(value, sorted(candidates), n=1, cutoff=0.6)
    if not match:
        match = difflib.get_close_matches(value.upper(), sorted(candidates), n=1, cutoff=0.6)
    return f" Did you mean {match[0]!r}?" if match else ""


class _Collector:
    """Collects problems located in the workbook."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def add(self, sheet: str, row: int | None, column: str | None, value: str | None, message: str,
            fix: str = "", rule: str = "SPEC") -> None:
        self.problems.append(Problem(f"{self.path} [{sheet}]", row, column, value, message, fix, "Error", rule))


def check_sheets(tables: dict[str, SheetTable], layouts: Iterable[SheetLayout], known: Iterable[str],
                 c: _Collector) -> None:
    """Required sheets and their columns (nearest name for a misspelling), and header cells that appear twice.

    ``known`` names every sheet of this kind of workbook (a missing sheet is matched against the others only).
    """
    present = set(tables)
    others = present - set(known)
    for layout in layouts:
        if layout.name not in tables:
            if layout.required:
                c.add(layout.name, None, None, None, f"required sheet {layout.name!r} is missing."
                      + suggest(layout.name, others),
                      f"add (or rename) a sheet called {layout.name} with columns: {', '.join(layout.columns)}",
                      "SPEC-SHEET")
            continue
        header = tables[layout.name].header
        unknown = [h for h in header if h and h not in layout.columns]
        for col in layout.columns:
            if col in header:
                continue
            near = difflib.get_close_matches(col, unknown, n=1, cutoff=0.6)
            if near or col in layout.required_values:
                hint = f" Column {near[0]!r} looks like a misspelling of it." if near else ""
                c.add(layout.name, 1, col, near[0] if near else None,
                      f"column {col!r} is missing from sheet {layout.name}.{hint}",
                      f"name the header cell exactly {col!r}", "SPEC-COLUMN")
        dupes = {h for h in header if h and header.count(h) > 1}
        for d in sorted(dupes):
            c.add(layout.name, 1, d, d, "column header appears twice", "delete or rename one of them", "SPEC-COLUMN")


def _study(rows: list[tuple[int, dict[str, str]]], c: _Collector) -> m.StudyInfo:
    attrs = {r["Attribute"]: (n, r.get("Value", "")) for n, r in rows}
    for a in REQUIRED_STUDY_ATTRIBUTES:
        if not attrs.get(a, (0, ""))[1]:
            c.add("Study", attrs.get(a, (None,))[0], "Value" if a in attrs else "Attribute", a,
                  f"study attribute {a} is missing or empty." + suggest(a, set(attrs) - set(REQUIRED_STUDY_ATTRIBUTES)),
                  f"add a row with Attribute {a} and its value", "SPEC-STUDY")
    cut_text = attrs.get("DataCutDate", (None, ""))[1]
    try:
        cut = dt.date.fromisoformat(cut_text)
    except ValueError:
        if cut_text:
            c.add("Study", attrs["DataCutDate"][0], "Value", cut_text, "DataCutDate is not a date",
                  "write it as YYYY-MM-DD", "SPEC-STUDY")
        cut = dt.date(1900, 1, 1)
    sid = attrs.get("StudyID", (None, ""))[1]
    if sid and (not sid.isascii() or len(sid) > 200):
        c.add("Study", attrs["StudyID"][0], "Value", sid, "StudyID must be ASCII", "use ASCII characters only",
              "SPEC-STUDY")

    def get(a: str) -> str:
        return attrs.get(a, (0, ""))[1]

    return m.StudyInfo(sid, get("StudyName"), get("StudyDescription"), get("ProtocolName"), get("SDTMIGVersion"),
                       get("SDTMVersion"), get("CTVersion"), cut, get("ADaMIGVersion") or None,
                       tuple(sorted((k, v) for k, (_, v) in attrs.items())))


def expression(sheet: str, row: int, col: str, text: str | None, c: _Collector) -> Expression | None:
    """A Filter/Condition cell parsed (:func:`subgen.core.expr.parse`); None when blank or unreadable (reported)."""
    if not text:
        return None
    try:
        return parse(text)
    except ExprError as exc:
        c.add(sheet, row, col, text, exc.headline, exc.fix, "SPEC-CONDITION")
        return None


def where_clause(sheet: str, row: int, col: str, text: str, c: _Collector) -> Expression | None:
    """A Where Clause cell parsed in either surface and checked for a Define-XML form; None if not (reported).

    ``LBTESTCD EQ GLUC`` and ``LBTESTCD = 'GLUC'`` both read; ``or`` gives several WhereClauseDefs in
    define.xml. A clause define.xml cannot express (a column compared with a column, ``is blank``,
    ``form.COL``) is a SPEC-WHERE problem saying why.
    """
    try:
        parsed = parse_where_clause(text)
        where_clauses(parsed)
    except ExprError as exc:
        c.add(sheet, row, col, text, exc.headline, exc.fix, "SPEC-WHERE" if exc.headline.startswith("define.xml")
              else "SPEC-CONDITION")
        return None
    return parsed


def _yes(value: str, sheet: str, row: int, col: str, c: _Collector) -> bool:
    v = value.strip().upper()
    if v in YES:
        return True
    if v not in NO:
        c.add(sheet, row, col, value, f"{col} must be Yes or No", "write Yes or No", "SPEC-VALUE")
    return False


def _int(value: str, sheet: str, row: int, col: str, c: _Collector, required: bool = False) -> int | None:
    if value == "":
        if required:
            c.add(sheet, row, col, value, f"{col} is empty", f"give {col} as a whole number", "SPEC-VALUE")
        return None
    try:
        number = int(value)
    except ValueError:
        c.add(sheet, row, col, value, f"{col} must be a whole number", f"write {col} as digits only", "SPEC-VALUE")
        return None
    if number < 0:
        c.add(sheet, row, col, value, f"{col} must not be negative", "", "SPEC-VALUE")
    return number


def _codelists(rows: list[tuple[int, dict[str, str]]], c: _Collector) -> tuple[m.Codelist, ...]:
    grouped: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)
    for n, r in rows:
        grouped[r["ID"]].append((n, r))
    out = []
    for cid, items in grouped.items():
        first_row, first = items[0]
        ext = _yes(first.get("Extensible", ""), "Codelists", first_row, "Extensible", c)
        terms, seen = [], set()
        for n, r in items:
            if r.get("Name") != first["Name"]:
                c.add("Codelists", n, "Name", r.get("Name"), f"codelist {cid} has two names "
                      f"({first['Name']!r} on row {first_row})", "use one name for every row of a codelist",
                      "SPEC-CODELIST")
            term = r["Term"]
            if term in seen:
                c.add("Codelists", n, "Term", term, f"term appears twice in codelist {cid}", "delete the duplicate row",
                      "SPEC-CODELIST")
            seen.add(term)
            extended = _yes(r.get("Extended Value", ""), "Codelists", n, "Extended Value", c)
            if extended and not ext:
                c.add("Codelists", n, "Extended Value", term, f"codelist {cid} is not extensible, so sponsor term "
                      f"{term!r} is not allowed", "use a CDISC submission value or mark the codelist extensible "
                      "only if CDISC CT does", "SPEC-CODELIST")
            syn = tuple(s.strip() for s in r.get("Synonyms", "").split("|") if s.strip())
            terms.append(m.CodelistTerm(term, r.get("NCI Term Code") or None, r.get("Decoded Value") or None,
                                        extended, syn, _int(r.get("Order", ""), "Codelists", n, "Order", c) or 0))
        cl = m.Codelist(cid, first["Name"], first.get("NCI Codelist Code") or None, first.get("Data Type") or "text",
                        first.get("Terminology") or None, ext, tuple(terms))
        _check_synonym_clash(cl, items, c)
        out.append(cl)
    return tuple(out)


def _check_synonym_clash(cl: m.Codelist, items: list[tuple[int, dict[str, str]]], c: _Collector) -> None:
    owner: dict[str, str] = {}
    for (n, _), t in zip(items, cl.terms):
        for raw in {m.normalise_term(x) for x in (t.term, t.decode, *t.synonyms) if x}:
            if raw in owner and owner[raw] != t.term:
                c.add("Codelists", n, "Synonyms", raw, f"in codelist {cl.id} the spelling {raw!r} maps to both "
                      f"{owner[raw]!r} and {t.term!r}", "keep the spelling on one term only", "SPEC-CODELIST")
            owner.setdefault(raw, t.term)


def _unique_ids(sheet: str, rows: list[tuple[int, dict[str, str]]], c: _Collector) -> None:
    seen: set[str] = set()
    for n, r in rows:
        if r["ID"] in seen:
            c.add(sheet, n, "ID", r["ID"], "ID appears twice", "give each row its own ID", "SPEC-DUPLICATE")
        seen.add(r["ID"])


class _Refs:
    def __init__(self, codelists: set[str], methods: set[str], comments: set[str]) -> None:
        self.codelists, self.methods, self.comments = codelists, methods, comments

    def check(self, sheet: str, n: int, r: dict[str, str], c: _Collector) -> None:
        for col, known, where in (("Codelist", self.codelists, "Codelists"), ("Method", self.methods, "Methods"),
                                  ("Comment", self.comments, "Comments")):
            ref = r.get(col, "")
            if ref and ref not in known:
                c.add(sheet, n, col, ref, f"{col.lower()} {ref!r} is referenced but not defined in the {where} "
                      f"sheet." + suggest(ref, known), f"add {ref} to the {where} sheet or correct the reference",
                      "SPEC-REFERENCE")


def _ascii_label(sheet: str, n: int, col: str, label: str, c: _Collector) -> None:
    if len(label) > 40:
        c.add(sheet, n, col, label, f"label is {len(label)} characters; XPT v5 allows 40",
              "shorten it to 40 characters or fewer", "SPEC-LABEL")
    if not label.isascii():
        bad = "".join(sorted({ch for ch in label if not ch.isascii()}))
        c.add(sheet, n, col, label, f"label has non-ASCII characters {bad!r}", "use ASCII characters only",
              "SPEC-LABEL")


def _name(sheet: str, n: int, col: str, name: str, what: str, c: _Collector) -> bool:
    if NAME_RE.match(name):
        return True
    c.add(sheet, n, col, name, f"{what} name {name!r} is not valid: XPT v5 names are 1-8 characters, "
          "upper-case letters and digits, starting with a letter", "rename it", "SPEC-NAME")
    return False


def _datasets(ds_rows: list[tuple[int, dict[str, str]]], var_rows: list[tuple[int, dict[str, str]]], refs: _Refs,
              c: _Collector) -> tuple[m.Dataset, ...]:
    names: dict[str, tuple[int, dict[str, str]]] = {}
    for n, r in ds_rows:
        name = r["Dataset"]
        _name("Datasets", n, "Dataset", name, "dataset", c)
        if name in names:
            c.add("Datasets", n, "Dataset", name, f"dataset listed twice (first on row {names[name][0]})",
                  "delete the duplicate row", "SPEC-DUPLICATE")
            continue
        _ascii_label("Datasets", n, "Description", r["Description"], c)
        names[name] = (n, r)
    by_ds: dict[str, list[m.Variable]] = defaultdict(list)
    seen: dict[tuple[str, str], int] = {}
    for n, r in var_rows:
        ds, var = r["Dataset"], r["Variable"]
        if ds not in names:
            c.add("Variables", n, "Dataset", ds, f"dataset {ds!r} is not in the Datasets sheet." + suggest(ds, names),
                  "add the dataset to the Datasets sheet or correct the name", "SPEC-REFERENCE")
            continue
        if not _name("Variables", n, "Variable", var, "variable", c):
            continue
        if (ds, var) in seen:
            c.add("Variables", n, "Variable", var, f"{ds}.{var} is declared twice (first on row {seen[(ds, var)]})",
                  "delete the duplicate row", "SPEC-DUPLICATE")
            continue
        seen[(ds, var)] = n
        _ascii_label("Variables", n, "Label", r["Label"], c)
        dtype = r["Data Type"]
        if dtype not in m.DATA_TYPES:
            c.add("Variables", n, "Data Type", dtype, "unknown data type." + suggest(dtype, m.DATA_TYPES),
                  f"use one of: {', '.join(sorted(m.DATA_TYPES))}", "SPEC-VALUE")
        length = _int(r.get("Length", ""), "Variables", n, "Length", c)
        if length is not None and dtype in m.CHAR_TYPES and not 1 <= length <= 200:
            c.add("Variables", n, "Length", str(length), "character length must be 1 to 200 (XPT v5)",
                  "split longer text per SDTMIG 4.5.3", "SPEC-VALUE")
        core = r.get("Core") or "Perm"
        if core not in m.CORE_VALUES:
            c.add("Variables", n, "Core", core, "Core must be Req, Exp or Perm." + suggest(core, m.CORE_VALUES), "",
                  "SPEC-VALUE")
        origin = r["Origin"]
        if origin not in m.ORIGINS:
            c.add("Variables", n, "Origin", origin, "unknown origin." + suggest(origin, m.ORIGINS),
                  f"use one of: {', '.join(sorted(m.ORIGINS))}", "SPEC-VALUE")
        refs.check("Variables", n, r, c)
        by_ds[ds].append(m.Variable(
            ds, var, r["Label"], dtype, length, _int(r["Order"], "Variables", n, "Order", c, True) or 0, core,
            _yes(r.get("Mandatory", ""), "Variables", n, "Mandatory", c) or core == "Req", r.get("Codelist") or None,
            origin, r.get("Source") or None, r.get("Pages") or None, r.get("Method") or None,
            r.get("Predecessor") or None, r.get("Role") or None,
            _int(r.get("Significant Digits", ""), "Variables", n, "Significant Digits", c),
            r.get("Format") or None, r.get("Comment") or None, n))
    out = []
    for name, (n, r) in names.items():
        variables = tuple(sorted(by_ds.get(name, []), key=lambda v: (v.order, v.row)))
        if not variables:
            c.add("Datasets", n, "Dataset", name, "dataset has no variables in the Variables sheet",
                  "add its variables or remove the dataset", "SPEC-REFERENCE")
        orders = [v.order for v in variables]
        for v in variables:
            if orders.count(v.order) > 1:
                c.add("Variables", v.row, "Order", str(v.order), f"Order {v.order} is used twice in {name}",
                      "give every variable of a dataset its own Order", "SPEC-DUPLICATE")
        keys = tuple(k.strip() for k in r.get("Key Variables", "").split(",") if k.strip())
        for k in keys:
            if k not in {v.name for v in variables}:
                c.add("Datasets", n, "Key Variables", k, f"key variable {k} is not a variable of {name}."
                      + suggest(k, {v.name for v in variables}), "add it to the Variables sheet or fix the key list",
                      "SPEC-KEY")
        out.append(m.Dataset(name, r["Description"], r["Class"], r["Structure"], keys, variables,
                             r.get("Purpose") or "Tabulation",
                             _yes(r.get("Repeating", "Yes") or "Yes", "Datasets", n, "Repeating", c),
                             _yes(r.get("Reference Data", ""), "Datasets", n, "Reference Data", c),
                             r.get("Comment") or None, n))
    return tuple(out)


def _value_level(rows: list[tuple[int, dict[str, str]]], datasets: tuple[m.Dataset, ...], refs: _Refs,
                 c: _Collector) -> tuple[m.ValueLevel, ...]:
    by_name = {d.name: d for d in datasets}
    ds_vars = {d.name: set(d.variable_names) for d in datasets}
    out = []
    for n, r in rows:
        ds, var = r["Dataset"], r["Variable"]
        if var not in ds_vars.get(ds, set()):
            c.add("ValueLevel", n, "Variable", f"{ds}.{var}", "value-level row for a variable the Variables sheet "
                  "does not declare." + suggest(var, ds_vars.get(ds, set())), "", "SPEC-REFERENCE")
            continue
        refs.check("ValueLevel", n, r, c)
        where = where_clause("ValueLevel", n, "Where Clause", r["Where Clause"], c)
        if where is None:
            continue
        out.append(m.ValueLevel(ds, var, where, r["Data Type"],
                                _int(r.get("Length", ""), "ValueLevel", n, "Length", c),
                                _int(r.get("Order", ""), "ValueLevel", n, "Order", c) or n,
                                r.get("Codelist") or None, r.get("Origin") or "Collected", r.get("Method") or None,
                                _int(r.get("Significant Digits", ""), "ValueLevel", n, "Significant Digits", c),
                                _yes(r.get("Mandatory", ""), "ValueLevel", n, "Mandatory", c),
                                r.get("Description") or None, r.get("Pages") or None, r.get("Comment") or None, n,
                                r.get("Evaluator") or None, r.get("Source") or None,
                                _range(n, r.get("Range", ""), c)))
        _check_qualifier(out[-1], c)
        if out[-1].range is not None:
            for message in range_errors(out[-1], by_name[ds]):
                c.add("ValueLevel", n, "Range", r["Range"], message, "correct the Variable or the Where Clause",
                      "SPEC-RANGE")
    return tuple(out)


def range_errors(vl: m.ValueLevel, dataset: m.Dataset) -> list[str]:
    """What is wrong with ``vl``'s Range against its dataset's variables (empty when it is usable)."""
    names = {v.name: v for v in dataset.variables}
    errors = []
    target = names.get(vl.variable)
    if target is None:
        errors.append(f"{vl.variable} is not a variable of {dataset.name}")
    elif not target.is_numeric:
        errors.append(f"{vl.variable} is a character variable; a Range needs a numeric (integer/float) variable")
    checks = tuple(dict.fromkeys(c for alternative in where_clauses(vl.where) for c in alternative))
    for c in checks:
        var = names.get(c.variable)
        if var is None:
            errors.append(f"the where clause names {c.variable}, which is not a variable of {dataset.name}")
        elif var.is_numeric:
            for v in c.values:
                try:
                    if not math.isfinite(float(v)):
                        raise ValueError
                except ValueError:
                    errors.append(f"the where clause compares numeric {c.variable} with {v!r}, which is not a number")
    return list(dict.fromkeys(errors))


def _range(n: int, text: str, c: _Collector) -> m.ValueRange | None:
    """The ValueLevel Range cell parsed (None when blank or unreadable, the latter reported)."""
    if not text.strip():
        return None
    try:
        return parse_range(text)
    except ValueError as exc:
        c.add("ValueLevel", n, "Range", text, str(exc), RANGE_FIX, "SPEC-RANGE")
        return None


def _check_qualifier(vl: m.ValueLevel, c: _Collector) -> None:
    """A SUPPxx.QVAL row must name one QNAM (<= 8 characters) and give its QLABEL (<= 40) in Description."""
    if not (vl.dataset.startswith("SUPP") and vl.variable == "QVAL"):
        return
    if vl.qnam is None:
        c.add("ValueLevel", vl.row, "Where Clause", vl.where.text, "a SUPP-- QVAL row must read QNAM EQ <name>",
              "write e.g. QNAM EQ RANDNO", "SPEC-SUPP")
        return
    if len(vl.qnam) > 8 or not re.fullmatch(r"[A-Z][A-Z0-9_]*", vl.qnam):
        c.add("ValueLevel", vl.row, "Where Clause", vl.qnam, "QNAM must be at most 8 characters, upper-case letters, "
              "digits or _, starting with a letter", "shorten or rename the QNAM", "SPEC-SUPP")
    if not vl.description or len(vl.description) > 40:
        c.add("ValueLevel", vl.row, "Description", vl.description or "", "the Description is the qualifier's QLABEL "
              "and must be 1-40 characters", "write a label of at most 40 characters", "SPEC-SUPP")
