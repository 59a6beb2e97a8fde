"""Pages of the inspector's offline app (the app shell, its service worker and manifest).

The shell is the same HTML for every inspector: the service worker caches it
and shows it offline, so it carries no per-user data (no CSRF token, no
name). Everything personal comes from IndexedDB and the sync API.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, url_for
from markupsafe import Markup

from ..auth.policy import roles_required
from ..headers import content_security_policy

bp = Blueprint("visits", __name__, template_folder="templates")

TEMPLATES = Path(__file__).with_name("templates")
#: Templates that make up the shell; a change to any of them is a new version.
SHELL_TEMPLATES = ("visits/shell.html", "visits/sw.js", "visits/boot.js")
#: Style sheets inlined into the shell page (under the static folder): the first paint
#: waits for no stylesheet request, and the page is cached whole anyway.
SHELL_CSS = ("app.css", "inspect/inspect.css")
#: Static files the service worker precaches (paths under the static folder), besides
#: every ES module in static/inspect/ (see shell_modules): a module missing from the
#: cache would break the app offline, so new modules are picked up by themselves.
#: The page's icon only: the manifest's large icons are for installing, which is online.
SHELL_STATIC = ("icons/icon-192.png",)
#: Entry modules of a role's own pages (app.js FEATURES): they and the modules only they
#: load are not precached for everyone; the worker keeps them once a phone of that role
#: has loaded them (see feature_modules).
FEATURE_ENTRIES = ("lessons.js", "school.js")
THEME_COLOR = "#1f5f8b"


def shell_modules(static_folder: str) -> list[str]:
    """The app's ES modules (static/inspect/*.js), as paths under the static folder."""
    return sorted(f"inspect/{p.name}" for p in (Path(static_folder) / "inspect").glob("*.js"))


def shell_static_files(static_folder: str) -> list[str]:
    """Every static file of the shell, as paths under the static folder (htmx is not one: the shell never uses it)."""
    return [*SHELL_STATIC, *shell_modules(static_folder)]


def precached_files(static_folder: str) -> list[str]:
    """The shell's static files the worker stores at install: all but the role features' own modules."""
    kept = {name for names in feature_modules(static_folder).values() for name in names}
    return [name for name in shell_static_files(static_folder) if name not in kept]


#: A static import of a sibling module (``import … from "./x.js"``, ``import "./x.js"``); not ``import()``.
_STATIC_IMPORT = re.compile(r"""^\s*(?:import|export)\b[^;'"()]*?["']\./([\w.-]+\.js)["']""", re.MULTILINE)
#: A dynamic import of a sibling module (``import("./x.js")``).
_DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*["']\./([\w.-]+\.js)["']\s*\)""")


def _imports(folder: Path, name: str) -> list[str]:
    """The sibling modules ``name`` imports, statically or with import()."""
    source = (folder / name).read_text(encoding="utf-8")
    return _STATIC_IMPORT.findall(source) + _DYNAMIC_IMPORT.findall(source)


def _reachable(folder: Path, start: str, stop: frozenset[str] = frozenset()) -> list[str]:
    """Modules ``start`` loads, directly or not (itself first), not entering ``stop``."""
    seen: list[str] = []
    todo = [start]
    while todo:
        name = todo.pop(0)
        if name in seen or name in stop or not (folder / name).exists():
            continue
        seen.append(name)
        todo.extend(_imports(folder, name))
    return seen


@lru_cache(maxsize=4)
def feature_modules(static_folder: str) -> dict[str, tuple[str, ...]]:
    """For each role feature's entry module: the modules only it loads (paths under the static folder).

    What app.js loads without the features (at start or later, import() included) is
    precached; a module both a feature and the rest use stays precached.
    """
    folder = Path(static_folder) / "inspect"
    core = set(_reachable(folder, "app.js", stop=frozenset(FEATURE_ENTRIES)))
    return {
        f"inspect/{entry}": tuple(f"inspect/{name}" for name in _reachable(folder, entry) if name not in core)
        for entry in FEATURE_ENTRIES
    }


@lru_cache(maxsize=4)
def startup_modules(static_folder: str) -> tuple[str, ...]:
    """The modules app.js loads before it can start (its static imports, transitively), app.js first.

    The shell names them in <link rel="modulepreload">, so the browser fetches them all at
    once instead of discovering them one import level at a time.
    """
    folder = Path(static_folder) / "inspect"
    seen: list[str] = []
    todo = ["app.js"]
    while todo:
        name = todo.pop(0)
        if name in seen or not (folder / name).exists():
            continue
        seen.append(name)
        todo.extend(_STATIC_IMPORT.findall((folder / name).read_text(encoding="utf-8")))
    return tuple(f"inspect/{name}" for name in seen)


@lru_cache(maxsize=4)
def _version_of(static_folder: str) -> str:
    """Hash the shell templates, the shell's static files (under ``static_folder``) and the manifest."""
    digest = hashlib.sha256()
    for name in SHELL_TEMPLATES:
        digest.update(name.encode() + b"\0" + (TEMPLATES / name).read_bytes())
    for name in (*SHELL_CSS, *shell_static_files(static_folder)):
        digest.update(name.encode() + b"\0" + (Path(static_folder) / name).read_bytes())
    digest.update(json.dumps(manifest_data(), sort_keys=True).encode())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=4)
