"""The study specification as immutable Python objects.

One workbook per study (Pinnacle 21 specification layout, extended with the
columns the mapping needs) is loaded into a :class:`Spec`. Everything
downstream (mapping, checks, XPT attributes, define.xml) reads these objects;
nothing re-declares what the spec says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Literal

from subgen.core.expr import ColumnRef, Compare, Expression, as_expression
from subgen.core.spec.cells import Arguments as Arguments  # the parsed cell types, re-exported
from subgen.core.spec.cells import RawPart as RawPart
from subgen.core.spec.cells import RawRef as RawRef
from subgen.core.spec.cells import ValueRange as ValueRange
from subgen.core.spec.cells import parse_arguments, parse_raw_ref

#: Define-XML 2.1 data types allowed in the Data Type column.
CHAR_TYPES = frozenset({"text", "date", "datetime", "time", "partialDate", "partialTime",
                        "partialDatetime", "incompleteDatetime", "durationDatetime"})
NUM_TYPES = frozenset({"integer", "float"})
DATA_TYPES = CHAR_TYPES | NUM_TYPES

Origin = Literal["Collected", "Derived", "Assigned", "Protocol", "Predecessor", "Not Available"]
ORIGINS: frozenset[str] = frozenset({"Collected", "Derived", "Assigned", "Protocol", "Predecessor",
                                     "Not Available"})
CORE_VALUES = frozenset({"Req", "Exp", "Perm"})


@dataclass(frozen=True)
class CodelistTerm:
    """One term of a codelist: the submission value and how raw values map to it."""

    term: str
    nci_code: str | None = None
    decode: str | None = None
    extended: bool = False  # sponsor-extended term (not in CDISC CT)
    synonyms: tuple[str, ...] = ()  # raw values (compared case-insensitively, trimmed) that map here
    order: int = 0


@dataclass(frozen=True)
class Codelist:
    """A codelist as declared in the spec's Codelists sheet."""

    id: str
    name: str
    nci_code: str | None
    data_type: str
    terminology: str | None  # e.g. "CDISC/NCI", "ISO 3166", "MedDRA"; None for sponsor lists
    extensible: bool
    terms: tuple[CodelistTerm, ...]

    @property
    def submission_values(self) -> tuple[str, ...]:
        """Every allowed submission value, in codelist order."""
        return tuple(t.term for t in self.terms)

    def lookup_table(self) -> dict[str, str]:
        """Map normalised raw text (term, decode and synonyms, upper-cased, trimmed) to the term."""
        table: dict[str, str] = {}
        for t in self.terms:
            for raw in (t.term, t.decode, *t.synonyms):
                if raw:
                    table.setdefault(normalise_term(raw), t.term)
        return table

    def decode_table(self) -> dict[str, str]:
        """Map submission value to its decoded value (falls back to the value itself)."""
        return {t.term: (t.decode or t.term) for t in self.terms}


def normalise_term(value: str) -> str:
    """Normalise raw text for codelist matching: trim, collapse blanks, upper-case."""
    return " ".join(str(value).split()).upper()


@dataclass(frozen=True)
class Variable:
    """One row of the Variables sheet."""

    dataset: str
    name: str
    label: str
    data_type: str
    length: int | None
    order: int
    core: str = "Perm"
    mandatory: bool = False
    codelist: str | None = None
    origin: str = "Derived"
    source: str | None = None
    pages: str | None = None
    method: str | None = None
    predecessor: str | None = None
    role: str | None = None
    significant_digits: int | None = None
    display_format: str | None = None
    comment: str | None = None
    row: int = 0  # workbook row, for messages

    @property
    def is_numeric(self) -> bool:
        """True when the variable is stored as an 8-byte numeric in XPT."""
        return self.data_type in NUM_TYPES


