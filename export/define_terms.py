"""define.xml building blocks from the spec: text, origins, codelists, methods and comments.

Everything here turns one spec object into one odmlib Define-XML 2.1 element
(``odmlib.define_2_1.model``); :mod:`export.define` assembles them into the document. OIDs
follow one scheme (``IG.<dataset>``, ``IT.<dataset>.<variable>``, ``CL.<codelist>``,
``MT.<method>`` as the spec names it, ``COM.<comment>`` as the spec names it), so Dataset-JSON and
the manifest can point at the same objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeAlias

import numpy as np
import odmlib.define_2_1.model as define
import pandas as pd

from subgen.core.problems import Problem
from subgen.core.spec.model import Codelist, Comment, Method

#: def:Origin Source values Define-XML 2.1 allows.
ORIGIN_SOURCES = ("Subject", "Investigator", "Vendor", "Sponsor")
#: def:Origin Type values Define-XML 2.1 allows.
ORIGIN_TYPES = ("Collected", "Derived", "Assigned", "Protocol", "Predecessor", "Not Available", "Other")
#: MethodDef Type values (ODM 1.3.2 MethodType).
METHOD_TYPES = ("Computation", "Imputation", "Transpose", "Other")
_OID_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
# odmlib ships no type information: its elements are untyped objects.
OdmElement: TypeAlias = Any


def model() -> ModuleType:
    """The odmlib Define-XML 2.1 model module."""
    return define


def oid_part(text: str) -> str:
    """``text`` made safe for an OID (letters, digits, ``.``, ``_``, ``-``)."""
    return _OID_SAFE.sub("_", text.strip()).strip("_") or "_"


def description(text: str) -> OdmElement:
    """A Description element with one English TranslatedText."""
    d = model()
    desc = d.Description()
    desc.TranslatedText.append(d.TranslatedText(_content=text, lang="en"))
    return desc


def decode(text: str) -> OdmElement:
    """A Decode element with one English TranslatedText."""
    d = model()
    dec = d.Decode()
    dec.TranslatedText.append(d.TranslatedText(_content=text, lang="en"))
    return dec


@dataclass
class References:
    """What the ItemDefs point at, in first-use order, and the problems met while building."""

    codelists: dict[str, None] = field(default_factory=dict)
    methods: dict[str, None] = field(default_factory=dict)
    comments: dict[str, None] = field(default_factory=dict)
    generated_comments: dict[str, str] = field(default_factory=dict)  # OID -> text made from spec content
    generated_codelists: dict[str, object] = field(default_factory=dict)  # OID -> odmlib CodeList
    problems: list[Problem] = field(default_factory=list)
    acrf_leaf: str | None = None  # def:leaf ID of the annotated CRF, when the package has one

    def codelist(self, cid: str | None) -> str | None:
        """Record a use of codelist ``cid``; its OID."""
        if not cid:
            return None
        self.codelists[cid] = None
        return f"CL.{cid}"

    def method(self, mid: str | None) -> str | None:
        """Record a use of method ``mid`` (the spec's ID is the OID)."""
        if not mid:
            return None
        self.methods[mid] = None
        return mid

    def comment(self, cid: str | None) -> str | None:
        """Record a use of comment ``cid`` (the spec's ID is the OID)."""
        if not cid:
            return None
        self.comments[cid] = None
        return cid

    def text_comment(self, oid: str, text: str) -> str:
        """A comment made from spec content (split description, a parameter's free-text comment)."""
        self.generated_comments[oid] = text
        return oid


_PAGES = re.compile(r"^\d+(?:[\s,]+\d+)*$")
_PAGE_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")


def pdf_page_ref(pages: str) -> OdmElement:
    """The def:PDFPageRef of a Pages cell: ``12``, ``12 14`` or ``12, 14`` and ``12-14`` are pages of the PDF
    (PhysicalRef); anything else is a named destination in it (a CRF form name such as ``enrol``)."""
    d = model()
    text = pages.strip()
    m = _PAGE_RANGE.match(text)
    if m:
        return d.PDFPageRef(Type="PhysicalRef", FirstPage=int(m.group(1)), LastPage=int(m.group(2)))
    if _PAGES.match(text):
        return d.PDFPageRef(Type="PhysicalRef", PageRefs=" ".join(re.split(r"[\s,]+", text)))
    return d.PDFPageRef(Type="NamedDestination", PageRefs=" ".join(p for p in re.split(r"[\s,]+", text) if p))


def origin(origin_type: str, source: str | None, predecessor: str | None, where: str, refs: References,
           pages: str | None = None) -> OdmElement | None:
    """The def:Origin of a variable or value (None for an unknown type, reported as a problem).

    A Collected origin with Pages links to the annotated CRF when the package has one.
    """
    d = model()
    if origin_type not in ORIGIN_TYPES:
        refs.problems.append(Problem(where, None, "Origin", origin_type, "not a Define-XML 2.1 origin type; the "
                                     "define.xml gives no origin for it", f"use one of {', '.join(ORIGIN_TYPES)}",
                                     severity="Warning", rule="DEFINE-ORIGIN"))
        return None
    out = d.Origin(Type=origin_type)
    if source:
        if source in ORIGIN_SOURCES:
            out.Source = source
        elif origin_type != "Predecessor":
            refs.problems.append(Problem(where, None, "Source", source, "not a Define-XML 2.1 origin source; left "
                                         "out of define.xml", f"use one of {', '.join(ORIGIN_SOURCES)}",
                                         severity="Warning", rule="DEFINE-ORIGIN"))
    if origin_type == "Predecessor":
        text = predecessor or (source if source and source not in ORIGIN_SOURCES else None)
        if text:
            out.Description = description(text)
    if origin_type == "Collected" and pages and refs.acrf_leaf:
        doc = d.DocumentRef(leafID=refs.acrf_leaf)
        doc.PDFPageRef.append(pdf_page_ref(pages))
        out.DocumentRef.append(doc)
    return out


def codelist_def(cl: Codelist, ct_standard_oid: str | None) -> OdmElement:
    """The CodeList of a spec codelist: NCI codes as Alias, sponsor-extended terms flagged.

    A codelist whose terms carry decodes becomes CodeListItems (decode = the term where a term has
    none); one without decodes becomes EnumeratedItems.
    """
    d = model()
    out = d.CodeList(OID=f"CL.{cl.id}", Name=cl.name, DataType=_codelist_type(cl.data_type))
    if cl.nci_code and ct_standard_oid:
        out.StandardOID = ct_standard_oid
    with_decodes = any(t.decode for t in cl.terms)
    for n, term in enumerate(sorted(cl.terms, key=lambda t: (t.order or 0)), 1):
        if with_decodes:
            item = d.CodeListItem(CodedValue=term.term, OrderNumber=n)
            item.Decode = decode(term.decode or term.term)
        else:
            item = d.EnumeratedItem(CodedValue=term.term, OrderNumber=n)
        if term.extended:
            item.ExtendedValue = "Yes"
        elif term.nci_code:
            item.Alias.append(d.Alias(Context="nci:ExtCodeID", Name=term.nci_code))
        (out.CodeListItem if with_decodes else out.EnumeratedItem).append(item)
    if cl.nci_code:
        out.Alias.append(d.Alias(Context="nci:ExtCodeID", Name=cl.nci_code))
    return out


def _codelist_type(data_type: str) -> str:
    """CodeList DataType: text, integer or float (Define-XML allows no ISO 8601 types here)."""
    return data_type if data_type in ("integer", "float") else "text"


def parameter_codelist(dataset: str, terms: list[tuple[str, str]]) -> OdmElement:
    """The PARAMCD codelist of an ADaM dataset from its Parameters sheet rows (PARAMCD, PARAM)."""
    d = model()
    out = d.CodeList(OID=f"CL.{oid_part(dataset)}.PARAMCD", Name=f"Parameter Code ({dataset})", DataType="text")
    for n, (code, text) in enumerate(terms, 1):
        item = d.CodeListItem(CodedValue=code, OrderNumber=n)
        item.Decode = decode(text)
        out.CodeListItem.append(item)
    return out


def method_def(method: Method, refs: References) -> OdmElement:
    """The MethodDef of a spec method (FormalExpression when the spec gives code)."""
    d = model()
    kind = method.type if method.type in METHOD_TYPES else "Computation"
    if method.type not in METHOD_TYPES:
        refs.problems.append(Problem(f"Methods {method.id}", None, "Type", method.type, "not an ODM method type; "
                                     "written as Computation", f"use one of {', '.join(METHOD_TYPES)}",
                                     severity="Warning", rule="DEFINE-METHOD"))
    out = d.MethodDef(OID=method.id, Name=method.name, Type=kind)
    out.Description = description(method.description)
    if method.expression_code:
        out.FormalExpression.append(d.FormalExpression(Context=method.expression_context or "Other",
                                                       _content=method.expression_code))
    return out


def comment_def(oid: str, text: str) -> OdmElement:
    """A def:CommentDef."""
    d = model()
    out = d.CommentDef(OID=oid)
    out.Description = description(text)
    return out


def comment_text(comment: Comment) -> str:
    """A spec comment's text (its document and pages named when the spec gives them)."""
    text = comment.description
    if comment.document:
        text += f" (see {comment.document}" + (f", pages {comment.pages}" if comment.pages else "") + ")"
    return text


def significant_digits(values: np.ndarray) -> int:
    """Most decimal places among finite ``values`` (shortest repr, at most 15 significant digits)."""
    best = 0
    for v in np.unique(values[np.isfinite(values)]):
        text = format(float(v), ".15g")
        if "e" in text or "E" in text:
            mantissa, exp = text.lower().split("e")
            decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
            best = max(best, max(decimals - int(exp), 0))
        elif "." in text:
            best = max(best, len(text.split(".")[1]))
    return best


def text_numbers(values: pd.Series) -> np.ndarray:
    """Numbers in a character column (non-numbers and blanks as NaN), for value-level metadata."""
    return pd.to_numeric(values.astype(object).where(values.astype(str).str.strip() != ""), errors="coerce"
                         ).to_numpy(dtype="float64", na_value=np.nan)


def is_integral(values: np.ndarray) -> bool:
    """True when every finite value is a whole number."""
    finite = values[np.isfinite(values)]
    return bool(np.all(np.floor(finite) == finite))


__all__ = ["METHOD_TYPES", "ORIGIN_SOURCES", "ORIGIN_TYPES", "References", "codelist_def", "comment_def",
           "comment_text", "decode", "description", "is_integral", "method_def", "model", "oid_part", "origin",
           "pdf_page_ref",
           "parameter_codelist", "significant_digits", "text_numbers"]
