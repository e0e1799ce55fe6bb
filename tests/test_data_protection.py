"""Data protection: no network at run time, personal data kept in the raw layer, the spec is data.

* the whole pipeline (``subgen sdtm`` then ``subgen adam``) runs with every socket call blocked;
* the Forms sheet's Personal Data Columns (initials, site contact, birth date) never reach the
  outputs: mapping one by mistake stops the run (SPEC-PII); mapping it on purpose (the column
  taken off the Personal Data Columns) puts exactly that value in, and BRTHDTC exists only
  when the spec maps it;
* the scan of the outputs catches personal data that no mapping names (a contact typed into a
  comment, initials typed as an AE term) and fails the run (PII-LEAK);
* nothing in the spec is run as code.

Expected values are read from the raw CSVs by hand (quoted in comments), not from the product.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from bad_input_kit import (
    ROOT,
    Expect,
    copy_study,
    leftovers,
    matching_lines,
    run_cli,
    save_spec,
    set_raw,
    spec_tables,
    tree_digest,
)
from conftest import STUDIES
from spec_edit import append_row, set_cell


def _xpt(folder: Path, name: str) -> pd.DataFrame:
    frame, _ = pyreadstat.read_xport(str(folder / f"{name}.xpt"))
    return frame


# ------------------------------------------------------------------------------------ network
LOOPBACK = {"127.0.0.1", "::1", "localhost", ""}


class _NoNetwork(socket.socket):
    """A socket that may be created and bound to the loopback address (urllib3 probes IPv6 support that
    way when imported) but never connects or sends anywhere."""

    attempts: list[tuple] = []

    def _refuse(self, what: str, address: object) -> None:
        _NoNetwork.attempts.append((what, address))
        raise OSError(f"network access is blocked in this test ({what} {address!r})")

    def connect(self, address):
        self._refuse("connect", address)

    def connect_ex(self, address):
        self._refuse("connect_ex", address)

    def sendto(self, data, *args):
        self._refuse("sendto", args[-1] if args else None)

    def bind(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
            self._refuse("bind", address)
        return super().bind(address)


def _refuse(name: str):
    def refuse(*args, **kwargs):
        _NoNetwork.attempts.append((name, args))
        raise OSError("network access is blocked in this test")
    return refuse


@pytest.mark.slow  # the whole pipeline on a copy of ms_exo
def test_whole_pipeline_runs_with_sockets_blocked(tmp_path: Path, monkeypatch) -> None:
    copy = copy_study(tmp_path, previous_output=False)
    _NoNetwork.attempts = []
    monkeypatch.setattr(socket, "socket", _NoNetwork)
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, _refuse(name))
    code, out, err = run_cli(copy.argv())
    assert code == 0, err
    # every later stage, in pipeline order, that this build of the CLI has
    commands = [c for c in ("adam", "validate", "package", "report") if c in set(_commands())]
    for command in commands:
        code, out, err = run_cli([command, "--study", str(copy.folder), "--out", str(copy.out)])
        assert code == 0, err
    assert _NoNetwork.attempts == []
    assert (copy.final / "dm.xpt").is_file()
    if commands:
        assert any((copy.out / copy.name / "adam").glob("*.xpt"))


def test_the_socket_block_works(monkeypatch) -> None:
    """The block used above does refuse a connection (so the test above can fail)."""
    _NoNetwork.attempts = []
    monkeypatch.setattr(socket, "socket", _NoNetwork)
    monkeypatch.setattr(socket, "create_connection", _refuse("create_connection"))
    with pytest.raises(OSError):
        socket.create_connection(("example.org", 443), timeout=1)
    with pytest.raises(OSError), socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.connect(("192.0.2.1", 80))
    assert [a[0] for a in _NoNetwork.attempts] == ["create_connection", "connect"]


def _commands() -> list[str]:
    from subgen_cli.cli import _parser

    sub = next(a for a in _parser()._actions if a.dest == "command")
    return list(sub.choices)


# ------------------------------------------------------------------------------ personal data
def _personal_values(study: str) -> set[str]:
    enrol = pd.read_csv(ROOT / "studies" / study / "raw" / "enrol.csv", dtype=str, keep_default_na=False)
    values = set()
    for col in ("INITIALS", "SITE_CONTACT", "BRTHDAT"):
        values |= {v.strip().upper() for v in enrol[col] if v.strip()}
    return values


@pytest.mark.parametrize("study", STUDIES)
def test_personal_data_reaches_no_output(built, study: str) -> None:
    """Every cell of every dataset and report of the demo build, against the raw enrolment form."""
    folder = built[study]
    personal = _personal_values(study)
    contacts = {v for v in personal if len(v) >= 8}
    for xpt in sorted(folder.glob("*.xpt")):
        frame, _ = pyreadstat.read_xport(str(xpt))
        text = frame.select_dtypes(exclude="number").astype(str).apply(lambda s: s.str.strip().str.upper())
        assert not text.isin(personal).any().any(), xpt.name
        for contact in contacts:
            found = text.apply(lambda s, contact=contact: s.str.contains(contact, regex=False))
            assert not found.any().any(), (xpt.name, contact)
    for report in sorted((folder / "reports").rglob("*")):
        if report.is_file():
            body = report.read_text(encoding="utf-8").upper()
            assert not [c for c in contacts if c in body], report.name
    assert "BRTHDTC" not in _xpt(folder, "dm").columns  # the demo specs do not map it


def _supp_initials(tables, declared_personal: bool) -> None:
    """A SUPPDM qualifier SUBJINIT from enrol.INITIALS; INITIALS stays personal data or is taken off the list."""
    append_row(tables, "ValueLevel", {"Order": "2", "Dataset": "SUPPDM", "Variable": "QVAL",
                                      "Where Clause": "QNAM EQ SUBJINIT", "Description": "Subject Initials",
                                      "Data Type": "text", "Length": "3", "Origin": "Collected",
                                      "Source": "Investigator"})
    append_row(tables, "Mappings", {"Dataset": "DM", "Source": "enrol", "Variable": "SUBJINIT",
                                    "Algorithm": "assign_no_ct", "Raw Column": "INITIALS"})
    if not declared_personal:
        set_cell(tables, "Forms", {"Form": "enrol"}, "Personal Data Columns", "SITE_CONTACT, BRTHDAT")


def _brthdtc(tables, declared_personal: bool) -> None:
    """DM.BRTHDTC from enrol.BRTHDAT; BRTHDAT stays personal data or is taken off the list."""
    t = tables["Variables"]
    orders = [int(dict(zip(t.header, c))["Order"]) for _, c in t.rows if dict(zip(t.header, c))["Dataset"] == "DM"]
    append_row(tables, "Variables", {"Order": str(max(orders) + 1), "Dataset": "DM", "Variable": "BRTHDTC",
                                     "Label": "Date/Time of Birth", "Data Type": "partialDate", "Length": "10",
                                     "Mandatory": "No", "Core": "Perm", "Origin": "Collected", "Source": "Investigator",
                                     "Role": "Record Qualifier"})
    append_row(tables, "Mappings", {"Dataset": "DM", "Source": "enrol", "Variable": "BRTHDTC",
                                    "Algorithm": "assign_datetime", "Raw Column": "BRTHDAT"})
    if not declared_personal:
        t = tables["Forms"]
        current = dict(zip(t.header, next(c for _, c in t.rows if c[0] == "enrol")))["Personal Data Columns"]
        set_cell(tables, "Forms", {"Form": "enrol"}, "Personal Data Columns",
                 ", ".join(x.strip() for x in current.split(",") if x.strip() != "BRTHDAT"))


@pytest.mark.parametrize("edit, column", [(_supp_initials, "INITIALS"), (_brthdtc, "BRTHDAT")],
                         ids=["initials", "birth-date"])
def test_personal_column_mapped_by_mistake_stops_the_run(tmp_path: Path, edit, column: str) -> None:
    copy = copy_study(tmp_path)
    before = tree_digest(copy.final)
    tables = spec_tables(copy)
    edit(tables, declared_personal=True)
    save_spec(copy, tables)
    code, out, err = run_cli(copy.argv())
    assert code == 2, err
    expect = Expect("SPEC-PII", "{spec} [Mappings]", "{row}", "Raw Column", column,
                    f"enrol.{column} is declared personal data in the Forms sheet and must not reach SDTM",
                    "remove the mapping")
    t = tables["Mappings"]
    row = next(n for n, c in t.rows if dict(zip(t.header, c))["Raw Column"] == column)
    assert matching_lines(err, expect, {"spec": str(copy.spec), "row": row}), err
    assert tree_digest(copy.final) == before and leftovers(copy) == []


@pytest.fixture(scope="module")  # a whole ms_exo build: its tests are marked study
def on_purpose(tmp_path_factory) -> Path:
    """The MS study with initials (SUPPDM SUBJINIT) and birth date (DM.BRTHDTC) mapped on purpose."""
    copy = copy_study(tmp_path_factory.mktemp("on_purpose"), previous_output=False)
    tables = spec_tables(copy)
    _supp_initials(tables, declared_personal=False)
    _brthdtc(tables, declared_personal=False)
    save_spec(copy, tables)
    code, out, err = run_cli(copy.argv())
    assert code == 0, err
    return copy.final


@pytest.mark.study
def test_birth_date_only_when_the_spec_maps_it(on_purpose: Path) -> None:
    # enrol.csv line 2: 101001 BRTHDAT UN-UNK-1959 (year only) -> BRTHDTC 1959; line 3: 101002 UN-UNK-1976.
    dm = _xpt(on_purpose, "dm").set_index("USUBJID")
    assert dm.at["MSEXO01-101001", "BRTHDTC"] == "1959" and dm.at["MSEXO01-101002", "BRTHDTC"] == "1976"
    assert list(dm.columns)[-1] == "BRTHDTC"  # in the place the spec's Order gives it


@pytest.mark.study
def test_initials_mapped_on_purpose_are_exactly_the_raw_values(on_purpose: Path) -> None:
    # enrol.csv: 101001 HBS, 101002 SKG; one SUBJINIT record per subject (21 enrolled).
    supp = _xpt(on_purpose, "suppdm")
    init = supp[supp["QNAM"] == "SUBJINIT"].set_index("USUBJID")
    assert len(init) == 21
    assert (init.at["MSEXO01-101001", "QVAL"], init.at["MSEXO01-101002", "QVAL"]) == ("HBS", "SKG")
    assert init.at["MSEXO01-101001", "QLABEL"] == "Subject Initials"


@pytest.mark.parametrize("file, line, column, value, personal, dataset, variable", [
    # ds.csv line 3: 101002's end-of-study comment; DSSPEC becomes DSTERM. The address is enrol SITE_CONTACT.
    ("ds.csv", 3, "DSSPEC", "Moved; contact via coordinator.101@example.org", "SITE_CONTACT", "DS", "DSTERM"),
    # ae.csv line 2: 101001's AE term typed as the subject's initials (enrol.csv line 2: HBS).
    ("ae.csv", 2, "AETERM", "HBS", "INITIALS", "AE", "AETERM"),
], ids=["contact-in-comment", "initials-as-term"])
def test_scan_fails_the_run_on_personal_data_no_mapping_names(tmp_path: Path, file: str, line: int, column: str,
                                                              value: str, personal: str, dataset: str,
                                                              variable: str) -> None:
    copy = copy_study(tmp_path)
    before = tree_digest(copy.final)
    set_raw(copy, file, line, column, value)
    code, out, err = run_cli(copy.argv())
    assert code == 2, err
    expect = Expect("PII-LEAK", dataset, "<any>", variable, value,
                    f"personal data from enrol.csv column {personal} reached SDTM (record from {file} row {line})",
                    "remove the mapping that copies it")
    assert matching_lines(err, expect, {}), err
    assert tree_digest(copy.final) == before and leftovers(copy) == []


@pytest.mark.study  # two whole ms_exo builds
def test_initials_equal_to_a_value_the_spec_declares_are_no_leak(tmp_path: Path) -> None:
    """Found by the 20,000-subject benchmark: a subject's initials POL equal TS's country code (FCNTRY POL).

    The TS record is typed in the spec (lineage spec:TS), and DM.COUNTRY POL is a COUNTRY codelist term:
    neither is personal data, so the run succeeds. The same initials typed as an AE term still stop it.
    """
    copy = copy_study(tmp_path)
    set_raw(copy, "enrol.csv", 2, "INITIALS", "POL")  # 101001, enrolled in Poland
    code, out, err = run_cli(copy.argv())
    assert code == 0, err
    ts = _xpt(copy.out / "ms_exo" / "sdtm", "ts")
    assert "POL" in ts.loc[ts["TSPARMCD"] == "FCNTRY", "TSVAL"].tolist()
    assert "POL" in _xpt(copy.out / "ms_exo" / "sdtm", "dm")["COUNTRY"].tolist()
    set_raw(copy, "ae.csv", 2, "AETERM", "POL")  # 101001's AE term typed as the initials
    code, out, err = run_cli(copy.argv())
    assert code == 2 and "PII-LEAK" in err and "AETERM" in err, err


# ----------------------------------------------------------------------------- spec is data
def test_no_eval_or_exec_in_the_product() -> None:
    """Derivation text, conditions and methods are parsed by a fixed grammar, never run as Python."""
    offenders = []
    for package in ("subgen", "sdtm", "adam", "validation", "export"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                code = line.split("#")[0]
                if re.search(r"(?<![\w.])(eval|exec|compile)\s*\(", code) or "__import__(" in code:
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def test_code_in_the_spec_is_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    copy = copy_study(tmp_path)
    tables = spec_tables(copy)
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    row = set_cell(tables, "Mappings", {"Dataset": "AE", "Variable": "AEENRF"}, "Condition", payload)
    save_spec(copy, tables)
    code, out, err = run_cli(copy.argv())
    assert code == 2 and not marker.exists()
    expect = Expect("SPEC-CONDITION", "{spec} [Mappings]", row, "Condition", payload,
                    "at character 1: there is no function __import__()",
                    "write e.g. is_complete_date(AESTDTC) or matches(AETERM, '^[A-Z]')")
    assert matching_lines(err, expect, {"spec": str(copy.spec)}), err
