"""Faults that could lose or double an inspector's record, in Chromium: a page closed before its save,
two tabs of the app on one visit, a phone clock set back, a full phone, another person signed in meanwhile.

Same live server and phone helpers as test_browser_visits.py; the server's database is checked directly.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.lessons.models import Activity
from webapp.visits.models import ItemResult, Photo, ResultWrite, Visit

from .lessons_world import make_world
from .test_browser_outbox import sign_in_app, sign_out, start_unplanned_visit
from .test_browser_visits import (  # noqa: F401  (serve and world are fixtures)
    FAST,
    TIMEOUT,
    add_photos,
    download,
    download_school,
    first,
    item_card,
    open_phone,
    open_visit,
    rows,
    serve,
    small_photo,
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


def test_what_was_typed_just_before_the_page_closed_is_kept(browser, serve, world, tmp_path):  # noqa: F811
    """Closed (or left for another page) within the save's debounce: nothing typed is lost, nothing doubled."""
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    # Saves wait a minute after typing: every edit below is still waiting when its page goes.
    phone.add_init_script(f"window.DUDAO_CONFIG = {json.dumps({**FAST, 'saveDelayMs': 60000, 'photoHoldMs': 60000})};")
    download(page, visit_id)
    page.reload()
    page.evaluate("window.dudao.ready")
    open_visit(page, visit_id)
    phone.set_offline(True)
    photo_item, numeric = first(items, "yes_no", photo=True), first(items, "numeric")
    card = item_card(page, photo_item)
    card.locator("button[data-answer=yes]").click()
    add_photos(page, photo_item, [small_photo(tmp_path, "gate.jpg", (200, 40, 40))])
    card.locator(".obs-toggle").click()
    card.locator("textarea.obs").fill("门卫室两名保安在岗")
    item_card(page, numeric).locator("input.num").fill("7")
    card.locator("li.photo .caption").fill("校门")
    page.close()  # the tab is closed at once

    page = open_tab(phone, server, visit_id)
    card = item_card(page, photo_item)
    assert card.locator("button[data-answer=yes]").get_attribute("aria-pressed") == "true"
    assert card.locator("textarea.obs").input_value() == "门卫室两名保安在岗"
    assert item_card(page, numeric).locator("input.num").input_value() == "7"
    card.locator("li.photo").wait_for()
    assert card.locator("li.photo .caption").input_value() == "校门"
    page.click("#to-submit")
    page.fill("#summary", "安全工作扎实")
    page.goto(server.url + "/manifest.webmanifest")  # another page: this one is unloaded
    page.close()

    page = open_tab(phone, server, visit_id)
    page.click("#to-submit")
    assert page.locator("#summary").input_value() == "安全工作扎实"
    page.click("#submit")
    page.click("#confirm-submit")
    page.wait_for_selector(".readonly")
    assert page.evaluate("localStorage.getItem('dudao-unsaved')") is None  # nothing left waiting
    phone.set_offline(False)
    wait_synced(page, visit_id)
    db.session.expire_all()
    visit = db.session.get(Visit, visit_id)
    assert (visit.state, visit.summary, visit.is_fully_received) == ("submitted", "安全工作扎实", True)
    results = {r.item_id: r for r in db.session.scalars(select(ItemResult).where(ItemResult.visit_id == visit_id))}
    assert results[photo_item["id"]].observation == "门卫室两名保安在岗"
    assert results[numeric["id"]].value == {"number": 7}
    assert [p.caption for p in db.session.scalars(select(Photo).where(Photo.visit_id == visit_id))] == ["校门"]
    db.session.rollback()
    assert rows(ResultWrite, visit_id=visit_id) == 2  # one write per item: recovered, not doubled
    assert not errors, errors
    phone.close()


#: The phone's clock, off by ``window.__skewMs`` (first taken from sessionStorage "skew", so it holds from the start).
SKEWED_CLOCK = """
(() => {
  const Real = Date;
  window.__skewMs = Number(sessionStorage.getItem("skew") || 0);
  class Skewed extends Real {
    constructor(...args) {
      if (args.length) super(...args);
      else super(Real.now() + window.__skewMs);
    }
    static now() {
      return Real.now() + window.__skewMs;
    }
  }
  globalThis.Date = Skewed;
})();
"""


