"""A long import in real Chromium: after 确认导入 the page shows the job's step, then (htmx polling) the result."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from webapp.core.models import School
from webapp.extensions import db
from webapp.imports import jobs as import_jobs

from .conftest import PASSWORD
from .test_browser_visits import LiveServer, free_port
from .test_imports import SCHOOLS_CSV

pytestmark = pytest.mark.browser


@pytest.fixture
def live(make_app: Callable[..., Flask]) -> Iterator[LiveServer]:
    """The app over HTTP with real CSRF checks; jobs run after the answer, as in the embedded setting."""
    server = LiveServer(make_app(WTF_CSRF_ENABLED=True, JOB_QUEUE="thread"), free_port())
    server.start()
    yield server
    server.stop()


def test_the_import_page_follows_the_job_until_it_is_done(browser, live, factory, monkeypatch):
    county = factory.county("导入县", "helan")
    username = factory.user("reviewer", county).username
    db.session.remove()
    # Hold the job in its check step until the page has shown it running.
    release = threading.Event()
    checking = threading.Event()
    real_import = import_jobs.import_table

    def slow_import(*args, **kwargs):
        checking.set()
        assert release.wait(30)
        return real_import(*args, **kwargs)

    monkeypatch.setattr(import_jobs, "import_table", slow_import)

    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(live.url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live.url + "/")
    page.goto(live.url + "/admin/import/")
    page.select_option("#kind", "schools")
    page.set_input_files("#file", {"name": "schools.csv", "mimeType": "text/csv", "buffer": SCHOOLS_CSV.encode()})
    page.click("text=上传并预览")
    page.click("#confirm-import")
    page.wait_for_url(live.url + "/admin/import/jobs/*")
    running = page.locator("#import-job[data-state=running]")
    running.wait_for()
    assert checking.wait(20)
    page.locator("#import-job [role=status]", has_text="检查 3 行").wait_for()  # a later step, polled in
    assert page.locator("#import-job progress").get_attribute("value") == "2"
    with db.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(School)) == 0  # nothing written yet
    release.set()
    done = page.locator("#import-job[data-state=done]")
    done.wait_for()  # swapped in by htmx's polling, without a reload
    assert "新增 3 条，更新 0 条，未变 0 条" in done.inner_text()
    with db.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(School)) == 3
    assert not errors, errors
    context.close()
