"""The study specification as immutable Python objects.

One workbook per study (Pinnacle 21 specification layout, extended with the
columns the mapping needs) is loaded into a :class:`Spec`. Everything
downstream (mapping, checks, XPT attributes, define.xml) reads these objects;
nothing re-declares what the spec says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

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
    where: str  # e.g. "LBTESTCD EQ GLUC"
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
    filter: str | None = None
    topic_variable: str | None = None
    topic_value: str | None = None
    result_column: str | None = None
    row: int = 0


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
    condition: str | None = None
    row: int = 0


@dataclass(frozen=True)
class UnitConversion:
    """One row of the Units sheet: result in ``from_unit`` times ``factor`` gives ``to_unit``."""

    test: str  # --TESTCD the row applies to, or * for any
    from_unit: str
    to_unit: str
    factor: float
    row: int = 0


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

    def mappings_for(self, dataset: str) -> tuple[Mapping, ...]:
        """Mappings of ``dataset`` in sheet order."""
        return tuple(m for m in self.mappings if m.dataset == dataset)