@dataclass(frozen=True)
class ValueLevel:
    """One row of the ValueLevel sheet: metadata for a variable under a where clause."""

    dataset: str
    variable: str
    where: Expression  # e.g. LBTESTCD EQ GLUC (either surface; ``where.text`` as written); text is parsed
    data_type: str
    length: int | None
    order: int
    codelist: str | None = None
    origin: str = "Collected"
    method: str | None = None
    significant_digits: int | None = None
    mandatory: bool = False
    description: str | None = None
    pages: str | None = None
    comment: str | None = None
    row: int = 0
    evaluator: str | None = None  # QEVAL of a supplemental qualifier
    source: str | None = None  # origin source (Investigator, Sponsor, Subject, Vendor), as in define.xml
    range: ValueRange | None = None  # the Range cell, parsed at load (None when blank)

    def __post_init__(self) -> None:
        """Parse a where clause given as text (the loader gives it parsed)."""
        object.__setattr__(self, "where", as_expression(self.where, where_clause=True))

    @property
    def qnam(self) -> str | None:
        """The QNAM when this row declares a supplemental qualifier (SUPPxx.QVAL where QNAM EQ name)."""
        if not (self.dataset.startswith("SUPP") and self.variable == "QVAL"):
            return None
        root = self.where.root
        if isinstance(root, Compare) and root.op == "=" and root.left.key == "QNAM" \
                and not isinstance(root.right, ColumnRef):
            return root.right.text
        return None


@dataclass(frozen=True)
class Dataset:
    """One row of the Datasets sheet with its variables in spec order."""

    name: str
    label: str
    class_: str
    structure: str
    keys: tuple[str, ...]
    variables: tuple[Variable, ...]
    purpose: str = "Tabulation"
    repeating: bool = True
    reference_data: bool = False
    comment: str | None = None
    row: int = 0

    @property
    def variable_names(self) -> tuple[str, ...]:
        """Variable names in spec order."""
        return tuple(v.name for v in self.variables)

    def variable(self, name: str) -> Variable:
        """The variable called ``name`` (KeyError naming the dataset when absent)."""
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(f"{self.name} has no variable {name}")


@dataclass(frozen=True)
class Method:
    """One row of the Methods sheet."""

    id: str
    name: str
    type: str
    description: str
    expression_context: str | None = None
    expression_code: str | None = None
    document: str | None = None
    pages: str | None = None


@dataclass(frozen=True)
class Comment:
    """One row of the Comments sheet."""

    id: str
    description: str
    document: str | None = None
    pages: str | None = None


@dataclass(frozen=True)
class Form:
    """One raw CRF form (one CSV of the EDC export), from the Forms sheet."""

    name: str
    file: str
    description: str
    subject_column: str
    visit_column: str | None
    personal_data: tuple[str, ...]  # columns holding identifying data; never mapped unless on purpose
    row: int = 0


@dataclass(frozen=True)
class Source:
    """How one group of SDTM records arises from one raw form (Sources sheet).

    A findings test spread over several raw columns is one source per column:
    ``topic_value`` names the test and ``result_column`` the raw column holding its result.
    """

    dataset: str
    name: str
    form: str
    filter: Expression | None = None  # text is parsed
    topic_variable: str | None = None
    topic_value: str | None = None
    result_column: str | None = None
    row: int = 0

    def __post_init__(self) -> None:
        """Parse a Filter given as text (the loader gives it parsed)."""
        object.__setattr__(self, "filter", as_expression(self.filter))

    @cached_property
    def result_columns(self) -> tuple[tuple[str, str], ...]:
        """(raw column, item number) for each column the Result Column names (see :func:`expand_columns`).

        Read once: the loader reads it when it checks the Sources sheet (a ValueError is reported
        there), and every later use gets the same tuple.
        """
        return expand_columns(self.result_column) if self.result_column else ()

    @property
    def is_repeated(self) -> bool:
        """True when one raw row gives one record per result column (a questionnaire's items)."""
        return len(self.result_columns) > 1 or "{n}" in (self.topic_value or "")

    def topic_for(self, number: str) -> str | None:
        """The Topic Value for the item numbered ``number`` (``{n}`` in the template replaced)."""
        return self.topic_value.replace("{n}", number) if self.topic_value else None


_RANGE = re.compile(r"^([A-Za-z_][A-Za-z_0-9]*?)(\d+)\s*\.\.\s*([A-Za-z_][A-Za-z_0-9]*?)(\d+)$")
_SINGLE = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")


