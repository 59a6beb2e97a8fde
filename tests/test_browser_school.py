"""The 学校 account in real Chromium on a 360-px phone: progress with a photo and 申请销号 recorded
offline, synced once, and the reviewer closes the task; an entry the server refuses is corrected (修改)
or deleted (删除)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from webapp.bureau.rectification.models import RectificationTask, TaskPhoto, TaskUpdate
from webapp.extensions import db
from webapp.schools.models import SelfReport

from .bureau_support import ALARM, make_world, record_visit
from .conftest import PASSWORD, PHONE
from .test_browser_visits import (  # noqa: F401  (serve is a fixture)
    TIMEOUT,
    no_sideways_scroll,
    open_phone,
    rows,
    serve,
    small_photo,
    until,
)

pytestmark = pytest.mark.browser


def sign_in(page: Any, url: str, username: str, target: str) -> None:
    """Sign in through the login form and land on ``target``."""
    page.goto(f"{url}/login?next={target}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{target}")


@pytest.fixture
def world(app: Any, factory: Any) -> Any:
    """西吉县 with an accepted visit whose failed alarm item opened a task, and the school's account."""
    world = make_world(factory)
    world.principal = factory.user("school", world.county, school_id=world.school.id)
    visit_id, _, _ = record_visit(world.client(app, "inspector"), world.school, {ALARM: {"answer": "no"}})
    accepted = world.client(app, "reviewer").post(f"/bureau/visits/{visit_id}/review", data={"decision": "accept"})
    assert accepted.status_code == 302
    world.task_id = db.session.scalar(select(RectificationTask.id).where(RectificationTask.item_id == ALARM))
    db.session.rollback()
    return world


@pytest.mark.both_databases
def test_school_records_progress_offline_and_the_reviewer_closes(browser, serve, world, tmp_path):  # noqa: F811
    server = serve()
    phone, page, errors = open_phone(browser, server, world.principal.username)
    page.wait_for_selector("#task-list li.task")
    assert page.locator("#task-list li.task").count() == 1
    page.screenshot(path=str(tmp_path / "school-home.png"))
    no_sideways_scroll(page)
    page.click(f'#task-list li[data-task-id="{world.task_id}"] a')
    page.wait_for_selector("#progress-form")
    assert "门卫室未安装" in page.locator("#findings").inner_text()
    no_sideways_scroll(page)

    phone.set_offline(True)
    page.fill("#progress-note", "已在门卫室安装一键报警装置")
    page.set_input_files("#progress-photos", small_photo(tmp_path, "alarm.jpg", (40, 120, 200)))
    page.check("#request-closure")
    # The page is drawn again (as when the bundle arrives late) while the person types: what is typed and
    # picked stays, and so does the caret.
    page.focus("#progress-note")
    page.evaluate("document.querySelector('#progress-note').setSelectionRange(3, 3)")
    page.evaluate("document.querySelector('#findings').dataset.old = 'yes'")
    page.evaluate("window.dispatchEvent(new HashChangeEvent('hashchange'))")
    until(page, "() => document.querySelector('#findings') && !document.querySelector('#findings').dataset.old")
    assert page.input_value("#progress-note") == "已在门卫室安装一键报警装置" and page.is_checked("#request-closure")
    assert page.evaluate("[document.activeElement.id, document.activeElement.selectionStart]") == ["progress-note", 3]
    page.click("#save-progress")
    page.wait_for_selector("#task-history li.local")
    waiting = page.locator("#task-history li.local").inner_text()
    assert "待同步" in waiting and "1 张照片" in waiting, waiting  # the photo is in the entry on the phone
    # The form is empty again and takes the next entry.
    assert page.input_value("#progress-note") == "" and page.is_enabled("#save-progress")
    assert rows(TaskUpdate, task_id=world.task_id, kind="request") == 0  # nothing has left the phone

    # A reload with no network: the app and the entry (with its photo) are still on the phone.
    page.reload()
    page.wait_for_selector("#task-history li.local")
    assert page.locator("#requested-note").count() == 1
    page.screenshot(path=str(tmp_path / "school-task.png"), full_page=True)
    no_sideways_scroll(page)

    phone.set_offline(False)
    page.evaluate("window.dudao.replayNow()")
    until(
        page,
        "async () => (await window.dudao.outbox.entries()).length === 0 && !window.dudao.outbox.state().running",
    )
    assert rows(TaskUpdate, task_id=world.task_id, kind="request") == 1
    assert rows(TaskPhoto, task_id=world.task_id) == 1
    assert rows(TaskUpdate, task_id=world.task_id, kind="request", note="已在门卫室安装一键报警装置") == 1
    assert rows(RectificationTask, id=world.task_id, state="requested") == 1
    # The school's app never asked for an inspector's visit list (it would be refused).
    assert server.requests[("GET", "/api/v1/visits")] == 0
    # Sending the same entry again (a lost answer) records nothing more.
    sent = page.evaluate(
        """async (taskId) => {
            const id = (await window.dudao.db.getMeta(window.dudao.db.userKey('school_bundle'))).tasks[0]
              .updates.find((u) => u.kind === 'request').client_id;
            const token = (await (await fetch('/api/v1/me')).json()).csrf_token;
            const form = new FormData();
            form.append('note', 'again');
            const r = await fetch(`/api/v1/tasks/${taskId}/progress/${id}`,
              {method: 'PUT', body: form, headers: {'X-CSRFToken': token}});
            return r.status;
        }""",
        world.task_id,
    )
    assert sent == 200 and rows(TaskUpdate, task_id=world.task_id, kind="request") == 1

    # The reviewer sees the school's entry and closes the task.
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    review = desk.new_page()
    review.set_default_timeout(TIMEOUT)
    sign_in(review, server.url, world.reviewer.username, f"/rectification/{world.task_id}")
    review.locator(".timeline").wait_for()
    assert "已在门卫室安装一键报警装置" in review.content(), review.locator("main").inner_text()[:3000]
    assert review.locator("img").count() >= 1
    review.click("form[action$='/close'] button[type=submit]")
    review.wait_for_url("**done=closed**")
    assert rows(RectificationTask, id=world.task_id, state="closed") == 1
    desk.close()

    # Back on the phone, the task is among the closed ones.
    page.goto(server.url + "/inspect/#/")
    page.wait_for_selector(f'#closed-list li[data-task-id="{world.task_id}"]')
    assert "null" not in page.locator("#app").inner_text()
    page.click(f'#closed-list li[data-task-id="{world.task_id}"] a')
    page.wait_for_selector("#task-history")
    assert "该任务已销号" in page.locator("#app").inner_text() and page.locator("#progress-form").count() == 0
    assert "null" not in page.locator("#app").inner_text()
    phone.close()
    assert errors == []


