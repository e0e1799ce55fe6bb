"""Validation reports: Excel in the Pinnacle 21 layout, plus the same content as CSV and JSON.

Written into ``<out>/<name>/validation/``:

* ``validation-report.xlsx`` with the sheets **Issue Summary** (per dataset and rule: severity,
  message, issue count, waived count), **Details** (one row per finding: dataset, record, USUBJID,
  variables, values, rule, message, severity, waiver), **Rules** (every rule run, per dataset:
  outcome, checks, issues, reason, citation) and **Provenance** (tool and standards versions,
  spec/define/waiver hashes, every input file's SHA-256, data cut, report time);
* ``summary.csv``, ``findings.csv``, ``rules.csv``, ``provenance.csv`` and ``validation-report.json``
  (the same tables, for diffing and machines);
* ``validation-report.html``: the same four tables as one self-contained page (inline CSS, no
  script, no font, image or stylesheet from anywhere: it opens offline and makes no request);
* ``suites/<dataset>.json``: the Great Expectations suite each dataset was checked with.

Same input, same bytes: rows are sorted, the report time comes from the data cut or
``SOURCE_DATE_EPOCH`` (never the clock), and the .xlsx is re-packed with fixed zip timestamps and
fixed document created/modified properties (openpyxl stamps the current time on save).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from subgen.core.atomic import staged_folder
from subgen.core.conformance.outcomes import NOT_APPLICABLE, worst
from subgen.core.problems import SEVERITIES
from subgen.core.safe_text import append_text_row, csv_text
from validation.catalogue import RULES
from validation.run import ValidationResult

XLSX_NAME = "validation-report.xlsx"
JSON_NAME = "validation-report.json"
HTML_NAME = "validation-report.html"
_GX_ONLY = ("GX-EXECUTION-ERROR", "GX-NOT-RUN")  # carried on the check that failed to run, not run themselves

SUMMARY_COLUMNS = ("Dataset", "Rule", "Severity", "Message", "Issues", "Waived")
DETAIL_COLUMNS = ("Dataset", "Record", "USUBJID", "Variables", "Values", "Rule", "CORE ID", "Check", "Severity",
                  "Message", "Fix", "Count", "Waived", "Justification", "Waiver", "Approved By", "Approved On")
RULE_COLUMNS = ("Rule", "CORE ID", "Dataset", "Kind", "Severity", "Outcome", "Checks", "Issues", "Waived", "Reason",
                "Title", "Citation")


def details_frame(result: ValidationResult) -> pd.DataFrame:
    """One row per finding, report order."""
    f = result.findings
    return pd.DataFrame({
        "Dataset": f["dataset"], "Record": f["record"], "USUBJID": f["USUBJID"], "Variables": f["variables"],
        "Values": f["values"], "Rule": f["rule"],
        "CORE ID": f["rule"].map(lambda r: RULES[r].core if r in RULES else "").astype("string"),
        "Check": f["check"], "Severity": f["severity"],
        "Message": f["message"], "Fix": f["fix"], "Count": f["count"].fillna(1).astype("Int64"),
        "Waived": f["waived"].map({True: "Yes", False: "No"}).astype("string"), "Justification": f["justification"],
        "Waiver": f["waiver"], "Approved By": f["approved_by"], "Approved On": f["approved_on"],
    }, columns=list(DETAIL_COLUMNS)).reset_index(drop=True)


def summary_frame(result: ValidationResult) -> pd.DataFrame:
    """Per dataset and rule: severity, the rule's message, unwaived and waived record counts."""
    f = result.findings
    if f.empty:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    counts = f.assign(n=f["count"].fillna(1).astype(int), waived=f["waived"].astype(bool))
    counts["issues"] = counts["n"].where(~counts["waived"], 0)
    counts["waived_n"] = counts["n"].where(counts["waived"], 0)
    grouped = counts.groupby(["dataset", "rule", "severity"], dropna=False).agg(
        Issues=("issues", "sum"), Waived=("waived_n", "sum")).reset_index()
    grouped["Message"] = grouped["rule"].map(lambda r: RULES[r].title if r in RULES else "")
    order = {s: i for i, s in enumerate(SEVERITIES)}
    grouped = grouped.assign(_s=grouped["severity"].map(order)).sort_values(["dataset", "_s", "rule"], kind="stable")
    out = grouped.rename(columns={"dataset": "Dataset", "rule": "Rule", "severity": "Severity"})
    return out[list(SUMMARY_COLUMNS)].reset_index(drop=True)


