"""A photo is kept from the moment the camera gives it: a page closed (or a browser killed) while the picture is
being shrunk loses nothing, a picture that cannot be prepared is shown with what can be done, in Chromium.

Preparation is stalled or made to fail by wrapping the canvas encoder (OffscreenCanvas.convertToBlob) before the
app loads: no timing is involved. Same live server and phone helpers as test_browser_visits.py.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.visits.models import ItemResult, Photo

from .conftest import PASSWORD, PHONE
from .test_browser_faults import open_tab
from .test_browser_visits import (  # noqa: F401  (serve and world are fixtures)
    TIMEOUT,
    download,
    first,
    item_card,
    open_phone,
    open_visit,
    photo_file,
    rows,
    serve,
    small_photo,
    until,
    wait_synced,
    world,
)

pytestmark = pytest.mark.browser

#: The encoder never answers while ``window.__stall`` is true: the picture is "being prepared" for as long as the
#: test wants (the page is closed meanwhile). ``window.__failEncode``: the encoder refuses, as a phone that cannot.
ENCODER_FAULTS = """
(() => {
  window.__stall = %(stall)s;
  window.__failEncode = %(fail)s;
  const real = OffscreenCanvas.prototype.convertToBlob;
  OffscreenCanvas.prototype.convertToBlob = function (...args) {
    if (window.__stall) return new Promise(() => {});
    if (window.__failEncode) return Promise.reject(new Error("encoder refused"));
    return real.apply(this, args);
  };
  const toBlob = HTMLCanvasElement.prototype.toBlob;
  HTMLCanvasElement.prototype.toBlob = function (callback, ...args) {
    if (window.__stall) return;
    if (window.__failEncode) return callback(null);
    return toBlob.call(this, callback, ...args);
  };
})();
"""


def faults(stall: bool = False, fail: bool = False) -> str:
    """The init script with the given faults on."""
    return ENCODER_FAULTS % {"stall": str(stall).lower(), "fail": str(fail).lower()}


def kept_files(page: Any) -> list[dict[str, Any]]:
    """The photo files kept on the phone and not prepared yet (without their bytes)."""
    return page.evaluate(
        """() => window.dudao.db.all("photo_intake").then((rows) => rows.map((r) => ({
            id: r.id, visit_id: r.visit_id, item_id: r.item_id, attempts: r.attempts, size: r.size,
            type: r.type, bytes: r.blob ? r.blob.size : 0, last_error: r.last_error,
        })))"""
    )


def sha256_of(path: str) -> str:
    """The SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def photo_puts(server: Any, visit_id: str) -> int:
    """How many photo PUTs (attaching an upload to the visit) the server answered."""
    return server.count("PUT", f"/api/v1/visits/{visit_id}/photos/")


@pytest.mark.both_databases
def test_a_photo_being_prepared_when_the_page_closes_is_kept_and_uploaded_once(browser, serve, world, tmp_path):  # noqa: F811
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    page.add_init_script(faults(stall=True))  # this tab only: the next one prepares normally
    page.reload()
    page.evaluate("window.dudao.ready")
    open_visit(page, visit_id)
    photo_item = first(items, "yes_no", photo=True)
    card = item_card(page, photo_item)
    picture = photo_file(tmp_path, "gate.jpg", (220, 30, 30))  # a 12-MP camera picture
    card.locator("input.take").set_input_files(picture)
    card.locator("li.intake .photo-status", has_text="正在处理照片…").wait_for()
    until(
        page,
        """() => window.dudao.db.all("photo_intake").then((rows) => rows.length === 1 && rows[0].attempts === 1)""",
    )
    [kept] = kept_files(page)
    assert (kept["visit_id"], kept["item_id"], kept["type"]) == (visit_id, photo_item["id"], "image/jpeg")
    assert kept["bytes"] == kept["size"] > 500_000  # the camera's file itself, not a copy
    page.close()  # the tab goes while the picture is being shrunk

    page = open_tab(phone, server, visit_id)
    card = item_card(page, photo_item)
    card.locator("li.photo img.thumb").wait_for()
    assert card.locator("li.intake").count() == 0
    wait_synced(page, visit_id)
    assert kept_files(page) == []
    db.session.expire_all()
    stored = db.session.scalars(select(Photo).where(Photo.visit_id == visit_id)).all()
    assert [(p.id, p.item_id) for p in stored] == [(kept["id"], photo_item["id"])]
    assert stored[0].sha256 != sha256_of(picture)  # the prepared copy (1600 px), not the camera's file
    db.session.rollback()
    assert photo_puts(server, visit_id) == 1
    assert not errors, errors
    phone.close()


