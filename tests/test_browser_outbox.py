"""The outbox in Chromium: one bad entry never stalls the phone, a shared phone keeps each person's work apart.

Same live server and phone helpers as test_browser_visits.py; the server's database is checked directly.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from webapp.visits.models import ItemResult, Photo, Visit

from .conftest import PASSWORD, PHONE
from .test_browser_visits import (  # noqa: F401  (serve and world are fixtures)
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


def start_unplanned_visit(page: Any, school_id: int) -> str:
    """Start a visit at a downloaded school from the home screen; returns its id (the fill page is open)."""
    page.evaluate("location.hash = '#/'")
    page.locator(f'li.school[data-school-id="{school_id}"] button.start-visit').click()
    page.wait_for_selector("article.item")
    return page.evaluate("location.hash.split('/')[2]")


def submit_open_visit(page: Any, summary: str) -> None:
    """Submit the visit on the fill page (offline is fine)."""
    page.click("#to-submit")
    page.fill("#summary", summary)
    page.click("#submit")
    page.click("#confirm-submit")
    page.wait_for_selector(".readonly")


@pytest.mark.both_databases
def test_a_poisoned_entry_is_parked_while_the_rest_syncs(browser, serve, world, tmp_path):  # noqa: F811
    server = serve()
    items, planned, school_id = world["items"], world["visit_id"], world["school"].id
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, planned)
    download_school(page, school_id)
    phone.set_offline(True)

    # Visit A: an answer the server will fail on (500, again and again), a photo, the submit.
    open_visit(page, planned)
    yes_no = [i for i in items if i["check"]["type"] == "yes_no"]
    item_card(page, yes_no[0]).locator("button[data-answer=yes]").click()
    photo_item = first(items, "yes_no", photo=True)
    item_card(page, photo_item).locator("input.pick").set_input_files(small_photo(tmp_path, "a.jpg", (200, 30, 30)))
    page.wait_for_function("document.querySelectorAll('li.photo img.thumb').length === 1")
    page.evaluate("window.dudao.flush()")
    submit_open_visit(page, "A 校")
    # Visit B, recorded after A: independent of A's trouble.
    other = start_unplanned_visit(page, school_id)
    for item in yes_no[1:3]:
        item_card(page, item).locator("button[data-answer=no]").click()
    page.evaluate("window.dudao.flush()")

    # A's write makes the server fail (500), alone or inside a batch (which then writes nothing).
    poisoned: list[str] = []
    crash = {"error": {"code": "internal_error", "message": "服务器内部错误。"}}

    def fail_a_results(route: Any) -> None:
        poisoned.append(route.request.url)
        route.fulfill(status=500, content_type="application/json", body=json.dumps(crash))

    def fail_batches_with_a_results(route: Any) -> None:
        entries = json.loads(route.request.post_data or "{}").get("entries", [])
        if any(e["kind"] == "results_post" and e["target"] == planned for e in entries):
            route.fulfill(status=500, content_type="application/json", body=json.dumps(crash))
        else:
            route.continue_()

    page.route(f"**/api/v1/visits/{planned}/results", fail_a_results)
    page.route("**/api/v1/sync", fail_batches_with_a_results)
    phone.set_offline(False)
    page.evaluate("location.hash = '#/'")
    wait_synced(page, other)
    until(
        page,
        """async (id) => {
            const left = await window.dudao.outbox.entries(id);
            const badge = document.querySelector(`.sync-line[data-visit-id="${id}"] .sync-status`);
            return left.some((e) => e.status === "failed") && badge?.textContent === "失败";
        }""",
        planned,
    )
    # B reached the server whole; of A, what does not depend on the bad write did too.
    assert rows(ItemResult, visit_id=other) == 2
    assert rows(Photo, visit_id=planned) == 1
    assert rows(ItemResult, visit_id=planned) == 0
    db_visit = lambda: rows(Visit, id=planned, state="submitted")  # noqa: E731
    assert db_visit() == 0  # the submit waits for the write it declares
    left = page.evaluate(f"window.dudao.outbox.entries('{planned}')")
    assert [(e["kind"], e["status"]) for e in left] == [("result", "failed"), ("visit", "pending")]
    assert left[0]["attempts"] >= 5 and len(poisoned) == left[0]["attempts"]
    line = page.locator(f'.sync-line[data-visit-id="{planned}"]')
    assert "服务器处理这条记录时出错（500）" in line.locator(".failures").inner_text()
    assert line.locator("button.edit-failed").count() == 1
    page.screenshot(path=str(tmp_path / "parked.png"))
    # Parked means no more requests until the person acts.
    tries = len(poisoned)
    page.evaluate("window.dudao.replayNow()")
    page.wait_for_timeout(500)
    assert len(poisoned) == tries

    # The server is mended; 重试 sends the write, then the submit that waited for it.
    page.unroute(f"**/api/v1/visits/{planned}/results")
    page.unroute("**/api/v1/sync")
    line.locator("button.retry").click()
    wait_synced(page, planned)
    assert rows(ItemResult, visit_id=planned) == 1 and db_visit() == 1
    assert not errors, errors
    phone.close()


def sign_out(phone: Any, server: Any) -> None:
    """Sign out through the site's own form, in a page of the phone's browser."""
    page = phone.new_page()
    page.goto(server.url + "/")
    page.click("form.logout button")
    page.wait_for_url("**/login")
    page.close()


def sign_in_app(phone: Any, server: Any, username: str) -> Any:
    """Sign in on the same browser and open the offline app; returns the page."""
    page = phone.new_page()
    page.set_default_timeout(20_000)
    page.goto(server.url + "/login?next=/inspect/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/inspect/")
    page.wait_for_function("window.dudao !== undefined")
    page.evaluate("window.dudao.ready")
    return page


def test_a_shared_phone_keeps_each_persons_work_apart(browser, serve, world, factory, tmp_path):  # noqa: F811
    server = serve()
    items, visit_a = world["items"], world["visit_id"]
    school = world["school"]
    other = factory.user("inspector", school.county, (school,))
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_a)
    open_visit(page, visit_a)

    # A records offline, closes the app, and signs out once back online.
    phone.set_offline(True)
    yes_no = [i for i in items if i["check"]["type"] == "yes_no"]
    for item in yes_no[:3]:
        item_card(page, item).locator("button[data-answer=yes]").click()
    photo_item = first(items, "yes_no", photo=True)
    item_card(page, photo_item).locator("input.pick").set_input_files(small_photo(tmp_path, "a.jpg", (20, 200, 30)))
    page.wait_for_function("document.querySelectorAll('li.photo img.thumb').length === 1")
    page.evaluate("window.dudao.flush()")
    a_entries = len(page.evaluate("window.dudao.outbox.entries()"))
    assert a_entries == 5  # the visit's start, three answers, a photo
    page.close()
    phone.set_offline(False)
    sign_out(phone, server)

    # B signs in on the same browser: nothing of A's is shown or sent.
    page = sign_in_app(phone, server, other.username)
    page.wait_for_selector("#visit-list")
    assert page.locator(f'li.visit[data-visit-id="{visit_a}"]').count() == 0
    assert page.evaluate("window.dudao.outbox.entries()") == []
    assert page.evaluate(f"window.dudao.db.photosOf('{visit_a}')") == []
    assert page.evaluate(f"window.dudao.db.get('visits', '{visit_a}')") is None
    page.locator(".others-waiting").wait_for()
    assert "其他账号的 5 条待同步记录" in page.locator(".others-waiting").inner_text()
    # B works and syncs; A's records stay where they are.
    school_row = page.locator(f'li.school[data-school-id="{school.id}"]')
    school_row.locator("button.download-school").click()
    until(page, "async (id) => !!(await window.dudao.db.get('schools', id))?.checklist_version", school.id)
    visit_b = start_unplanned_visit(page, school.id)
    item_card(page, yes_no[0]).locator("button[data-answer=no]").click()
    page.evaluate("window.dudao.flush()")
    wait_synced(page, visit_b)
    page.evaluate("window.dudao.replayNow()")
    assert rows(ItemResult, visit_id=visit_b) == 1
    assert rows(ItemResult, visit_id=visit_a) == 0 and rows(Photo) == 0
    assert server.count("PUT", f"/visits/{visit_a}") == 0
    page.close()
    sign_out(phone, server)

    # A signs in again: everything is there and syncs, nothing lost.
    page = sign_in_app(phone, server, world["inspector"].username)
    page.locator(f'li.visit[data-visit-id="{visit_a}"]').wait_for()
    assert page.locator(f'li.school[data-school-id="{school.id}"]').count() == 1
    wait_synced(page, visit_a)
    assert rows(ItemResult, visit_id=visit_a) == 3 and rows(Photo, visit_id=visit_a) == 1
    assert rows(Visit, id=visit_b, inspector_id=other.id) == 1
    assert page.locator(f'li.visit[data-visit-id="{visit_b}"]').count() == 0
    assert not errors, errors
    phone.close()


def test_records_from_before_owners_are_adopted_by_the_first_user(browser, serve, world):  # noqa: F811
    server = serve()
    visit_id = world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    # As an older version of the app left them: no owner on the records (changed with the app closed,
    # so nothing it still does can stamp them again).
    page.goto(server.url + "/manifest.webmanifest")
    page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open("dudao");
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
                const tx = open.result.transaction(["visits", "meta"], "readwrite");
                const visits = tx.objectStore("visits");
                visits.getAll().onsuccess = (event) => {
                    for (const visit of event.target.result) {
                        delete visit.owner;
                        visits.put(visit);
                    }
                };
                tx.objectStore("meta").delete("owners_adopted");
                tx.objectStore("meta").delete("owner");
                tx.oncomplete = () => { open.result.close(); resolve(); };
                tx.onerror = () => reject(tx.error);
            };
        })"""
    )
    page.goto(server.url + "/inspect/")
    page.wait_for_function("window.dudao !== undefined")
    page.evaluate("window.dudao.ready")
    page.locator('[data-banner="adopted"]').wait_for()
    assert "已归入当前账号" in page.locator('[data-banner="adopted"]').inner_text()
    page.locator(f'li.visit[data-visit-id="{visit_id}"]').wait_for()
    owner = page.evaluate(f"window.dudao.db.get('visits', '{visit_id}').then((v) => v.owner)")
    assert owner == world["inspector"].id
    assert not errors, errors
    phone.close()


