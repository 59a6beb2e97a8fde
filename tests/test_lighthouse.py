"""Lighthouse 11 audits the inspector's page (/inspect/) as a phone would load it.

Lighthouse comes from npm, pinned in tools/lighthouse/ (./dev.sh test runs
``npm ci`` there when it is missing); version 12 dropped the PWA category.
It drives Debian's Chromium with its default mobile settings (simulated slow
4G, 4× CPU slowdown). Performance varies from run to run on a busy machine,
so the page is audited three times and the median of each score counts, as
Lighthouse's own documentation advises; the host's benchmark index is printed
with them (a busy machine scores lower: below about 1000 the figures say more
about the machine than about the page). The scores are printed to the terminal
even without ``-s``. The page does not touch the database, so the audit runs on
the SQLite pass of the suite only.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import CHROMIUM, login

pytestmark = pytest.mark.browser

LIGHTHOUSE = Path(__file__).resolve().parent.parent / "tools" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("pwa", "performance", "accessibility")
#: The issue's bar: installable PWA without a fault, a fast and accessible phone page.
MINIMUM = {"pwa": 1.0, "performance": 0.9, "accessibility": 0.9}
RUNS = 3


def run_lighthouse(url: str, cookie: str, out: Path) -> dict[str, Any]:
    """One Lighthouse run on ``url`` signed in with ``cookie``; the report as parsed JSON."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--form-factor=mobile",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        f"--extra-headers={json.dumps({'Cookie': cookie})}",
        "--output=json",
        f"--output-path={out}",
        "--quiet",
    ]
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not out.exists():
        pytest.fail(f"lighthouse failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(out.read_text())


def shortfalls(report: dict[str, Any], category: str) -> list[str]:
    """The audits that cost ``category`` points, for the failure message."""
    audits = report["audits"]
    lines = []
    for ref in report["categories"][category]["auditRefs"]:
        audit = audits[ref["id"]]
        if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
            lines.append(f"  {ref['id']}: {audit['score']} {audit.get('displayValue', '')} — {audit['title']}")
    return lines


@pytest.fixture
def lighthouse() -> Path:
    """The pinned Lighthouse, or a clear failure saying how to install it."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run ./dev.sh test, which installs Debian's chromium")
    if not LIGHTHOUSE.exists():
        pytest.fail(f"{LIGHTHOUSE} is missing: run ./dev.sh test (or `npm ci --prefix tools/lighthouse`)")
    return LIGHTHOUSE


@pytest.mark.skipif(
    os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the shell is the same on every database: audited on the SQLite pass",
)
def test_inspector_page_scores(lighthouse, live_server, client, inspector_world, tmp_path, capsys, record_property):
    response = login(client, inspector_world["inspector"])
    assert response.status_code == 302
    session = client.get_cookie("session")
    assert session is not None
    # Same secret key and database as the live server: the cookie signs in there too.
    cookie = f"session={session.value}"

    reports = [run_lighthouse(f"{live_server}/inspect/", cookie, tmp_path / f"run{n}.json") for n in range(RUNS)]
    for report in reports:
        # A redirect to the login page would audit the wrong page.
        assert report["finalDisplayedUrl"].endswith("/inspect/"), report["finalDisplayedUrl"]
    runs = {name: [report["categories"][name]["score"] for report in reports] for name in CATEGORIES}
    scores = {name: statistics.median(values) for name, values in runs.items()}

    hosts = [round(report["environment"]["benchmarkIndex"]) for report in reports]
    summary = "Lighthouse 11 /inspect/ (mobile, median of {}): {}; host benchmark index {}".format(
        RUNS, ", ".join(f"{name} {round(scores[name] * 100)} (runs {runs[name]})" for name in CATEGORIES), hosts
    )
    for name in CATEGORIES:
        record_property(f"lighthouse_{name}", round(scores[name] * 100))
    with capsys.disabled():
        print(f"\n{summary}")

    problems = []
    for name in CATEGORIES:
        if scores[name] < MINIMUM[name]:
            worst = min(reports, key=lambda report: report["categories"][name]["score"])
            problems.append(f"{name} {scores[name]} < {MINIMUM[name]}:\n" + "\n".join(shortfalls(worst, name)))
    assert not problems, summary + "\n" + "\n".join(problems)
