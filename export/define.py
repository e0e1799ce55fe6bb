"""define.xml (CDISC Define-XML 2.1) for the SDTM or ADaM datasets of a package, from the spec.

Built with odmlib's Define-XML 2.1 object model (``odmlib.define_2_1.model``), never from string
templates, and validated against the Define-XML 2.1 XSD set that odmlib ships
(``odmlib/schemas/define/2.1``) every time it is written: a schema error stops the package.

What goes in, and from where
    * ``def:Standards``: SDTMIG (or ADaMIG) and CDISC CT versions from the spec's Study sheet
      (``SDTMIGVersion``, ``CTVersion``; ``ADaMIGVersion``, ``ADaMCTVersion``).
    * One ItemGroupDef per file (a split dataset gives one per part, Define-XML 2.1 section
      4.2.1.3): Datasets sheet label, class, structure, purpose, repeating and reference-data
      flags, keys (``KeySequence``), ``def:leaf`` to the file, ``def:CommentOID``; SDTM datasets
      carry Domain (a SUPP-- dataset and a split part the parent's, with an Alias naming the
      parent domain).
    * One ItemDef per variable of each ItemGroupDef (``IT.<dataset>.<variable>``): label, data
      type, Length (character: the width in the XPT file, which is the longest value; numeric: 8,
      the XPT storage; none for ISO 8601 types, Define-XML 2.1 section 5.3.12), SignificantDigits
      for float (the spec's, else the most decimals in the data), display format, codelist,
      origin (Collected/Derived/Assigned/Protocol/Predecessor with the spec's Source and
      Predecessor), method (``MethodOID`` on the ItemRef), comment, role (SDTM), and
      ``def:HasNoData`` for a variable without values.
    * Value-level metadata (:mod:`export.define_vlm`), CodeLists with NCI codes as Alias and
      ``def:ExtendedValue="Yes"`` on sponsor terms, MethodDefs and CommentDefs for everything
      referenced (:mod:`export.define_terms`); an ADaM dataset with parameters gets a PARAMCD
      codelist from the Parameters sheet when the spec names none.

The timestamps are the package's fixed stamp (data cut or ``SOURCE_DATE_EPOCH``) and the
serialisation is fixed (lxml, two-space indent), so rebuilds give the same bytes. The file
starts with ``<?xml-stylesheet type="text/xsl" href="define2-1.xsl"?>`` so a browser renders it
with the CDISC stylesheet shipped beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import pandas as pd
from lxml import etree
from odmlib.schema_manager import get_schema_path

from export.define_terms import (
    OdmElement,
    References,
    codelist_def,
    comment_def,
    comment_text,
    description,
    method_def,
    model,
    oid_part,
    origin,
    parameter_codelist,
    significant_digits,
)
from export.define_vlm import parameter_value_items, spec_value_items, value_lists
from export.split import SplitPlan
from subgen import __version__
from subgen.core.problems import Problem, ProblemError
from subgen.core.safe_text import xml_text
from subgen.core.spec.model import Dataset, Spec, Variable

STYLESHEET = "define2-1.xsl"
DEFINE_VERSION = "2.1.0"
_ISO = ("date", "datetime", "time", "partialDate", "partialTime", "partialDatetime", "incompleteDatetime",
        "durationDatetime")


@dataclass(frozen=True)
class DefineGroup:
    """One file of the package as define.xml describes it (an ItemGroupDef)."""

    name: str  # dataset name in the file (LB, or LB1 for a split part)
    dataset: Dataset  # the spec dataset (the whole one for a split part)
    label: str
    href: str  # file name the def:leaf points at
    frame: pd.DataFrame  # the values as written (subgen.core.xpt.values.xpt_frame)
    widths: dict[str, int]  # XPT storage width of every variable
    split: SplitPlan | None = None


def study_oids(spec: Spec) -> tuple[str, str]:
    """(Study OID, MetaDataVersion OID) of the spec's define.xml; Dataset-JSON files use the same."""
    sid = oid_part(spec.study.study_id)
    if spec.standard == "ADaM":
        return f"ST.{sid}", f"MDV.{sid}.ADaMIG.{oid_part(spec.study.adamig_version or '')}"
    return f"ST.{sid}", f"MDV.{sid}.SDTMIG.{oid_part(spec.study.sdtmig_version)}"


def item_oid(group: str, variable: str) -> str:
    """OID of a variable's ItemDef."""
    return f"IT.{group}.{variable}"


