"""The review-first visit page in real Chromium on a 1366-px desktop.

A school already has an open 整改 task for 一键报警; the next visit fails it again and fails 班额.
The reviewer lands on the failed and flagged items (with their photos), the action bar stays at the
top while scrolling, and accepting updates the open task with the reviewer's words and deadline.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.bureau.rectification.models import RectificationTask
from webapp.extensions import db
from webapp.timeutil import today_in_china

from .bureau_support import ALARM, CLASS_SIZE, alarm_photo, record_visit
from .conftest import PASSWORD
from .test_browser_bureau import live, world_fixture  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
DESKTOP = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN"}


def test_review_first_page_and_accept_with_an_open_task(app, browser, live, world):  # noqa: F811
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    first, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}})
    assert bureau.post(f"/bureau/visits/{first}/review", data={"decision": "accept"}).status_code == 302
    task_id = db.session.scalar(select(RectificationTask.id))
    second, _, items = record_visit(
        phone, world.school, {ALARM: {"answer": "no"}, CLASS_SIZE: {"number": 50}}, {ALARM: alarm_photo()}
    )
    plain = next(i for i, item in items.items() if i not in (ALARM, CLASS_SIZE) and not item.get("photo_required"))
    username = world.reviewer.username
    db.session.remove()

    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live.url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live.url + "/")
    page.goto(f"{live.url}/bureau/visits/{second}")

    def card(item_id: str) -> str:
        return "#item-" + item_id.replace(".", "\\.")

    # Failed items first, with their photo; a passing item is hidden until asked for.
    assert page.locator(card(ALARM)).is_visible() and page.locator(card(CLASS_SIZE)).is_visible()
    photo = page.locator(f"{card(ALARM)} img")
    photo.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    assert page.locator(card(plain)).count() == 0
    assert "已有整改任务" in page.inner_text(card(ALARM))
    # The action bar is on the first screen and stays there when scrolled.
    bar = page.locator(".action-bar")
    assert bar.bounding_box()["y"] < 768
    page.mouse.wheel(0, 5000)
    page.wait_for_function("window.scrollY > 300")
    assert abs(bar.bounding_box()["y"]) < 2 and bar.locator("a:has-text('审核通过')").is_visible()
    # The toggle keeps its state in the URL.
    page.click("nav.chips a:has-text('全部')")
    page.wait_for_url("**only=all*")
    assert page.locator(card(plain)).count() == 1
    page.click("nav.chips a:has-text('只看未达标')")
    page.wait_for_url("**only=problems*")
    assert page.locator(card(plain)).count() == 0

    # The bar leads to the form; the open task is named and its fields will update it.
    page.click(".action-bar a:has-text('审核通过')")
    page.wait_for_url("**#review-accept")
    existing = page.locator("fieldset.task-spec.existing")
    assert existing.count() == 1 and "该项已有整改任务" in existing.inner_text()
    deadline = today_in_china() + timedelta(days=6)
    page.fill(f"textarea[name='problem-{ALARM}']", "复查仍未安装，须本周内安装并联网")
    page.fill(f"input[name='deadline-{ALARM}']", deadline.isoformat())
    page.click("button[value=accept]")
    page.locator("text=已审核通过").wait_for()
    assert "复查了 1 项已有整改任务" in page.inner_text("main")
    page.click(f"a.visit-row[href$='/rectification/{task_id}']")
    history = page.inner_text("main")
    assert "复查仍未安装，须本周内安装并联网" in history and "复查仍未达标" in history
    assert deadline.isoformat() in history
    # The PDF is made by the report job queue with a 正在生成 note, then saved (no dead link for seconds).
    page.goto(f"{live.url}/bureau/visits/{second}")
    with page.expect_download(timeout=60_000) as saved:
        page.click(".action-bar a[data-pdf-start]")
    assert saved.value.suggested_filename.startswith("督导报告_") and saved.value.suggested_filename.endswith(".pdf")
    page.locator(".pdf-status:has-text('PDF 已生成')").wait_for()
    task = db.session.get(RectificationTask, task_id)
    assert task.deadline == deadline and task.problem == "复查仍未安装，须本周内安装并联网"
    assert not errors
    context.close()
