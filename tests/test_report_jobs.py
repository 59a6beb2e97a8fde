"""Report PDFs through the job queue: asked for, followed, downloaded; only by the person who asked."""

from __future__ import annotations

import pytest

from .bureau_support import ALARM, alarm_photo, make_world, record_visit


@pytest.fixture(name="world")
def world_fixture(factory):
    return make_world(factory)


def _visit(app, world):
    phone = world.client(app, "inspector")
    visit_id, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}}, {ALARM: alarm_photo()})
    return visit_id


def test_a_pdf_is_made_by_a_job_and_downloaded(app, world):
    visit_id = _visit(app, world)
    bureau = world.client(app, "reviewer")
    started = bureau.post(f"/bureau/visits/{visit_id}/report-jobs")
    assert started.status_code == 202
    state = bureau.get(started.get_json()["status_url"]).get_json()
    assert state["state"] == "done" and state["download_url"]  # jobs run at once in the tests' setting
    pdf = bureau.get(state["download_url"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "filename*=UTF-8''" in pdf.headers["Content-Disposition"]
    # Someone else cannot follow or download it.
    other = world.client(app, "other_reviewer")
    assert other.get(started.get_json()["status_url"]).status_code == 404
    assert other.get(state["download_url"]).status_code == 404
    # The page offers it without a blocking link (the direct PDF stays as the fallback without script).
    page = bureau.get(f"/bureau/visits/{visit_id}").get_data(as_text=True)
    assert f'data-pdf-start="/bureau/visits/{visit_id}/report-jobs"' in page and "bureau/report-pdf.js" in page


def test_progress_is_pending_until_the_job_has_run(make_app, factory):
    app = make_app(JOB_QUEUE="thread", PDF_CHROMIUM="/nonexistent/chromium")
    with app.app_context():
        world = make_world(factory)
        visit_id = _visit(app, world)
        bureau = world.client(app, "reviewer")
        started = bureau.post(f"/bureau/visits/{visit_id}/report-jobs")
        assert started.status_code == 202 and started.get_json()["state"] == "pending"
        assert bureau.get(started.get_json()["status_url"]).get_json()["state"] == "pending"
        started.close()  # the answer has been sent: the job runs
        failed = bureau.get(started.get_json()["status_url"]).get_json()
        assert failed["state"] == "failed" and "Chromium" in failed["message"] and failed["download_url"] is None


def test_unknown_tokens_are_not_found(app, world):
    bureau = world.client(app, "reviewer")
    assert bureau.get("/bureau/reports/" + "0" * 32).status_code == 404
    assert bureau.get("/bureau/reports/not-a-token").status_code == 404
    assert bureau.get("/bureau/reports/" + "0" * 32 + "/report.pdf").status_code == 404
