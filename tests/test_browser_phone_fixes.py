"""Small things on a 360-px phone that made the app look broken (issue 11).

1. The inspector's home: no 下载离线 on accepted or submitted visits, 已退回 in its own colour,
   no receipt line on an unstarted visit, no 不完整 before 提交, no stray "null" on the submit page.
2. The 教研员: the website's header on one line, 文件已到期 said once, a primary school's
   grades without 幼儿园, and the home at its top after 完成.
"""

from __future__ import annotations

from datetime import date

import pytest

from webapp.extensions import db
from webapp.visits.models import Visit
from webapp.visits.operations import plan_visit

from . import lessons_world
from .bureau_support import ALARM, make_world, record_visit
from .conftest import PASSWORD, PHONE
from .test_browser_visits import no_sideways_scroll, open_phone, serve, until  # noqa: F401

pytestmark = pytest.mark.browser


def test_inspector_home_and_submit_page(app, browser, serve, factory):  # noqa: F811
    world = make_world(factory)
    phone_api = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    accepted, _, _ = record_visit(phone_api, world.school)
    assert bureau.post(f"/bureau/visits/{accepted}/review", data={"decision": "accept"}).status_code == 302
    returned, _, _ = record_visit(phone_api, world.junior, {ALARM: {"answer": "no"}})
    bureau.post(f"/bureau/visits/{returned}/review", data={"decision": "return", "comment": "请补拍照片"})
    waiting, _, _ = record_visit(phone_api, world.junior)
    answered, _, _ = record_visit(phone_api, world.school, submit=False)  # every item answered, not sent
    planned = plan_visit(db.session.get(type(world.inspector), world.inspector.id), world.school.id, date(2026, 12, 1))
    db.session.commit()
    planned_id = planned.id
    assert db.session.get(Visit, returned).state == "returned"
    username = world.inspector.username
    db.session.remove()

    server = serve()
    context, page, errors = open_phone(browser, server, username)

    def card(visit_id):
        return page.locator(f'li.visit[data-visit-id="{visit_id}"]')

    card(accepted).wait_for()
    card(planned_id).locator("button.download").wait_for()
    # A download button only where there is something to fill in.
    assert card(accepted).locator("button.download").count() == 0
    assert card(waiting).locator("button.download").count() == 0
    assert "审核通过" in card(accepted).inner_text() and "等待督导室审核" in card(waiting).inner_text()
    # Planned and in progress; a returned visit is downloaded by itself (in the background, just after the list).
    card(returned).locator(".downloaded").wait_for()
    assert page.locator("button.download").count() == 2

    def colour(visit_id):
        return card(visit_id).locator(".badge").first.evaluate("el => getComputedStyle(el).backgroundColor")

    assert len({colour(returned), colour(planned_id), colour(accepted)}) == 3

    # An unstarted visit shows no receipt; a visit not yet sent shows the count, not a red 不完整.
    card(planned_id).locator("button.download").click()
    card(planned_id).locator(".downloaded").wait_for()
    card(answered).locator("button.download").click()
    card(answered).locator(".downloaded").wait_for()
    card(answered).locator(".receipt").wait_for()
    page.wait_for_timeout(300)  # the status lines are drawn after the cards
    assert card(planned_id).locator(".receipt").count() == 0
    assert "服务器已收到" in card(answered).locator(".receipt").inner_text()
    assert card(answered).locator(".receipt strong").count() == 0
    no_sideways_scroll(page)

    # Every item answered: the submit page has nothing optional left to show, and no "null".
    page.evaluate(f"location.hash = '#/visit/{answered}/submit'")
    page.locator("#failed-items").wait_for()
    assert page.locator("#unanswered").count() == 0
    assert "null" not in page.inner_text("#app")
    assert not errors, errors
    context.close()


def test_researcher_header_expired_note_grades_and_scroll(app, browser, serve, factory):  # noqa: F811
    world = lessons_world.make_world(factory)
    username = world.researcher.username
    rural_id = world.rural.id
    db.session.remove()
    server = serve()

    # The website's home: brand and 退出 on one line, nothing wider than the screen.
    web = browser.new_context(**PHONE)
    page = web.new_page()
    page.goto(server.url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
    brand = page.locator(".topbar .brand").bounding_box()
    logout = page.locator(".topbar .logout button").bounding_box()
    assert brand["height"] < 40 and abs(brand["y"] - logout["y"]) < 20
    no_sideways_scroll(page)
    assert page.inner_text("main").count("文件已到期") == 1
    web.close()

    context, phone, errors = open_phone(browser, server, username)
    phone.wait_for_selector("#lesson-progress")
    until(phone, "async () => !!(await window.dudao.db.getMeta(window.dudao.db.userKey('lessons_bundle')))")
    phone.wait_for_selector("#lesson-progress .quota")
    assert phone.inner_text("#app").count("文件已到期") == 1
    phone.click("button[data-kind=lesson]")
    phone.wait_for_selector(".record-form")
    phone.select_option("select[name=school_id]", str(rural_id))
    grades = phone.locator("select[name=grade] option").all_inner_texts()
    assert "幼儿园" not in grades and "六年级" in grades and "七年级" not in grades
    phone.select_option("select[name=grade]", "g4")
    phone.select_option("select[name=subject]", "math")
    phone.fill("input[name=teacher_name]", "马晓梅")
    phone.fill("input[name=topic]", "分数的意义")
    phone.click("#record-done")
    phone.wait_for_selector("#lesson-progress")
    phone.wait_for_timeout(200)
    assert phone.evaluate("window.scrollY") == 0
    assert not errors, errors
    context.close()


def test_a_required_password_change_pauses_the_phone_and_leads_to_the_password_page(app, browser, serve, factory):  # noqa: F811
    """403 password_change_required is not a refusal of the records: the outbox pauses, the banner leads to
    the password page, and after the change the person is back in the app."""
    from webapp.auth.models import User

    world = make_world(factory)
    server = serve()
    phone, page, errors = open_phone(browser, server, world.inspector.username)
    user = db.session.get(User, world.inspector.id)
    user.must_change_password = True  # as after an admin's reset or an import
    db.session.commit()
    assert page.evaluate("async () => (await window.dudao.outbox.checkSession()).type") == "auth"
    link = page.locator("a[href='/account/password?next=/inspect/']")
    link.wait_for()
    assert "修改初始密码" in page.locator("#banners").inner_text() or "修改初始密码" in page.inner_text("body")
    no_sideways_scroll(page)
    link.click()
    page.fill("#current_password", PASSWORD)
    page.fill("#new_password", "Qiang-Zhen-2026")
    page.fill("#confirm_password", "Qiang-Zhen-2026")
    page.click("text=保存新密码")
    page.wait_for_url("**/inspect/")
    page.wait_for_function("window.dudao && window.dudao.ready")
    assert page.evaluate("async () => (await window.dudao.outbox.checkSession()).type") == "ok"
    db.session.rollback()
    assert db.session.get(User, world.inspector.id).must_change_password is False
    phone.close()
    assert errors == []
