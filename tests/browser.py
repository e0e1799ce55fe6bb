"""Headless Chromium for tests that look at a page as a reviewer would (Debian package ``chromium``).

``render`` opens a local file, takes a screenshot and records Chromium's network log; ``page_requests``
lists the requests the page itself made (images, scripts, fonts, styles), leaving out Chromium's own
background traffic. ``chromium()`` fails the test in CI (``CI`` set) when the browser is missing, so a
browser test can never silently skip there; ``.ci/run`` installs the package first.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1")


def chromium() -> str:
    """Path of the Chromium executable; fails in CI and skips (with the reason shown) elsewhere when missing."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    message = "headless Chromium is not installed: apt-get install chromium (.ci/run does this)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True)
class Rendered:
    """What one headless Chromium run left behind."""

    screenshot: Path
    netlog: Path
    dom: str


def render(page: Path, work: Path, width: int = 1280, height: int = 4000) -> Rendered:
    """Open ``page`` (a local file) in headless Chromium: screenshot, network log and the DOM after scripts ran."""
    exe = chromium()
    work.mkdir(parents=True, exist_ok=True)
    shot, netlog = work / "screenshot.png", work / "netlog.json"
    common = [exe, *FLAGS, f"--window-size={width},{height}"]
    url = page.resolve().as_uri()
    subprocess.run([*common, f"--user-data-dir={work / 'profile-shot'}", f"--screenshot={shot}",
                    f"--log-net-log={netlog}", "--net-log-capture-mode=Everything", url],
                   check=True, capture_output=True, timeout=120)
    dom = subprocess.run([*common, f"--user-data-dir={work / 'profile-dom'}", "--dump-dom", url],
                         check=True, capture_output=True, timeout=120, text=True).stdout
    return Rendered(shot, netlog, dom)


def page_requests(netlog: Path) -> list[str]:
    """URLs the page itself requested (network isolation key of a ``file://`` top frame), from a net log."""
    data = json.loads(netlog.read_text(encoding="utf-8"))
    types = {v: k for k, v in data["constants"]["logEventTypes"].items()}
    urls = []
    for event in data["events"]:
        params = event.get("params") or {}
        if types.get(event["type"]) == "URL_REQUEST_START_JOB" and "file://" in str(
                params.get("network_isolation_key", "")):
            urls.append(params["url"])
    return urls
