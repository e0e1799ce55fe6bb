"""Security (issue 21): hostile values stay inert text, personal-data protection cannot switch itself off,
files are not taken on trust, and a private mode for the outputs.

* formula injection: every report writer (CSV, Excel, HTML, JSON, define.xml) is fed the OWASP list of
  CSV-injection payloads and, in a property-based test (hypothesis), random text with formula prefixes
  and markup; Excel cells come back as string cells (no ``<f>`` element in the saved XML), CSV text
  cells that a spreadsheet would evaluate come back with a ``'`` in front, negative numbers untouched;
* the annotated CRF must be a regular PDF file inside the study folder;
* ``private = true`` in study.toml: files 0600, folders 0700.

The personal-data cases (a misspelt or lower-case Personal Data Column, a contact typed without its
spaces, initials in free text) run the real ``subgen sdtm`` and are in the bad-input catalogue
(``tests/test_bad_input.py``). Expected values are written out by hand, not taken from the product.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import stat
import zipfile
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from bad_input_kit import copy_study, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subgen.core.atomic import staged_folder
from subgen.core.problems import Problem, ProblemError, problems_frame
from subgen.core.safe_text import CSV_PREFIX, csv_text, formula_like, neutralise, write_csv, xml_text
from subgen.core.study import StudyConfig, load_study

#: The OWASP CSV-injection payloads (https://owasp.org/www-community/attacks/CSV_Injection).
OWASP = ("=1+1", "+1+1", "-1+1", "@SUM(1+1)", '=HYPERLINK("http://x.invalid","y")', "=cmd|' /C calc'!A0",
         "\t=1+1", "\r=1+1", "=2+5+cmd|' /C calc'!A0", "@cmd|' /C calc'!A0")
#: Text a spreadsheet reads as a number (or plain text): left exactly as it is.
INERT = ("-5", "+1.5", "-1e3", "-.5", "5", "AGE -5", "a=1", "", " =1+1", "'=1+1", "#N/A")


# ----------------------------------------------------------------------------- the shared rule
@pytest.mark.parametrize("payload", OWASP)
def test_every_owasp_payload_is_formula_like_and_gets_a_quote(payload: str) -> None:
    assert formula_like(payload)
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize("value", INERT)
def test_numbers_and_ordinary_text_are_left_alone(value: str) -> None:
    assert not formula_like(value)
    assert neutralise(value) == value


def test_numeric_columns_are_never_touched_and_clean_frames_keep_their_bytes() -> None:
    frame = pd.DataFrame({"text": ["a", "-5", "=1+1"], "n": [-5, -1, 3], "x": [-1.5, None, 2.0],
                          "i": pd.array([-3, None, 1], dtype="Int64")})
    rows = list(csv.reader(io.StringIO(csv_text(frame), newline="")))
    assert rows == [["text", "n", "x", "i"], ["a", "-5", "-1.5", "-3"], ["-5", "-1", "", ""],
                    ["'=1+1", "3", "2.0", "1"]]
    clean = frame.iloc[:2]
    assert csv_text(clean) == clean.to_csv(index=False, lineterminator="\n")


def test_a_carriage_return_stays_inside_its_cell() -> None:
    # the csv module leaves a lone CR unquoted (the row would end there); such a frame quotes its text
    rows = list(csv.reader(io.StringIO(csv_text(pd.DataFrame({"a": ["x\ry", "z"], "n": [1, 2]})), newline="")))
    assert rows == [["a", "n"], ["x\ry", "1"], ["z", "2"]]


def test_problems_csv_neutralises_raw_values(tmp_path: Path) -> None:
    problems = [Problem("cm.csv", i + 2, "CMFRQ", payload, f"not a term {payload}", "fix " + payload, "Warning", "R")
                for i, payload in enumerate(OWASP)]
    write_csv(problems_frame(problems), tmp_path / "problems.csv")
    with (tmp_path / "problems.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["value"] for r in rows) == sorted("'" + p for p in OWASP)
    assert {r["row"] for r in rows} == {str(i + 2) for i in range(len(OWASP))}  # numbers stay numbers
    for r in rows:
        assert r["message"].startswith("not a term ")  # a cell that starts as text is not changed


# ----------------------------------------------------------------------------- validation reports
def _result(values: list[str], name: str = "demo", private: bool = False):
    """A hand-made validation result whose findings carry ``values`` in every text column."""
    from validation.run import ValidationResult

    n = len(values)
    findings = pd.DataFrame({
        "dataset": ["CM"] * n, "record": pd.array(range(1, n + 1), dtype="Int64"),
        "USUBJID": values, "variables": ["CMFRQ"] * n, "values": values, "rule": ["SD-CT"] * n,
        "check": ["SD-CT/CMFRQ"] * n, "severity": ["Error"] * n, "message": values, "fix": values,
        "count": pd.array([1] * n, dtype="Int64"), "waived": [False] * n, "waiver": [None] * n,
        "justification": values, "approved_by": [None] * n, "approved_on": [None] * n})
    return ValidationResult(name, [], findings, [("tool", "subgen"), ("note", values[0] if values else "")], {},
                            datetime(2026, 10, 31), private)


def _sheet_xml(xlsx: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/")}


def _details(xlsx: bytes) -> list[list]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(xlsx))
    return [[c for c in row] for row in wb["Details"].iter_rows(min_row=2)]


def test_excel_report_writes_every_owasp_payload_as_text() -> None:
    from validation.report import DETAIL_COLUMNS, workbook_bytes

    xlsx = workbook_bytes(_result(list(OWASP)))
    for name, xml in _sheet_xml(xlsx).items():
        assert "<f>" not in xml and "<f " not in xml, name
    values_col = DETAIL_COLUMNS.index("Values")
    cells = [row[values_col] for row in _details(xlsx)]
    assert sorted(c.value for c in cells) == sorted(OWASP)  # exactly the text, no quote added
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)


def test_every_report_file_of_a_validation_run_is_inert(tmp_path: Path) -> None:
    from validation.report import HTML_NAME, JSON_NAME, XLSX_NAME, write_reports

    folder = write_reports(_result(list(OWASP)), tmp_path / "demo" / "validation")
    with (folder / "findings.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["Values"] for r in rows) == sorted("'" + p for p in OWASP)
    assert all(r["Record"].isdigit() and r["Count"] == "1" for r in rows)
    with (folder / "provenance.csv").open(encoding="utf-8", newline="") as fh:
        assert dict(csv.reader(fh))["note"] == "'=1+1"
    assert all("<f>" not in xml for xml in _sheet_xml((folder / XLSX_NAME).read_bytes()).values())
    data = json.loads((folder / JSON_NAME).read_text(encoding="utf-8"))
    assert sorted(f["Values"] for f in data["findings"]) == sorted(OWASP)  # JSON carries the exact text
    assert '=HYPERLINK(&quot;http://x.invalid&quot;,&quot;y&quot;)' in (folder / HTML_NAME).read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- property-based test
MARKUP = ("=", "+", "-", "@", "\t", "\r", "\n", "<", ">", "&", "]]>", '"', "'", "<script>", "&amp;", "<![CDATA[",
          "#N/A", "\x01", "\x0b", "\ufffe", "|", "!", ",", ";")
HOSTILE = st.lists(st.one_of(st.sampled_from(MARKUP), st.text(max_size=6)), min_size=1, max_size=6).map("".join)


class _Text(HTMLParser):
    """Collects the text of every <td> and counts elements other than the report's own."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[str] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _xml_expected(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")  # what an XML parser reads back (line ends normalised)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(HOSTILE, min_size=1, max_size=4))
