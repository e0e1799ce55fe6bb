"""The review report built from the demo studies' real outputs: content, missing parts, bytes, and the browser."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import matplotlib.image
import pytest
from bad_input_kit import run_cli
from browser import page_requests, render

from report.review import write_review

pytestmark = pytest.mark.slow


def _validation_report(out_dir: Path, tamper: str | None = None) -> None:
    """A validation report as subgen validate writes it (one open Error, one waived Warning), for the demo outputs."""
    import hashlib

    provenance = {f"input {p.parent.name}/{p.name} sha256": hashlib.sha256(p.read_bytes()).hexdigest()
                  for p in sorted(out_dir.glob("*/*.xpt"))}
    if tamper:
        provenance[f"input {tamper} sha256"] = "0" * 64
    findings = [
        {"Dataset": "LB", "Record": 3, "USUBJID": "X", "Rule": "SD-LB-RANGE", "Severity": "Error", "Count": 1,
         "Waived": "No", "Message": "out of range"},
        {"Dataset": "TS", "Record": 1, "USUBJID": "", "Rule": "XD-TS-FDA", "Severity": "Warning", "Count": 1,
         "Waived": "Yes", "Message": "missing TS parameter"},
    ]
    checks = [{"check": "A", "dataset": "LB", "findings": 1, "outcome": "issues found", "reason": "", "rule": "A"},
              {"check": "B", "dataset": "DM", "findings": 0, "outcome": "passed", "reason": "", "rule": "B"},
              {"check": "C", "dataset": "SE", "findings": 0, "outcome": "execution error", "reason": "boom",
               "rule": "SD-SE-X"}]
    summary = [{"Dataset": "LB", "Rule": "SD-LB-RANGE", "Severity": "Error", "Message": "out of range", "Issues": 1,
                "Waived": 0}]
    folder = out_dir / "validation"
    folder.mkdir(exist_ok=True)
    (folder / "validation-report.json").write_text(json.dumps(
        {"name": out_dir.name, "may_export": False, "findings": findings, "checks": checks, "summary": summary,
         "rules": [], "provenance": provenance}), encoding="utf-8")


@pytest.fixture(scope="module")
def reviews(adam_built: dict[str, Path], root: Path, tmp_path_factory) -> dict[str, Path]:
    """Copies of the session's SDTM+ADaM output (ms_exo with a validation report) and their review pages."""
    out = tmp_path_factory.mktemp("review")
    pages = {}
    for study, adam_dir in adam_built.items():
        shutil.copytree(adam_dir.parent, out / study)
        if study == "ms_exo":
            _validation_report(out / study)
        pages[study] = write_review(root / "studies" / study, out)
    return pages


def _text(page: Path) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))


def test_disposition_matches_the_demo_design(reviews):
    # studies/README.md: MS 20 randomized + 1 screen failure; T2DM 50 randomized + 2 screen failures
    ms, t2 = _text(reviews["ms_exo"]), _text(reviews["t2dm_exo"])
    assert re.search(r"Screened 10 10 1 21 Randomized 10 10 0 20 ", ms)
    assert re.search(r"Screen failure 0 0 1 1 ", ms)
    assert re.search(r"Screened 25 25 2 52 Randomized 25 25 0 50 ", t2)
    assert re.search(r"Screen failure 0 0 2 2 ", t2)
    assert "Discontinued: ADVERSE EVENT" in t2 and "Analysis populations (ADSL)" in t2


def test_plots_and_heatmap_are_embedded_images(reviews):
    for study, expected in (("ms_exo", ["Expanded Disability Status Scale Score", "SDMT Total Score",
                                        "T2 Lesion Volume", "Whole Brain Volume (mL): % change from baseline"]),
                            ("t2dm_exo", ["Hemoglobin A1C (%): change from baseline",
                                          "Fasting Plasma Glucose (mmol/L): change from baseline",
                                          "2-Hour Postprandial Plasma Glucose (mmol/L): change from baseline"])):
        page = reviews[study].read_text(encoding="utf-8")
        images = re.findall(r'<img alt="([^"]*)" src="data:image/png;base64,', page)
        assert images == ["Data completeness heatmap", *[next(i for i in images if i.startswith(t)) for t in expected]]
        for title in expected:
            assert any(i.startswith(title) for i in images), title


