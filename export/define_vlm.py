"""Value-level metadata for define.xml: ValueListDefs, WhereClauseDefs and their ItemDefs.

Two sources, both from the spec:

* the ValueLevel sheet: one row per variable and where clause (``LBSTRESN`` where ``LBTESTCD EQ
  NFLP AND LBSPEC EQ "SERUM"``, ``TSVAL`` where ``TSPARMCD EQ TBLIND``, and ``SUPPxx.QVAL`` where
  ``QNAM EQ RANDNO``, whose ItemDef is named after the QNAM and labelled with its QLABEL);
* an ADaM workbook's Parameters sheet: ``AVAL`` (and ``AVALC``) where ``PARAMCD EQ <code>`` for
  every parameter with values in that variable, labelled with PARAM; a parameter read from SDTM is
  a Predecessor of its result variable (the filter in a comment), a derived one is Derived with
  the parameter's method. A dataset/variable the ValueLevel sheet already covers is left as the
  sheet declares it.

Where clauses are parsed when the spec is loaded (:mod:`subgen.core.expr`, the reader the range
checks use too) and become WhereClauseDefs of RangeChecks on the ItemDefs of the same dataset: one
WhereClauseDef per alternative of the clause's disjunctive normal form
(:func:`subgen.core.expr.where_clauses`), all referenced from the value's ItemRef (Define-XML 2.1:
several WhereClauseRefs on one ItemRef are alternatives). Lengths and significant digits come
from the records the where clause selects (:func:`subgen.core.expr.evaluate_where`), as written:
a value's Length never exceeds its variable's (Define-XML 2.1 section 5.3.12); ``def:HasNoData``
marks a value no record carries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from export.define_terms import (
    OdmElement,
    References,
    description,
    is_integral,
    model,
    oid_part,
    origin,
    significant_digits,
    text_numbers,
)
from subgen.core.conformance.ranges import numeric_variables
from subgen.core.expr import (
    ColumnRef,
    Compare,
    ExprError,
    Expression,
    RangeCheck,
    Str,
    columns,
    evaluate_where,
    where_clauses,
)
from subgen.core.problems import Problem
from subgen.core.spec.model import Dataset, Spec, ValueLevel, Variable
from subgen.core.xpt.values import byte_lengths

_ISO = ("date", "datetime", "time", "partialDate", "partialTime", "partialDatetime", "incompleteDatetime",
        "durationDatetime")


@dataclass(frozen=True)
class ValueItem:
    """One value-level definition, from a ValueLevel row or a Parameters row."""

    variable: str
    name: str  # ItemDef Name: the QNAM for a supplemental qualifier, else the variable
    label: str
    data_type: str
    expression: Expression  # the where clause
    origin: str
    source: str | None = None
    predecessor: str | None = None
    method: str | None = None
    comment: str | None = None  # spec comment ID
    comment_text: str | None = None  # comment made from spec content (a parameter's filter and comment)
    codelist: str | None = None
    mandatory: bool = False
    significant_digits: int | None = None
    where: str = ""  # where clause as written, for messages
    pages: str | None = None  # annotated CRF pages (ValueLevel Pages column)


def where_mask(frame: pd.DataFrame, expression: Expression, dataset: Dataset) -> np.ndarray:
    """Records of ``frame`` (values as written) that a where clause selects."""
    return evaluate_where(expression, frame, numeric_variables(dataset)).to_numpy()


def spec_value_items(spec: Spec, dataset: Dataset, refs: References) -> list[ValueItem]:
    """The ValueLevel rows of ``dataset`` whose where clause can be read (others are reported)."""
    out = []
    names = set(dataset.variable_names)
    for vl in spec.value_level:
        if vl.dataset != dataset.name:
            continue
        where = f"{spec.path} [ValueLevel]"
        try:
            where_clauses(vl.where)  # the loader reports this for a workbook; a spec built in code may still have it
        except ExprError as exc:
            refs.problems.append(Problem(where, vl.row, "Where Clause", vl.where.text,
                                         f"{exc.headline}; the row is not in define.xml", exc.fix,
                                         rule="DEFINE-WHERE"))
            continue
        unknown = [ref.key for ref in columns(vl.where) if ref.key not in names]
        if unknown:
            refs.problems.append(Problem(where, vl.row, "Where Clause", vl.where.text,
                                         f"{', '.join(unknown)} is not a "
                                         f"variable of {dataset.name}; the row is not in define.xml",
                                         "name variables of the same dataset in the where clause", rule="DEFINE-WHERE"))
            continue
        name = vl.qnam or vl.variable
        out.append(ValueItem(vl.variable, name, vl.description or name, vl.data_type, vl.where, vl.origin,
                             _source_of(vl), None, vl.method, vl.comment, None,
                             vl.codelist, vl.mandatory, vl.significant_digits, vl.where.text, vl.pages))
    return out


def _source_of(vl: ValueLevel) -> str | None:
    """The Source column of a ValueLevel row, once the spec model carries it (it does not yet: None)."""
    return getattr(vl, "source", None)


def parameter_value_items(spec: Spec, dataset: Dataset, frame: pd.DataFrame, covered: set[str]) -> list[ValueItem]:
    """AVAL/AVALC value-level items by PARAMCD from an ADaM workbook's Parameters sheet."""
    params = spec.parameters_for(dataset.name)
    names = set(dataset.variable_names)
    if not params or "PARAMCD" not in names:
        return []
    out = []
    paramcd = frame["PARAMCD"].astype(str)
    for variable in ("AVAL", "AVALC"):
        if variable not in names or variable in covered:
            continue
        var = dataset.variable(variable)
        col = frame[variable]
        filled = col.notna() if var.is_numeric else col.astype(str).str.strip().ne("")
        for p in params:
            rows = paramcd.eq(p.paramcd)
            if not (rows & filled).any():
                continue
            result = p.result if variable == "AVAL" else p.result_char
            where_paramcd = paramcd_is(p.paramcd)
            if p.source and result:
                text = f"From {p.source}.{result}" + (f" where {p.filter.text}" if p.filter else "") + "."
                if p.comment:
                    text += " " + p.comment
                item = ValueItem(variable, variable, p.param, var.data_type, where_paramcd, "Predecessor",
                                 predecessor=f"{p.source}.{result}", comment_text=text, where=f"PARAMCD EQ {p.paramcd}")
            else:
                item = ValueItem(variable, variable, p.param, var.data_type, where_paramcd, "Derived",
                                 method=p.method or var.method, comment_text=p.comment,
                                 where=f"PARAMCD EQ {p.paramcd}")
            out.append(item)
    return out


