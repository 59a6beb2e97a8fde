"""Faults that could lose or double an inspector's record, in Chromium: two tabs of the app on one visit.

Same live server and phone helpers as test_browser_visits.py; the server's database is checked directly.
"""

from __future__ import annotations

from typing import Any

import pytest

from webapp.extensions import db
from webapp.visits.models import ItemResult, Visit

from .test_browser_visits import (  # noqa: F401  (serve and world are fixtures)
    TIMEOUT,
    download,
    item_card,
    open_phone,
    open_visit,
    rows,
    serve,
    until,
    wait_synced,
    world,
)

pytestmark = pytest.mark.browser


def open_tab(phone: Any, server: Any, visit_id: str) -> Any:
    """Another tab of the app on the phone's browser, on a visit's fill page."""
    page = phone.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(server.url + f"/inspect/#/visit/{visit_id}")
    page.wait_for_function("window.dudao !== undefined")
    page.evaluate("window.dudao.ready")
    page.wait_for_selector("article.item")
    return page


def stored_visit(page: Any, visit_id: str) -> dict[str, Any]:
    """The visit record in the phone's IndexedDB."""
    return page.evaluate("(id) => window.dudao.db.get('visits', id)", visit_id)


@pytest.mark.both_databases
def test_two_tabs_on_one_visit_keep_each_others_changes(browser, serve, world):  # noqa: F811
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    open_visit(page, visit_id)
    # A second tab on the same planned visit writes the summary first.
    other = open_tab(phone, server, visit_id)
    phone.set_offline(True)
    other.click("#to-submit")
    other.fill("#summary", "另一页写的小结")
    until(other, "async (id) => (await window.dudao.db.get('visits', id))?.summary === '另一页写的小结'", visit_id)
    yes_no = [i for i in items if i["check"]["type"] == "yes_no"]
    # The first tab, which loaded the visit before, starts it with its first answer: the summary stays.
    item_card(page, yes_no[0]).locator("button[data-answer=yes]").click()
    page.evaluate("window.dudao.flush()")
    assert stored_visit(page, visit_id)["summary"] == "另一页写的小结"
    assert stored_visit(page, visit_id)["local_state"] == "in_progress"
    # The second tab still thinks the visit is planned: its first answer does not start it again.
    other.click(f"a.button[href='#/visit/{visit_id}']")
    other.wait_for_selector("article.item")
    item_card(other, yes_no[1]).locator("button[data-answer=no]").click()
    other.evaluate("window.dudao.flush()")
    kinds = [e["kind"] for e in page.evaluate("(id) => window.dudao.outbox.entries(id)", visit_id)]
    assert kinds == ["visit", "result", "result"]  # one start, two answers
    phone.set_offline(False)
    wait_synced(page, visit_id)
    db.session.expire_all()
    visit = db.session.get(Visit, visit_id)
    assert (visit.state, visit.summary) == ("in_progress", "另一页写的小结")
    db.session.rollback()
    assert rows(ItemResult, visit_id=visit_id) == 2
    assert not errors, errors
    phone.close()
