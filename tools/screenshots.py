"""Capture every main page for each role at 1366 and 360 px wide, so a reviewer can see them all at once.

Uses the demo data and Debian's Chromium (through Playwright, never a downloaded browser)::

    # against a running app that has the demo data loaded (./dev.sh serve):
    python -m tools.screenshots --url http://127.0.0.1:5000 --out shots/
    # or let the script make a throwaway SQLite database, load the demo and serve it itself:
    python -m tools.screenshots --out shots/

Files are named ``<role>-<page>-<width>.png``; ``--only`` keeps the pages whose name contains a word.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "demo1234"
WIDTHS = {1366: 768, 360: 740}

#: (role, demo username, [(page name, path)]); ``{visit}``, ``{task}``, ``{school}`` … are looked up on the site.
ROLES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "reviewer",
        "helan_dds",
        [
            ("home", "/"),
            ("workbench", "/bureau/"),
            ("visits", "/bureau/visits"),
            ("visit", "{visit}"),
            ("visit-all", "{visit}?only=all"),
            ("matrix", "/bureau/matrix"),
            ("ledger", "/rectification/"),
            ("task", "{task}"),
            ("summary", "/bureau/summary"),
            ("report", "{visit}/report"),
            ("lessons", "/lessons/bureau"),
            ("imports", "/admin/import/"),
            ("schools", "/schools"),
            ("users", "/users"),
            ("school", "{school}"),
            ("packs", "/packs/"),
        ],
    ),
    ("inspector", "helan_duxue1", [("home", "/"), ("phone", "/inspect/"), ("ledger", "/rectification/")]),
    ("researcher", "helan_jyy1", [("home", "/"), ("lessons", "/lessons/")]),
    ("admin", "admin", [("home", "/"), ("workbench", "/bureau/"), ("compare", "/bureau/compare")]),
]

LINKS = {
    "{visit}": r'href="(/bureau/visits/[0-9a-f-]{36})"',
    "{task}": r'href="(/rectification/\d+)"',
    "{school}": r'href="(/schools/\d+)"',
}
LINK_PAGES = {"{visit}": "/bureau/visits?state=submitted", "{task}": "/rectification/", "{school}": "/schools"}


def serve_demo(port: int) -> tuple[subprocess.Popen[bytes], str]:
    """A throwaway SQLite database with the demo data, served by ``flask run`` on ``port``."""
    folder = tempfile.mkdtemp(prefix="dudao-shots-")
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{folder}/demo.db",
        "DUDAO_SESSION_COOKIE_SECURE": "false",
        "DUDAO_REMEMBER_COOKIE_SECURE": "false",
        "FLASK_APP": "wsgi",
    }
    flask = [sys.executable, "-m", "flask"]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([*flask, "demo", "load"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([*flask, "run", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/login", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    return server, url


def sign_in(page: Any, url: str, username: str) -> None:
    """Sign in through the login form."""
    page.goto(url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def resolve(page: Any, url: str, path: str, found: dict[str, str | None]) -> str | None:
    """A path with its ``{visit}``-style placeholder replaced by the first such link on the site."""
    for key, pattern in LINKS.items():
        if key in path:
            if key not in found:
                response = page.request.get(url + LINK_PAGES[key])
                match = re.search(pattern, response.text())
                found[key] = match.group(1) if match else None
            if not found[key]:
                return None
            path = path.replace(key, found[key] or "")
    return path


def capture(url: str, out: Path, only: str = "") -> list[Path]:
    """Screenshot every page of every role at each width; returns the files written."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for role, username, pages in ROLES:
            for width, height in WIDTHS.items():
                phone = width < 600
                context = browser.new_context(
                    viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone, locale="zh-CN"
                )
                page = context.new_page()
                sign_in(page, url, username)
                found: dict[str, str | None] = {}
                for name, path in pages:
                    if only and only not in name:
                        continue
                    target = resolve(page, url, path, found)
                    if target is None:
                        continue
                    page.goto(url + target)
                    page.wait_for_load_state("networkidle")
                    file = out / f"{role}-{name}-{width}.png"
                    page.screenshot(path=str(file), full_page=True)
                    written.append(file)
                context.close()
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--url`` of a running demo (else one is started), ``--out`` folder, ``--only`` filter."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running app with the demo data; without it one is started")
    parser.add_argument("--out", default="screenshots", type=Path)
    parser.add_argument("--only", default="", help="only pages whose name contains this")
    parser.add_argument("--port", default=5799, type=int, help="port for the app this script starts")
    args = parser.parse_args(argv)
    server = None
    url = args.url
    if not url:
        server, url = serve_demo(args.port)
    try:
        files = capture(url.rstrip("/"), args.out, args.only)
    finally:
        if server:
            server.terminate()
            server.wait(timeout=10)
    for file in files:
        print(file)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