def paramcd_is(paramcd: str) -> Expression:
    """The where clause ``PARAMCD EQ <paramcd>`` as a parsed expression (built, not parsed from text)."""
    return Expression(Compare(ColumnRef(None, "PARAMCD"), "=", Str(paramcd)), f"PARAMCD EQ {paramcd}", "where")


@dataclass
class ValueLists:
    """The value-level elements of one dataset: ValueListDefs, WhereClauseDefs, ItemDefs, and the
    ValueListOID of each variable that has one."""

    value_lists: list
    where_clauses: list
    item_defs: list
    by_variable: dict[str, str]


def value_lists(group: str, dataset: Dataset, frame: pd.DataFrame, widths: dict[str, int], items: list[ValueItem],
                refs: References) -> ValueLists:
    """Build the value-level metadata of one ItemGroupDef (``group``) from ``items``."""
    d = model()
    result = ValueLists([], [], [], {})
    by_var: dict[str, list[ValueItem]] = {}
    for item in items:
        by_var.setdefault(item.variable, []).append(item)
    used_wc: set[str] = set()
    for variable in dataset.variable_names:  # spec order
        if variable not in by_var:
            continue
        parent = dataset.variable(variable)
        vl_oid = f"VL.{group}.{variable}"
        vld = d.ValueListDef(OID=vl_oid)
        for n, item in enumerate(by_var[variable], 1):
            alternatives = where_clauses(item.expression)
            wc_oids = [_unique_oid(group, variable, checks, used_wc) for checks in alternatives]
            it_oid = "IT." + wc_oids[0][3:]
            mask = where_mask(frame, item.expression, dataset)
            values = frame.loc[mask, variable]
            ref = d.ItemRef(ItemOID=it_oid, OrderNumber=n, Mandatory="Yes" if item.mandatory else "No")
            method = refs.method(item.method)
            if method:
                ref.MethodOID = method
            filled = values.notna() if parent.is_numeric else values.astype(str).str.strip().ne("")
            if not filled.any():
                ref.HasNoData = "Yes"
            for wc_oid, checks in zip(wc_oids, alternatives):
                ref.WhereClauseRef.append(d.WhereClauseRef(WhereClauseOID=wc_oid))
                result.where_clauses.append(_where_clause(wc_oid, group, checks))
            vld.ItemRef.append(ref)
            result.item_defs.append(_value_item_def(it_oid, item, parent, values[filled], widths[variable], group,
                                                    refs))
        result.value_lists.append(vld)
        result.by_variable[variable] = vl_oid
    return result


