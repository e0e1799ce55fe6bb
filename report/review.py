"""The data review report: one self-contained HTML page per study, ``<out>/<study>/review/review.html``.

It is read by a QA reviewer or study statistician before sign-off and needs nothing but a browser:
styles are inline, figures are embedded PNG (``data:`` URIs), there are no scripts, fonts or links
to other sites, so opening it makes no request. It is made only from what the pipeline wrote
(SDTM/ADaM XPT files, run.json, the validation report); a part that is not built yet becomes a
section saying which command to run. Same inputs give the same bytes: the only date in it is the
data cut.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from report import plots, tables
from report.inputs import PlotSpec, ReviewInputs, load_inputs
from subgen import __version__
from subgen.core.atomic import staged_folder
from subgen.core.study import load_study

SEVERITIES = ("Reject", "Error", "Warning", "Notice")
VALUE_WORDS = {"AVAL": "", "CHG": "change from baseline", "PCHG": "% change from baseline"}

CSS = """
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;margin:24px auto;max-width:1180px;color:#1d1d1d;
font-size:14px;line-height:1.45}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;border-bottom:2px solid #0072B2;padding-bottom:3px;margin-top:34px}
h3{font-size:15px;margin:20px 0 6px}.meta{color:#555}nav a{margin-right:14px}
table{border-collapse:collapse;margin:8px 0 14px;font-size:13px}
th,td{border:1px solid #cfcfcf;padding:3px 8px;text-align:right}th{background:#f0f4f8}
td:first-child,th:first-child{text-align:left}tr.sub td:first-child{padding-left:22px;color:#444}
.todo{background:#fff7e0;border-left:5px solid #E69F00;padding:8px 12px;margin:10px 0}
.ok{background:#e8f6ee;border-left:5px solid #009E73;padding:8px 12px;margin:10px 0}
.bad{background:#fdecea;border-left:5px solid #D55E00;padding:8px 12px;margin:10px 0}
code{background:#f3f3f3;padding:1px 4px;border-radius:3px}img{max-width:100%;display:block;margin:6px 0}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}.card{border:1px solid #cfcfcf;border-radius:6px;
padding:8px 14px;min-width:150px}.card b{display:block;font-size:22px}.small{font-size:12px;color:#555}
td.mono{font-family:"DejaVu Sans Mono",monospace;font-size:11px;text-align:left}
"""


@dataclass(frozen=True)
class Section:
    """One part of the page: anchor id, heading and HTML body."""

    anchor: str
    title: str
    body: str


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _todo(text: str, command: str) -> str:
    return f'<div class="todo">{_e(text)} Run <code>{_e(command)}</code>, then <code>subgen report</code> again.</div>'


def _table(frame: pd.DataFrame, sub_rows: tuple[str, ...] = ()) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in [frame.index.name or "", *frame.columns])
    body = []
    for label, row in frame.iterrows():
        cls = ' class="sub"' if str(label).startswith(sub_rows) and sub_rows else ""
        cells = "".join(f"<td>{_e(v)}</td>" for v in row)
        body.append(f"<tr{cls}><td>{_e(label)}</td>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _commands(inputs: ReviewInputs, out: Path) -> dict[str, str]:
    study = inputs.study.folder.as_posix()
    return {stage: f"subgen {stage} --study {study} --out {out.as_posix()}" for stage in ("sdtm", "adam", "validate")}


def disposition_section(inputs: ReviewInputs, commands: dict[str, str]) -> Section:
    """Subject disposition per arm from DM and DS, and the ADSL populations when ADaM is built."""
    if "DM" not in inputs.sdtm:
        return Section("disposition", "Subject disposition", _todo("SDTM DM is not built yet.", commands["sdtm"]))
    counts = tables.derive_disposition(inputs.sdtm["DM"], inputs.sdtm.get("DS"))
    parts = ["<p>Subjects per planned arm (DM.ARM); completion and discontinuation from each subject's last "
             "DS disposition event (DSDECOD). Screened = every subject in DM.</p>",
             _table(counts, sub_rows=("Discontinued: ",))]
    if "DS" not in inputs.sdtm:
        parts.append(_todo("SDTM DS is not built, so randomization and disposition come from DM only.",
                           commands["sdtm"]))
    if "ADSL" in inputs.adam:
        parts += ["<h3>Analysis populations (ADSL)</h3>", _table(tables.derive_population_counts(inputs.adam["ADSL"]))]
    else:
        parts.append(_todo("ADaM ADSL is not built yet, so the analysis populations are not shown.", commands["adam"]))
    return Section("disposition", "Subject disposition", "".join(parts))


def completeness_section(inputs: ReviewInputs, commands: dict[str, str]) -> Section:
    """Heatmap and table of data completeness per scheduled visit and assessment (SV and findings domains)."""
    if "SV" not in inputs.sdtm:
        return Section("completeness", "Data completeness",
                       _todo("SDTM SV is not built yet (visits are needed to count what is expected).",
                             commands["sdtm"]))
    findings = {d: inputs.sdtm[d] for d in tables.findings_domains(inputs.sdtm)}
    percent, counts = tables.derive_completeness(inputs.sdtm["SV"], findings)
    body = ("<p>Per scheduled visit (SV, SVPRESP = Y): the percentage of subjects whose visit took place who have "
            "at least one result of the assessment (--ORRES given, --STAT not NOT DONE). Grey: not collected at "
            "that visit for any subject. The table below the map gives n/N. "
            "Assessments are findings domains by --TESTCD "
            f"(by --CAT for domains with more than {tables.MAX_TESTS_PER_DOMAIN} tests).</p>"
            + _img(plots.plot_heatmap(percent), "Data completeness heatmap")
            + _table(counts))
    return Section("completeness", "Data completeness", body)


def _plot_block(inputs: ReviewInputs, plot: PlotSpec, commands: dict[str, str]) -> str:
    frame = inputs.adam.get(plot.dataset)
    if frame is None:
        return _todo(f"{plot.dataset} is not in the ADaM output.", commands["adam"])
    missing = [c for c in ("PARAMCD", "AVISITN", "AVISIT", plot.value) if c not in frame]
    if missing:
        return f'<div class="bad">{_e(plot.dataset)} has no {_e(", ".join(missing))}: it cannot be plotted by visit ' \
               "(check [[report.plot]] in study.toml).</div>"
    summary = tables.summarise_by_visit(frame, plot.param, plot.value)
    if summary.empty:
        return (f'<div class="bad">{_e(plot.dataset)} has no analysed records of PARAMCD {_e(plot.param)} with '
                f'{_e(plot.value)} (check [[report.plot]] in study.toml).</div>')
    records = frame[frame["PARAMCD"].astype("string") == plot.param]
    param = str(records["PARAM"].iloc[0]) if "PARAM" in records else plot.param
    words = VALUE_WORDS[plot.value]
    title = plot.title or (f"{param}: {words}" if words else param)
    png = plots.plot_by_visit(summary, title, f"{plot.value}, mean ± SE", zero_line=plot.value != "AVAL")
    n = summary.pivot_table(index="ARM", columns="AVISITN", values="n", aggfunc="sum").fillna(0).astype(int)
    n.columns = [summary.drop_duplicates("AVISITN").set_index("AVISITN").loc[c, "AVISIT"] for c in n.columns]
    n.index.name = "n (subjects)"
    flag = " and ANL01FL = Y" if "ANL01FL" in frame else ""
    return (f"<h3>{_e(title)}</h3>" + _img(png, title)
            + f'<p class="small">{_e(plot.dataset)}.{_e(plot.value)} where PARAMCD = {_e(plot.param)}{flag}, '
              "by planned treatment (TRTP) and analysis visit (AVISIT); error bars: standard error.</p>" + _table(n))


def plots_section(inputs: ReviewInputs, commands: dict[str, str]) -> Section:
    """One figure per ``[[report.plot]]`` of study.toml, from the ADaM datasets."""
    if not inputs.plots:
        return Section("plots", "Results by arm over time",
                       '<div class="todo">No plots are declared for this study. Add <code>[[report.plot]]</code> '
                       'entries to study.toml (<code>dataset = "ADLB"</code>, <code>param = "HBA1C"</code>, '
                       '<code>value = "CHG"</code>), then run <code>subgen report</code> again.</div>')
    if not inputs.adam:
        return Section("plots", "Results by arm over time", _todo("ADaM is not built yet.", commands["adam"]))
    return Section("plots", "Results by arm over time",
                   "".join(_plot_block(inputs, p, commands) for p in inputs.plots))


def _stale(inputs: ReviewInputs) -> list[str]:
    """Datasets whose current file differs from the one the validation report checked."""
    provenance = (inputs.validation or {}).get("provenance", {})
    stale = []
    for key, digest in provenance.items():
        if key.startswith("input ") and key.endswith(" sha256"):
            path = key[len("input "):-len(" sha256")]
            if path in inputs.files and inputs.files[path] != digest:
                stale.append(path)
    return stale


def validation_section(inputs: ReviewInputs, commands: dict[str, str]) -> Section:
    """Verdict, findings by severity, rules with issues and rules that could not run, from the validation report."""
    report = inputs.validation
    if report is None:
        return Section("validation", "Validation summary", _todo("The study is not validated yet.",
                                                                 commands["validate"]))
    parts = []
    stale = _stale(inputs)
    if stale:
        parts.append(_todo(f"The validation report is older than the datasets ({', '.join(sorted(stale))} changed "
                           "since).", commands["validate"]))
    if report.get("may_export"):
        parts.append('<div class="ok">May be exported: no unwaived Reject or Error finding.</div>')
    else:
        parts.append('<div class="bad">Export is blocked: unwaived Reject or Error findings remain (see below and '
                     "validation/validation-report.xlsx).</div>")
    findings = pd.DataFrame(report.get("findings", []))
    counts = pd.DataFrame(index=pd.Index(SEVERITIES, name="Severity"))
    if findings.empty:
        counts["Open"] = 0
        counts["Waived"] = 0
    else:
        flag = findings.get("Waived", pd.Series("", index=findings.index)).astype("string").fillna("")
        waived = flag.str.strip().str.upper().isin(["YES", "Y", "TRUE"])  # the validation report writes Yes/No
        count = findings.get("Count", pd.Series(1, index=findings.index))
        issues = pd.to_numeric(count, errors="coerce").fillna(1).astype(int)
        counts["Open"] = issues[~waived].groupby(findings["Severity"][~waived]).sum().reindex(SEVERITIES, fill_value=0)
        counts["Waived"] = issues[waived].groupby(findings["Severity"][waived]).sum().reindex(SEVERITIES, fill_value=0)
    parts += ["<h3>Findings by severity</h3>", _table(counts.astype(int))]
    checks = pd.DataFrame(report.get("checks", []))
    if not checks.empty:
        outcomes = checks.groupby("outcome").size().rename("Checks").to_frame()
        outcomes.index.name = "Outcome"
        parts += ["<h3>Checks run</h3>", _table(outcomes)]
        errors = checks[checks["outcome"] == "execution error"]
        if not errors.empty:
            parts.append('<div class="bad">Checks that could not run (they count as errors): '
                         + _e(", ".join(f"{r.dataset} {r.rule}" for r in errors.itertuples())) + "</div>")
    summary = pd.DataFrame(report.get("summary", []))
    if not summary.empty:
        summary = summary.set_index("Dataset")
        parts += ["<h3>Issues per dataset and rule</h3>", _table(summary)]
    else:
        parts.append("<p>No rule found an issue.</p>")
    return Section("validation", "Validation summary", "".join(parts))


def inputs_section(inputs: ReviewInputs) -> Section:
    """Every file the report was made from, with its SHA-256."""
    frame = pd.DataFrame({"SHA-256": pd.Series(inputs.files)}).sort_index()
    frame.index.name = f"File (under {inputs.study.name}/)"
    rows = "".join(f"<tr><td>{_e(k)}</td><td class=\"mono\">{_e(v)}</td></tr>" for k, v in frame["SHA-256"].items())
    body = ("<p>The report reads only these outputs of the pipeline, never the raw data.</p>"
            f"<table><thead><tr><th>{_e(frame.index.name)}</th><th>SHA-256</th></tr></thead><tbody>{rows}"
            "</tbody></table>") if len(frame) else "<p>No outputs were found.</p>"
    return Section("inputs", "Inputs", body)


def _cards(inputs: ReviewInputs) -> str:
    dm = inputs.sdtm.get("DM")
    cards: list[tuple[str, int | str]] = [("SDTM datasets", len(inputs.sdtm)), ("ADaM datasets", len(inputs.adam))]
    if dm is not None:
        cards.insert(0, ("Subjects in DM", len(dm)))
    if inputs.validation is not None:
        cards.append(("Export", "allowed" if inputs.validation.get("may_export") else "blocked"))
    return '<div class="cards">' + "".join(f'<div class="card"><b>{_e(v)}</b>{_e(k)}</div>' for k, v in cards) + \
        "</div>"


def render_review(inputs: ReviewInputs, out: Path | str) -> str:
    """The report page as an HTML string (deterministic for the same inputs)."""
    commands = _commands(inputs, Path(out))
    sections = [disposition_section(inputs, commands), completeness_section(inputs, commands),
                plots_section(inputs, commands), validation_section(inputs, commands), inputs_section(inputs)]
    title = f"Data review report: {inputs.study_id}"
    cut = inputs.data_cut or "unknown (SDTM not built)"
    nav = "".join(f'<a href="#{s.anchor}">{_e(s.title)}</a>' for s in sections)
    body = "".join(f'<section id="{s.anchor}"><h2>{_e(s.title)}</h2>{s.body}</section>' for s in sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{_e(title)}</h1><p class=\"meta\">Study folder <code>{_e(inputs.study.name)}</code> · data cut "
            f"{_e(cut)} · subgen {_e(__version__)}</p>{_cards(inputs)}<nav>{nav}</nav>{body}</body></html>\n")


def write_review(study_dir: Path | str, out: Path | str) -> Path:
    """Build ``<out>/<study>/review/review.html`` from the study's outputs; returns the file's path."""
    study = load_study(study_dir)
    inputs = load_inputs(study, out)
    page = render_review(inputs, Path(out))
    final = Path(out) / study.name / "review"
    with staged_folder(final, private=study.private) as stage:
        (stage / "review.html").write_text(page, encoding="utf-8")
    return final / "review.html"
