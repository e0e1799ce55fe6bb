"""The SDTM mapping contract: algorithms declare their cells, the engine checks every row from that.

No whole-study build: the demo spec is loaded and its Mappings rows are edited in memory.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sdtm.algorithms import REGISTRY
from sdtm.engine import check_mappings, dependency_graph, required_raw_columns
from sdtm.registry import DatasetVariable, RawColumn, Text, algorithm, dependencies
from subgen.core.order import build_order
from subgen.core.problems import Problem, ProblemError
from subgen.core.spec.loader import load_spec
from subgen.core.spec.model import Mapping, Spec

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def spec() -> Spec:
    """The MS demo spec, loaded once."""
    return load_spec(ROOT / "specs" / "ms_exo.xlsx")


def with_row(spec: Spec, row: Mapping) -> Spec:
    """The spec with one more Mappings row."""
    return dataclasses.replace(spec, mappings=(*spec.mappings, row))


def problems_of_row(spec: Spec, row: Mapping) -> list[Problem]:
    """The static problems filed for ``row`` (added to ``spec``)."""
    return [p for p in check_mappings(with_row(spec, row)) if p.row == row.row]


def first_row(spec: Spec, algorithm_name: str) -> Mapping:
    """The demo spec's first Mappings row using ``algorithm_name``."""
    return next(mp for mp in spec.mappings if mp.algorithm == algorithm_name)


def test_the_demo_spec_meets_every_declaration(spec: Spec) -> None:
    assert check_mappings(spec) == []


def test_every_algorithm_declares_its_cells_and_has_a_docstring() -> None:
    assert len(REGISTRY) >= 30
    for alg in REGISTRY.values():
        assert alg.doc, alg.name
        assert alg.raw is None or alg.level == "record", f"{alg.name}: only record algorithms read raw columns"
        for cell in (alg.raw, alg.value):
            assert cell is None or cell.meaning, f"{alg.name}: say what the cell means"


@pytest.mark.parametrize("name", sorted(n for n, a in REGISTRY.items() if a.needs_raw))
def test_a_row_without_the_declared_raw_column_is_a_located_problem(spec: Spec, name: str) -> None:
    row = dataclasses.replace(first_row(spec, name), raw_column=None, row=900)
    assert Problem(f"{spec.path} [Mappings]", 900, "Raw Column", "", f"{name} needs a Raw Column",
                   "name the raw column (COL or form.COL)", rule="SPEC-MAPPING") in problems_of_row(spec, row)


@pytest.mark.parametrize("name", sorted(n for n, a in REGISTRY.items() if a.needs_value))
def test_a_row_without_the_declared_value_is_a_located_problem(spec: Spec, name: str) -> None:
    row = dataclasses.replace(first_row(spec, name), value=None, row=901)
    assert Problem(f"{spec.path} [Mappings]", 901, "Value", "", f"{name} needs a Value",
                   rule="SPEC-MAPPING") in problems_of_row(spec, row)


@pytest.mark.parametrize("name", sorted(n for n, a in REGISTRY.items() if a.level == "dataset"))
def test_a_dataset_level_algorithm_on_one_source_is_a_located_problem(spec: Spec, name: str) -> None:
    row = dataclasses.replace(first_row(spec, name), source="ae", row=902)
    [p] = [p for p in problems_of_row(spec, row) if p.column == "Source"]
    assert (p.value, p.message, p.fix) == ("ae", f"{name} works on the stacked dataset", "set Source to *")


def test_an_optional_cell_may_be_left_empty(spec: Spec) -> None:
    row = dataclasses.replace(first_row(spec, "derive_seq"), value=None, row=903)
    assert problems_of_row(spec, row) == []


@pytest.mark.parametrize(("name", "value", "message"), [
    ("derive_visitnum", "LBDTCX", "LB has no variable LBDTCX"),
    ("derive_lobxfl", "LBTESTCD,LBSPECX", "LB has no variable LBSPECX"),
    ("derive_seq", "USUBJIDX", "AE has no variable USUBJIDX"),
])
def test_a_value_naming_no_variable_of_the_dataset_is_a_located_problem(spec: Spec, name: str, value: str,
                                                                        message: str) -> None:
    dataset = message.split()[0]
    base = next(mp for mp in spec.mappings if mp.algorithm == name and mp.dataset == dataset)
    row = dataclasses.replace(base, value=value, row=904)
    assert problems_of_row(spec, row) == [Problem(f"{spec.path} [Mappings]", 904, "Value", value, message,
                                                  rule="SPEC-MAPPING")]


