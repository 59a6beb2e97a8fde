"""Lighthouse 11 audits the inspector's page (/inspect/) as a phone would load it.

Lighthouse comes from npm, pinned in tools/lighthouse/ (./dev.sh test runs
``npm ci`` there when it is missing); version 12 dropped the PWA category.
The suite asserts only what does not depend on the machine's speed: the page
is an installable PWA without a fault and is accessible. Performance is a
figure of ``python -m benchmarks.lighthouse`` (a busy machine scores lower, so
a performance threshold here once failed the suite on a fresh machine). The
page does not touch the database, so the audit runs on the SQLite pass only.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.lighthouse import LIGHTHOUSE, LighthouseError, run_lighthouse, shortfalls

from .bureau_support import make_world, record_visit
from .conftest import CHROMIUM, login

pytestmark = pytest.mark.browser

CATEGORIES = ("pwa", "accessibility")
#: Installable PWA without a fault; an accessible phone page.
MINIMUM = {"pwa": 1.0, "accessibility": 0.9}


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

    try:
        report = run_lighthouse(f"{live_server}/inspect/", cookie, tmp_path / "report.json", CATEGORIES)
    except LighthouseError as error:
        pytest.fail(str(error))
    # A redirect to the login page would audit the wrong page.
    assert report["finalDisplayedUrl"].endswith("/inspect/"), report["finalDisplayedUrl"]
    scores = {name: report["categories"][name]["score"] for name in CATEGORIES}
    shown = ", ".join(f"{name} {round(scores[name] * 100)}" for name in CATEGORIES)
    summary = f"Lighthouse 11 /inspect/ (mobile): {shown}"
    for name in CATEGORIES:
        record_property(f"lighthouse_{name}", round(scores[name] * 100))
    with capsys.disabled():
        print(f"\n{summary}")

    problems = [
        f"{name} {scores[name]} < {MINIMUM[name]}:\n" + "\n".join(shortfalls(report, name))
        for name in CATEGORIES
        if scores[name] < MINIMUM[name]
    ]
    assert not problems, summary + "\n" + "\n".join(problems)


#: The bureau's main pages a reviewer works in on a desktop; ``{visit}`` is a submitted visit.
BUREAU_PAGES = ("/bureau/", "/bureau/visits", "/bureau/visits/{visit}", "/bureau/matrix", "/rectification/")


@pytest.mark.skipif(
    os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the pages' markup is the same on every database: audited on the SQLite pass",
)
@pytest.mark.parametrize("path", BUREAU_PAGES)
def test_bureau_pages_are_accessible_on_a_desktop(lighthouse, live_server, client, factory, tmp_path, capsys, path):
    # One page per test, so pytest-xdist spreads the Lighthouse runs (about 12 s each) over its workers.
    world = make_world(factory)
    login(client, world.inspector)
    visit_id, _, _ = record_visit(client, world.school, {})
    client.post("/logout")
    login(client, world.reviewer)
    cookie = f"session={client.get_cookie('session').value}"
    url = live_server + path.format(visit=visit_id)
    try:
        report = run_lighthouse(url, cookie, tmp_path / "bureau.json", ("accessibility",), desktop=True)
    except LighthouseError as error:
        pytest.fail(str(error))
    assert report["finalDisplayedUrl"] == url, report["finalDisplayedUrl"]
    score = report["categories"]["accessibility"]["score"]
    with capsys.disabled():
        print(f"\nLighthouse 11 accessibility (desktop) {path}: {round(score * 100)}")
    assert score == 1, f"{path}: {score}\n" + "\n".join(shortfalls(report, "accessibility"))