def test_a_photo_that_crashes_every_try_stops_after_two_and_waits_for_the_person(browser, serve, world, tmp_path):  # noqa: F811
    """Each start tries once more; after two tries none (a crash loop); 重试处理 once the phone copes."""
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    phone.add_init_script(faults(stall=True))  # every tab: preparing never ends, as a browser killed each time
    download(page, visit_id)
    page.reload()
    page.evaluate("window.dudao.ready")
    open_visit(page, visit_id)
    photo_item = first(items, "yes_no", photo=True)
    item_card(page, photo_item).locator("input.take").set_input_files(small_photo(tmp_path, "hall.jpg", (30, 160, 30)))
    until(page, """() => window.dudao.db.all("photo_intake").then((rows) => rows[0]?.attempts === 1)""")
    page.close()

    page = open_tab(phone, server, visit_id)  # the next start tries again (and is "killed" again)
    item_card(page, photo_item).locator("li.intake .photo-status", has_text="正在处理照片…").wait_for()
    until(page, """() => window.dudao.db.all("photo_intake").then((rows) => rows[0]?.attempts === 2)""")
    page.close()

    page = open_tab(phone, server, visit_id)  # no third try by itself: the person decides
    card = item_card(page, photo_item)
    status = card.locator("li.intake .photo-status.bad")
    status.wait_for()
    assert status.inner_text() == (
        "照片处理没有成功（已试 2 次）（手机内存可能不足，或处理时页面被关闭）。原图仍保存在手机上，没有丢失。"
    )
    assert card.locator("li.intake button").all_inner_texts() == ["重试处理", "原图上传", "删除"]
    assert [k["attempts"] for k in kept_files(page)] == [2]
    page.evaluate("window.__stall = false")  # the phone copes now
    card.locator("button.retry-intake").click()
    card.locator("li.photo img.thumb").wait_for()
    wait_synced(page, visit_id)
    assert kept_files(page) == [] and rows(Photo, visit_id=visit_id) == 1
    assert photo_puts(server, visit_id) == 1
    assert not errors, errors
    phone.close()


