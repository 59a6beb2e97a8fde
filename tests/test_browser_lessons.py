"""The 教研员's lesson log in real Chromium on a 360-px phone: log offline, reload, sync,
and see the progress move on the phone, on the 教研员's home page and in the bureau table."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from webapp.lessons.models import Activity, ActivityPhoto, ActivityWrite

from .conftest import PASSWORD, PHONE
from .lessons_world import make_world
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
LESSONS = "helan.researcher.lessons_observed"


@pytest.fixture
def world(app: Any, factory: Any) -> Any:
    return make_world(factory)


def done_on_phone(page: Any) -> str:
    return page.locator(f'#lesson-progress [data-quota="{LESSONS}"] .done').inner_text()


def log_lesson(page: Any, school_id: int, topic: str, photo: str | None = None) -> None:
    """Log one 听评课 through the form (with a photo of the board, if given), as a 教研员 would."""
    page.click("button[data-kind=lesson]")
    page.wait_for_selector(".record-form")
    page.select_option("select[name=school_id]", str(school_id))
    page.select_option("select[name=grade]", "g4")
    page.select_option("select[name=subject]", "math")
    page.fill("input[name=teacher_name]", "马晓梅")
    page.fill("input[name=topic]", topic)
    page.select_option("select[name=score-goals]", "4")
    page.locator("#record-problems.ok-text").wait_for()
    if photo:
        page.set_input_files(".record-form input[type=file]", photo)
        page.locator("#record-photos figure").wait_for()
    no_sideways_scroll(page)
    page.click("#record-done")
    page.wait_for_selector("#lesson-progress")


def test_a_new_version_of_the_worker_keeps_the_researchers_modules(browser, serve, world, monkeypatch):  # noqa: F811
    from webapp.visits import routes

    server = serve()
    phone, page, errors = open_phone(browser, server, world.researcher.username)
    page.wait_for_selector("#lesson-progress")
    until(page, "async () => !!(await caches.match('/static/inspect/lessons-form.js'))")
    first = page.evaluate("caches.keys()")
    # A new version of the shell (any file changed): a new worker and cache, the old one deleted.
    monkeypatch.setattr(routes, "_version_of", lambda folder: "0123456789abcdef")
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    until(page, "async () => (await caches.keys()).join() === 'dudao-shell-0123456789abcdef'")
    # The 教研员's modules are not in its precache list, yet the new cache has them: offline still works.
    kept = page.evaluate(
        """async () => {
            const cache = await caches.open('dudao-shell-0123456789abcdef');
            return (await cache.keys()).map((r) => new URL(r.url).pathname).filter((p) => p.includes('lessons'));
        }"""
    )
    assert first != ["dudao-shell-0123456789abcdef"]
    assert {"/static/inspect/lessons.js", "/static/inspect/lessons-form.js", "/static/inspect/lessons-sync.js"} <= set(
        kept
    )
    assert not errors, errors
    phone.close()


@pytest.mark.both_databases
def test_three_lessons_logged_offline_reach_the_bureau(browser, serve, world, tmp_path):  # noqa: F811
    server = serve()
    phone, page, errors = open_phone(browser, server, world.researcher.username)
    page.wait_for_selector("#lesson-progress")
    until(page, "async () => !!(await window.dudao.db.getMeta(window.dudao.db.userKey('lessons_bundle')))")
    assert done_on_phone(page) == "0"
    no_sideways_scroll(page)
    # Not precached for everyone: the worker keeps the 教研员's modules once this phone has loaded them,
    # the record form too (not opened yet), so it opens offline below.
    until(page, "async () => !!(await caches.match('/static/inspect/lessons-form.js'))")

    phone.set_offline(True)
    board = small_photo(tmp_path, "board.jpg", (220, 60, 40))
    for n in range(3):
        log_lesson(page, world.rural.id, f"分数的初步认识（{n + 1}）", photo=board if n == 0 else None)
    assert done_on_phone(page) == "3"
    assert "还需 12 节，剩余 9 周" in page.locator("#lesson-progress").inner_text()
    assert page.locator("#activity-list li.activity").count() == 3
    assert rows(Activity) == 0  # nothing has left the phone

    # A reload with no network: the service worker serves the app, IndexedDB the records.
    page.reload()
    page.wait_for_selector("#lesson-progress")
    assert done_on_phone(page) == "3"
    assert page.locator("#activity-list li.activity").count() == 3
    assert page.locator("#activity-list .sync-status").all_inner_texts() == ["待同步"] * 3

    phone.set_offline(False)
    page.evaluate("window.dudao.replayNow()")
    until(
        page,
        """async () => (await window.dudao.outbox.entries()).length === 0 && !window.dudao.outbox.state().running""",
    )
    page.locator("#activity-list .sync-status", has_text="已同步").nth(2).wait_for()
    assert rows(Activity) == 3
    assert rows(Activity, researcher_id=world.researcher.id, school_id=world.rural.id, kind="lesson") == 3
    assert rows(ActivityWrite, decision="superseded") == 0
    assert rows(ActivityPhoto) == 1

    # The 教研员's home page on the server counts them…
    page.goto(server.url + "/")
    assert page.locator(f'#lessons-progress [data-quota="{LESSONS}"] .done').inner_text() == "3"
    assert "还需 12 节，剩余 9 周" in page.locator("#lessons-progress").inner_text()
    # …and so does the bureau's table.
    bureau = browser.new_context(**PHONE)
    desk = bureau.new_page()
    desk.set_default_timeout(TIMEOUT)
    desk.goto(server.url + "/login?next=/lessons/bureau")
    desk.fill("#username", world.reviewer.username)
    desk.fill("#password", PASSWORD)
    desk.click("button[type=submit]")
    desk.wait_for_url("**/lessons/bureau")
    cell = desk.locator(f'tr[data-researcher="{world.researcher.id}"] td[data-quota="{LESSONS}"]')
    assert cell.locator(".done").inner_text() == "3"
    assert "还需 12 节" in cell.inner_text()
    bureau.close()
    phone.close()
    assert errors == []


def test_past_the_records_the_phone_keeps_it_shows_the_servers_standing(
    browser,
    serve,  # noqa: F811
    world,
    monkeypatch,
):
    from datetime import date

    from webapp.lessons import bundle

    from .conftest import login
    from .lessons_world import lesson

    server = serve()
    monkeypatch.setattr(bundle, "RECORD_LIMIT", 2)  # the phone gets the newest 2 of 3
    desk = server.app.test_client()
    login(desk, world.researcher)
    token = desk.get("/api/v1/me").get_json()["csrf_token"]
    for n in range(3):
        body = lesson(world.rural, date.today(), topic=f"服务器上的第 {n + 1} 节")
        answer = desk.put(f"/api/v1/activities/{uuid.uuid4()}", json=body, headers={"X-CSRFToken": token})
        assert answer.status_code == 201, answer.get_json()

    phone, page, errors = open_phone(browser, server, world.researcher.username)
    page.wait_for_selector("#lesson-progress")
    page.locator(".older-records").wait_for()
    assert page.locator("#activity-list li.activity").count() == 2
    assert done_on_phone(page) == "3"  # the server's count, not the 2 records on the phone
    # Offline, a new lesson moves it at once: the standing plus what the phone has not sent yet.
    phone.set_offline(True)
    log_lesson(page, world.rural.id, "离线记录的一节")
    assert done_on_phone(page) == "4"
    phone.set_offline(False)
    page.evaluate("window.dudao.replayNow()")
    until(page, "async () => (await window.dudao.outbox.entries()).length === 0")
    assert rows(Activity) == 4
    # The bundle again: new content; then unchanged, a 304 without a body.
    statuses = page.evaluate(
        """async () => {
            const sync = await import("/static/inspect/lessons-sync.js");
            return [(await sync.refreshBundle()).status, (await sync.refreshBundle()).status];
        }"""
    )
    assert statuses == [200, 304]
    page.evaluate("location.reload()")
    page.wait_for_selector("#lesson-progress")
    assert done_on_phone(page) == "4"
    assert errors == []
    phone.close()


def test_back_from_a_new_record_returns_to_the_home(browser, serve, world):  # noqa: F811
    """返回 from a record just started left the app (the home's history entry was replaced)."""
    server = serve()
    phone, page, errors = open_phone(browser, server, world.researcher.username)
    page.wait_for_selector("#lesson-progress")
    page.click("button[data-kind=guidance]")
    page.wait_for_selector(".record-form")
    page.go_back()
    page.wait_for_selector("#lesson-progress")
    assert "/inspect/" in page.url and "lessons" not in page.url
    phone.close()
    assert errors == []


def test_a_refused_participant_count_is_said_on_the_form(browser, serve, world):  # noqa: F811
    """参加人数 -5 went out and came back refused (提交的数据有误, parked); 1e309 was dropped without a word."""
    server = serve()
    phone, page, errors = open_phone(browser, server, world.researcher.username)
    page.wait_for_selector("#lesson-progress")
    page.click("button[data-kind=guidance]")
    page.wait_for_selector(".record-form")
    page.select_option("select[name=school_id]", str(world.rural.id))
    page.fill("input[name=topic]", "集体备课")
    for typed in ("-5", "1e309", "2.5"):
        page.fill("input[name=participants]", "")
        page.locator("input[name=participants]").press_sequentially(typed)
        page.wait_for_function("document.querySelector('#record-problems')?.textContent.includes('参加人数')")
    page.fill("input[name=participants]", "12")
    page.locator("#record-problems.ok-text").wait_for()
    page.click("#record-done")
    until(
        page, "async () => (await window.dudao.outbox.entries()).length === 0 && !window.dudao.outbox.state().running"
    )
    assert rows(Activity, kind="guidance", participants=12) == 1
    assert page.locator(".failures, .parked").count() == 0
    phone.close()
    assert errors == []