def expand_columns(text: str) -> tuple[tuple[str, str], ...]:
    """Columns named by a Result Column cell, each with its item number (the trailing digits, as written).

    ``EDSS`` -> (EDSS, ''); ``DQOL01..DQOL15`` -> DQOL01 .. DQOL15 (zero padding kept);
    several parts are separated by commas: ``MSQOL01..MSQOL46, MSQOL48..MSQOL54``.
    Raises ValueError with the way to write it when a part cannot be read.
    """
    out: list[tuple[str, str]] = []
    for part in (p.strip() for p in text.split(",")):
        m = _RANGE.match(part)
        if m:
            prefix, lo, prefix2, hi = m.groups()
            if prefix != prefix2 or int(lo) > int(hi):
                raise ValueError(f"cannot read column range {part!r}: both ends need the same prefix and the "
                                 "first number must not exceed the second (e.g. DQOL01..DQOL46)")
            width = len(lo)
            out.extend((f"{prefix}{i:0{width}d}", f"{i:0{width}d}") for i in range(int(lo), int(hi) + 1))
        elif _SINGLE.match(part):
            digits = re.search(r"(\d+)$", part)
            out.append((part, digits.group(1) if digits else ""))
        else:
            raise ValueError(f"cannot read result column {part!r}; write COL, COL01..COL46, or a comma-separated "
                             "list of those")
    return tuple(out)


@dataclass(frozen=True)
class Mapping:
    """One row of the Mappings sheet: target variable <- algorithm(raw column, value).

    ``source`` is a Sources name, or ``*`` for every source of the dataset. Dataset-level
    derivations (after all sources are stacked) use source ``*`` too; the algorithm decides.
    """

    dataset: str
    source: str
    variable: str
    algorithm: str
    raw_column: str | None = None
    value: str | None = None
    condition: Expression | None = None  # text is parsed
    row: int = 0
    raw: RawRef | None = field(default=None, compare=False)  # ``raw_column`` parsed (set from it)

    def __post_init__(self) -> None:
        """Parse a Condition given as text (the loader gives it parsed) and the Raw Column cell."""
        object.__setattr__(self, "condition", as_expression(self.condition))
        object.__setattr__(self, "raw", parse_raw_ref(self.raw_column) if self.raw_column else None)


@dataclass(frozen=True)
class UnitConversion:
    """One row of the Units sheet: result in ``from_unit`` times ``factor`` gives ``to_unit``."""

    test: str  # --TESTCD the row applies to, or * for any
    from_unit: str
    to_unit: str
    factor: float
    row: int = 0


@dataclass(frozen=True)
class AnalysisParameter:
    """One row of an ADaM workbook's Parameters sheet: a BDS parameter and where its values come from.

    A collected parameter names its SDTM source (``source`` dataset, ``filter`` on its records,
    ``result``/``result_char`` variables, ``date`` variable); a derived parameter has no source and
    is created by a ``derive_param_*`` row of the Derivations sheet that names it.
    """

    dataset: str
    paramcd: str
    param: str
    paramn: int | None = None
    parcat1: str | None = None
    source: str | None = None  # SDTM dataset, e.g. LB
    filter: Expression | None = None  # condition on the SDTM records, e.g. LBTESTCD = 'HBA1C'; text is parsed
    result: str | None = None  # numeric result variable, e.g. LBSTRESN
    result_char: str | None = None  # character result variable, e.g. LBSTRESC
    date: str | None = None  # --DTC variable giving ADT, e.g. LBDTC
    method: str | None = None
    comment: str | None = None
    row: int = 0

    def __post_init__(self) -> None:
        """Parse a Filter given as text (the loader gives it parsed)."""
        object.__setattr__(self, "filter", as_expression(self.filter))


@dataclass(frozen=True)
class AnalysisWindow:
    """One row of the Windows sheet: an analysis visit as a range of analysis days (ADY)."""

    dataset: str
    parameters: tuple[str, ...]  # PARAMCDs the window applies to; () = every parameter of the dataset
    avisitn: float
    avisit: str
    target: int | None
    low: int | None  # None = open below
    high: int | None  # None = open above
    selection: str  # rule picking one record per window for ANL01FL, e.g. CLOSEST-LATER
    row: int = 0