def _standards(spec: Spec) -> tuple[object, str, str | None]:
    """def:Standards, the IG standard OID and the CT standard OID codelists point at."""
    d = model()
    attrs = dict(spec.study.attributes)
    stds = d.Standards()
    if spec.standard == "ADaM":
        ig = f"STD.ADaMIG.{spec.study.adamig_version}"
        stds.Standard.append(d.Standard(OID=ig, Name="ADaMIG", Type="IG", Version=spec.study.adamig_version or "",
                                        Status="Final"))
        ct = None
        if attrs.get("ADaMCTVersion"):
            stds.Standard.append(d.Standard(OID=f"STD.CT.ADaM.{attrs['ADaMCTVersion']}", Name="CDISC/NCI", Type="CT",
                                            PublishingSet="ADaM", Version=attrs["ADaMCTVersion"], Status="Final"))
        if spec.study.ct_version:
            stds.Standard.append(d.Standard(OID=f"STD.CT.SDTM.{spec.study.ct_version}", Name="CDISC/NCI",
                                            Type="CT", PublishingSet="SDTM", Version=spec.study.ct_version,
                                            Status="Final"))
        return stds, ig, ct
    ig = f"STD.SDTMIG.{spec.study.sdtmig_version}"
    stds.Standard.append(d.Standard(OID=ig, Name="SDTMIG", Type="IG", Version=spec.study.sdtmig_version,
                                    Status="Final"))
    ct = f"STD.CT.SDTM.{spec.study.ct_version}"
    stds.Standard.append(d.Standard(OID=ct, Name="CDISC/NCI", Type="CT", PublishingSet="SDTM",
                                    Version=spec.study.ct_version, Status="Final"))
    return stds, ig, ct


def _has_values(series: pd.Series, numeric: bool) -> bool:
    """Does the column hold any value (numeric: not missing; character: not blank)?

    Character columns are compared with "" first (vectorised); only what is left - normally the
    first value decides - is stripped, once per distinct value.
    """
    if numeric:
        return bool(series.notna().any())
    values = series.to_numpy(dtype=object)
    filled = values[(values != "") & pd.notna(values)]
    if len(filled) == 0:
        return False
    if str(filled[0]).strip():
        return True
    return any(str(v).strip() for v in pd.unique(filled))


def _item_def(group: DefineGroup, var: Variable, vl_oid: str | None, refs: References,
              codelist_oid: str | None) -> OdmElement:
    """The ItemDef of one variable of one ItemGroupDef."""
    d = model()
    out = d.ItemDef(OID=item_oid(group.name, var.name), Name=var.name, DataType=var.data_type,
                    SASFieldName=var.name)
    if var.data_type not in _ISO:
        out.Length = 8 if var.is_numeric else int(group.widths[var.name])
    if var.data_type == "float":
        out.SignificantDigits = (var.significant_digits if var.significant_digits is not None else
                                 significant_digits(group.frame[var.name].to_numpy(dtype="float64")))
    if var.display_format:
        out.DisplayFormat = var.display_format
    comment = refs.comment(var.comment)
    if comment:
        out.CommentOID = comment
    out.Description = description(var.label)
    cl = refs.codelist(var.codelist) or codelist_oid
    if cl:
        out.CodeListRef = d.CodeListRef(CodeListOID=cl)
    org = origin(var.origin, var.source, var.predecessor, f"{group.dataset.name}.{var.name}", refs, var.pages)
    if org is not None:
        out.Origin.append(org)
    if vl_oid:
        out.ValueListRef = d.ValueListRef(ValueListOID=vl_oid)
    return out