@pytest.mark.both_databases
def test_a_clock_set_back_does_not_lose_the_next_edit(browser, serve, world):  # noqa: F811
    """The phone's clock ran an hour fast, and the network set it right: the later answer still wins."""
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    phone.add_init_script(SKEWED_CLOCK)
    download(page, visit_id)
    page.evaluate("sessionStorage.setItem('skew', String(3600 * 1000))")
    page.reload()
    page.evaluate("window.dudao.ready")
    open_visit(page, visit_id)
    item = first(items, "yes_no")
    item_card(page, item).locator("button[data-answer=yes]").click()
    page.evaluate("window.dudao.flush()")
    wait_synced(page, visit_id)
    page.evaluate("window.__skewMs = 0")  # the clock is set back an hour
    item_card(page, item).locator("button[data-answer=no]").click()
    page.evaluate("window.dudao.flush()")
    wait_synced(page, visit_id)
    db.session.expire_all()
    result = db.session.scalars(select(ItemResult).where(ItemResult.item_id == item["id"])).one()
    decisions = sorted(w.decision for w in db.session.scalars(select(ResultWrite)))
    db.session.rollback()
    assert result.value == {"answer": "no"}, "the phone shows 否, the server kept 是"
    assert decisions == ["applied", "applied"]  # each replaced what was there when it arrived
    assert not errors, errors
    phone.close()


#: IndexedDB refuses writes to the stores named in ``window.__full`` as a full phone does.
FULL_STORAGE = """
(() => {
  window.__full = [];
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (value, key) {
    if (window.__full.includes(this.name)) throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
    return put.call(this, value, key);
  };
})();
"""


def test_a_full_phone_says_so_in_chinese_and_keeps_what_it_has(browser, serve, world, tmp_path):  # noqa: F811
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    phone.add_init_script(FULL_STORAGE)
    download(page, visit_id)
    page.reload()
    page.evaluate("window.dudao.ready")
    open_visit(page, visit_id)
    phone.set_offline(True)
    photo_item = first(items, "yes_no", photo=True)
    other = next(i for i in items if i["check"]["type"] == "yes_no" and i["id"] != photo_item["id"])
    item_card(page, photo_item).locator("button[data-answer=yes]").click()
    add_photos(page, photo_item, [small_photo(tmp_path, "kept.jpg", (200, 40, 40))])
    page.evaluate("window.dudao.flush()")
    before = page.evaluate("(id) => window.dudao.outbox.entries(id)", visit_id)

    # The phone is full: the next photo (neither its file nor its copy can be kept) and the next answer are
    # refused, and the person is told why.
    page.evaluate("window.__full = ['photo_intake', 'photos', 'results']")
    item_card(page, photo_item).locator("input.pick").set_input_files(small_photo(tmp_path, "lost.jpg", (9, 9, 9)))
    toast = page.locator('[data-banner^="toast-"]')
    toast.first.wait_for()
    full = "手机存储空间不足。请删除手机上不需要的照片、视频或文件后再试（已保存的记录都还在）。"
    assert toast.first.inner_text() == f"照片没有保存：{full}"
    item_card(page, other).locator("button[data-answer=no]").click()
    page.wait_for_function("document.querySelectorAll('[data-banner^=\"toast-\"]').length === 2")
    assert toast.nth(1).inner_text() == f"保存失败：{full}"
    assert page.locator("li.photo").count() == 1 and not page.locator("li.busy").count()
    assert page.evaluate("(id) => window.dudao.outbox.entries(id)", visit_id) == before  # nothing harmed

    # Space is made: the refused answer was kept aside (unsaved.js) and is saved at the next start; all syncs.
    page.evaluate("window.__full = []")
    page.reload()
    page.evaluate("window.dudao.ready")
    page.wait_for_selector("article.item")
    assert item_card(page, other).locator("button[data-answer=no]").get_attribute("aria-pressed") == "true"
    phone.set_offline(False)
    wait_synced(page, visit_id)
    assert rows(ItemResult, visit_id=visit_id) == 2 and rows(Photo, visit_id=visit_id) == 1
    assert not errors, errors
    phone.close()