@dataclass(frozen=True)
class DerivationStep:
    """One row of the Derivations sheet: variables <- function(arguments) [where condition], in sheet order."""

    dataset: str
    variables: tuple[str, ...]
    function: str
    arguments: str | None = None
    condition: Expression | None = None  # text is parsed
    method: str | None = None
    comment: str | None = None
    row: int = 0
    args: Arguments | None = field(default=None, compare=False)  # ``arguments`` parsed (the loader gives it)

    def __post_init__(self) -> None:
        """Parse a Condition given as text and the Arguments cell (the loader gives both parsed).

        ``args`` stays None when the Arguments text cannot be read (the loader reports it).
        """
        object.__setattr__(self, "condition", as_expression(self.condition))
        if self.args is None:
            try:
                object.__setattr__(self, "args", parse_arguments(self.arguments))
            except ValueError:
                pass


@dataclass(frozen=True)
class StudyInfo:
    """The Study sheet."""

    study_id: str
    study_name: str
    description: str
    protocol_name: str
    sdtmig_version: str
    sdtm_version: str
    ct_version: str
    data_cut: date
    adamig_version: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()  # every attribute as written, for TS tokens


@dataclass(frozen=True)
class Spec:
    """A whole study specification."""

    path: str
    sha256: str
    study: StudyInfo
    datasets: tuple[Dataset, ...]
    codelists: tuple[Codelist, ...]
    value_level: tuple[ValueLevel, ...] = ()
    methods: tuple[Method, ...] = ()
    comments: tuple[Comment, ...] = ()
    forms: tuple[Form, ...] = ()
    sources: tuple[Source, ...] = ()
    mappings: tuple[Mapping, ...] = ()
    units: tuple[UnitConversion, ...] = ()
    #: Trial-design data sheets (TA, TE, TV, TI, TS, ...): dataset name -> rows as dicts.
    design_data: tuple[tuple[str, tuple[tuple[tuple[str, str], ...], ...]], ...] = ()
    #: ADaM workbooks only (see subgen/core/spec/adam.py): Parameters, Windows and Derivations sheets.
    parameters: tuple[AnalysisParameter, ...] = ()
    windows: tuple[AnalysisWindow, ...] = ()
    derivations: tuple[DerivationStep, ...] = ()
    standard: str = "SDTM"  # "ADaM" for an analysis-dataset workbook

    def dataset(self, name: str) -> Dataset:
        """The dataset called ``name``."""
        for d in self.datasets:
            if d.name == name:
                return d
        raise KeyError(f"the spec has no dataset {name}")

    def codelist(self, cid: str) -> Codelist:
        """The codelist with id ``cid``."""
        for c in self.codelists:
            if c.id == cid:
                return c
        raise KeyError(f"the spec has no codelist {cid}")

    def form(self, name: str) -> Form:
        """The raw form called ``name``."""
        for f in self.forms:
            if f.name == name:
                return f
        raise KeyError(f"the spec has no form {name}")

    def design_rows(self, dataset: str) -> list[dict[str, str]]:
        """Rows of the trial-design data sheet for ``dataset`` (empty when there is none)."""
        for name, rows in self.design_data:
            if name == dataset:
                return [dict(r) for r in rows]
        return []

    def sources_for(self, dataset: str) -> tuple[Source, ...]:
        """Sources of ``dataset`` in sheet order."""
        return tuple(s for s in self.sources if s.dataset == dataset)

    def supp_qualifiers(self, parent: str) -> tuple[ValueLevel, ...]:
        """The supplemental qualifiers declared for dataset ``parent`` (ValueLevel rows of SUPP<parent>.QVAL)."""
        return tuple(v for v in self.value_level if v.dataset == f"SUPP{parent}" and v.qnam)

    def mappings_for(self, dataset: str) -> tuple[Mapping, ...]:
        """Mappings of ``dataset`` in sheet order."""
        return tuple(m for m in self.mappings if m.dataset == dataset)

    def parameters_for(self, dataset: str) -> tuple[AnalysisParameter, ...]:
        """Parameters sheet rows of ``dataset`` in sheet order (ADaM workbooks)."""
        return tuple(p for p in self.parameters if p.dataset == dataset)

    def windows_for(self, dataset: str) -> tuple[AnalysisWindow, ...]:
        """Windows sheet rows of ``dataset`` in sheet order (ADaM workbooks)."""
        return tuple(w for w in self.windows if w.dataset == dataset)

    def derivations_for(self, dataset: str) -> tuple[DerivationStep, ...]:
        """Derivations sheet rows of ``dataset`` in sheet order (ADaM workbooks)."""
        return tuple(d for d in self.derivations if d.dataset == dataset)