def test_self_report_goes_from_the_school_to_verified(browser, serve, world, tmp_path):  # noqa: F811
    server = serve()
    item = "xiji.teaching.sport_art_skills"
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    page.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, server.url, world.principal.username, "/self-reports/mine")
    card = page.locator(f'section.self-report[data-item-id="{item}"]')
    assert card.locator(".report-state").inner_text() == "未填报"
    card.locator("input[name=number]").fill("2")
    card.locator("textarea[name=note]").fill("每名学生掌握2项技能，附统计表")
    card.locator("input[type=file]").set_input_files(small_photo(tmp_path, "sheet.jpg", (10, 160, 90)))
    no_sideways_scroll(page)
    card.locator("button[value=submit]").click()
    page.wait_for_url("**done=submitted**")
    assert page.locator(f'section.self-report[data-item-id="{item}"] .report-state').inner_text() == "待核验"

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    review = desk.new_page()
    review.set_default_timeout(TIMEOUT)
    sign_in(review, server.url, world.reviewer.username, "/self-reports/")
    review.click("#waiting-reports a")
    assert "2" in review.locator("#reported-value").inner_text() and review.locator(".gallery img").count() == 1
    review.check("input[name=decision][value=accept]")
    review.fill("#comment", "已抽问学生核实")
    review.click("#verify button[type=submit]")
    review.wait_for_url("**done=accepted**")
    desk.close()

    page.reload()
    assert page.locator(f'section.self-report[data-item-id="{item}"] .report-state').inner_text() == "已核验"
    assert rows(SelfReport, item_id=item, state="accepted") == 1
    phone.close()
    assert errors == []


def open_task(browser: Any, server: Any, world: Any) -> tuple[Any, Any, list[str]]:
    """The school's phone on the task page; returns (context, page, errors)."""
    phone, page, errors = open_phone(browser, server, world.principal.username)
    page.click(f'#task-list li[data-task-id="{world.task_id}"] a')
    page.wait_for_selector("#progress-form")
    return phone, page, errors


def fits_the_screen(locator: Any) -> None:
    """Every element of ``locator`` lies within the 360-px screen."""
    for n in range(locator.count()):
        box = locator.nth(n).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, box


