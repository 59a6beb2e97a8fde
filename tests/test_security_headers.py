"""Security headers on every response, a CSP with no inline script (but the offline shell's one, by its hash), and
templates that need none."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest

from .bureau_support import make_world
from .conftest import PHONE, login, s3_config

WEBAPP = Path(__file__).resolve().parent.parent / "webapp"
REQUIRED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"""<[^>]*\son[a-z]+\s*=\s*["']""", re.IGNORECASE)
JS_URL = re.compile(r"javascript:", re.IGNORECASE)
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
INLINE_BODY = re.compile(r"<script>(.*?)</script>", re.DOTALL)
#: The offline shell's boot script (visits/routes.py boot_script): that page's policy allows it by its hash.
HASHED_INLINE = {"visits/templates/visits/shell.html": "<script>"}


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _check(response, where: str) -> dict[str, str]:
    for name, value in REQUIRED.items():
        assert response.headers.get(name) == value, (where, name, response.headers.get(name))
    policy = dict(
        (part.split(" ", 1) + [""])[:2]
        for part in (p.strip() for p in response.headers["Content-Security-Policy"].split(";"))
    )
    # No 'unsafe-inline', no 'unsafe-eval'; a page may allow its own inline scripts by hash, and only those.
    script_src = policy["script-src"].split()
    assert script_src[0] == "'self'" and all(s.startswith("'sha256-") for s in script_src[1:]), where
    page = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
    inline = {_sha256(body) for body in INLINE_BODY.findall(page)}
    assert {s[len("'sha256-") : -1] for s in script_src[1:]} == inline, where
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'", where
    permissions = response.headers["Permissions-Policy"]
    assert "camera=(self)" in permissions and "geolocation=(self)" in permissions and "microphone=()" in permissions
    return policy


def test_every_get_route_answers_with_the_headers(app, factory):
    world = make_world(factory)
    clients = {"anonymous": app.test_client(), "admin": world.client(app, "admin")}
    seen = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        # Placeholders: real pages where the parameter is free, a 404 (an error page) where it is not.
        path = re.sub(r"<int:[^>]+>", "999999", rule.rule)
        path = re.sub(r"<(?:path:)?(filename|key)>", "app.css", path)
        path = re.sub(r"<kind>", "visits", path)
        path = re.sub(r"<fmt>", "csv", path)
        path = re.sub(r"<[^>]+>", "x", path)
        for who, client in clients.items():
            response = client.get(path)
            assert response.status_code < 500, (path, who)
            _check(response, f"{who} {path} {response.status_code}")
            seen += 1
    assert seen > 80
    json_error = app.test_client().put("/api/v1/visits/x", json={})
    _check(json_error, "api 401")


def test_no_template_has_inline_script_or_handlers():
    offenders = []
    for path in WEBAPP.rglob("*.html"):
        # Jinja expressions are not markup (``url_for(..., only='failed')`` is no ``on…=`` handler).
        text = JINJA.sub("", path.read_text(encoding="utf-8"))
        allowed = HASHED_INLINE.get(path.relative_to(WEBAPP).as_posix())
        for pattern in (INLINE_SCRIPT, HANDLER, JS_URL):
            offenders += [
                f"{path.relative_to(WEBAPP)}: {m.group(0)[:60]}"
                for m in pattern.finditer(text)
                if m.group(0) != allowed
            ]
    assert not offenders, offenders


def test_the_shell_allows_its_boot_script_by_hash_and_nothing_else(client, factory):
    login(client, make_world(factory).inspector)
    shell = client.get("/inspect/")
    policy = _check(shell, "shell")  # the hash is the page's one inline script's
    assert policy["script-src"].count("'sha256-") == 1 and len(INLINE_BODY.findall(shell.text)) == 1
    assert "/api/v1/me" in INLINE_BODY.findall(shell.text)[0]
    assert "'sha256-" not in client.get("/sw.js").headers["Content-Security-Policy"]


def test_presigned_photo_origin_is_allowed_for_images(make_app):
    app = make_app(**s3_config("http://minio.example:9000", "dudao-photos"))
    with app.app_context():
        policy = _check(app.test_client().get("/login"), "s3")
    assert "http://minio.example:9000" in policy["img-src"].split()
    assert "http://minio.example:9000" in policy["connect-src"].split()
    local = make_app()
    with local.app_context():
        policy = _check(local.test_client().get("/login"), "local")
    assert policy["img-src"] == "'self' data: blob:"


@pytest.mark.browser
def test_pages_run_under_the_policy_without_violations(browser, live_server, client, factory):
    world = make_world(factory)
    login(client, world.reviewer)
    context = browser.new_context(**{**PHONE, "bypass_csp": False})
    context.add_cookies([{"name": "session", "value": client.get_cookie("session").value, "url": live_server}])
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        for path in ("/bureau/", f"/bureau/summary?county={world.county.id}", "/bureau/compare", "/lessons/bureau"):
            page.goto(live_server + path)
            page.wait_for_load_state("load")
        # The former inline handler, now in page.js: printing is called.
        page.goto(live_server + "/bureau/summary")
        page.evaluate("window.print = () => { window.printed = true; }")
        page.click("[data-print]")
        assert page.evaluate("window.printed") is True
        # The offline app (ES modules, service worker) under the policy, as an inspector.
        login(client, world.inspector)
        context.clear_cookies()
        context.add_cookies([{"name": "session", "value": client.get_cookie("session").value, "url": live_server}])
        page.goto(live_server + "/inspect/")
        page.wait_for_selector("#loading", state="detached")
        assert page.evaluate("navigator.serviceWorker.ready.then(() => true)") is True
    finally:
        context.close()
    assert not violations, violations