@pytest.mark.both_databases
def test_a_photo_that_cannot_be_prepared_is_shown_with_what_can_be_done(browser, serve, world, tmp_path):  # noqa: F811
    """Preparation fails every time: two tries, then 重试处理 / 原图上传 / 删除; nothing lost, the rest syncs."""
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    phone.add_init_script(faults(fail=True))
    download(page, visit_id)
    page.reload()
    page.evaluate("window.dudao.ready")
    open_visit(page, visit_id)
    with_photo = [i for i in items if i["check"]["type"] == "yes_no"][:3]
    pictures = [small_photo(tmp_path, f"p{n}.jpg", (40 * n + 60, 90, 30)) for n in range(3)]
    for item, picture in zip(with_photo, pictures, strict=True):
        card = item_card(page, item)
        card.locator("button[data-answer=yes]").click()
        card.locator("input.take").set_input_files(picture)
        card.locator("li.intake button.retry-intake").wait_for()
    first_card = item_card(page, with_photo[0])
    assert first_card.locator("li.intake .photo-status").inner_text() == (
        "照片处理没有成功（已试 2 次）：图片压缩失败。原图仍保存在手机上，没有丢失。"
    )
    assert first_card.locator("li.intake button").all_inner_texts() == ["重试处理", "原图上传", "删除"]
    assert page.locator("li.photo").count() == 0
    kept = kept_files(page)
    assert sorted(k["item_id"] for k in kept) == sorted(i["id"] for i in with_photo)
    assert {k["attempts"] for k in kept} == {2} and {k["last_error"]["message"] for k in kept} == {"图片压缩失败。"}

    # The rest of the visit syncs; the photos wait on the phone.
    page.evaluate("window.dudao.flush()")
    wait_synced(page, visit_id)
    assert rows(ItemResult, visit_id=visit_id) == 3 and rows(Photo, visit_id=visit_id) == 0

    # A new start does not try again by itself.
    page.reload()
    page.evaluate("window.dudao.ready")
    page.wait_for_selector("article.item")
    item_card(page, with_photo[0]).locator("li.intake button.retry-intake").wait_for()
    assert {k["attempts"] for k in kept_files(page)} == {2}

    # The submit page says photos wait.
    page.click("#to-submit")
    assert "还有 3 张照片没有处理完" in page.locator("#unprepared-photos").inner_text()
    page.click("a[href$='/visit/" + visit_id + "']")
    page.wait_for_selector("article.item")

    # 重试处理 while the phone still cannot: a third try, still shown.
    first_card = item_card(page, with_photo[0])
    first_card.locator("button.retry-intake").click()
    first_card.locator("li.intake .photo-status", has_text="已试 3 次").wait_for()

    # 原图上传: the camera's file as it is (the server takes JPEG up to 15 MB).
    first_card.locator("button.raw-intake").click()
    first_card.locator("li.photo .thumb.placeholder", has_text="原图").wait_for()
    # 删除, asked first: declined keeps it, accepted removes it.
    second = item_card(page, with_photo[1])
    page.once("dialog", lambda dialog: dialog.dismiss())
    second.locator("button.delete-intake").click()
    assert second.locator("li.intake").count() == 1
    page.once("dialog", lambda dialog: dialog.accept())
    second.locator("button.delete-intake").click()
    second.locator("li.intake").wait_for(state="detached")
    # The phone copes again: 重试处理 prepares the third.
    page.evaluate("window.__failEncode = false")
    third = item_card(page, with_photo[2])
    third.locator("button.retry-intake").click()
    third.locator("li.photo img.thumb").wait_for()

    wait_synced(page, visit_id)
    assert kept_files(page) == []
    db.session.expire_all()
    stored = {p.item_id: p.sha256 for p in db.session.scalars(select(Photo).where(Photo.visit_id == visit_id))}
    db.session.rollback()
    assert set(stored) == {with_photo[0]["id"], with_photo[2]["id"]}
    assert stored[with_photo[0]["id"]] == sha256_of(pictures[0])  # the camera's file as it is
    assert stored[with_photo[2]["id"]] != sha256_of(pictures[2])  # prepared
    assert photo_puts(server, visit_id) == 2

    # What the server would refuse as it is is said, and not offered.
    problems = page.evaluate(
        """() => import("/static/inspect/photo-intake.js").then((m) => [
            m.rawProblem({type: "image/jpeg", size: 20 * 1024 * 1024}),
            m.rawProblem({type: "image/heic", size: 3 * 1024 * 1024}),
            m.rawProblem({type: "image/jpeg", size: 3 * 1024 * 1024}),
        ])"""
    )
    assert problems == [
        "原图 20.0 MB，超过服务器上限 15.0 MB，无法原图上传。",
        "原图格式（image/heic）服务器不接受（只接受 JPEG、PNG、WebP），无法原图上传。",
        None,
    ]
    assert not errors, errors
    phone.close()


