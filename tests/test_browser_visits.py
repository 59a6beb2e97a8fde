"""The inspector's offline app in real Chromium on a 360-px phone: offline filling, photos, sync.

Each test drives /inspect/ through Playwright and then checks the server's
database and photo storage directly. The live server here can be stopped and
restarted on the same port (the phone must not notice more than a network error).
"""

from __future__ import annotations

import io
import json
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select
from werkzeug.serving import make_server

from webapp.extensions import db
from webapp.visits.models import ItemResult, Photo, ResultWrite, Visit
from webapp.visits.operations import plan_visit

from .conftest import PASSWORD, PHONE

pytestmark = pytest.mark.browser

#: Short timings so retries happen within the test (production: 2 s … 5 min, 30 s timer).
FAST = {"baseDelayMs": 300, "maxDelayMs": 1500, "intervalMs": 1000, "photoHoldMs": 0, "retryAfterCapMs": 1000}
#: Where the phone says it is (the context grants geolocation).
WHERE = {"latitude": 36.4567, "longitude": 115.9854}
TIMEOUT = 20_000


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The app over HTTP on a fixed port; stop() and start() again on the same port.

    Requests pass through ``middleware`` hooks: each hook sees the WSGI environ
    and may return a callable to run instead of answering normally (to cut the
    connection, say). ``requests`` counts (method, path) pairs.
    """

    def __init__(self, app: Flask, port: int):
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.requests: Counter[tuple[str, str]] = Counter()
        self.hooks: list[Callable[[dict[str, Any]], Any]] = []
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Count the request, let hooks intervene, else answer with the app."""
        with self._lock:
            self.requests[(environ["REQUEST_METHOD"], environ["PATH_INFO"])] += 1
        for hook in list(self.hooks):
            action = hook(environ)
            if action is not None:
                return action(environ, start_response)
        return self.app(environ, start_response)

    def start(self) -> None:
        """Listen again (the same port: werkzeug sets SO_REUSEADDR)."""
        self._server = make_server("127.0.0.1", self.port, self.wsgi, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening; connections are refused until start() (safe from a request thread)."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def count(self, method: str, fragment: str) -> int:
        """How many requests with ``method`` had ``fragment`` in their path."""
        with self._lock:
            return sum(n for (m, path), n in self.requests.items() if m == method and fragment in path)


@pytest.fixture
def serve(make_app: Callable[..., Flask]) -> Iterator[Callable[..., LiveServer]]:
    """Start live servers with real CSRF checks; all are stopped after the test."""
    servers: list[LiveServer] = []

    def start(**config: Any) -> LiveServer:
        server = LiveServer(make_app(WTF_CSRF_ENABLED=True, **config), free_port())
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def world(app: Flask, factory: Any) -> dict[str, Any]:
    """A 聊城 county school (all check types but text), its inspector, a planned visit."""
    county = factory.county("聊城市", "liaocheng")
    school = factory.school(county, name="梁水镇中心小学", stage="primary", location="town")
    inspector = factory.user("inspector", county, (school,))
    visit = plan_visit(inspector, school.id, date(2026, 11, 25))
    db.session.commit()
    items = [i for s in visit.checklist_version.content["sections"] for i in s["items"]]
    return {"school": school, "inspector": inspector, "visit_id": visit.id, "items": items}


def first(items: list[dict[str, Any]], check_type: str, photo: bool | None = None) -> dict[str, Any]:
    """The first item of a check type (optionally with or without photo_required)."""
    return next(
        i for i in items if i["check"]["type"] == check_type and (photo is None or bool(i["photo_required"]) == photo)
    )


def open_phone(browser: Any, server: LiveServer, username: str, **context: Any) -> tuple[Any, Any, list[str]]:
    """A 360-px phone signed in on /inspect/, its service worker in control; returns (context, page, errors)."""
    phone = browser.new_context(**PHONE, **context)
    phone.add_init_script(f"window.DUDAO_CONFIG = {json.dumps(FAST)};")
    page = phone.new_page()
    page.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/login?next=/inspect/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/inspect/")
    page.wait_for_function("window.dudao && navigator.serviceWorker.controller !== null")
    page.evaluate("window.dudao.ready")
    return phone, page, errors


def until(page: Any, function: str, arg: Any = None) -> None:
    """Wait until an async page function returns something truthy.

    ``wait_for_function`` does not await: a promise is truthy at once. Here each
    poll starts the function and returns the last finished answer.
    """
    page.wait_for_function(
        """([key, source, arg]) => {
            const slots = (window.__until ||= {});
            const slot = (slots[key] ||= { busy: false, value: false });
            if (!slot.busy) {
                slot.busy = true;
                Promise.resolve((0, eval)(`(${source})`)(arg)).then(
                    (value) => { slot.value = value; slot.busy = false; },
                    () => { slot.value = false; slot.busy = false; },
                );
            }
            return slot.value;
        }""",
        arg=[uuid.uuid4().hex, function, arg],
        polling=100,
    )


def wait_synced(page: Any, visit_id: str) -> None:
    """Wait until the visit's outbox is empty, no replay runs, and the page says 已同步."""
    until(
        page,
        """async (id) => {
            const left = await window.dudao.outbox.entries(id);
            const badge = document.querySelector(`.sync-line[data-visit-id="${id}"] .sync-status`);
            return left.length === 0 && !window.dudao.outbox.state().running && badge?.textContent === "已同步";
        }""",
        visit_id,
    )


def download(page: Any, visit_id: str) -> None:
    """Download a planned visit from the list for offline use."""
    card = page.locator(f'li.visit[data-visit-id="{visit_id}"]')
    card.locator("button.download").click()
    card.locator(".downloaded").wait_for()


def open_visit(page: Any, visit_id: str) -> None:
    """Open a visit from the list and wait for its items."""
    page.locator(f'li.visit[data-visit-id="{visit_id}"] a.open').click()
    page.wait_for_selector("article.item")


def download_school(page: Any, school_id: int) -> Any:
    """Download a school from the home screen (for visits started offline); returns its row."""
    school = page.locator(f'li.school[data-school-id="{school_id}"]')
    school.locator("button.download-school").click()
    school.locator("button.start-visit").wait_for()
    return school


def item_card(page: Any, item: dict[str, Any]) -> Any:
    """The item's card on the fill page."""
    return page.locator(f'article.item[data-item-id="{item["id"]}"]')


def photo_file(tmp_path: Any, name: str, color: tuple[int, int, int]) -> str:
    """A 4000 × 3000 camera-like JPEG stored sideways with EXIF orientation 6.

    The stored top half is ``color`` (give it a high red value) and the bottom
    half blue; shown upright (rotated 90° clockwise) the left half is blue and
    the right half ``color``.
    """
    top = Image.new("RGB", (4000, 1500), color)
    bottom = Image.new("RGB", (4000, 1500), (30, 60, 200))
    image = Image.new("RGB", (4000, 3000))
    image.paste(top, (0, 0))
    image.paste(bottom, (0, 1500))
    # Camera-like texture so the phone's JPEG has a realistic size.
    noise = Image.effect_noise((1000, 750), 60).resize((4000, 3000)).convert("RGB")
    image = Image.blend(image, noise, 0.25)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / name
    image.save(path, "JPEG", quality=90, exif=exif.tobytes())
    return str(path)


def small_photo(tmp_path: Any, name: str, color: tuple[int, int, int]) -> str:
    """A small JPEG (for tests about sync, not resizing)."""
    path = tmp_path / name
    Image.new("RGB", (800, 600), color).save(path, "JPEG", quality=85)
    return str(path)


def rows(model: Any, **where: Any) -> int:
    """Count rows in the server database (and end the read so the server can write)."""
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    try:
        return db.session.scalar(query) or 0
    finally:
        db.session.rollback()


def no_sideways_scroll(page: Any) -> None:
    """Nothing wider than the 360-px screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide on a 360px screen"


# --------------------------------------------------------------------------- 1. the whole visit


@pytest.mark.both_databases
def test_full_visit_offline_on_a_phone(browser, serve, world, tmp_path):
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(
        browser, server, world["inspector"].username, geolocation=WHERE, permissions=["geolocation"]
    )
    yes_no = first(items, "yes_no", photo=True)
    deadline = first(items, "deadline", photo=False)
    numeric = first(items, "numeric")
    percentage = first(items, "percentage")
    count = first(items, "count_per_period")
    assert not [i for i in items if i["check"]["type"] == "text"]  # no pack has text items yet

    download(page, visit_id)
    page.screenshot(path=str(tmp_path / "list.png"))
    no_sideways_scroll(page)
    open_visit(page, visit_id)
    phone.set_offline(True)
    page.wait_for_function("document.getElementById('net').textContent === '离线'")

    page.screenshot(path=str(tmp_path / "fill-top.png"))
    item_card(page, yes_no).locator("button[data-answer=yes]").click()
    item_card(page, yes_no).locator(".obs-toggle").click()
    item_card(page, yes_no).locator("textarea.obs").fill("门卫室两名保安在岗，持证。")
    item_card(page, deadline).locator("button[data-answer=no]").click()
    item_card(page, numeric).locator("input.num").fill("0")
    item_card(page, percentage).locator("input.num").fill("95")
    page.evaluate("window.dudao.flush()")
    # iOS closes IndexedDB under memory pressure: the next save reopens it instead of failing.
    page.evaluate("window.dudao.db.simulateConnectionLoss()")
    item_card(page, count).locator("input.num").fill("2")
    # Judged on the phone at once, as the server will.
    assert item_card(page, numeric).locator(".outcome").inner_text() == "达标"
    assert item_card(page, percentage).locator(".outcome").inner_text() == "未达标"
    assert item_card(page, count).locator(".outcome").inner_text() == "达标"
    assert item_card(page, deadline).locator(".outcome").inner_text() == "未达标"
    assert "≥ 100%" in item_card(page, percentage).locator(".threshold").inner_text()
    # A refused value is never stored.
    item_card(page, percentage).locator("input.num").fill("120")
    assert "0 到 100" in item_card(page, percentage).locator(".field-error").inner_text()
    item_card(page, percentage).locator("input.num").fill("95")

    assert item_card(page, yes_no).locator(".photo-needed").is_visible()
    pictures = [photo_file(tmp_path, f"p{n}.jpg", color) for n, color in enumerate([(220, 40, 40), (230, 200, 40)])]
    item_card(page, yes_no).locator("input.take").set_input_files(pictures[0])
    item_card(page, yes_no).locator("li.photo").first.wait_for()
    item_card(page, yes_no).locator("input.pick").set_input_files(pictures[1])
    photo_item = first(items, "deadline", photo=True)
    item_card(page, photo_item).locator("input.take").set_input_files(photo_file(tmp_path, "p2.jpg", (200, 40, 200)))
    page.wait_for_function("document.querySelectorAll('li.photo img.thumb').length === 3")
    assert not item_card(page, yes_no).locator(".photo-needed").is_visible()
    # A photo deleted before it was sent is simply dropped.
    item_card(page, count).locator("input.pick").set_input_files(small_photo(tmp_path, "oops.jpg", (0, 0, 0)))
    page.wait_for_function("document.querySelectorAll('li.photo img.thumb').length === 4")
    item_card(page, count).locator("button.delete-photo").click()
    page.wait_for_function("document.querySelectorAll('li.photo img.thumb').length === 3")
    item_card(page, yes_no).locator("li.photo .caption").first.fill("校门保安")
    page.wait_for_timeout(500)  # the caption's debounce
    page.evaluate("window.dudao.flush()")
    page.screenshot(path=str(tmp_path / "fill.png"))
    no_sideways_scroll(page)

    # Offline reload: the service worker serves the shell, IndexedDB the data.
    page.reload()
    page.wait_for_function("window.dudao !== undefined")
    page.evaluate("window.dudao.ready")
    page.wait_for_selector("article.item")
    assert item_card(page, yes_no).locator("button[data-answer=yes]").get_attribute("aria-pressed") == "true"
    assert item_card(page, deadline).locator("button[data-answer=no]").get_attribute("aria-pressed") == "true"
    assert item_card(page, numeric).locator("input.num").input_value() == "0"
    assert item_card(page, percentage).locator("input.num").input_value() == "95"
    assert item_card(page, count).locator("input.num").input_value() == "2"
    assert item_card(page, yes_no).locator("textarea.obs").input_value() == "门卫室两名保安在岗，持证。"
    page.wait_for_function("document.querySelectorAll('li.photo img.thumb').length === 3")
    assert item_card(page, yes_no).locator("li.photo .caption").first.input_value() == "校门保安"
    assert page.locator("#progress").inner_text().startswith(f"已答 5 / 共 {len(items)}")
    assert rows(ItemResult) == 0  # nothing reached the server while offline

    # Submit offline: failed items and missing photos are listed first.
    page.click("#to-submit")
    page.wait_for_selector("#failed-items")
    failed_text = page.locator("#failed-items").inner_text()
    assert percentage["title"] in failed_text and deadline["title"] in failed_text
    assert yes_no["title"] not in failed_text
    assert page.locator("#missing-photos").is_visible()
    page.fill("#summary", "安全工作扎实，资助未全覆盖。")
    page.screenshot(path=str(tmp_path / "submit.png"), full_page=True)
    no_sideways_scroll(page)
    page.click("#submit")
    page.click("#confirm-submit")
    page.wait_for_selector(".readonly")
    assert item_card(page, yes_no).locator("button[data-answer=no]").is_disabled()

    phone.set_offline(False)
    wait_synced(page, visit_id)
    page.wait_for_function("document.querySelector('.receipt strong')?.textContent === '完整'")
    assert "服务器已收到 5 项结果、3 张照片" in page.locator(".receipt").inner_text()

    db.session.expire_all()
    visit = db.session.get(Visit, visit_id)
    assert visit.state == "submitted" and visit.is_fully_received
    assert visit.summary == "安全工作扎实，资助未全覆盖。" and visit.declared_result_count == 5
    results = {r.item_id: r for r in db.session.scalars(select(ItemResult).where(ItemResult.visit_id == visit_id))}
    assert {k: (r.value, r.outcome) for k, r in results.items()} == {
        yes_no["id"]: ({"answer": "yes"}, "pass"),
        deadline["id"]: ({"answer": "no"}, "fail"),
        numeric["id"]: ({"number": 0}, "pass"),
        percentage["id"]: ({"number": 95}, "fail"),
        count["id"]: ({"number": 2}, "pass"),
    }
    assert results[yes_no["id"]].observation == "门卫室两名保安在岗，持证。"
    # Edits made while offline were merged on the phone: one write per item reached the server.
    assert rows(ResultWrite) == 5
    stored = db.session.scalars(select(Photo).where(Photo.visit_id == visit_id)).all()
    assert len(stored) == 3 and sorted(p.sha256 for p in stored) == sorted(visit.declared_photo_hashes)
    assert server.count("PUT", "/photos/") == 3 and server.count("DELETE", "/photos/") == 0
    assert sorted(p.item_id for p in stored) == sorted([yes_no["id"], yes_no["id"], photo_item["id"]])
    assert "校门保安" in [p.caption for p in stored]
    storage = server.app.extensions["dudao.storage"]
    for photo in stored:
        data = storage.get(photo.original_key)
        assert len(data) == photo.byte_size < 600_000, "the phone did not shrink the photo"
        image = Image.open(io.BytesIO(data))
        assert image.size == (1200, 1600), "long edge ≤ 1600 and upright (portrait)"
        assert image.getexif().get(0x0112, 1) == 1
        rgb = image.convert("RGB")
        left, right = rgb.getpixel((150, 800)), rgb.getpixel((1050, 800))
        # Stored sideways: bottom blue, top reddish; upright, blue is on the left.
        assert left[0] < 110 < 150 < right[0], f"not rotated upright: left {left}, right {right}"
        assert (photo.latitude, photo.longitude) == pytest.approx((WHERE["latitude"], WHERE["longitude"]))
    db.session.rollback()
    # The service worker keeps the shell only: never an API answer.
    cached = page.evaluate(
        """async () => {
            const paths = [];
            for (const name of await caches.keys()) {
                for (const request of await (await caches.open(name)).keys()) paths.push(new URL(request.url).pathname);
            }
            return paths;
        }"""
    )
    assert "/inspect/" in cached and "/static/inspect/outbox.js" in cached
    assert not [path for path in cached if path.startswith("/api/")]
    assert not errors, errors
    phone.close()


# --------------------------------------------------------------------------- 2. server gone mid-sync


def fill_offline(page: Any, items: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """Answer the first ``n`` yes/no items 是 on the open fill page; returns them."""
    chosen = [i for i in items if i["check"]["type"] == "yes_no"][:n]
    for item in chosen:
        item_card(page, item).locator("button[data-answer=yes]").click()
    page.evaluate("window.dudao.flush()")
    return chosen


def add_photos(page: Any, item: dict[str, Any], paths: list[str]) -> None:
    """Attach pictures to an item and wait until they are shown."""
    before = page.locator("li.photo img.thumb").count()
    for path in paths:
        item_card(page, item).locator("input.pick").set_input_files(path)
    page.wait_for_function(f"document.querySelectorAll('li.photo img.thumb').length === {before + len(paths)}")


def test_server_stopped_mid_sync_then_restarted(browser, serve, world, tmp_path):
    server = serve()
    items, school_id = world["items"], world["school"].id
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    # An unplanned visit started offline at a downloaded school.
    school = download_school(page, school_id)
    phone.set_offline(True)
    school.locator("button.start-visit").click()
    page.wait_for_selector("article.item")
    visit_id = page.evaluate("location.hash.split('/')[2]")
    answered = fill_offline(page, items, 6)
    photo_item = first(items, "yes_no", photo=True)
    add_photos(page, photo_item, [small_photo(tmp_path, f"s{n}.jpg", (n * 60, 90, 120)) for n in range(2)])

    # The server stores the first photo, then dies before answering.
    cut = threading.Event()

    def die_after_storing(environ: dict[str, Any]) -> Any:
        if cut.is_set() or environ["REQUEST_METHOD"] != "PUT" or "/photos/" not in environ["PATH_INFO"]:
            return None
        cut.set()

        def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            body = server.app(environ, lambda *args, **kwargs: lambda data: None)
            b"".join(body)
            getattr(body, "close", lambda: None)()
            threading.Thread(target=server.stop).start()
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            raise ConnectionResetError("the server went away")

        return answer

    server.hooks.append(die_after_storing)
    phone.set_offline(False)
    page.wait_for_function("window.dudao.outbox.state().failures >= 2")  # retried against a closed port
    # Stored, but the phone never heard (two photos go at once: the other may have been stored too).
    assert cut.is_set() and rows(Photo) in (1, 2)
    assert rows(ItemResult, visit_id=visit_id) == 6
    assert page.locator(f'.sync-line[data-visit-id="{visit_id}"] .sync-status').inner_text() in ("待同步", "同步中")

    server.hooks.clear()
    server.start()
    wait_synced(page, visit_id)
    assert rows(Visit, id=visit_id) == 1
    assert rows(ItemResult, visit_id=visit_id) == len(answered) == 6
    assert rows(ResultWrite, visit_id=visit_id) == 6
    assert rows(Photo, visit_id=visit_id) == 2
    photo_puts = sorted(n for (method, path), n in server.requests.items() if method == "PUT" and "/photos/" in path)
    # Only the photos in flight when the server died went again, each once.
    assert len(photo_puts) == 2 and photo_puts[-1] == 2 and photo_puts[0] in (1, 2)
    storage = server.app.extensions["dudao.storage"]
    for photo in db.session.scalars(select(Photo)).all():
        assert storage.exists(photo.original_key)
    db.session.rollback()
    assert not errors, errors
    phone.close()


# --------------------------------------------------------------------------- 3. replays


@pytest.mark.both_databases
def test_the_same_batch_replayed_three_times_changes_nothing(browser, serve, world, tmp_path):
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    open_visit(page, visit_id)
    phone.set_offline(True)
    fill_offline(page, items, 4)
    # Saved in a fixed order (answers, photo, one more answer), so the photo sits between two result batches
    # however slowly the machine runs the debounced saves.
    page.evaluate("window.dudao.flush()")
    add_photos(page, first(items, "yes_no", photo=True), [small_photo(tmp_path, "r.jpg", (10, 20, 30))])
    numeric = first(items, "numeric")
    item_card(page, numeric).locator("input.num").fill("3")
    page.evaluate("window.dudao.flush()")
    sent = page.evaluate("window.dudao.outbox.entries()")
    assert [e["kind"] for e in sent].count("result") == 5 and sent[0]["kind"] == "visit"

    phone.set_offline(False)
    wait_synced(page, visit_id)

    def server_state() -> tuple[Any, ...]:
        db.session.expire_all()
        results = sorted(
            (r.item_id, json.dumps(r.value), r.outcome, r.write_id)
            for r in db.session.scalars(select(ItemResult).where(ItemResult.visit_id == visit_id))
        )
        writes = sorted((w.id, w.decision) for w in db.session.scalars(select(ResultWrite)))
        photos = sorted((p.id, p.sha256) for p in db.session.scalars(select(Photo)))
        state = db.session.get(Visit, visit_id).state
        db.session.rollback()
        return results, writes, photos, state

    before = server_state()
    assert len(before[0]) == 5 and len(before[1]) == 5 and len(before[2]) == 1
    posts, photo_puts = server.count("POST", "/api/v1/sync"), server.count("PUT", "/photos/")
    for _ in range(3):
        page.evaluate(
            "async (entries) => { await window.dudao.outbox.enqueueRaw(entries); await window.dudao.replayNow(); }",
            sent,
        )
        wait_synced(page, visit_id)
    # One POST /api/v1/sync each time (the photo between the writes goes on its own): really sent again.
    assert posts >= 1 and server.count("POST", "/api/v1/sync") == posts + 3
    assert server.count("POST", "/results") == 0
    assert server.count("PUT", "/photos/") == photo_puts  # an uploaded photo is never sent again
    assert server_state() == before
    assert not errors, errors
    phone.close()


# --------------------------------------------------------------------------- 4. cut during photo uploads


def test_network_cut_during_photo_uploads_resends_only_that_photo(browser, serve, world, tmp_path):
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    open_visit(page, visit_id)
    phone.set_offline(True)
    item = first(items, "yes_no", photo=True)
    add_photos(page, item, [small_photo(tmp_path, f"c{n}.jpg", (200, n * 70, 40)) for n in range(3)])

    sent: Counter[str] = Counter()
    page.on("request", lambda r: r.method == "PUT" and "/photos/" in r.url and sent.update([r.url]))
    seen: list[str] = []

    def cut_second(route: Any) -> None:
        if route.request.method == "PUT":
            seen.append(route.request.url)
            if len(seen) == 2:
                route.abort("connectionreset")
                return
        route.continue_()

    page.route("**/api/v1/visits/*/photos/*", cut_second)
    phone.set_offline(False)
    wait_synced(page, visit_id)
    assert sorted(sent.values()) == [1, 1, 2] and sent[seen[1]] == 2  # only the cut one went twice
    assert sorted(n for (m, p), n in server.requests.items() if m == "PUT" and "/photos/" in p) == [1, 1, 1]
    assert rows(Photo, visit_id=visit_id) == 3
    assert page.locator("li.photo .photo-status.ok").count() == 3
    # Deleting an uploaded photo (before submit) deletes it on the server too.
    page.locator("li.photo button.delete-photo").first.click()
    page.wait_for_function("document.querySelectorAll('li.photo').length === 2")
    # The phone forgets the photo once the server confirmed the DELETE.
    until(page, "async (id) => (await window.dudao.db.photosOf(id)).length === 2", visit_id)
    wait_synced(page, visit_id)
    assert server.count("DELETE", "/photos/") == 1
    assert rows(Photo, visit_id=visit_id, deleted_at=None) == 2
    assert "2 张照片" in page.locator(".receipt").inner_text()
    assert not errors, errors
    phone.close()


# --------------------------------------------------------------------------- 5. photo storage down


@pytest.fixture
def moto() -> Iterator[Any]:
    """A moto S3 server on a fixed port that the test can stop and start again."""
    from moto.server import ThreadedMotoServer

    class Moto:
        def __init__(self) -> None:
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.server: Any = None

        def start(self) -> None:
            self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
            self.server.start()

        def stop(self) -> None:
            if self.server is None:
                return
            self.server.stop()
            inner = getattr(self.server, "_server", None)
            if inner is not None:
                inner.server_close()
            self.server = None

    instance = Moto()
    instance.start()
    yield instance
    instance.stop()


def test_photo_storage_down_keeps_the_photo_and_retries(browser, serve, world, moto, tmp_path):
    server = serve(
        STORAGE_BACKEND="s3",
        S3_BUCKET="dudao-photos",
        S3_ENDPOINT_URL=moto.url,
        S3_ACCESS_KEY="testing-key",
        S3_SECRET_KEY="testing-secret",
    )
    storage = server.app.extensions["dudao.storage"]
    storage.ensure_bucket()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    open_visit(page, visit_id)
    item = first(items, "yes_no", photo=True)
    item_card(page, item).locator("button[data-answer=yes]").click()

    moto.stop()
    add_photos(page, item, [small_photo(tmp_path, "s3.jpg", (90, 160, 40))])
    status = item_card(page, item).locator("li.photo .photo-status")
    # The server's reason is shown on the photo while it waits for the next try.
    page.wait_for_function(
        "document.querySelector('li.photo .photo-status').textContent.startsWith('等待重试：照片存储暂不可用')"
    )
    page.screenshot(path=str(tmp_path / "storage-down.png"))
    page.wait_for_function(
        f"""() => document.querySelector('.sync-line[data-visit-id="{visit_id}"] .waiting')
            ?.textContent.includes('照片存储暂不可用')"""
    )
    page.wait_for_function("window.dudao.outbox.state().failures >= 2")  # it retries by itself
    # The first try sent its first chunk at once; every retry asked where to resume.
    assert server.count("PUT", "/uploads/") == 1 and server.count("GET", "/uploads/") >= 1
    kept = page.evaluate(f"window.dudao.db.photosOf('{visit_id}').then(ps => ps.map(p => p.blob && p.blob.size))")
    assert len(kept) == 1 and kept[0] > 0
    assert rows(Photo) == 0
    assert rows(ItemResult, visit_id=visit_id) == 1  # results were not held back by the photo

    moto.start()
    storage.ensure_bucket()
    wait_synced(page, visit_id)
    assert rows(Photo, visit_id=visit_id) == 1
    photo = db.session.scalars(select(Photo)).one()
    db.session.rollback()
    assert storage.exists(photo.original_key)
    listed = storage._client.list_objects_v2(Bucket="dudao-photos", Prefix="photos/original/")
    assert [o["Key"] for o in listed.get("Contents", [])] == [photo.original_key]
    assert "已上传" in status.inner_text()
    assert not errors, errors
    phone.close()


# --------------------------------------------------------------------------- 6. refused entries


def test_a_refused_write_is_shown_and_kept_while_the_rest_syncs(browser, serve, world, tmp_path):
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    open_visit(page, visit_id)
    phone.set_offline(True)
    good = [i for i in items if i["check"]["type"] == "yes_no"][:2]
    numeric = first(items, "numeric")
    item_card(page, good[0]).locator("button[data-answer=yes]").click()
    page.evaluate("window.dudao.flush()")
    # A write the server refuses (a negative count of pupils), between two good ones of the same batch.
    bad_id = str(uuid.uuid4())
    page.evaluate(
        """async ([visitId, itemId, writeId]) => {
            const write = {id: writeId, item_id: itemId, value: {number: -5}, observation: "",
                           edited_at: new Date().toISOString(), device_id: "test"};
            await window.dudao.outbox.enqueueRaw([{kind: "result", id: writeId, visit_id: visitId, write}]);
        }""",
        [visit_id, numeric["id"], bad_id],
    )
    item_card(page, good[1]).locator("button[data-answer=no]").click()
    page.evaluate("window.dudao.flush()")

    phone.set_offline(False)
    line = page.locator(f'.sync-line[data-visit-id="{visit_id}"]')
    until(
        page,
        """async (id) => {
            const left = await window.dudao.outbox.entries(id);
            const badge = document.querySelector(`.sync-line[data-visit-id="${id}"] .sync-status`);
            return left.length === 1 && left[0].status === "failed" && badge?.textContent === "失败";
        }""",
        visit_id,
    )
    assert "数值不能为负数" in line.locator(".failures").inner_text()
    assert rows(ItemResult, visit_id=visit_id) == 2 and rows(ResultWrite, id=bad_id) == 0
    line.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "refused.png"))
    # 重试 sends it again; the server refuses it again; it stays, with its reason.
    posts = server.count("POST", "/api/v1/sync")
    refused_at = page.evaluate(f"window.dudao.outbox.entries('{visit_id}').then(e => e[0].error.at)")
    line.locator("button.retry").click()
    until(
        page,
        """async ([id, before]) => {
            const left = await window.dudao.outbox.entries(id);
            return left.length === 1 && left[0].status === "failed" && left[0].error.at !== before;
        }""",
        [visit_id, refused_at],
    )
    assert server.count("POST", "/api/v1/sync") == posts + 1
    assert line.locator(".sync-status").inner_text() == "失败"
    assert "数值不能为负数" in line.locator(".failures").inner_text()
    assert not errors, errors
    phone.close()


# --------------------------------------------------------------------------- 7. signed out


def test_signed_out_pauses_and_keeps_everything_until_signed_in_again(browser, serve, world):
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    open_visit(page, visit_id)
    # Signed out in another tab (or the session ended): the next write meets a 401.
    other = phone.new_page()
    other.goto(server.url + "/")
    other.click("form.logout button")
    other.wait_for_url("**/login")
    other.close()
    answered = fill_offline(page, items, 2)
    page.wait_for_selector('[data-banner="auth"]')
    assert "请重新登录" in page.locator('[data-banner="auth"]').inner_text()
    until(
        page,
        """async (id) => (await window.dudao.outbox.entries(id)).length === 3
            && window.dudao.outbox.state().paused === "auth" && !window.dudao.outbox.state().running""",
        visit_id,
    )
    assert rows(ItemResult) == 0

    page.locator('[data-banner="auth"] a').click()
    page.wait_for_url("**/login?next=/inspect/")
    page.fill("#username", world["inspector"].username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/inspect/")
    page.wait_for_function("window.dudao !== undefined")
    page.evaluate("window.dudao.ready")
    page.goto(server.url + f"/inspect/#/visit/{visit_id}")
    wait_synced(page, visit_id)
    assert rows(ItemResult, visit_id=visit_id) == len(answered)
    assert not errors, errors
    phone.close()


# --------------------------------------------------------------------------- 8. a new app version


def test_a_new_version_replaces_the_shell_and_keeps_the_data(browser, serve, world, monkeypatch):
    from webapp.visits import routes

    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    old = page.get_attribute('meta[name="dudao-version"]', "content")
    download(page, visit_id)
    open_visit(page, visit_id)
    phone.set_offline(True)
    answered = fill_offline(page, items, 1)

    # Deploy a "new version" (the hash of the shell files changes), then come back online.
    monkeypatch.setattr(routes, "_version_of", lambda static_folder: "feedfacefeedface")
    phone.set_offline(False)
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    until(page, """async () => JSON.stringify(await caches.keys()) === '["dudao-shell-feedfacefeedface"]'""")
    page.wait_for_selector('[data-banner="update"]')
    wait_synced(page, visit_id)

    # The new shell opens offline and the data is still there (it lives in IndexedDB).
    phone.set_offline(True)
    page.reload()
    page.wait_for_selector("article.item")
    assert page.get_attribute('meta[name="dudao-version"]', "content") == "feedfacefeedface" != old
    button = item_card(page, answered[0]).locator("button[data-answer=yes]")
    assert button.get_attribute("aria-pressed") == "true"
    assert rows(ItemResult, visit_id=visit_id) == 1
    assert not errors, errors
    phone.close()


# --------------------------------------------------------------------------- the shell itself


def test_shell_is_the_same_for_every_inspector_and_versioned(app, factory, tmp_path):
    from webapp.visits import routes

    from .conftest import login

    county = factory.county("聊城市", "liaocheng")
    school = factory.school(county)
    pages = []
    for _ in range(2):
        user = factory.user("inspector", county, (school,))
        client = app.test_client()
        login(client, user)
        response = client.get("/inspect/")
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
        assert user.username not in page and user.display_name not in page and "csrf" not in page.lower()
        pages.append(page)
    assert pages[0] == pages[1]  # cached by the service worker: nothing personal in it

    worker = client.get("/sw.js")
    assert worker.mimetype == "text/javascript"
    assert worker.headers["Service-Worker-Allowed"] == "/" and worker.headers["Cache-Control"] == "no-cache"
    body = worker.get_data(as_text=True)
    version = routes._version_of(app.static_folder)
    assert f'"{version}"' in body and "/api/" in body
    for url in ["/inspect/", "/manifest.webmanifest", "/static/inspect/app.js", "/static/icons/icon-192.png"]:
        assert f'"{url}"' in body
        with client.get(url) as response:  # static files: close them (ResourceWarning otherwise)
            assert response.status_code == 200

    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    data = json.loads(manifest.get_data(as_text=True))
    assert data["name"] == data["short_name"] == "督导随行"
    assert (data["start_url"], data["scope"]) == ("/inspect/", "/")
    assert data["display"] == "standalone" and data["theme_color"] == "#1f5f8b" and data["lang"] == "zh-CN"
    assert {(i["sizes"], i["purpose"]) for i in data["icons"]} == {
        ("192x192", "any"),
        ("512x512", "any"),
        ("512x512", "maskable"),
    }
    for icon in data["icons"]:
        with client.get(icon["src"]) as response:
            image = Image.open(io.BytesIO(response.data))
            assert f"{image.width}x{image.height}" == icon["sizes"]

    # Any change to a shell file is a new version (so a new cache, and the old one is deleted).
    import shutil

    static = tmp_path / "static"
    shutil.copytree(app.static_folder, static)
    before = routes._version_of(str(static))
    (static / "inspect" / "app.js").write_text((static / "inspect" / "app.js").read_text() + "\n// changed\n")
    routes._version_of.cache_clear()
    assert routes._version_of(str(static)) != before


def test_control_characters_are_taken_out_as_they_are_typed(browser, serve, world):
    """A pasted control character never reaches the outbox (the server would refuse the record and park it)."""
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    open_visit(page, visit_id)
    card = item_card(page, first(items, "yes_no"))
    card.locator("button[data-answer=yes]").click()
    card.locator("button.obs-toggle").click()
    card.locator("textarea.obs").fill("门卫\u0007室\u0085已整改")
    assert card.locator("textarea.obs").input_value() == "门卫室已整改"
    assert "控制字符" in page.locator('[data-banner^="toast-"]').last.inner_text()
    page.evaluate("window.dudao.flush()")
    wait_synced(page, visit_id)
    assert rows(ItemResult, visit_id=visit_id, observation="门卫室已整改") == 1
    assert not errors, errors
    phone.close()


def test_a_refused_number_leaves_the_item_unanswered_not_its_last_keystroke(browser, serve, world):
    """Typed key by key, 99999999999 passed 999999999 on the way: that number was kept (达标, and sent) while the
    field said 数值过大; and 1e309, which the browser reads as "", cleared the answer without a word."""
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    open_visit(page, visit_id)
    numeric, count = first(items, "numeric"), first(items, "count_per_period")
    field = item_card(page, numeric).locator("input.num")
    field.click()
    page.keyboard.type("99999999999")
    assert item_card(page, numeric).locator(".field-error").inner_text() == "数值过大。"
    assert item_card(page, numeric).locator(".outcome").is_hidden()  # no 达标 for a number not taken
    tally = item_card(page, count).locator("input.num")
    tally.click()
    page.keyboard.type("1e309")
    assert item_card(page, count).locator(".field-error").inner_text() == "请输入数字。"
    page.evaluate("window.dudao.flush()")
    wait_synced(page, visit_id)
    stored = {r.item_id: r.value for r in db.session.scalars(select(ItemResult).where(ItemResult.visit_id == visit_id))}
    assert stored.get(numeric["id"]) in (None, {}), stored.get(numeric["id"])
    assert stored.get(count["id"]) in (None, {}), stored.get(count["id"])
    # Mended, the number is the answer again.
    field.fill("1000")
    assert item_card(page, numeric).locator(".field-error").is_hidden()
    assert item_card(page, numeric).locator(".outcome").is_visible()
    assert not errors, errors
    phone.close()


def test_a_paste_longer_than_a_field_takes_is_said(browser, serve, world):
    """10,000 characters pasted into 现场记录 (4,000 at most) lost the rest without a word."""
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    open_visit(page, visit_id)
    card = item_card(page, first(items, "yes_no"))
    card.locator("button.obs-toggle").click()
    paste = """([selector, text]) => {
        const field = document.querySelector(selector);
        field.focus();
        const data = new DataTransfer();
        data.setData("text/plain", text);
        field.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    }"""
    selector = f'article.item[data-item-id="{first(items, "yes_no")["id"]}"] textarea.obs'
    page.evaluate(paste, [selector, "门卫室已整改"])
    assert page.locator('[data-banner^="toast-"]').count() == 0
    page.evaluate(paste, [selector, "长" * 10_000])
    assert "最多 4000 字" in page.locator('[data-banner^="toast-"]').last.inner_text()
    assert not errors, errors
    phone.close()


def test_an_observation_without_an_answer_is_named_before_the_submit(browser, serve, world):
    """A 现场记录 waits for its item's answer: the submit page names such items and leads back to each."""
    server = serve()
    items, visit_id = world["items"], world["visit_id"]
    phone, page, errors = open_phone(browser, server, world["inspector"].username)
    download(page, visit_id)
    open_visit(page, visit_id)
    noted, answered = first(items, "yes_no"), first(items, "numeric")
    card = item_card(page, noted)
    card.locator("button.obs-toggle").click()
    card.locator("textarea.obs").fill("消防通道堆放杂物，未作答。")
    item_card(page, answered).locator("input.num").fill("30")
    page.evaluate("window.dudao.flush()")
    page.click("#to-submit")
    page.wait_for_selector("#failed-items")
    warning = page.locator("#noted-unanswered")
    assert warning.is_visible() and "1 项写了现场记录但没有作答" in warning.inner_text()
    assert noted["title"] in warning.inner_text() and answered["title"] not in warning.inner_text()
    warning.get_by_role("button", name=noted["title"]).click()
    page.wait_for_function(
        "id => document.activeElement && document.activeElement.closest(`[data-item-id='${id}']`)", arg=noted["id"]
    )
    item_card(page, noted).locator("button[data-answer=no]").click()
    page.evaluate("window.dudao.flush()")
    page.click("#to-submit")
    page.wait_for_selector("#failed-items")
    assert page.locator("#noted-unanswered").count() == 0
    assert not errors, errors
    phone.close()