def _css_of(static_folder: str) -> Markup:
    """The shell's style sheets, one after the other (our own files: safe inside <style>)."""
    return Markup("\n".join((Path(static_folder) / name).read_text(encoding="utf-8") for name in SHELL_CSS))


@lru_cache(maxsize=1)
def boot_script() -> tuple[Markup, str]:
    """The shell's inline boot script (templates/visits/boot.js, our own file) and its CSP hash.

    Inline rather than a file: it starts the session check with the page, and a file would be one
    more request before the first draw.
    """
    text = (TEMPLATES / "visits" / "boot.js").read_text(encoding="utf-8")
    return Markup(text), base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def shell_version() -> str:
    """A hash of the shell files' contents, computed once per process.

    The service worker's cache is named after it, so any change to the shell
    (a template, a module, the CSS, an icon) makes a new cache and the old one
    is deleted when the new worker activates.
    """
    return _version_of(str(current_app.static_folder))


def manifest_data() -> dict[str, Any]:
    """The web app manifest (static paths: it must not depend on a request)."""
    return {
        "name": "督导随行",
        "short_name": "督导随行",
        "description": "责任督学离线挂牌督导",
        "lang": "zh-CN",
        "dir": "ltr",
        "start_url": "/inspect/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOR,
        "background_color": "#f4f6f8",
        "icons": [
            {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {
                "src": "/static/icons/icon-maskable-512.png",
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }


def precache_urls() -> list[str]:
    """What the service worker stores at install: the shell page, its files and the manifest."""
    return [url for url, _ in precache_entries()]


def _short_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def precache_entries() -> list[tuple[str, str]]:
    """(url, sha256 prefix of its body) for everything the service worker precaches.

    The worker takes a file from the browser's HTTP cache when its hash is this one (the
    page has usually just loaded it: no second request), and from the network otherwise.
    """
    static = str(current_app.static_folder)
    entries = [
        (url_for("visits.shell"), _short_hash(shell_page().encode())),
        (url_for("visits.manifest"), _short_hash(manifest_body().encode())),
    ]
    for name in precached_files(static):
        entries.append((url_for("static", filename=name), _static_hash(static, name)))
    return entries


def feature_entries() -> dict[str, list[tuple[str, str]]]:
    """For the worker: each role feature's entry URL → (url, sha256 prefix) of the modules it keeps."""
    static = str(current_app.static_folder)
    return {
        url_for("static", filename=entry): [
            (url_for("static", filename=name), _static_hash(static, name)) for name in names
        ]
        for entry, names in feature_modules(static).items()
    }


@lru_cache(maxsize=256)
def _static_hash(static_folder: str, name: str) -> str:
    return _short_hash((Path(static_folder) / name).read_bytes())


def shell_page() -> str:
    """The shell's HTML (the same for everyone)."""
    static = str(current_app.static_folder)
    preload = startup_modules(static)[1:]  # app.js itself is the page's module script
    boot, _ = boot_script()
    return render_template(
        "visits/shell.html", version=shell_version(), css=_css_of(static), preload=preload, boot=boot
    )


def manifest_body() -> str:
    """The manifest as served."""
    return json.dumps(manifest_data(), ensure_ascii=False, indent=1)


@bp.route("/inspect/")
@roles_required("inspector", "researcher", "school")
def shell() -> Response:
    """The offline app shell (inspectors, 教研员 for their lesson log, 学校 for its 整改; identical for all)."""
    response = Response(shell_page())
    response.headers["Content-Security-Policy"] = content_security_policy(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        script_hashes=(boot_script()[1],),
    )
    # Browsers and the service worker revalidate it: the same for every user, so its
    # version is its ETag and an unchanged shell answers 304 without a body.
    response.headers["Cache-Control"] = "no-cache"
    response.set_etag(shell_version())
    return response.make_conditional(request)


@bp.route("/sw.js")
def service_worker() -> Response:
    """The service worker, served from the site root so its scope can be ``/``."""
    body = render_template(
        "visits/sw.js", version=shell_version(), precache=precache_entries(), features=feature_entries()
    )
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    # Browsers check for a new worker on each visit; an HTTP-cached copy would delay updates.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/manifest.webmanifest")
def manifest() -> Response:
    """The web app manifest: install to the home screen as 督导随行."""
    response = Response(manifest_body(), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response