def _item_group(spec: Spec, group: DefineGroup, ig_std: str, refs: References) -> OdmElement:
    """The ItemGroupDef of one file."""
    d = model()
    ds = group.dataset
    sdtm = spec.standard != "ADaM"
    igd = d.ItemGroupDef(OID=f"IG.{group.name}", Name=group.name, Repeating="Yes" if ds.repeating else "No",
                         IsReferenceData="Yes" if ds.reference_data else "No", SASDatasetName=group.name,
                         Purpose=ds.purpose or ("Tabulation" if sdtm else "Analysis"), Structure=ds.structure,
                         ArchiveLocationID=f"LF.{group.name}", StandardOID=ig_std)
    parent = ds.name[4:] if sdtm and ds.name.startswith("SUPP") and len(ds.name) > 4 else None
    if sdtm:
        igd.Domain = parent or ds.name
    comment = _group_comment(spec, group, refs)
    if comment:
        igd.CommentOID = comment
    igd.Description = description(group.label)
    keys = {k: i for i, k in enumerate(ds.keys, 1)}
    for n, var in enumerate(ds.variables, 1):
        ref = d.ItemRef(ItemOID=item_oid(group.name, var.name), OrderNumber=n,
                        Mandatory="Yes" if var.mandatory else "No")
        if var.name in keys:
            ref.KeySequence = keys[var.name]
        method = refs.method(var.method)
        if method:
            ref.MethodOID = method
        elif var.origin == "Derived":
            refs.problems.append(Problem(f"{ds.name}.{var.name}", None, "Method", None, "the variable is Derived but "
                                         "the spec names no method; Define-XML 2.1 expects a MethodDef for every "
                                         "derived variable", "name a method of the Methods sheet in the Variables "
                                         "sheet's Method column", severity="Warning", rule="DEFINE-METHOD"))
        if sdtm and var.role:
            ref.Role = var.role
        if not _has_values(group.frame[var.name], var.is_numeric):
            ref.HasNoData = "Yes"
        igd.ItemRef.append(ref)
    domain_label = None
    if group.split is not None:
        domain_label = ds.label
    elif parent:
        try:
            domain_label = spec.dataset(parent).label
        except KeyError:
            domain_label = None
    if domain_label:
        igd.Alias.append(d.Alias(Context="DomainDescription", Name=domain_label))
    igd.Class = d.Class(Name=ds.class_)
    igd.leaf = d.leaf(ID=f"LF.{group.name}", href=group.href, title=d.title(_content=group.href))
    return igd


def _group_comment(spec: Spec, group: DefineGroup, refs: References) -> str | None:
    """The dataset comment: the spec's, with the split described when the dataset is split."""
    ds = group.dataset
    if group.split is None:
        return refs.comment(ds.comment)
    text = group.split.describe
    if ds.comment:
        spec_comment = next((c for c in spec.comments if c.id == ds.comment), None)
        if spec_comment is not None:
            text = comment_text(spec_comment) + " " + text
    return refs.text_comment(f"COM.{oid_part(ds.name)}.SPLIT", text)


def build_define(spec: Spec, groups: list[DefineGroup], created: datetime, acrf: str | None = None
                 ) -> tuple[object, list[Problem]]:
    """The odmlib ODM document of ``groups`` (in file order) and the problems met (warnings).

    ``acrf`` is the annotated CRF's file name beside define.xml (``acrf.pdf``): def:AnnotatedCRF
    points at it and Collected origins with Pages link to their pages in it.
    """
    d = model()
    refs = References(acrf_leaf="LF.acrf" if acrf else None)
    study_oid, mdv_oid = study_oids(spec)
    kind = "ADaM" if spec.standard == "ADaM" else "SDTM"
    stamp = created.isoformat(timespec="seconds")
    odm = d.ODM(FileOID=f"DEF.{oid_part(spec.study.study_id)}.{kind}", FileType="Snapshot", ODMVersion="1.3.2",
                CreationDateTime=stamp, AsOfDateTime=spec.study.data_cut.isoformat() + "T00:00:00",
                Originator="subgen", SourceSystem="subgen", SourceSystemVersion=__version__, Context="Submission")
    study = d.Study(OID=study_oid)
    study.GlobalVariables = d.GlobalVariables(StudyName=d.StudyName(_content=spec.study.study_name),
                                              StudyDescription=d.StudyDescription(_content=spec.study.description),
                                              ProtocolName=d.ProtocolName(_content=spec.study.protocol_name))
    mdv = d.MetaDataVersion(OID=mdv_oid, Name=f"{spec.study.study_name} {kind} define.xml",
                            Description=f"{kind} datasets of {spec.study.study_id}, data cut "
                                        f"{spec.study.data_cut.isoformat()}", DefineVersion=DEFINE_VERSION)
    stds, ig_std, ct_std = _standards(spec)
    mdv.Standards = stds
    if acrf:
        mdv.AnnotatedCRF = d.AnnotatedCRF(DocumentRef=d.DocumentRef(leafID="LF.acrf"))
    item_defs, value_item_defs = [], []
    for group in groups:
        ds = group.dataset
        items = spec_value_items(spec, ds, refs)
        covered = {i.variable for i in items}
        if spec.standard == "ADaM":
            items += parameter_value_items(spec, ds, group.frame, covered)
        vls = value_lists(group.name, ds, group.frame, group.widths, items, refs)
        mdv.ValueListDef.extend(vls.value_lists)
        mdv.WhereClauseDef.extend(vls.where_clauses)
        value_item_defs.extend(vls.item_defs)
        mdv.ItemGroupDef.append(_item_group(spec, group, ig_std, refs))
        param_cl = _parameter_codelist(spec, ds, group.frame, refs)
        for var in ds.variables:
            item_defs.append(_item_def(group, var, vls.by_variable.get(var.name), refs,
                                       param_cl if var.name == "PARAMCD" else None))
    mdv.ItemDef.extend(item_defs + value_item_defs)
    for cl in spec.codelists:
        if cl.id in refs.codelists:
            mdv.CodeList.append(codelist_def(cl, ct_std))
    mdv.CodeList.extend(refs.generated_codelists[k] for k in sorted(refs.generated_codelists))
    for m in spec.methods:
        if m.id in refs.methods:
            mdv.MethodDef.append(method_def(m, refs))
    for c in spec.comments:
        if c.id in refs.comments:
            mdv.CommentDef.append(comment_def(c.id, comment_text(c)))
    for oid in sorted(refs.generated_comments):
        mdv.CommentDef.append(comment_def(oid, refs.generated_comments[oid]))
    if acrf:
        mdv.leaf.append(d.leaf(ID="LF.acrf", href=acrf, title=d.title(_content="Annotated CRF")))
    study.MetaDataVersion = mdv
    odm.Study = study
    return odm, refs.problems


