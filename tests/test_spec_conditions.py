"""Conditions in every spec cell that holds one: one language, parsed at load, one evaluator.

Each construct the former regex readers could not take (a quoted ``and``, an apostrophe,
parentheses with ``or``, a column compared with a column) is run where the spec uses it: a Sources
Filter and a Mappings Condition (SDTM engine on a small raw form), an ADaM Derivations Condition
(one Derivations row on a small frame) and a ValueLevel Where Clause (define.xml's where mask and
WhereClauseDefs). Expected rows are worked out by hand from ``AE`` below. A bad cell in each of
those sheets is a located spec problem with its exact message, all reported in one load.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from spec_edit import set_cell

import adam.functions  # noqa: F401  (registers the derivations)
from adam.engine import AdamContext, run_step
from export.define_terms import References
from export.define_vlm import spec_value_items, value_lists, where_mask
from sdtm.engine import BuildContext, build_dataset, required_raw_columns
from subgen.core.expr import Expression, where_clauses
from subgen.core.problems import Problem, ProblemError
from subgen.core.spec.loader import spec_from_tables
from subgen.core.spec.model import Dataset, DerivationStep, Form, Mapping, Source, Spec, StudyInfo, ValueLevel, Variable
from subgen.core.spec.workbook import SheetTable, read_workbook

ROOT = Path(__file__).resolve().parents[1]

#: The raw form (and the records an ADaM row or a where clause sees): one subject per line.
AE = pd.DataFrame({
    "SUBJ": ["1", "2", "3", "4"],
    "AETERM": ["Nausea and vomiting", "Crohn's disease", "Headache", "nausea and vomiting"],
    "AESEV": ["MILD", "SEVERE", "MODERATE", "SEVERE"],
    "AESER": ["Y", "N", "Y", "Y"],
    "AESTDAT": ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"],
    "AEENDAT": ["2025-01-01", "2025-01-05", "2025-01-02", ""],
})

QUOTED_AND = "AETERM = 'Nausea and vomiting'"
APOSTROPHE = "AETERM = 'Crohn''s disease'"
OR_IN_PARENTHESES = "AESER = 'Y' and (AESEV = 'MILD' or AESEV = 'MODERATE')"
COLUMN_TO_COLUMN = "AEENDAT < AESTDAT"

#: Condition semantics (Filter, Condition, Derivations): values trimmed, = ignores case; a blank
#: never meets an ordering comparison.
CONDITIONS = [
    (QUOTED_AND, ["1", "4"]),
    (APOSTROPHE, ["2"]),
    (OR_IN_PARENTHESES, ["1", "3"]),
    (COLUMN_TO_COLUMN, ["3"]),
]


# --------------------------------------------------------------------------- SDTM: Filter and Condition


def _variable(name: str, order: int) -> Variable:
    return Variable("AE", name, name, "text", 200, order)


AE_DATASET = Dataset("AE", "Adverse Events", "EVENTS", "One record per event", ("USUBJID",),
                     (_variable("USUBJID", 1), _variable("AETERM", 2), _variable("AEACN", 3)))
STUDY = StudyInfo("S1", "S1", "Study", "P1", "3.4", "2.0", "2025-03-28", dt.date(2026, 1, 1))


def _sdtm_spec(filter: str | None = None, condition: str | None = None) -> Spec:
    mappings = (Mapping("AE", "*", "USUBJID", "assign_no_ct", "SUBJ"),
                Mapping("AE", "*", "AETERM", "assign_no_ct", "AETERM"),
                Mapping("AE", "*", "AEACN", "hardcode_no_ct", value="X", condition=condition))
    return Spec("memory.xlsx", "", STUDY, (AE_DATASET,), (), forms=(Form("ae", "ae.csv", "AE", "SUBJ", None, ()),),
                sources=(Source("AE", "ae", "ae", filter),), mappings=mappings)


def _build(spec: Spec, tmp_path: Path) -> pd.DataFrame:
    AE.to_csv(tmp_path / "ae.csv", index=False)
    ctx = BuildContext(spec, tmp_path)
    out = build_dataset(ctx, spec.dataset("AE"))
    assert [p for p in ctx.problems if p.severity == "Error"] == []
    return out


@pytest.mark.parametrize("text, subjects", CONDITIONS)
def test_sources_filter(text: str, subjects: list[str], tmp_path: Path) -> None:
    spec = _sdtm_spec(filter=text)
    assert isinstance(spec.sources[0].filter, Expression) and spec.sources[0].filter.text == text
    assert _build(spec, tmp_path)["USUBJID"].tolist() == subjects


@pytest.mark.parametrize("text, subjects", CONDITIONS)
def test_mappings_condition(text: str, subjects: list[str], tmp_path: Path) -> None:
    out = _build(_sdtm_spec(condition=text), tmp_path)
    assert out.loc[out["AEACN"].eq("X").fillna(False), "USUBJID"].tolist() == subjects
    assert out["AEACN"].isna().sum() == 4 - len(subjects)


def test_column_to_column_reads_both_raw_columns() -> None:
    need = required_raw_columns(_sdtm_spec(filter=COLUMN_TO_COLUMN, condition=APOSTROPHE))
    assert {"AEENDAT", "AESTDAT", "AETERM", "SUBJ"} <= need["ae"]


# --------------------------------------------------------------------------- ADaM: Derivations Condition


@pytest.mark.parametrize("text, subjects", CONDITIONS)
def test_derivations_condition(text: str, subjects: list[str]) -> None:
    dataset = Dataset("ADAE", "AE analysis", "OCCURRENCE DATA STRUCTURE", "x", ("SUBJ",),
                      (Variable("ADAE", "FLAG", "Flag", "text", 1, 1),))
    step = DerivationStep("ADAE", ("FLAG",), "derive_var_constant", "value=Y", text)
    spec = Spec("memory.xlsx", "", STUDY, (dataset,), (), derivations=(step,), standard="ADaM")
    frame = AE.astype("string")
    out = run_step(_adam_context(spec), frame, step, dataset)
    assert out.loc[out["FLAG"].eq("Y").fillna(False), "SUBJ"].tolist() == subjects


def _adam_context(spec: Spec) -> AdamContext:
    return AdamContext(spec, Path("."))


# --------------------------------------------------------------------------- ValueLevel Where Clause

#: Where-clause semantics (define.xml): values as written, exactly (case matters: row 4 is lower case).
WHERES = [
    (QUOTED_AND, ["1"], 1),
    ('AETERM EQ "Nausea and vomiting"', ["1"], 1),  # the where surface, the same clause
    (APOSTROPHE, ["2"], 1),
    ("AETERM EQ 'Crohn''s disease'", ["2"], 1),
    (OR_IN_PARENTHESES, ["1", "3"], 2),  # two alternatives: two WhereClauseDefs on the ItemRef
    ("AESEV IN (MILD, MODERATE) AND AESER EQ Y", ["1", "3"], 1),
]

VL_DATASET = Dataset("AE", "Adverse Events", "EVENTS", "x", ("SUBJ",),
                     tuple(Variable("AE", c, c, "text", 40, i) for i, c in enumerate(AE.columns, start=1)))


@pytest.mark.parametrize("text, subjects, alternatives", WHERES)
def test_value_level_where_clause(text: str, subjects: list[str], alternatives: int) -> None:
    vl = ValueLevel("AE", "AETERM", text, "text", 40, 1)
    assert AE.loc[where_mask(AE, vl.where, VL_DATASET), "SUBJ"].tolist() == subjects
    assert len(where_clauses(vl.where)) == alternatives


def test_or_renders_several_where_clause_defs_on_one_item_ref() -> None:
    vl = ValueLevel("AE", "AETERM", OR_IN_PARENTHESES, "text", 40, 1)
    spec = Spec("memory.xlsx", "", STUDY, (VL_DATASET,), (), value_level=(vl,))
    refs = References(spec)
    lists = value_lists("AE", VL_DATASET, AE, {"AETERM": 40}, spec_value_items(spec, VL_DATASET, refs), refs)
    (item_ref,) = lists.value_lists[0].ItemRef
    oids = [r.WhereClauseOID for r in item_ref.WhereClauseRef]
    assert oids == ["WC.AE.AETERM.Y.MILD", "WC.AE.AETERM.Y.MODERATE"]
    checks = [[(rc.ItemOID, rc.Comparator, [v._content for v in rc.CheckValue]) for rc in wc.RangeCheck]
              for wc in lists.where_clauses]
    assert checks == [[("IT.AE.AESER", "EQ", ["Y"]), ("IT.AE.AESEV", "EQ", ["MILD"])],
                      [("IT.AE.AESER", "EQ", ["Y"]), ("IT.AE.AESEV", "EQ", ["MODERATE"])]]


# --------------------------------------------------------------------------- located problems at load


@pytest.fixture(scope="module")
def sdtm_tables() -> dict[str, SheetTable]:
    return read_workbook(ROOT / "specs" / "ms_exo.xlsx")


@pytest.fixture(scope="module")
def adam_tables() -> dict[str, SheetTable]:
    return read_workbook(ROOT / "specs" / "ms_exo_adam.xlsx")


def _problems(tables: dict[str, SheetTable]) -> list[Problem]:
    with pytest.raises(ProblemError) as err:
        spec_from_tables(tables, Path("spec.xlsx"))
    return err.value.problems


def _line(p: Problem) -> tuple:
    return p.rule, p.where, p.row, p.column, p.value, p.message, p.fix


def test_every_bad_sdtm_cell_is_reported_where_it_is(sdtm_tables: dict[str, SheetTable]) -> None:
    tables = dict(sdtm_tables)
    filter_row = set_cell(tables, "Sources", {"Dataset": "AE"}, "Filter", "AETERM = 'Crohn's disease'")
    condition_row = set_cell(tables, "Mappings", {"Dataset": "AE", "Variable": "AEENRF"}, "Condition",
                             "AEONGO == 'Y'")
    where_row = set_cell(tables, "ValueLevel", {"Dataset": "TS", "Variable": "TSVAL"}, "Where Clause",
                         "TSPARMCD EQ")
    compare_row = set_cell(tables, "ValueLevel", {"Dataset": "SUPPDM"}, "Where Clause", "QNAM = QVAL")
    assert sorted(_line(p) for p in _problems(tables) if p.rule in ("SPEC-CONDITION", "SPEC-WHERE")) == sorted([
        ("SPEC-CONDITION", "spec.xlsx [ValueLevel]", where_row, "Where Clause", "TSPARMCD EQ",
         'cannot read where clause "TSPARMCD EQ" at character 12: expected a value',
         "write e.g. TSPARMCD EQ GLUC or TSPARMCD IN (GLUC, HBA1C)"),
        ("SPEC-WHERE", "spec.xlsx [ValueLevel]", compare_row, "Where Clause", "QNAM = QVAL",
         'define.xml cannot express the where clause "QNAM = QVAL": QNAM is compared with the column QVAL (a '
         "RangeCheck compares a variable with values); a Define-XML RangeCheck compares one variable with values "
         "(EQ, NE, LT, LE, GT, GE, IN, NOTIN), RangeChecks are joined with and, alternatives with or",
         "write e.g. LBTESTCD EQ NFLP AND LBSPEC IN (SERUM, PLASMA)"),
        ("SPEC-CONDITION", "spec.xlsx [Sources]", filter_row, "Filter", "AETERM = 'Crohn's disease'",
         """cannot read condition "AETERM = 'Crohn's disease'" at character 17: the value ends at this quote; """
         "a quote inside a value is written twice", "write e.g. AETERM = 'Crohn''s disease'"),
        ("SPEC-CONDITION", "spec.xlsx [Mappings]", condition_row, "Condition", "AEONGO == 'Y'",
         """cannot read condition "AEONGO == 'Y'" at character 9: expected a quoted value, a number or a column """
         "(the comparators are =, !=, <, <=, >, >=)", "write e.g. AEONGO = 'Y' or AEONGO <= 4"),
    ])


def test_every_bad_adam_cell_is_reported_where_it_is(adam_tables: dict[str, SheetTable]) -> None:
    tables = dict(adam_tables)
    filter_row = set_cell(tables, "Parameters", {"PARAMCD": "NFLSER"}, "Filter",
                          "LBTESTCD = 'NFLP' and (LBSPEC = 'SERUM'")
    condition_row = set_cell(tables, "Derivations", {"Dataset": "ADAE", "Variable": "ADURU"}, "Condition",
                             "ADURN is not blank and")
    assert sorted(_line(p) for p in _problems(tables) if p.rule == "SPEC-CONDITION") == sorted([
        ("SPEC-CONDITION", "spec.xlsx [Parameters]", filter_row, "Filter", "LBTESTCD = 'NFLP' and (LBSPEC = 'SERUM'",
         """cannot read condition "LBTESTCD = 'NFLP' and (LBSPEC = 'SERUM'" at character 40: a ( is not closed """
         "by )", "write e.g. (LBSPEC = 'A' or LBSPEC = 'B') and OTHER is blank"),
        ("SPEC-CONDITION", "spec.xlsx [Derivations]", condition_row, "Condition", "ADURN is not blank and",
         'cannot read condition "ADURN is not blank and" at character 23: expected a condition',
         "write e.g. ADURN = 'Y'"),
    ])


def test_the_demo_cells_with_the_new_constructs_load(sdtm_tables: dict[str, SheetTable]) -> None:
    tables = dict(sdtm_tables)
    set_cell(tables, "Sources", {"Dataset": "AE"}, "Filter", f"{APOSTROPHE} or not ({QUOTED_AND})")
    set_cell(tables, "Mappings", {"Dataset": "AE", "Variable": "AEENRF"}, "Condition", "AEONGO = AESER")
    set_cell(tables, "ValueLevel", {"Dataset": "TS", "Variable": "TSVAL"}, "Where Clause",
             "TSPARMCD = 'TBLIND' or TSPARMCD = 'X''Y'")
    spec = spec_from_tables(tables, Path("spec.xlsx"))
    vl = next(v for v in spec.value_level if v.dataset == "TS" and v.variable == "TSVAL")
    assert [[c.values for c in alt] for alt in where_clauses(vl.where)] == [[("TBLIND",)], [("X'Y",)]]