def rules_frame(result: ValidationResult) -> pd.DataFrame:
    """Every rule run, per dataset: worst outcome over its checks, counts, reasons and citation.

    Catalogue rules that produced no check at all (nothing in the package they apply to) are listed
    once as not applicable, so the sheet accounts for every rule.
    """
    f = result.findings
    rows = []
    groups: dict[tuple[str, str], list] = {}
    for run in result.runs:
        groups.setdefault((run.rule, run.dataset), []).append(run)
    for (rule, dataset), runs in sorted(groups.items()):
        info = RULES.get(rule)
        checks = {r.check for r in runs}
        mine = f[f["check"].isin(checks) & (f["dataset"].eq(dataset) if dataset != "*" else True)] if len(f) else f
        n = mine["count"].fillna(1).astype(int) if len(mine) else pd.Series(dtype=int)
        waived = mine["waived"].astype(bool) if len(mine) else pd.Series(dtype=bool)
        reasons = sorted({r.reason for r in runs if r.reason})
        rows.append({"Rule": rule, "CORE ID": info.core if info else "", "Dataset": dataset,
                     "Kind": info.kind if info else "",
                     "Severity": info.severity if info else "", "Outcome": worst([r.outcome for r in runs]),
                     "Checks": len(runs), "Issues": int(n[~waived].sum()) if len(n) else 0,
                     "Waived": int(n[waived].sum()) if len(n) else 0, "Reason": "; ".join(reasons),
                     "Title": info.title if info else "", "Citation": info.citation if info else ""})
    ran = {rule for rule, _ in groups}
    for rule_id, info in sorted(RULES.items()):
        if rule_id not in ran and rule_id not in _GX_ONLY:
            rows.append({"Rule": rule_id, "CORE ID": info.core, "Dataset": "*", "Kind": info.kind,
                         "Severity": info.severity,
                         "Outcome": NOT_APPLICABLE, "Checks": 0, "Issues": 0, "Waived": 0,
                         "Reason": "no dataset in the package has what this rule applies to (e.g. no variable with a "
                                   "codelist, no declared range)", "Title": info.title, "Citation": info.citation})
    out = pd.DataFrame(rows, columns=list(RULE_COLUMNS))
    return out.sort_values(["Rule", "Dataset"], kind="stable").reset_index(drop=True)


def provenance_frame(result: ValidationResult) -> pd.DataFrame:
    """The run's provenance as Item/Value rows, plus the totals and the export verdict."""
    blocking = result.blocking
    rows = list(result.provenance) + [
        ("findings", str(int(result.findings["count"].fillna(1).sum()) if len(result.findings) else 0)),
        ("unwaived Reject/Error findings", str(int(blocking["count"].fillna(1).sum()) if len(blocking) else 0)),
        ("may be exported", "yes" if result.may_export else "no (unwaived Reject/Error findings)"),
    ]
    return pd.DataFrame(rows, columns=["Item", "Value"])


# --------------------------------------------------------------------------------------------
# Writers


def _cell(value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def workbook_bytes(result: ValidationResult) -> bytes:
    """The Excel report as deterministic bytes."""
    # openpyxl (~0.2 s to import) only when a workbook is written: `subgen --help` and the listings start fast.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    sheets = (("Issue Summary", summary_frame(result)), ("Details", details_frame(result)),
              ("Rules", rules_frame(result)), ("Provenance", provenance_frame(result)))
    header_font, header_fill = Font(bold=True), PatternFill("solid", fgColor="DDE5F0")
    fills = {"Reject": PatternFill("solid", fgColor="F4B6B6"), "Error": PatternFill("solid", fgColor="F9D3D3"),
             "Warning": PatternFill("solid", fgColor="FCEBC4"), "Notice": PatternFill("solid", fgColor="E3EEF9")}
    for n, (title, frame) in enumerate(sheets):
        ws = wb.active if n == 0 else wb.create_sheet()
        ws.title = title
        append_text_row(ws, list(frame.columns))
        for cell in ws[1]:
            cell.font, cell.fill = header_font, header_fill
        severity_col = list(frame.columns).index("Severity") + 1 if "Severity" in frame.columns else None
        for row in frame.itertuples(index=False):
            append_text_row(ws, [_cell(v) for v in row])
            if severity_col and row[severity_col - 1] in fills:
                ws.cell(ws.max_row, severity_col).fill = fills[row[severity_col - 1]]
        for i, col in enumerate(frame.columns, 1):
            longest = max([len(str(col))] + [len(str(v)) for v in frame[col].head(500) if v is not None])
            ws.column_dimensions[ws.cell(1, i).column_letter].width = min(max(10, longest + 2), 70)
        ws.freeze_panes = "A2"
        if len(frame):
            ws.auto_filter.ref = ws.dimensions
        for cells in ws.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, str) and len(cell.value) > 70:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    wb.properties.creator = "subgen"
    wb.properties.title = f"Validation report: {result.name}"
    wb.properties.created = result.stamp
    wb.properties.modified = result.stamp
    buffer = io.BytesIO()
    wb.save(buffer)
    return _repack(buffer.getvalue(), result.stamp)