def test_random_hostile_text_comes_back_as_inert_text_from_every_report_writer(values: list[str]) -> None:
    from openpyxl import load_workbook

    from validation.report import DETAIL_COLUMNS, details_frame, report_html, report_json, workbook_bytes

    result = _result(values)
    # CSV: read back, every cell is the value, or the value behind a ' when a spreadsheet would evaluate it
    rows = list(csv.DictReader(io.StringIO(csv_text(details_frame(result)), newline="")))
    assert [r["Values"] for r in rows] == [CSV_PREFIX + v if formula_like(v) else v for v in values]
    for r in rows:
        assert not any(formula_like(cell) for cell in r.values())
    # Excel: string cells holding exactly the text (what XML cannot hold becomes U+FFFD), no formula anywhere
    xlsx = workbook_bytes(result)
    assert all("<f>" not in xml and "<f " not in xml for xml in _sheet_xml(xlsx).values())
    ws = load_workbook(io.BytesIO(xlsx))["Details"]
    col = DETAIL_COLUMNS.index("Values") + 1
    got = [ws.cell(r, col) for r in range(2, ws.max_row + 1)]
    assert [c.value or "" for c in got] == [xml_text(v) for v in values]
    assert all(c.data_type == "s" for c in got if c.value is not None)
    # HTML: the page's own elements only; every value is a cell's text
    page = _Text()
    page.feed(report_html(result))
    assert page.tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "table", "thead",
                         "tbody", "tr", "th", "td"}
    for v in values:
        assert v in page.cells
    # JSON: the exact text
    assert [f["Values"] for f in json.loads(report_json(result))["findings"]] == values
    # the review page's tables escape what they show
    from report.review import _table

    frame = pd.DataFrame({"Arm": values}, index=pd.Index(values, name="label"))
    review = _Text()
    review.feed(_table(frame))
    assert review.tags <= {"table", "thead", "tbody", "tr", "th", "td"}
    assert review.cells == [c for v in values for c in (v, v)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HOSTILE)
