"""The bureau's work in real Chromium on a 360-px phone.

1. "Which schools fail 一键报警 this term?" → the photo evidence → accept → the school's
   progress with a photo → closure → the matrix shows 已整改.
2. A returned visit on the inspector's phone: the comments and the school's open tasks
   are shown, the inspector amends and resubmits, and the server keeps the history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select

from webapp.bureau.rectification.models import RectificationTask
from webapp.extensions import db
from webapp.visits.models import ResultWrite, Visit

from .bureau_support import ALARM, alarm_photo, make_world, record_visit
from .conftest import PASSWORD, PHONE
from .test_browser_visits import LiveServer, free_port, open_phone, until, wait_synced

pytestmark = pytest.mark.browser
TIMEOUT = 20_000


@pytest.fixture(name="world")
def world_fixture(factory):
    """The bureau tests' county, schools and people."""
    return make_world(factory)


@pytest.fixture
def live(make_app: Callable[..., Flask]) -> Iterator[LiveServer]:
    """The app over HTTP with real CSRF checks, on the tests' database."""
    server = LiveServer(make_app(WTF_CSRF_ENABLED=True), free_port())
    server.start()
    yield server
    server.stop()


def sign_in(browser: Any, server: LiveServer, username: str) -> tuple[Any, Any, list[str]]:
    """A phone-sized browser signed in to the website."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
    return context, page, errors


def image_loaded(page: Any, selector: str) -> bool:
    """The first image matching ``selector`` has been fetched and decoded."""
    return page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0")


@pytest.mark.both_databases
def test_from_failing_schools_to_evidence_to_closed_rectification(app, browser, live, world, tmp_path):
    phone_api = world.client(app, "inspector")
    failing, _, _ = record_visit(phone_api, world.school, {ALARM: {"answer": "no"}}, {ALARM: alarm_photo()})
    record_visit(phone_api, world.junior)
    names = {who: getattr(world, who).username for who in ("reviewer", "inspector")}
    db.session.remove()  # end the test's read: the live server writes to the same database

    reviewer, page, errors = sign_in(browser, live, names["reviewer"])
    page.click("a:has-text('督导审核')")
    page.click("nav.subnav a:has-text('达标矩阵')")
    # Which schools fail 一键报警 this term?
    page.click("table.matrix thead a:has-text('一键报警')")
    page.locator("#matrix section.card h2:has-text('一键报警')").wait_for()
    assert "达标率 50%" in page.inner_text("#matrix")
    rows = page.locator("table.matrix tbody tr")
    assert rows.count() == 1 and "吉强镇中心小学" in rows.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # The cell opens the photo evidence in place (htmx), thumbnails through signed URLs.
    rows.first.locator("a.st-fail").click()
    page.locator("#cell-evidence .gallery img").wait_for()
    page.wait_for_function("document.querySelector('#cell-evidence .gallery img').complete")
    assert image_loaded(page, "#cell-evidence .gallery img")
    full = page.get_attribute("#cell-evidence .gallery a", "href")
    assert "expires=" in full and "sig=" in full
    # From the evidence to the visit, accepted: the failure becomes a task.
    page.click("#cell-evidence a:has-text('督导')")
    page.wait_for_url(f"**/bureau/visits/{failing}*")
    alarm_card = "#item-" + ALARM.replace(".", "\\.")
    assert image_loaded(page, f"{alarm_card} img")
    page.fill(f"input[name='responsible-{ALARM}']", "马校长")
    page.click("button[value=accept]")
    page.locator("text=已审核通过").wait_for()
    page.click("a.visit-row:has-text('一键报警')")
    task_url = page.url
    assert "马校长" in page.inner_text("main")

    # The school's side (its inspector on its behalf): what was done, a photo, asking for closure.
    inspector, school_page, school_errors = sign_in(browser, live, names["inspector"])
    school_page.goto(task_url)
    school_page.fill("#note", "已安装一键报警装置并与派出所联网测试")
    path = tmp_path / "fixed.jpg"
    Image.new("RGB", (1200, 900), (20, 140, 60)).save(path, "JPEG")
    school_page.set_input_files("#photos", str(path))
    school_page.check("input[name=request_closure]")
    school_page.click("#progress button[type=submit]")
    school_page.locator("text=已记录整改进展").wait_for()
    assert "待销号" in school_page.inner_text("main")
    assert school_page.locator("#decide").count() == 0  # only the bureau closes
    inspector.close()

    # The bureau sees the photo and closes the task; the matrix now reads 已整改.
    page.goto(task_url)
    page.locator(".timeline img").wait_for()
    page.wait_for_function("document.querySelector('.timeline img').complete")
    assert image_loaded(page, ".timeline img")
    page.fill("#close-note", "照片显示已安装并联网，予以销号")
    page.click("#decide button:has-text('审核销号')")
    page.locator("text=已销号。").wait_for()
    task = db.session.scalar(select(RectificationTask))
    assert task.state == "closed" and task.responsible_person == "马校长"
    db.session.remove()
    page.click("nav.subnav a:has-text('达标矩阵')")
    cell = page.locator("table.matrix tbody tr:has-text('吉强镇中心小学') a.st-rectified")
    assert cell.count() == 1 and "已整改" in cell.first.inner_text()
    page.screenshot(path=str(tmp_path / "matrix.png"), full_page=True)
    assert not errors and not school_errors
    reviewer.close()


def test_returned_visit_on_the_phone(app, browser, live, world):
    phone_api = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    # An earlier accepted visit left an open task at the school.
    older, _, _ = record_visit(phone_api, world.school, {ALARM: {"answer": "no"}})
    assert bureau.post(f"/bureau/visits/{older}/review", data={"decision": "accept"}).status_code == 302
    visit_id, _, _ = record_visit(phone_api, world.school, {ALARM: {"answer": "no"}})
    comment = {"decision": "return", "comment": "请复核一键报警", f"note-{ALARM}": "门卫室有报警按钮，请重新核实"}
    assert bureau.post(f"/bureau/visits/{visit_id}/review", data=comment).status_code == 302
    username = world.inspector.username
    db.session.remove()  # end the test's read: the live server writes to the same database

    phone, page, errors = open_phone(browser, live, username)
    section = page.locator("#returned-visits")
    section.wait_for()
    until(page, "async () => document.querySelector('#returned-visits')?.textContent.includes('请复核一键报警')")
    section.locator(f"a[href='#/visit/{visit_id}']").click()
    page.locator("#review-card").wait_for()
    assert "请复核一键报警" in page.inner_text("#review-card")
    card = page.locator(f'article.item[data-item-id="{ALARM}"]')
    assert "门卫室有报警按钮，请重新核实" in card.inner_text()
    assert "整改复查" in card.inner_text()
    assert "一键报警" in page.inner_text("#rectifications")
    # Amend and resubmit.
    card.locator("button.seg-yes").click()
    page.click("#to-submit")
    page.click("#submit")
    page.click("#confirm-submit")
    wait_synced(page, visit_id)
    until(page, "async () => true")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    db.session.expire_all()
    visit = db.session.get(Visit, visit_id)
    assert visit.state == "submitted" and visit.failed_count == 0
    answers = db.session.scalars(
        select(ResultWrite.value).where(ResultWrite.visit_id == visit_id, ResultWrite.item_id == ALARM)
    ).all()
    assert sorted(v["answer"] for v in answers) == ["no", "yes"]
    db.session.remove()
    # The list no longer shows it as returned, and a reload keeps it submitted.
    page.goto(live.url + "/inspect/#/")
    page.locator("#visit-list").wait_for()
    assert page.locator("#returned-visits").count() == 0
    assert not errors
    phone.close()


def test_typed_text_keeps_its_lines_and_a_long_link_wraps_on_a_phone(app, browser, live, world):
    """A summary in paragraphs read as one line, and a pasted link in a problem widened the page past 360 px."""
    phone_api = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, body, _ = record_visit(phone_api, world.school, {ALARM: {"answer": "no"}}, submit=False)
    summary = "一、安全工作扎实。\n二、一键报警未安装。"
    body = {**body, "state": "submitted", "summary": summary}
    body["submitted_at"], body["declared"] = body["started_at"], {"result_count": 0, "photo_hashes": []}
    phone_api.put(f"/api/v1/visits/{visit_id}", json=body)
    link = "https://example.com/" + "a" * 200
    problem = f"门卫室无一键报警\n见 {link}"
    fields = {f"problem-{ALARM}": problem, f"responsible-{ALARM}": "b" * 60}
    assert bureau.post(f"/bureau/visits/{visit_id}/review", data={"decision": "accept", **fields}).status_code == 302
    task_id = db.session.scalar(select(RectificationTask.id))
    reviewer = world.reviewer.username
    db.session.remove()

    context, page, errors = sign_in(browser, live, reviewer)

    def shown_lines(selector: str) -> list[str]:
        return page.locator(selector).first.inner_text().splitlines()

    for path in (f"/bureau/visits/{visit_id}?only=all", f"/bureau/visits/{visit_id}/report"):
        page.goto(live.url + path)
        assert any(line.endswith("一、安全工作扎实。") for line in shown_lines("main, body")), path
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    for path in ("/rectification/", f"/rectification/{task_id}"):
        page.goto(live.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    assert shown_lines("dd.lines")[0] == "门卫室无一键报警"
    context.close()
    assert not errors


def test_control_characters_pasted_into_a_web_form_are_taken_out(app, browser, live, world):
    """Text pasted from Word (a vertical tab, a form feed) made the form a 422 page, and what was typed was lost."""
    phone_api = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, _, _ = record_visit(phone_api, world.school, {ALARM: {"answer": "no"}})
    assert bureau.post(f"/bureau/visits/{visit_id}/review", data={"decision": "accept"}).status_code == 302
    task_id = db.session.scalar(select(RectificationTask.id))
    reviewer = world.reviewer.username
    db.session.remove()

    context, page, errors = sign_in(browser, live, reviewer)
    page.goto(f"{live.url}/rectification/{task_id}")
    page.click("summary:has-text('修改期限、责任人或问题描述')")
    problem = page.locator("form[action$='/edit'] textarea[name=problem]")
    problem.fill("门卫室\u000b无一键报警\u000c\n已告知校长")
    assert problem.input_value() == "门卫室无一键报警\n已告知校长"
    assert "控制字符" in page.locator("form[action$='/edit'] .control-note").inner_text()
    page.locator("form[action$='/edit'] button[type=submit]").click()
    page.locator("text=已修改。").wait_for()
    assert db.session.get(RectificationTask, task_id).problem.replace("\r\n", "\n") == "门卫室无一键报警\n已告知校长"
    context.close()
    assert not errors


def test_a_table_clicked_after_the_session_ended_leads_to_the_login_page(app, browser, live, world):
    """Filtering a table after signing out elsewhere swapped a whole login page (header and all) into the table."""
    phone_api = world.client(app, "inspector")
    record_visit(phone_api, world.school)
    reviewer = world.reviewer.username
    db.session.remove()

    context, page, errors = sign_in(browser, live, reviewer)
    page.goto(live.url + "/bureau/visits?state=submitted")
    page.locator("#visits a.visit-row").first.wait_for()
    context.clear_cookies()  # as 退出所有设备 on another device would
    page.select_option("select[name=state]", "accepted")  # the filters refresh the table through htmx
    page.wait_for_url(lambda url: "/login?next=" in url)
    assert page.locator("header.topbar").count() == 1 and page.locator("#visits").count() == 0
    page.fill("#username", reviewer)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.endswith("/bureau/visits?state=submitted"))
    context.close()
    assert not errors


def test_a_progress_form_cannot_be_sent_twice_while_it_uploads(app, browser, live, world):
    """On a slow network a second press on 提交 sent the progress (and its photos) again: two entries."""
    from webapp.bureau.rectification.models import TaskUpdate

    phone_api = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, _, _ = record_visit(phone_api, world.school, {ALARM: {"answer": "no"}})
    assert bureau.post(f"/bureau/visits/{visit_id}/review", data={"decision": "accept"}).status_code == 302
    task_id = db.session.scalar(select(RectificationTask.id))
    reviewer = world.reviewer.username
    db.session.remove()

    context, page, errors = sign_in(browser, live, reviewer)
    page.goto(f"{live.url}/rectification/{task_id}")
    held = []
    page.route("**/progress", lambda route: held.append(route))  # the upload still under way
    page.fill("#note", "已安装一键报警装置")
    submit = page.locator("#progress button[type=submit]")
    submit.scroll_into_view_if_needed()
    box = submit.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)  # pressed again while the upload is under way
    page.wait_for_timeout(500)
    assert len(held) == 1  # nothing more was sent
    held[0].continue_()
    page.locator("text=已记录整改进展").wait_for()
    assert db.session.scalar(select(func.count()).where(TaskUpdate.note == "已安装一键报警装置")) == 1
    context.close()
    assert not errors


def test_a_long_link_in_a_task_wraps_on_the_inspectors_phone(app, browser, live, world):
    """整改复查：<a pasted link> under an item widened the phone's page eight times over."""
    from .test_browser_visits import download_school

    phone_api = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, _, _ = record_visit(phone_api, world.school, {ALARM: {"answer": "no"}})
    problem = "门卫室无一键报警，见 https://example.com/" + "a" * 300
    assert (
        bureau.post(
            f"/bureau/visits/{visit_id}/review", data={"decision": "accept", f"problem-{ALARM}": problem}
        ).status_code
        == 302
    )
    school_id, username = world.school.id, world.inspector.username
    db.session.remove()

    phone, page, errors = open_phone(browser, live, username)
    download_school(page, school_id).locator("button.start-visit").click()
    page.locator("p.task-note").first.wait_for()
    assert "example.com" in page.locator("p.task-note").first.inner_text()
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 360
    phone.close()
    assert not errors