def _repack(data: bytes, stamp: datetime) -> bytes:
    """Rewrite the .xlsx zip with fixed member timestamps and the created/modified properties set to ``stamp``."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                text = content.decode("utf-8")
                text = re.sub(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)", rf"\g<1>{iso}\g<2>", text)
                content = text.encode("utf-8")
            info = zipfile.ZipInfo(item.filename, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o600 << 16
            dst.writestr(info, content)
    return out.getvalue()


def _csv(frame: pd.DataFrame) -> str:
    return csv_text(frame)  # formula-like text cells neutralised (subgen.core.safe_text)


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for row in frame.to_dict("records"):
        out.append({k: _cell(v) for k, v in row.items()})
    return out


def report_json(result: ValidationResult) -> str:
    """The whole report as JSON: provenance, rules (and every check's outcome), summary, findings."""
    checks = [{"rule": r.rule, "check": r.check, "dataset": r.dataset, "outcome": r.outcome, "reason": r.reason,
               "findings": int(r.findings["count"].fillna(1).sum()) if len(r.findings) else 0}
              for r in result.runs]
    checks.sort(key=lambda c: (c["dataset"], c["rule"], c["check"]))
    data = {"name": result.name, "may_export": result.may_export,
            "provenance": {k: v for k, v in provenance_frame(result).itertuples(index=False)},
            "rules": _records(rules_frame(result)), "checks": checks,
            "summary": _records(summary_frame(result)), "findings": _records(details_frame(result))}
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


_CSS = """body{font:13px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}""" \
    """th,td{border:1px solid #ccc;padding:2px 6px;vertical-align:top;text-align:left}
th{background:#dde5f0;position:sticky;top:0}.Reject{background:#f4b6b6}.Error{background:#f9d3d3}
.Warning{background:#fcebc4}.Notice{background:#e3eef9}.ok{color:#176117}.blocked{color:#a11}"""


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = []
    sev = list(frame.columns).index("Severity") if "Severity" in frame.columns else None
    for row in frame.itertuples(index=False):
        cells = []
        for i, value in enumerate(row):
            text_ = "" if _cell(value) is None else escape(str(_cell(value)))
            cls = f' class="{escape(str(value))}"' if i == sev and value in SEVERITIES else ""
            cells.append(f"<td{cls}>{text_}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def report_html(result: ValidationResult) -> str:
    """The report as one self-contained HTML page (no external resource of any kind)."""
    verdict = ('<p class="ok">May be exported: no unwaived Reject or Error finding.</p>' if result.may_export else
               '<p class="blocked">Export is blocked: unwaived Reject or Error findings remain.</p>')
    parts = [f"<h1>Validation report: {escape(result.name)}</h1>", verdict,
             "<h2>Issue Summary</h2>", _html_table(summary_frame(result)),
             "<h2>Details</h2>", _html_table(details_frame(result)),
             "<h2>Rules</h2>", _html_table(rules_frame(result)),
             "<h2>Provenance</h2>", _html_table(provenance_frame(result))]
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>Validation report: {escape(result.name)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


def write_reports(result: ValidationResult, folder: Path | str) -> Path:
    """Write every report of ``result`` into ``folder`` (replaced as a whole); returns the folder."""
    folder = Path(folder)
    with staged_folder(folder, private=result.private) as stage:
        (stage / XLSX_NAME).write_bytes(workbook_bytes(result))
        (stage / JSON_NAME).write_text(report_json(result), encoding="utf-8")
        (stage / HTML_NAME).write_text(report_html(result), encoding="utf-8")
        (stage / "summary.csv").write_text(_csv(summary_frame(result)), encoding="utf-8")
        (stage / "findings.csv").write_text(_csv(details_frame(result)), encoding="utf-8")
        (stage / "rules.csv").write_text(_csv(rules_frame(result)), encoding="utf-8")
        (stage / "provenance.csv").write_text(_csv(provenance_frame(result)), encoding="utf-8")
        suites = stage / "suites"
        suites.mkdir()
        for name, text in sorted(result.suites.items()):
            (suites / f"{name.lower()}.json").write_text(text, encoding="utf-8")
    return folder


__all__ = ["DETAIL_COLUMNS", "HTML_NAME", "JSON_NAME", "RULE_COLUMNS", "SUMMARY_COLUMNS", "XLSX_NAME", "details_frame",
           "provenance_frame", "report_html", "report_json", "rules_frame", "summary_frame", "workbook_bytes",
           "write_reports"]