def test_a_photo_another_tab_is_preparing_is_left_to_it_until_that_tab_is_gone(browser, serve, world, tmp_path):  # noqa: F811
    """Two tabs never decode the same picture (nor count a try for nothing); a tab that died lets it go."""
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    page.add_init_script(faults(stall=True))  # this tab only
    page.reload()
    page.evaluate("window.dudao.ready")
    open_visit(page, visit_id)
    photo_item = first(items, "yes_no", photo=True)
    item_card(page, photo_item).locator("input.take").set_input_files(small_photo(tmp_path, "door.jpg", (90, 90, 200)))
    until(page, """() => window.dudao.db.all("photo_intake").then((rows) => rows[0]?.attempts === 1)""")

    other = open_tab(phone, server, visit_id)
    resume = f"() => import('/static/inspect/photo-intake.js').then((m) => m.resume('{visit_id}'))"
    other.evaluate(resume)  # the first tab holds it: left alone
    assert [k["attempts"] for k in kept_files(other)] == [1]
    item_card(other, photo_item).locator("li.intake .photo-status", has_text="正在处理照片…").wait_for()
    page.close()  # that tab is gone, its lock with it (released by the browser soon after: asked again until then)
    until(
        other,
        f"""() => import('/static/inspect/photo-intake.js')
            .then((m) => m.resume('{visit_id}'))
            .then(() => window.dudao.db.all("photo_intake"))
            .then((rows) => rows.length === 0)""",
    )
    item_card(other, photo_item).locator("li.photo img.thumb").wait_for()
    wait_synced(other, visit_id)
    assert kept_files(other) == [] and rows(Photo, visit_id=visit_id) == 1
    assert not errors, errors
    phone.close()


#: IndexedDB as version 2 of the app left it (its stores), with a device id and an answer not sent yet.
VERSION_2 = """() => new Promise((resolve, reject) => {
    const open = indexedDB.open("dudao", 2);
    open.onupgradeneeded = () => {
        const db = open.result;
        db.createObjectStore("visits", { keyPath: "id" });
        db.createObjectStore("checklists", { keyPath: "version" });
        db.createObjectStore("schools", { keyPath: "id" });
        db.createObjectStore("results", { keyPath: ["visit_id", "item_id"] }).createIndex("visit_id", "visit_id");
        db.createObjectStore("photos", { keyPath: "id" }).createIndex("visit_id", "visit_id");
        db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true }).createIndex("visit_id", "visit_id");
        db.createObjectStore("receipts", { keyPath: "visit_id" });
        db.createObjectStore("meta", { keyPath: "key" });
        db.createObjectStore("activities", { keyPath: "id" });
        db.createObjectStore("activity_photos", { keyPath: "id" }).createIndex("activity_id", "activity_id");
    };
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
        const tx = open.result.transaction(["meta", "results"], "readwrite");
        tx.objectStore("meta").put({ key: "device_id", value: "phone-of-version-2" });
        tx.objectStore("results").put({ visit_id: "v-old", item_id: "i-old", value: { answer: "yes" }, owner: null });
        tx.oncomplete = () => { open.result.close(); resolve(); };
        tx.onerror = () => reject(tx.error);
    };
})"""


def test_a_phone_with_version_2_data_gets_the_new_store_and_keeps_its_records(browser, serve, world):  # noqa: F811
    server = serve()
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    page.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/login?next=/inspect/")
    page.evaluate(VERSION_2)  # before the app ever ran in this browser (the sign-in page has no IndexedDB)
    page.fill("#username", world["inspector"].username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/inspect/")
    page.wait_for_function("window.dudao !== undefined")
    page.evaluate("window.dudao.ready")
    assert page.evaluate("window.dudao.state.deviceId") == "phone-of-version-2"
    names = page.evaluate(
        """() => new Promise((resolve) => {
            const open = indexedDB.open("dudao");
            open.onsuccess = () => {
                resolve([open.result.version, [...open.result.objectStoreNames]]);
                open.result.close();
            };
        })"""
    )
    assert names[0] == 3 and "photo_intake" in names[1]
    kept = page.evaluate("""() => window.dudao.db.get("results", ["v-old", "i-old"])""")
    assert kept["value"] == {"answer": "yes"}
    assert page.evaluate("""() => window.dudao.db.all("photo_intake")""") == []
    assert not errors, errors
    phone.close()