def test_without_the_batch_endpoint_the_phone_sends_entry_by_entry(browser, serve, world):  # noqa: F811
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    open_visit(page, visit_id)
    phone.set_offline(True)
    for item in [i for i in items if i["check"]["type"] == "yes_no"][:3]:
        item_card(page, item).locator("button[data-answer=yes]").click()
    page.evaluate("window.dudao.flush()")
    # An older server: no POST /api/v1/sync.
    missing = {"error": {"code": "not_found", "message": "页面不存在。"}}
    page.route(
        "**/api/v1/sync",
        lambda route: route.fulfill(status=404, content_type="application/json", body=json.dumps(missing)),
    )
    phone.set_offline(False)
    wait_synced(page, visit_id)
    assert rows(ItemResult, visit_id=visit_id) == 3
    assert server.count("PUT", f"/visits/{visit_id}") == 1 and server.count("POST", "/results") >= 1
    assert server.count("POST", "/api/v1/sync") == 0  # answered by the route, never reached the server
    assert not errors, errors
    phone.close()


def test_a_dropped_link_mid_photo_resumes_from_the_servers_offset(browser, serve, world, tmp_path):  # noqa: F811
    import math

    from PIL import Image

    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    open_visit(page, visit_id)
    phone.set_offline(True)
    # Fine detail everywhere: the phone's copy takes several 256 KiB chunks.
    path = tmp_path / "grain.jpg"
    Image.effect_noise((1600, 1200), 90).convert("RGB").save(path, "JPEG", quality=95)
    item = first(items, "yes_no", photo=True)
    item_card(page, item).locator("input.pick").set_input_files(str(path))
    page.wait_for_function("document.querySelectorAll('li.photo img.thumb').length === 1")
    kept = page.evaluate(
        "(id) => window.dudao.db.photosOf(id).then(([p]) => ({size: p.blob.size, type: p.blob.type, sha: p.sha256}))",
        visit_id,
    )
    chunks = math.ceil(kept["size"] / (256 * 1024))
    assert chunks >= 3 and kept["type"] == "image/webp"

    # The second chunk reaches the server, but its answer is lost (the link drops).
    ranges: list[str] = []

    def drop_second_answer(route: Any) -> None:
        if route.request.method != "PUT":
            route.continue_()
            return
        ranges.append(route.request.headers["content-range"])
        if len(ranges) == 2:
            route.fetch()  # delivered to the server…
            route.abort("connectionreset")  # …and the phone never hears
        else:
            route.continue_()

    page.route("**/api/v1/uploads/*", drop_second_answer)
    phone.set_offline(False)
    wait_synced(page, visit_id)
    starts = [int(r.split()[1].split("-")[0]) for r in ranges]
    # After the drop the phone asked where to go on, and went on from the server's offset:
    # no byte was sent twice.
    assert starts == [n * 256 * 1024 for n in range(chunks)], ranges
    # (A first try sends its first chunk without asking; after the drop the phone asks.)
    assert server.count("PUT", "/uploads/") == chunks and server.count("GET", "/uploads/") >= 1
    assert ranges[-1].endswith(f"/{kept['size']}")
    # Then attached by its hash: one small JSON PUT, no second copy of the bytes.
    assert server.count("PUT", "/photos/") == 1 and rows(Photo, visit_id=visit_id, sha256=kept["sha"]) == 1
    assert not errors, errors
    phone.close()