def test_random_hostile_text_in_the_spec_stays_text_in_define_xml(text: str) -> None:
    import test_export_define as T
    from lxml import etree

    from export.define import build_define, define_bytes
    from subgen.core.spec.model import Comment

    spec = dataclasses.replace(T.SDTM_SPEC, comments=(Comment("COM.DM", text),))
    odm, _ = build_define(spec, T._groups(spec, T._frames()), T.CREATED)
    root = etree.fromstring(define_bytes(odm))
    texts = root.xpath("//def:CommentDef[@OID='COM.DM']//odm:TranslatedText", namespaces=T.NS)
    assert [t.text or "" for t in texts] == [_xml_expected(xml_text(text))]
    assert not root.xpath("//processing-instruction()[name()!='xml-stylesheet'] | //comment()")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(HOSTILE, min_size=1, max_size=4))
def test_a_spec_written_back_from_text_keeps_its_text(tmp_path_factory, values: list[str]) -> None:
    """``subgen spec-from-text``/``init`` write workbooks: "=1+1" typed in a spec stays text, not a formula."""
    from subgen.core.spec.workbook import SheetTable, read_workbook, write_workbook

    path = tmp_path_factory.mktemp("spec") / "spec.xlsx"
    write_workbook({"Sheet": SheetTable(("A",), tuple((n + 2, (v,)) for n, v in enumerate(values)))}, path)
    assert all("<f>" not in xml for xml in _sheet_xml(path.read_bytes()).values())
    back = [cells[0] for _, cells in read_workbook(path)["Sheet"].rows]
    expected = [xml_text(v).strip() for v in values]
    assert [b for b in back if b] == [e for e in expected if e]


# ----------------------------------------------------------------------------- annotated CRF
def _crf_spec(name: str):
    import test_export_define as T

    return dataclasses.replace(T.SDTM_SPEC, study=dataclasses.replace(T.STUDY, attributes=(("AnnotatedCRF", name),)))


def _crf_problem(study: StudyConfig, name: str) -> Problem:
    from export.package import annotated_crf

    with pytest.raises(ProblemError) as err:
        annotated_crf(study, _crf_spec(name))
    (p,) = err.value.problems
    assert (p.where, p.column, p.value, p.rule) == ("demo.xlsx [Study]", "AnnotatedCRF", name, "PKG-INPUT")
    return p


def test_annotated_crf_is_a_regular_pdf_inside_the_study_folder(tmp_path: Path) -> None:
    from export.package import annotated_crf

    study = StudyConfig(tmp_path / "s", "demo", tmp_path / "s" / "demo.xlsx", tmp_path / "s" / "raw")
    (tmp_path / "s" / "docs").mkdir(parents=True)
    (tmp_path / "s" / "docs" / "acrf.pdf").write_bytes(b"%PDF-1.7\n%...")
    assert annotated_crf(study, _crf_spec("docs/acrf.pdf")) == tmp_path / "s" / "docs" / "acrf.pdf"

    os.symlink("/etc/hostname", tmp_path / "s" / "link.pdf")
    p = _crf_problem(study, "link.pdf")
    assert p.message == (f"{tmp_path}/s/link.pdf is a symbolic link (or lies in a linked folder), not a file of "
                         "the study")
    assert p.fix.startswith("copy the annotated CRF (the PDF itself, not a link to it) into the study folder")

    os.symlink(tmp_path / "s" / "docs", tmp_path / "s" / "linked")  # a linked folder, even to a real PDF
    assert "is a symbolic link (or lies in a linked folder)" in _crf_problem(study, "linked/acrf.pdf").message

    (tmp_path / "outside.pdf").write_bytes(b"%PDF-1.4\n")
    p = _crf_problem(study, "../outside.pdf")
    assert p.message == f"{tmp_path}/s/../outside.pdf lies outside the study folder {tmp_path}/s"

    (tmp_path / "s" / "fake.pdf").write_text("not a pdf", encoding="utf-8")
    p = _crf_problem(study, "fake.pdf")
    assert p.message == f"{tmp_path}/s/fake.pdf is not a PDF (it does not start with %PDF-)"
    assert p.fix == "export the annotated CRF as PDF (File > Save as PDF) and give that file"

    (tmp_path / "s" / "folder.pdf").mkdir()
    assert _crf_problem(study, "folder.pdf").message == f"no PDF file {tmp_path}/s/folder.pdf"


# ----------------------------------------------------------------------------- private mode
def _modes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): stat.S_IMODE(p.lstat().st_mode) for p in [folder, *folder.rglob("*")]}


