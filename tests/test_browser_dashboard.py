"""The 督导室 home's charts in real Chromium: drawn from the JSON, with the same numbers in the table."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from webapp.extensions import db

from .bureau_support import ALARM, make_world, record_visit
from .conftest import PASSWORD
from .test_browser_visits import LiveServer, free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def live(make_app: Callable[..., Flask]) -> Iterator[LiveServer]:
    """The app over HTTP with real CSRF checks."""
    server = LiveServer(make_app(WTF_CSRF_ENABLED=True), free_port())
    server.start()
    yield server
    server.stop()


def test_a_chart_is_drawn_and_its_table_matches_the_json(app, browser, live, factory):
    world = make_world(factory)
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}})
    assert bureau.post(f"/bureau/visits/{visit_id}/review", data={"decision": "accept"}).status_code == 302
    username = world.reviewer.username
    db.session.remove()

    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live.url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live.url + "/")
    page.goto(live.url + "/bureau/")
    for kind in ("coverage", "items"):
        page.locator(f"#chart-{kind}[data-drawn=true] svg").first.wait_for()
        src = page.get_attribute(f"#chart-{kind}", "data-src")
        figure = page.request.get(live.url + src).json()
        cells = page.locator(f"#figure-{kind} table tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.children].map(c => c.textContent.trim()))"
        )
        expected = [[str(row[0]), *(("—" if v is None else f"{v:g}") for v in row[1:])] for row in figure["rows"]]
        assert cells == expected and cells, kind
        # The chart shows every category of the table.
        svg_text = page.locator(f"#chart-{kind} svg").first.inner_html()
        assert all(row[0][:4] in svg_text for row in figure["rows"][:3]), kind
    # In print, charts and tables both stay (navigation does not).
    page.emulate_media(media="print")
    assert (
        page.locator("#chart-coverage svg").first.is_visible() and page.locator("#figure-coverage table").is_visible()
    )
    assert not page.locator(".subnav").is_visible()
    assert not errors, errors
    context.close()
