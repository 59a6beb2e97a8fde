"""The offline app's module layout: every module is precached, and features plug in through router.js."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from .conftest import PHONE, login

INSPECT = Path(__file__).resolve().parent.parent / "webapp" / "static" / "inspect"
COMMENT = re.compile(r"^\s*(?://|/?\*).*$", re.MULTILINE)  # examples in comments are not imports
IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(\s*)["']\./([\w.-]+\.js)["']""")


def test_every_imported_module_exists_and_is_precached(client):
    worker = client.get("/sw.js").get_data(as_text=True)
    precached = {path for path, _ in json.loads(re.search(r"const PRECACHE = (\[.*?\]);\n", worker).group(1))}
    features = json.loads(re.search(r"const FEATURES = (\{.*?\});\n", worker).group(1))
    kept = {entry: {path for path, _ in files} for entry, files in features.items()}
    imports = {}
    for path in INSPECT.glob("*.js"):
        imports[path.name] = set(IMPORT.findall(COMMENT.sub("", path.read_text(encoding="utf-8"))))
    imported = {"app.js"}.union(*imports.values())
    assert {"router.js", "fill.js", "submit.js", "db.js", "lessons.js"} <= imported  # the pattern does find imports
    for name in sorted(imported):
        assert (INSPECT / name).exists(), f"{name} is imported but missing"
        # Offline, a module missing from the cache would stop the whole app from starting.
        url = f"/static/inspect/{name}"
        assert url in precached or any(url in files for files in kept.values()), f"{name} is not cached offline"
    # What a precached module loads is precached (an inspector offline has all of it), except
    # the role features, which app.js loads for their role only and the worker then keeps whole.
    entries = set(features)
    for url in precached:
        name = url.rsplit("/", 1)[-1]
        for child in imports.get(name, set()):
            child_url = f"/static/inspect/{child}"
            assert child_url in precached or child_url in entries, f"{name} loads {child}, not precached"
    for entry, files in kept.items():
        assert entry in files and not files & precached
        for url in files:  # a feature's module loads only precached ones and its own feature's
            for child in imports[url.rsplit("/", 1)[-1]]:
                assert f"/static/inspect/{child}" in precached | files, f"{url} loads {child}"
    assert "/static/inspect/lessons-form.js" in kept["/static/inspect/lessons.js"]
    assert "/static/inspect/school-home.js" in kept["/static/inspect/school.js"]
    assert "/static/inspect/fill.js" in precached and "/static/inspect/photos.js" in precached


@pytest.mark.browser
def test_features_add_views_and_home_sections_through_the_router(browser, live_server, client, inspector_world):
    login(client, inspector_world["inspector"])  # same secret key and database as the live server
    phone = browser.new_context(**PHONE)
    phone.add_cookies([{"name": "session", "value": client.get_cookie("session").value, "url": live_server}])
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server + "/inspect/")
    page.wait_for_function("window.dudao !== undefined")
    page.evaluate("window.dudao.ready")

    # What a feature module does when app.js imports it (the same module instances as the app's).
    page.evaluate(
        """async () => {
            const router = await import("/static/inspect/router.js");
            const ui = await import("/static/inspect/ui.js");
            router.registerView(/^#\\/hello\\/([^/]+)$/, (name) => {
                ui.setChrome("你好", "#/");
                ui.root.replaceChildren(ui.h("p", { id: "hello" }, `你好，${name}`));
                ui.bar.replaceChildren();
            });
            const top = () => ui.h("section", { class: "card", id: "extra-top" }, "置顶");
            router.registerHomeSection(top, { order: -1 });
            router.registerHomeSection(async () => ui.h("section", { class: "card", id: "extra-end" }, "在后"));
            router.registerHomeSection(() => { throw new Error("a broken section"); });
        }"""
    )
    page.evaluate("location.hash = '#/hello/' + encodeURIComponent('督学')")
    page.wait_for_selector("#hello")
    assert page.text_content("#hello") == "你好，督学"
    assert page.text_content("#title") == "你好" and page.is_visible("#back")

    page.evaluate("location.hash = '#/'")
    page.wait_for_selector("#extra-end")
    order = page.evaluate("[...document.querySelectorAll('#app > *')].map((el) => el.id || el.className)")
    assert order.index("card status-card") < order.index("extra-top") < order.index("visit-list")
    assert order.index("school-list") < order.index("extra-end")
    assert not errors, errors  # a broken section is skipped, not fatal
    phone.close()