def test_outputs_follow_the_umask_unless_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with staged_folder(tmp_path / "open" / "sdtm") as stage:
            (stage / "dm.xpt").write_bytes(b"x")
            (stage / "reports").mkdir()
            (stage / "reports" / "problems.csv").write_text("a\n")
        assert set(_modes(tmp_path / "open" / "sdtm").values()) == {0o644, 0o755}
        with staged_folder(tmp_path / "closed" / "sdtm", private=True) as stage:
            assert stat.S_IMODE(stage.stat().st_mode) == 0o700  # private while it is being written, too
            (stage / "dm.xpt").write_bytes(b"x")
            (stage / "reports").mkdir()
            (stage / "reports" / "problems.csv").write_text("a\n")
            copied = stage / "copied.txt"
            copied.write_text("from an earlier run")
            copied.chmod(0o664)
        modes = _modes(tmp_path / "closed" / "sdtm")
        assert modes == {".": 0o700, "dm.xpt": 0o600, "reports": 0o700, "reports/problems.csv": 0o600,
                         "copied.txt": 0o600}
        assert stat.S_IMODE((tmp_path / "closed").stat().st_mode) == 0o700  # the study folder it created
    finally:
        os.umask(old)


def test_private_is_a_study_toml_setting(tmp_path: Path) -> None:
    (tmp_path / "study.toml").write_text('[study]\nspec = "s.xlsx"\nraw = "raw"\nprivate = true\n', encoding="utf-8")
    assert load_study(tmp_path).private is True
    (tmp_path / "study.toml").write_text('[study]\nspec = "s.xlsx"\nraw = "raw"\n', encoding="utf-8")
    assert load_study(tmp_path).private is False
    (tmp_path / "study.toml").write_text('[study]\nspec = "s.xlsx"\nraw = "raw"\nprivate = "yes"\n', encoding="utf-8")
    with pytest.raises(ProblemError) as err:
        load_study(tmp_path)
    (p,) = err.value.problems
    assert (p.column, p.value, p.message, p.rule) == ("private", "yes", "private must be true or false",
                                                      "STUDY-CONFIG")


def test_validation_reports_of_a_private_study_are_private(tmp_path: Path) -> None:
    from validation.report import write_reports

    old = os.umask(0o022)
    try:
        folder = write_reports(_result(["x"], private=True), tmp_path / "demo" / "validation")
    finally:
        os.umask(old)
    modes = _modes(folder)
    assert modes["."] == 0o700 and modes["suites"] == 0o700
    assert {m for k, m in modes.items() if k not in (".", "suites")} == {0o600}


@pytest.mark.slow
def test_private_sdtm_run_end_to_end(tmp_path: Path) -> None:
    copy = copy_study(tmp_path, previous_output=False)
    toml = copy.folder / "study.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "private = true\n", encoding="utf-8")
    old = os.umask(0o022)
    try:
        code, _, err = run_cli(copy.argv())
    finally:
        os.umask(old)
    assert code == 0, err
    modes = _modes(copy.final)
    assert {m for k, m in modes.items() if (copy.final / k).is_dir()} == {0o700}
    assert {m for k, m in modes.items() if (copy.final / k).is_file()} == {0o600}
    assert re.search(r"dm\.xpt", " ".join(modes))


@pytest.mark.slow
def test_package_refuses_a_linked_annotated_crf_with_exit_2(tmp_path: Path) -> None:
    """``subgen package`` on a small study (DM, TS) whose AnnotatedCRF is a symlink to a system file."""
    from bad_input_kit import save_spec, small_study, spec_tables, tree_digest
    from spec_edit import append_row

    copy = small_study(tmp_path)
    (copy.folder / "study.toml").write_text('[study]\nname = "ms_exo"\nspec = "spec.xlsx"\nraw = "raw"\n',
                                            encoding="utf-8")
    tables = spec_tables(copy)
    append_row(tables, "Study", {"Attribute": "AnnotatedCRF", "Value": "acrf.pdf"})
    save_spec(copy, tables)
    os.symlink("/etc/hostname", copy.folder / "acrf.pdf")
    code, _, err = run_cli(copy.argv())
    assert code == 0, err
    package = ["package", "--study", str(copy.folder), "--out", str(copy.out)]
    code, _, err = run_cli(package)
    assert code == 2, err
    assert (f"  - Error: [PKG-INPUT] {copy.spec} [Study], column AnnotatedCRF (value 'acrf.pdf'): {copy.folder}/"
            "acrf.pdf is a symbolic link (or lies in a linked folder), not a file of the study -> copy the "
            "annotated CRF (the PDF itself, not a link to it) into the study folder") in err
    assert not (copy.out / "ms_exo" / "m5").exists()
    (copy.folder / "acrf.pdf").unlink()
    (copy.folder / "acrf.pdf").write_text("<html>not a pdf</html>", encoding="utf-8")
    before = tree_digest(copy.out)
    code, _, err = run_cli(package)
    assert code == 2 and "acrf.pdf is not a PDF (it does not start with %PDF-)" in err, err
    assert tree_digest(copy.out) == before