def test_a_decode_of_a_variable_without_codelist_is_a_located_problem(spec: Spec) -> None:
    row = Mapping("AE", "*", "AETERM", "derive_decode", value="USUBJID", row=905)
    assert [p.message for p in problems_of_row(spec, row)] == ["USUBJID has no codelist to decode"]


def test_assign_ct_needs_a_codelist_on_the_mapped_variable(spec: Spec) -> None:
    row = dataclasses.replace(first_row(spec, "assign_no_ct"), algorithm="assign_ct", row=906)
    [p] = problems_of_row(spec, row)
    assert (p.column, p.value, p.fix) == ("Algorithm", "assign_ct", "use assign_no_ct, or give the variable a codelist")
    assert p.message == f"{row.dataset}.{row.variable} has no codelist in the Variables sheet"


def test_a_lookup_names_a_dataset_that_is_built_first(spec: Spec) -> None:
    row = first_row(spec, "derive_lookup")
    assert dependencies(row) == {"TI"}
    assert dependencies(dataclasses.replace(row, value="not a lookup")) == set()
    bad = dataclasses.replace(row, value="TI.IETEST", row=907)
    assert [p.message for p in problems_of_row(spec, bad)] == [
        "cannot read 'TI.IETEST'; write DATASET.VARIABLE@KEY, e.g. TI.IETEST@IETESTCD"]


def test_a_new_algorithm_is_checked_from_its_declaration_alone(spec: Spec) -> None:
    """The engine knows no algorithm by name: registering one is all it takes for its rows to be checked."""
    before = dict(REGISTRY)

    @algorithm("test_copy_twice", "dataset", value=DatasetVariable("the variable", many=True), needs=("DM",))
    def copy_twice(frame: pd.DataFrame, mapping: Mapping, ctx: object) -> pd.Series:
        """Test only."""
        return frame[mapping.value]

    @algorithm("test_raw_echo", "record", raw=RawColumn("a raw column"), value=Text("a note", required=False))
    def raw_echo(rows: pd.DataFrame, mapping: Mapping, ctx: object) -> pd.Series:
        """Test only."""
        return rows[mapping.raw_column]

    try:
        row = Mapping("AE", "*", "AETERM", "test_copy_twice", value="AEDECOD,AEXX", row=908)
        assert [p.message for p in problems_of_row(spec, row)] == ["AE has no variable AEXX"]
        assert dependencies(row) == {"DM"}
        assert dependency_graph(with_row(spec, row), ["AE", "DM"])["AE"] == {"DM"}
        echo = Mapping("AE", "ae", "AETERM", "test_raw_echo", row=909)
        assert [p.message for p in problems_of_row(spec, echo)] == ["test_raw_echo needs a Raw Column"]
        reads = required_raw_columns(with_row(spec, dataclasses.replace(echo, raw_column="AEXRAW")))
        assert "AEXRAW" in reads["ae"]
    finally:
        REGISTRY.clear()
        REGISTRY.update(before)


def test_the_engine_names_no_algorithm() -> None:
    text = (ROOT / "sdtm" / "engine.py").read_text(encoding="utf-8")
    assert [name for name in REGISTRY if name in text] == []


@pytest.mark.parametrize("module", ["sdtm.visits", "sdtm.findings", "sdtm.assign", "sdtm.derive", "sdtm.engine"])
def test_an_algorithm_module_imports_on_its_own(module: str) -> None:
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, cwd=ROOT)


def test_the_registry_imports_no_algorithm_module() -> None:
    code = ("import sys, sdtm.registry; "
            "assert not {'sdtm.assign', 'sdtm.derive', 'sdtm.findings', 'sdtm.visits', 'sdtm.algorithms'} "
            "& set(sys.modules), sorted(m for m in sys.modules if m.startswith('sdtm'))")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_build_order_puts_inputs_first_and_reports_a_cycle_where_asked() -> None:
    assert build_order({"SE": {"DM", "SV"}, "SV": {"DM"}, "DM": set()}, "s [Mappings]", "Algorithm", "fix") == [
        "DM", "SV", "SE"]
    with pytest.raises(ProblemError) as exc:
        build_order({"A": {"B"}, "B": {"A"}}, "s.xlsx [Derivations]", "Arguments", "derive one from SDTM")
    [p] = exc.value.problems
    assert (p.where, p.column, p.rule, p.fix) == ("s.xlsx [Derivations]", "Arguments", "SPEC-CYCLE",
                                                  "derive one from SDTM")
    assert p.message.startswith("circular derivation between datasets: ")