def _parameter_codelist(spec: Spec, ds: Dataset, frame: pd.DataFrame, refs: References) -> str | None:
    """OID of the PARAMCD codelist made from the Parameters sheet (None when the spec names one or has none)."""
    if spec.standard != "ADaM" or "PARAMCD" not in ds.variable_names or ds.variable("PARAMCD").codelist:
        return None
    present = set(frame["PARAMCD"].astype(str))
    terms = [(p.paramcd, p.param) for p in spec.parameters_for(ds.name) if p.paramcd in present]
    if not terms:
        return None
    cl = parameter_codelist(ds.name, terms)
    refs.generated_codelists[cl.OID] = cl
    return cl.OID


def define_bytes(odm: OdmElement) -> bytes:
    """The document as UTF-8 bytes: XML declaration, the stylesheet instruction, two-space indent."""
    # a control character in the spec's text cannot be XML: U+FFFD stands for it (subgen.core.safe_text)
    root = etree.fromstring(xml_text(odm.to_xml_string()).encode("utf-8"))
    etree.indent(root, space="  ")
    pi = etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{STYLESHEET}"')
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(pi) + b"\n"
            + etree.tostring(root, encoding="UTF-8", xml_declaration=False) + b"\n")


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(get_schema_path("define", "2.1")))


def xsd_problems(data: bytes, where: str) -> list[Problem]:
    """Errors of ``data`` against the Define-XML 2.1 XSD set (empty when valid)."""
    try:
        doc = etree.fromstring(data)
    except etree.XMLSyntaxError as exc:
        return [Problem(where, None, None, None, f"not well-formed XML: {exc}", rule="DEFINE-XSD")]
    schema = _schema()
    if schema.validate(doc):
        return []
    return [Problem(where, e.line, None, None, f"Define-XML 2.1 schema: {e.message}",
                    "this is a bug in subgen's define.xml generator: report it with the spec", rule="DEFINE-XSD")
            for e in schema.error_log]  # type: ignore[attr-defined]  # lxml-stubs: _ErrorLog declared empty


def write_define(spec: Spec, groups: list[DefineGroup], path: Path, created: datetime, acrf: str | None = None
                 ) -> list[Problem]:
    """Build, validate against the XSD and write define.xml at ``path``; returns the warnings met.

    Raises :class:`ProblemError` (nothing written) when the document is not schema-valid.
    """
    odm, problems = build_define(spec, groups, created, acrf)
    problems = list(dict.fromkeys(problems))  # a split dataset's parts repeat their variables' warnings
    data = define_bytes(odm)
    errors = xsd_problems(data, str(path))
    if errors:
        raise ProblemError(errors, f"{path}: the generated define.xml is not valid Define-XML 2.1")
    path.write_bytes(data)
    return problems


def stylesheet_path() -> Path:
    """The CDISC define2-1.xsl shipped with subgen (MIT licence, Lex Jansen; see its header)."""
    return Path(__file__).resolve().parent / "data" / STYLESHEET


__all__ = ["DEFINE_VERSION", "DefineGroup", "STYLESHEET", "build_define", "define_bytes", "item_oid", "study_oids",
           "stylesheet_path", "write_define", "xsd_problems"]