@pytest.mark.both_databases
def test_a_refused_entry_is_corrected_in_place(browser, serve, world, tmp_path):  # noqa: F811
    """The server refuses an entry: it shows 未能上传 with the reason, and 修改 puts its note, 申请销号 and photo back
    in the form; the corrected entry takes its place, so the server gets exactly one record."""
    server = serve()
    phone, page, errors = open_task(browser, server, world)
    phone.set_offline(True)
    page.fill("#progress-note", "门卫室已安装报警装置")
    page.set_input_files("#progress-photos", small_photo(tmp_path, "alarm.jpg", (40, 120, 200)))
    page.check("#request-closure")
    page.click("#save-progress")
    entry = page.locator("#task-history li.local")
    entry.wait_for()
    # Waiting to go (待同步), it may be on its way to the server at any moment: nothing to change or delete.
    assert "待同步" in entry.inner_text() and entry.locator("button").count() == 0
    # Nor does the queue let it go.
    dropped = "async () => window.dudao.outbox.dropParked([(await window.dudao.outbox.entries())[0].seq])"
    assert page.evaluate(dropped) is False and page.evaluate("window.dudao.outbox.entries().then((e) => e.length)") == 1
    # As an older version of the app saved it: with a control character in the note, which the server refuses (422).
    page.evaluate(
        """async () => {
            const { db } = window.dudao;
            await db.transaction([db.S.outbox], "readwrite", async (s) => {
                const [entry] = await db.req(s[db.S.outbox].getAll());
                const body = { ...entry.body, note: "门卫室已安装\\u0007报警装置" };
                await db.req(s[db.S.outbox].put({ ...entry, body }));
            });
        }"""
    )

    phone.set_offline(False)
    page.evaluate("window.dudao.replayNow()")
    parked = page.locator("#task-history li.local.parked")
    parked.wait_for()
    assert "未能上传" in parked.inner_text() and "控制字符" in parked.locator(".refusal").inner_text()
    assert rows(TaskUpdate, task_id=world.task_id, kind="request") == 0
    parked.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "school-parked.png"))
    no_sideways_scroll(page)
    fits_the_screen(parked.locator("button"))
    assert parked.locator("button").all_inner_texts() == ["修改", "删除"]
    # The status line's 修改 leads to the entry.
    page.click("#task-summary .sync-line button.edit-failed")
    until(page, "() => document.activeElement && document.activeElement.classList.contains('edit-entry')")

    parked.locator("button.edit-entry").click()
    form = page.locator("#progress-form")
    assert page.input_value("#progress-note") == "门卫室已安装报警装置"  # the refused character is taken out
    assert page.is_checked("#request-closure")
    assert "沿用原记录的 1 张照片" in form.locator(".replacing").inner_text()
    assert form.locator(".replacing img.thumb").count() == 1
    form.screenshot(path=str(tmp_path / "school-correcting.png"))
    no_sideways_scroll(page)
    fits_the_screen(form.locator(".replacing button"))
    page.fill("#progress-note", "门卫室已安装一键报警装置")
    page.click("#save-progress")
    until(
        page,
        "async () => (await window.dudao.outbox.entries()).length === 0 && !window.dudao.outbox.state().running",
    )
    page.wait_for_selector("#task-history li.local", state="detached")
    assert rows(TaskUpdate, task_id=world.task_id, kind="request") == 1
    assert rows(TaskUpdate, task_id=world.task_id, kind="request", note="门卫室已安装一键报警装置") == 1
    assert rows(TaskPhoto, task_id=world.task_id) == 1
    assert rows(RectificationTask, id=world.task_id, state="requested") == 1
    # The form is empty again, no longer correcting anything.
    assert page.input_value("#progress-note") == "" and not page.is_checked("#request-closure")
    assert form.locator(".replacing").is_hidden()
    assert "门卫室已安装一键报警装置" in page.locator("#task-history").inner_text()
    phone.close()
    assert errors == []


@pytest.mark.both_databases
def test_a_refused_entry_is_deleted_after_asking(app, browser, serve, world, tmp_path):  # noqa: F811
    """The bureau closed the task while the school's entry waited offline: the server refuses it (409). The page
    says why and offers only 删除 (a closed task takes no correction); asked first, the entry is gone for good."""
    server = serve()
    phone, page, errors = open_task(browser, server, world)
    phone.set_offline(True)
    page.fill("#progress-note", "已联系厂家，下周安装")
    page.click("#save-progress")
    page.locator("#task-history li.local").wait_for()
    closed = world.client(app, "reviewer").post(f"/rectification/{world.task_id}/close", data={"note": "现场核实"})
    assert closed.status_code == 302
    assert rows(RectificationTask, id=world.task_id, state="closed") == 1

    phone.set_offline(False)
    page.evaluate("window.dudao.replayNow()")
    parked = page.locator("#task-history li.local.parked")
    parked.wait_for()
    assert "该整改任务已销号" in parked.locator(".refusal").inner_text()
    # The refusal brought the task's new state: closed, no form, nothing to correct.
    page.wait_for_selector("#progress-form", state="detached")
    assert "该任务已销号" in page.locator("#app").inner_text()
    assert parked.locator("button").all_inner_texts() == ["删除"]
    no_sideways_scroll(page)
    fits_the_screen(parked.locator("button"))

    asked: list[str] = []

    def answer(accept: bool) -> Any:
        def handle(dialog: Any) -> None:
            asked.append(dialog.message)
            if accept:
                dialog.accept()
            else:
                dialog.dismiss()

        return handle

    page.once("dialog", answer(False))
    parked.locator("button.delete-entry").click()
    assert asked == ["删除这条未能上传的整改记录？删除后无法恢复。"]
    assert page.evaluate("window.dudao.outbox.entries().then((e) => e.length)") == 1
    page.once("dialog", answer(True))
    parked.locator("button.delete-entry").click()
    page.wait_for_selector("#task-history li.local", state="detached")
    assert page.evaluate("window.dudao.outbox.entries().then((e) => e.length)") == 0

    page.reload()
    page.wait_for_selector("#task-history")
    page.evaluate("window.dudao.ready")
    assert page.locator("#task-history li.local").count() == 0
    assert page.locator(".sync-line .sync-status").first.inner_text() == "已同步"
    assert rows(TaskUpdate, task_id=world.task_id, kind="progress") == 0
    phone.close()
    assert errors == []