def test_validation_summary_and_a_stale_report(reviews, adam_built, root, tmp_path):
    text = _text(reviews["ms_exo"])
    assert "Export is blocked" in text
    assert re.search(r"Error 1 0 Warning 0 1 ", text)  # open / waived by severity
    assert "Checks that could not run (they count as errors): SE SD-SE-X" in text
    assert "validation report is older" not in text
    assert "not validated yet" in _text(reviews["t2dm_exo"]) and "subgen validate --study" in _text(reviews["t2dm_exo"])
    shutil.copytree(adam_built["ms_exo"].parent, tmp_path / "ms_exo")
    _validation_report(tmp_path / "ms_exo", tamper="sdtm/lb.xpt")
    stale = _text(write_review(root / "studies" / "ms_exo", tmp_path))
    assert "The validation report is older than the datasets (sdtm/lb.xpt changed since)" in stale


def test_missing_parts_say_what_to_run(adam_built, root, tmp_path):
    study = root / "studies" / "t2dm_exo"
    nothing = _text(write_review(study, tmp_path / "empty"))
    assert "SDTM DM is not built yet" in nothing and f"subgen sdtm --study {study.as_posix()}" in nothing
    assert "SDTM SV is not built yet" in nothing and "ADaM is not built yet" in nothing
    shutil.copytree(adam_built["t2dm_exo"].parent / "sdtm", tmp_path / "sdtm_only" / "t2dm_exo" / "sdtm")
    sdtm_only = _text(write_review(study, tmp_path / "sdtm_only"))
    assert "Screened 25 25 2 52" in sdtm_only
    assert "ADaM ADSL is not built yet" in sdtm_only and "subgen adam --study" in sdtm_only


def test_same_outputs_give_the_same_bytes(reviews, root):
    first = reviews["t2dm_exo"].read_bytes()
    again = write_review(root / "studies" / "t2dm_exo", reviews["t2dm_exo"].parents[2])
    assert again.read_bytes() == first


def test_the_page_refers_to_nothing_outside(reviews):
    for page in reviews.values():
        source = page.read_text(encoding="utf-8")
        assert "<script" not in source.lower() and "@import" not in source and "url(" not in source
        references = re.findall(r'(?:src|href)="([^"]*)"', source)
        assert references and all(r.startswith(("data:image/png;base64,", "#")) for r in references)


def test_cli_report(adam_built, root, tmp_path):
    shutil.copytree(adam_built["t2dm_exo"].parent, tmp_path / "t2dm_exo")
    code, _, stderr = run_cli(["report", "--study", str(root / "studies/t2dm_exo"), "--out", str(tmp_path)])
    assert code == 0, stderr
    assert (tmp_path / "t2dm_exo" / "review" / "review.html").is_file()


def test_detector_sees_an_outside_request(tmp_path):
    """The request check below can fail: a page with an image from another site is caught."""
    page = tmp_path / "outside.html"
    page.write_text('<html><body><img src="https://example.org/logo.png"></body></html>', encoding="utf-8")
    assert page_requests(render(page, tmp_path / "browser", height=300).netlog) == ["https://example.org/logo.png"]


@pytest.mark.parametrize("study", ["ms_exo", "t2dm_exo"])
def test_headless_chromium_shows_the_report_without_requests(reviews, study, tmp_path):
    rendered = render(reviews[study], tmp_path / "browser", width=1280, height=3000)
    assert page_requests(rendered.netlog) == []
    for heading in ("Subject disposition", "Data completeness", "Results by arm over time", "Validation summary"):
        assert f">{heading}</h2>" in rendered.dom
    # every embedded image decoded: Chromium's DOM keeps them, and the screenshot is a real page, not blank
    assert rendered.dom.count('src="data:image/png;base64,') == (5 if study == "ms_exo" else 4)
    pixels = matplotlib.image.imread(rendered.screenshot)
    assert pixels.shape[:2] == (3000, 1280)
    assert pixels[..., :3].std() > 0.05  # text, tables and figures, not one colour
    shutil.copy(rendered.screenshot, reviews[study].parent / "screenshot.png")  # kept beside the page for a look