def _unique_oid(group: str, variable: str, checks: tuple[RangeCheck, ...], used: set[str]) -> str:
    """``WC.<group>.<variable>.<values>``, numbered ``.2``, ``.3`` ... when taken; the OID is added to ``used``."""
    suffix = oid_part(".".join(v for c in checks for v in c.values))
    oid = f"WC.{group}.{variable}.{suffix}"
    k = 2
    while oid in used:
        oid, k = f"WC.{group}.{variable}.{suffix}.{k}", k + 1
    used.add(oid)
    return oid


def _where_clause(oid: str, group: str, checks: tuple[RangeCheck, ...]) -> OdmElement:
    """One WhereClauseDef: its RangeChecks (all must hold)."""
    d = model()
    wc = d.WhereClauseDef(OID=oid)
    for c in checks:
        rc = d.RangeCheck(Comparator=c.comparator, SoftHard="Soft", ItemOID=f"IT.{group}.{c.variable}")
        for v in c.values:
            rc.CheckValue.append(d.CheckValue(_content=v))
        wc.RangeCheck.append(rc)
    return wc


def _value_item_def(oid: str, item: ValueItem, parent: Variable, values: pd.Series, parent_width: int, group: str,
                    refs: References) -> OdmElement:
    """The ItemDef of one value: type, length and digits from the records its where clause selects."""
    d = model()
    out = d.ItemDef(OID=oid, Name=item.name, DataType=item.data_type, SASFieldName=item.name[:8])
    numbers = values.to_numpy(dtype="float64") if parent.is_numeric else text_numbers(values)
    if item.data_type not in _ISO:
        if parent.is_numeric:
            out.Length = 8
        else:
            lengths = byte_lengths(values.astype(str).str.rstrip(" "))
            out.Length = int(min(max(lengths.max(initial=0), 1), parent_width))
    if item.data_type == "float":
        out.SignificantDigits = (item.significant_digits if item.significant_digits is not None
                                 else significant_digits(numbers))
    elif item.data_type == "integer" and len(values) and not is_integral(numbers):
        refs.problems.append(Problem(group, None, item.variable, item.where, "declared integer in the value-level "
                                     "metadata but some selected values have decimals", "declare it float",
                                     severity="Warning", rule="DEFINE-TYPE"))
    out.Description = description(item.label)
    cl = refs.codelist(item.codelist)
    if cl:
        out.CodeListRef = d.CodeListRef(CodeListOID=cl)
    org = origin(item.origin, item.source, item.predecessor, f"{group}.{item.variable} where {item.where}", refs,
                 item.pages)
    if org is not None:
        out.Origin.append(org)
    comment = refs.comment(item.comment)
    if item.comment_text and not comment:
        comment = refs.text_comment(f"COM.{oid[3:]}", item.comment_text)
    if comment:
        out.CommentOID = comment
    return out


__all__ = ["ValueItem", "ValueLists", "paramcd_is", "parameter_value_items", "spec_value_items", "value_lists",
           "where_mask"]
