"""The phone shows a mixed school's per-section item, its threshold and the due state (issue 8).

One short browser test; the marks' logic is also covered by the server-side tests.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from checklists.due import due_text
from webapp.extensions import db
from webapp.timeutil import today_in_china
from webapp.visits.operations import plan_visit

from . import exact_support
from .test_browser_visits import download, item_card, open_phone, open_visit, serve  # noqa: F401  (serve: a fixture)

pytestmark = pytest.mark.browser


def test_phone_shows_sections_thresholds_and_due_state(browser, serve, app, factory, tmp_path):  # noqa: F811
    exact_support.install(app)
    county = factory.county("测试县", "testpack")
    school = factory.school(county, name="测试九年一贯制学校", stage="nine_year")
    inspector = factory.user("inspector", county, (school,))
    visit = plan_visit(inspector, school.id, today_in_china())
    db.session.commit()
    items = {i["id"]: i for s in visit.checklist_version.content["sections"] for i in s["items"]}
    server = serve()
    exact_support.install(server.app)
    phone, page, errors = open_phone(browser, server, inspector.username)
    download(page, visit.id)
    open_visit(page, visit.id)

    assert page.locator(".draft-banner").count() == 0  # an in-force pack has no draft banner
    primary = item_card(page, items["testpack.class_size@primary"])
    primary.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "sections.png"))
    junior = item_card(page, items["testpack.class_size@junior"])
    assert primary.locator(".section-part").inner_text() == "小学部"
    assert "≤ 45" in primary.locator(".threshold").inner_text()
    assert junior.locator(".section-part").inner_text() == "初中部"
    assert "≤ 50" in junior.locator(".threshold").inner_text()

    report = item_card(page, items["testpack.report"])
    assert report.locator(".soft").inner_text() == "倡导性（力争）"
    # The phone counts from its own calendar day (UTC here, or China's): either is right.
    days = (datetime.now().date(), today_in_china())
    due_on = date.fromisoformat(items["testpack.report"]["due"]["on"])
    shown = report.locator(".due").inner_text()
    assert re.sub(r"（.*）$", "", shown.removeprefix("时限：")) in {due_text(due_on, day) for day in days}
    overdue = item_card(page, items["testpack.grouping"]).locator(".due.overdue").inner_text()
    assert overdue.removeprefix("时限：").split("（")[0] in {due_text(date(2023, 12, 31), day) for day in days}
    # Expired items come last under one note, not a mark on each.
    assert page.locator(".expired-note").count() == 1
    assert "文件已到期" in page.locator(".expired-note").inner_text()
    assert errors == []
    phone.close()