def test_the_shell_preloads_its_start_up_modules_and_precaches_only_what_it_uses(client, inspector_world):
    login(client, inspector_world["inspector"])
    page = client.get("/inspect/")
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/static/inspect/([\w.-]+\.js)">', page.text))
    # Every module app.js imports statically (and theirs), so the browser asks for them all at once.
    app_imports = set(IMPORT.findall(COMMENT.sub("", (INSPECT / "app.js").read_text(encoding="utf-8"))))
    static_only = {name for name in app_imports if f'import("./{name}")' not in (INSPECT / "app.js").read_text()}
    assert static_only and static_only <= preloaded and "outbox.js" in preloaded
    assert "fill.js" not in preloaded and "submit.js" not in preloaded  # loaded on first use
    assert "lessons.js" not in preloaded and "school-sync.js" not in preloaded  # for their role only
    # htmx is for the server-rendered pages, never the shell.
    worker = client.get("/sw.js").get_data(as_text=True)
    assert "htmx" not in worker and '"no-cache"' in worker and '"reload"' not in worker
    # Each file is listed with the hash of what the server serves: the worker takes the page's
    # HTTP-cached copy only when it is this version's (no second download, never a stale file).
    listed = json.loads(re.search(r"const PRECACHE = (\[.*?\]);\n", worker).group(1))
    assert len(listed) > 20
    # The manifest's large icons are for installing (online): not downloaded by every worker.
    assert "/static/icons/icon-192.png" in {path for path, _ in listed}
    assert "icon-512" not in worker and "maskable" not in worker
    for path, sha in listed:
        with client.get(path) as served:
            assert hashlib.sha256(served.data).hexdigest()[:16] == sha, path
    # The service worker's revalidation of an unchanged shell costs no body.
    again = client.get("/inspect/", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304 and not again.data


@pytest.mark.browser
def test_an_inspector_loads_no_role_feature_and_the_outbox_loads_one_when_it_meets_its_entry(
    browser, live_server, client, inspector_world
):
    login(client, inspector_world["inspector"])
    phone = browser.new_context(**PHONE)
    phone.add_cookies([{"name": "session", "value": client.get_cookie("session").value, "url": live_server}])
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server + "/inspect/")
    page.wait_for_function("window.dudao !== undefined")
    page.evaluate("window.dudao.ready")
    loaded = "() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)"
    assert not [p for p in page.evaluate(loaded) if "school" in p or "lessons" in p]
    # A 学校's progress entry on this phone (a shared phone): its sender is not loaded, so the
    # outbox loads the school feature before sending it, and the server answers (not "unknown kind").
    code = page.evaluate(
        """async () => {
            const { db, outbox } = window.dudao;
            const entry = outbox.newEntry("task_progress", {
                id: db.uuid(), visit_id: "task:999999",
                body: { task_id: 999999, note: "", request_closure: false, saved_at: new Date().toISOString() },
                photos: [],
            });
            await db.transaction([db.S.outbox], "readwrite", async (s) => { await db.req(s[db.S.outbox].add(entry)); });
            await outbox.replay({ force: true });
            const [left] = await outbox.entries("task:999999");
            return left && left.status === "failed" ? left.error_code || left.last_error || left.error : "not parked";
        }"""
    )
    assert "/static/inspect/school-sync.js" in page.evaluate(loaded)
    assert code["status"] == 404 and code["code"] == "not_found", code  # asked the server (no such task)
    assert not errors, errors
    phone.close()
