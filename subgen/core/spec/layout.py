"""The workbook layout: sheets, their columns, and which are required.

The first seven sheets and their columns follow the Pinnacle 21 specification layout; the
extension sheets (Forms, Sources, Mappings, Units) carry what the mapping needs. Any sheet
named after a dataset (TA, TE, TV, TI, TS, ...) holds that dataset's records verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SheetLayout:
    """A sheet's name, its columns in order, the columns a row must fill, and whether it is required."""

    name: str
    columns: tuple[str, ...]
    required_values: tuple[str, ...]
    required: bool = True
    doc: str = ""


SHEETS: tuple[SheetLayout, ...] = (
    SheetLayout("Study", ("Attribute", "Value"), ("Attribute",),
                doc="Study-level attributes: StudyID, StudyName, StudyDescription, ProtocolName, "
                    "SDTMIGVersion, SDTMVersion, CTVersion, DataCutDate (YYYY-MM-DD), ADaMIGVersion."),
    SheetLayout("Datasets", ("Dataset", "Description", "Class", "Structure", "Purpose", "Key Variables",
                             "Repeating", "Reference Data", "Comment", "Developer Notes"),
                ("Dataset", "Description", "Class", "Structure"),
                doc="One row per dataset; Description is the dataset label (<= 40 characters)."),
    SheetLayout("Variables", ("Order", "Dataset", "Variable", "Label", "Data Type", "Length",
                              "Significant Digits", "Format", "Mandatory", "Core", "Codelist", "Origin",
                              "Source", "Pages", "Method", "Predecessor", "Role", "Comment",
                              "Developer Notes"),
                ("Order", "Dataset", "Variable", "Label", "Data Type", "Origin"),
                doc="One row per variable; Order fixes the column order in the XPT file."),
    SheetLayout("ValueLevel", ("Order", "Dataset", "Variable", "Where Clause", "Description", "Data Type",
                               "Length", "Significant Digits", "Format", "Mandatory", "Codelist", "Origin",
                               "Source", "Pages", "Method", "Predecessor", "Comment", "Developer Notes", "Evaluator",
                               "Range"),
                ("Dataset", "Variable", "Where Clause", "Data Type"),
                doc="Value-level metadata, e.g. LBORRES where LBTESTCD EQ GLUC. A row for SUPPxx.QVAL where "
                    "QNAM EQ name declares a supplemental qualifier of xx: Description is QLABEL, Origin QORIG, "
                    "Evaluator (extension column) QEVAL; the Mappings sheet maps the QNAM on dataset xx. Range "
                    "(extension column): MIN to MAX [by STEP], checked by validation on matching records."),
    SheetLayout("Codelists", ("ID", "Name", "NCI Codelist Code", "Data Type", "Terminology", "Extensible",
                              "Comment", "Order", "Term", "NCI Term Code", "Decoded Value", "Extended Value",
                              "Synonyms"),
                ("ID", "Name", "Term"),
                doc="One row per term. Extended Value = Yes marks a sponsor-extended term; Synonyms "
                    "lists raw spellings (separated by |) that map to the term."),
    SheetLayout("Methods", ("ID", "Name", "Type", "Description", "Expression Context", "Expression Code",
                            "Document", "Pages"),
                ("ID", "Name", "Type", "Description")),
    SheetLayout("Comments", ("ID", "Description", "Document", "Pages"), ("ID", "Description")),
    SheetLayout("Forms", ("Form", "File", "Description", "Subject Column", "Visit Column",
                          "Personal Data Columns"),
                ("Form", "File", "Subject Column"),
                doc="One row per raw CRF export file. Personal Data Columns never reach SDTM."),
    SheetLayout("Sources", ("Dataset", "Source", "Form", "Filter", "Topic Variable", "Topic Value",
                            "Result Column", "Description"),
                ("Dataset", "Source", "Form"),
                doc="Which raw form rows become records of a dataset."),
    SheetLayout("Mappings", ("Dataset", "Source", "Variable", "Algorithm", "Raw Column", "Value", "Condition",
                             "Comment"),
                ("Dataset", "Source", "Variable", "Algorithm"),
                doc="Target variable <- algorithm(raw column, value); Source * applies to every source."),
    SheetLayout("Units", ("Test", "From Unit", "To Unit", "Factor", "Comment"),
                ("Test", "From Unit", "To Unit", "Factor"), required=False,
                doc="Unit conversions: original result x Factor = standard result."),
)

SHEET_BY_NAME = {s.name: s for s in SHEETS}

#: Study sheet attributes that must be present.
REQUIRED_STUDY_ATTRIBUTES = ("StudyID", "StudyName", "StudyDescription", "ProtocolName", "SDTMIGVersion",
                             "SDTMVersion", "CTVersion", "DataCutDate")