def test_two_photos_in_flight_and_a_free_lane_takes_the_next_at_once(browser, serve, world, tmp_path):  # noqa: F811
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    open_visit(page, visit_id)
    phone.set_offline(True)
    colors = [(200, 40, 40), (40, 200, 40), (40, 40, 200)]
    add_photos(
        page, first(items, "yes_no", photo=True), [small_photo(tmp_path, f"{n}.jpg", c) for n, c in enumerate(colors)]
    )
    shas = page.evaluate(
        """async (id) => {
            const photos = new Map((await window.dudao.db.photosOf(id)).map((p) => [p.id, p.sha256]));
            const entries = (await window.dudao.outbox.entries(id)).filter((e) => e.kind === "photo");
            return entries.map((e) => photos.get(e.id));
        }""",
        visit_id,
    )
    assert len(shas) == 3
    # The first photo's bytes stall (a slow link) until the third photo's upload has begun: with
    # the two photos in flight waiting for each other, the third never would, and nothing would sync.
    held: list[Any] = []
    seen: list[str] = []

    def stall_first(route: Any) -> None:
        sha = route.request.url.rsplit("/", 1)[-1]
        seen.append(sha)
        if route.request.method == "PUT" and sha == shas[0] and not held:
            held.append(route)
            return
        if sha == shas[2] and held and held[0] is not None:
            held[0].continue_()
            held[0] = None
        route.continue_()

    page.route("**/api/v1/uploads/*", stall_first)
    phone.set_offline(False)
    wait_synced(page, visit_id)
    assert held == [None] and seen == shas  # the third began while the first was still on its way
    assert rows(Photo, visit_id=visit_id) == 3
    assert not errors, errors
    phone.close()