@pytest.mark.both_databases
def test_a_tab_left_open_never_sends_its_records_as_the_next_person(browser, serve, world, factory):  # noqa: F811
    """A records offline; on the same phone A signs out and B signs in (one cookie jar): A's tab, still open,
    must not send A's visit under B's session. It waits for A, and goes once A is signed in again."""
    server = serve()
    items, school = world["items"], world["school"]
    a, b = world["inspector"], factory.user("inspector", school.county, (school,))
    db.session.commit()
    phone, page, errors = open_phone(browser, server, a.username)
    download_school(page, school.id)
    page.route("**/api/v1/sync", lambda route: route.abort("connectionreset"))  # A's link is down
    visit_id = start_unplanned_visit(page, school.id)
    for item in [i for i in items if i["check"]["type"] == "yes_no"][:2]:
        item_card(page, item).locator("button[data-answer=yes]").click()
    page.evaluate("window.dudao.flush()")
    page.wait_for_function("window.dudao.outbox.state().failures >= 1")

    sign_out(phone, server)
    other = sign_in_app(phone, server, b.username)
    page.unroute("**/api/v1/sync")
    posts = server.count("POST", "/api/v1/sync")
    page.evaluate("window.dudao.replayNow()")  # A's tab comes back online
    until(
        page,
        """async (b) => {
            const state = window.dudao.outbox.state();
            return !state.running && (state.user?.id === b || (await window.dudao.outbox.entries()).length === 0);
        }""",
        b.id,
    )
    assert rows(Visit, id=visit_id) == 0, "A's visit was sent under B's session"
    assert rows(ItemResult) == 0
    assert page.evaluate("window.dudao.outbox.state().user.id") == b.id  # the tab switched to B
    assert server.count("POST", "/api/v1/sync") == posts + 1  # it tried, and was refused
    # A's tab now shows B's records; A's wait on the phone, neither parked nor gone.
    assert page.evaluate("window.dudao.outbox.entries()") == []
    assert page.evaluate("window.dudao.db.othersWaiting()") == 3
    other.close()
    page.close()

    sign_out(phone, server)
    page = sign_in_app(phone, server, a.username)
    page.goto(server.url + f"/inspect/#/visit/{visit_id}")
    wait_synced(page, visit_id)
    assert rows(Visit, id=visit_id, inspector_id=a.id) == 1 and rows(ItemResult, visit_id=visit_id) == 2
    assert not errors, errors
    phone.close()


def test_a_researchers_record_typed_just_before_the_page_closed_is_kept(browser, serve, factory):  # noqa: F811
    """The 教研员's form saves after a debounce too: closed within it, what was typed is saved at the next start."""
    lessons = make_world(factory)
    server = serve()
    phone, page, errors = open_phone(browser, server, lessons.researcher.username)
    phone.add_init_script(f"window.DUDAO_CONFIG = {json.dumps({**FAST, 'saveDelayMs': 60000})};")
    page.wait_for_selector("#lesson-progress")
    until(page, "async () => !!(await caches.match('/static/inspect/lessons-form.js'))")
    page.reload()
    page.wait_for_selector("#lesson-progress")
    phone.set_offline(True)
    page.click("button[data-kind=guidance]")
    page.wait_for_selector(".record-form")
    record_id = page.evaluate("location.hash.split('/')[2]")
    page.select_option("select[name=school_id]", str(lessons.rural.id))
    page.fill("input[name=topic]", "单元整体教学设计")
    page.fill("textarea[name=notes]", "参加教师12人")
    page.close()

    page = phone.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(server.url + f"/inspect/#/lessons/{record_id}")
    page.wait_for_selector(".record-form")
    assert page.locator("input[name=topic]").input_value() == "单元整体教学设计"
    assert page.locator("textarea[name=notes]").input_value() == "参加教师12人"
    assert page.locator("select[name=school_id]").input_value() == str(lessons.rural.id)
    phone.set_offline(False)
    page.evaluate("window.dudao.replayNow()")
    until(page, "async () => !(await window.dudao.outbox.entries()).length && !window.dudao.outbox.state().running")
    assert rows(Activity, id=record_id, topic="单元整体教学设计", notes="参加教师12人", school_id=lessons.rural.id) == 1
    assert not errors, errors
    phone.close()