def test_storage_not_persistent_offers_to_ask_again(browser, serve, world):  # noqa: F811
    server = serve()
    phone = browser.new_context(**PHONE)
    # A browser that refuses until it does not (as after installing to the home screen).
    phone.add_init_script(
        """(() => {
            let granted = false;
            const asks = [];
            navigator.storage.persisted = async () => granted;
            navigator.storage.persist = async () => { asks.push(Date.now()); return granted; };
            window.__storage = { grant: () => { granted = true; }, asks };
        })();"""
    )
    page = phone.new_page()
    page.goto(server.url + "/login?next=/inspect/")
    page.fill("#username", world["inspector"].username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/inspect/")
    page.wait_for_function("window.dudao !== undefined")
    page.evaluate("window.dudao.ready")
    line = page.locator(".status-card .storage")
    line.locator("button.persist").wait_for()
    assert "尚未允许持久保存" in line.inner_text() and "添加到主屏幕" in line.inner_text()
    assert page.evaluate("window.__storage.asks.length") == 1  # asked once by itself
    page.reload()
    page.wait_for_function("window.dudao !== undefined")
    page.evaluate("window.dudao.ready")
    page.locator(".status-card .storage button.persist").wait_for()
    assert page.evaluate("window.__storage.asks.length") == 0  # a new page: not asked again unprompted
    page.evaluate("window.__storage.grant()")
    page.locator(".status-card .storage button.persist").click()
    page.locator(".status-card .storage.ok-text").wait_for()
    assert page.locator(".status-card .storage").inner_text() == "离线数据已设为持久保存。"
    phone.close()


@pytest.mark.both_databases
def test_a_visit_recorded_offline_goes_in_one_request_and_a_refused_write_holds_its_submit(
    browser,
    serve,  # noqa: F811
    world,  # noqa: F811
):
    server = serve()
    items, school_id = world["items"], world["school"].id
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download_school(page, school_id)
    phone.set_offline(True)
    yes_no = [i for i in items if i["check"]["type"] == "yes_no"]

    # Visit A: started, answered and submitted offline.
    whole = start_unplanned_visit(page, school_id)
    for item in yes_no[:3]:
        item_card(page, item).locator("button[data-answer=yes]").click()
    page.evaluate("window.dudao.flush()")
    submit_open_visit(page, "整体发送")
    # Visit B: the same, with a write the server refuses (a negative count) before its submit.
    held = start_unplanned_visit(page, school_id)
    item_card(page, yes_no[0]).locator("button[data-answer=no]").click()
    page.evaluate("window.dudao.flush()")
    page.evaluate(
        """async ([visitId, itemId]) => {
            const writeId = crypto.randomUUID();
            const write = {id: writeId, item_id: itemId, value: {number: -5}, observation: "",
                           edited_at: new Date().toISOString(), device_id: "test"};
            await window.dudao.outbox.enqueueRaw([{kind: "result", id: writeId, visit_id: visitId, write}]);
        }""",
        [held, first(items, "numeric")["id"]],
    )
    submit_open_visit(page, "暂缓提交")
    assert server.count("POST", "/api/v1/sync") == 0
    batches: list[list[tuple[str, str, str]]] = []

    def seen(request: Any) -> None:
        if request.method == "POST" and request.url.endswith("/api/v1/sync"):
            entries = json.loads(request.post_data or "{}")["entries"]
            batches.append([(e["target"], e["kind"], e["body"].get("state", "")) for e in entries])

    page.on("request", seen)
    phone.set_offline(False)
    page.evaluate("location.hash = '#/'")
    wait_synced(page, whole)
    until(
        page,
        """async (id) => {
            const left = await window.dudao.outbox.entries(id);
            return left.some((e) => e.status === "failed");
        }""",
        held,
    )
    # A went whole in the first request: start, answers and submit together.
    assert [(kind, state) for target, kind, state in batches[0] if target == whole] == [
        ("visit_put", "in_progress"),
        ("results_post", ""),
        ("visit_put", "submitted"),
    ]
    # B's good answer shared a results entry with the refused one: that entry alone went again.
    assert len(batches) == 2 and [kind for _, kind, _ in batches[1]] == ["results_post"]
    assert server.count("PUT", "/api/v1/visits/") == 0 and server.count("POST", "/results") == 0
    assert rows(Visit, id=whole, state="submitted") == 1 and rows(ItemResult, visit_id=whole) == 3
    # B's submit was held, not refused: kept on the phone behind the refused write, the visit not locked.
    assert rows(Visit, id=held, state="in_progress") == 1 and rows(ItemResult, visit_id=held) == 1
    left = page.evaluate(f"window.dudao.outbox.entries('{held}')")
    assert [(e["kind"], e["status"]) for e in left] == [("result", "failed"), ("visit", "pending")]
    assert "数值不能为负数" in page.locator(f'.sync-line[data-visit-id="{held}"] .failures').inner_text()
    # The server's visit is not submitted: the refused answer can be changed on the phone, and the submit follows.
    page.locator(f'.sync-line[data-visit-id="{held}"] button.edit-failed').click()
    page.wait_for_selector("article.item")
    assert page.locator(".held-submit").count() == 1 and page.locator(".readonly").count() == 0
    item_card(page, first(items, "numeric")).locator("input.num").fill("3")
    page.evaluate("window.dudao.flush()")
    wait_synced(page, held)
    assert rows(Visit, id=held, state="submitted") == 1 and rows(ItemResult, visit_id=held) == 2
    assert not errors, errors
    phone.close()
