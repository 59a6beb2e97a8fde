"""Notices: the inbox of every role, events announced once, the daily deadline job idempotent per day."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.bureau.rectification.models import RectificationTask
from webapp.core.models import Term
from webapp.extensions import db
from webapp.notices import notifier
from webapp.notices.models import Notice
from webapp.timeutil import today_in_china
from webapp.visits.operations import plan_visit

from .conftest import jpeg_bytes, login


@pytest.fixture
def world(app, factory):
    county = factory.county("贺兰县", "helan")
    today = today_in_china()
    db.session.add(
        Term(
            county_id=county.id,
            name="本学期",
            school_year="2026-2027",
            starts_on=today - timedelta(days=100),
            ends_on=today + timedelta(days=10),
        )
    )
    db.session.commit()
    school = factory.school(county, name="金贵镇中心小学")
    inspector = factory.user("inspector", county, (school,))
    reviewer = factory.user("reviewer", county)
    principal = factory.user("school", county, school_id=school.id)
    visit = plan_visit(inspector, school.id, today - timedelta(days=5))
    task = RectificationTask(
        county_id=county.id,
        school_id=school.id,
        visit_id=visit.id,
        item_id="helan.safety.fire_safety",
        item_title="消防安全",
        problem="灭火器过期",
        deadline=today + timedelta(days=2),
        opened_by_id=reviewer.id,
    )
    db.session.add(task)
    db.session.commit()
    return {"today": today, "task": task, "inspector": inspector, "reviewer": reviewer, "principal": principal}


def _kinds(user) -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(Notice.kind).where(Notice.user_id == user.id)))


def _run(app, day):
    result = app.test_cli_runner().invoke(args=["notices", "run", "--date", day.isoformat()], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_daily_job_is_idempotent_per_day(app, world):
    today, principal, reviewer = world["today"], world["principal"], world["reviewer"]
    first = _run(app, today)
    assert "1 tasks looked at, 0 overdue" in first
    # Assigned, due in 2 days, and the self-report due before the term ends in 10 days.
    assert _kinds(principal) == ["report_due", "task_assigned", "task_due"]
    assert _kinds(reviewer) == []
    assert "0 notices sent" in _run(app, today)
    assert _kinds(principal) == ["report_due", "task_assigned", "task_due"]

    # Past the deadline: the school is reminded every day, the bureau and the inspector told once.
    late = today + timedelta(days=3)
    assert "1 overdue" in _run(app, late)
    assert _kinds(principal).count("task_overdue") == 1
    assert _kinds(reviewer) == ["task_overdue"] and _kinds(world["inspector"]) == ["task_overdue"]
    _run(app, late)
    _run(app, late + timedelta(days=1))
    assert _kinds(principal).count("task_overdue") == 2
    assert _kinds(reviewer) == ["task_overdue"]


def test_events_reach_the_inbox_at_once_and_the_inbox_marks_read(app, world):
    task = world["task"]
    school = app.test_client()
    login(school, world["principal"])
    form = {"note": "已更换灭火器", "request_closure": "true", "photos": [(io.BytesIO(jpeg_bytes()), "a.jpg")]}
    sent = school.put(f"/api/v1/tasks/{task.id}/progress/{uuid.uuid4()}", data=form, content_type="multipart/form-data")
    assert sent.status_code == 201
    assert _kinds(world["reviewer"]) == ["task_requested"]
    bureau = app.test_client()
    login(bureau, world["reviewer"])
    page = bureau.get("/inbox/").get_data(as_text=True)
    assert "申请销号：金贵镇中心小学 · 消防安全" in page and '<span class="badge warn unread-count">1</span>' in page
    notice = db.session.scalar(select(Notice).where(Notice.user_id == world["reviewer"].id))
    # Someone else's notice is not there for the school; opening one's own marks it read and follows its link.
    assert school.get(f"/inbox/{notice.id}").status_code == 404
    opened = bureau.get(f"/inbox/{notice.id}")
    assert opened.status_code == 302 and opened.location.endswith(f"/rectification/{task.id}")
    assert "unread-count" not in bureau.get("/inbox/").get_data(as_text=True)
    # The reviewer closes: the school hears of it.
    assert bureau.post(f"/rectification/{task.id}/close", data={"note": "核实"}).status_code == 302
    assert "task_closed" in _kinds(world["principal"])
    # Reopened: the school is told it was returned, with the reason.
    reopened = bureau.post(f"/rectification/{task.id}/reopen", data={"note": "灭火器仍未年检"})
    assert reopened.status_code == 302 and "task_returned" in _kinds(world["principal"])
    returned = db.session.scalar(select(Notice).where(Notice.kind == "task_returned"))
    assert returned.body == "灭火器仍未年检" and returned.link == f"/inspect/#/task/{task.id}"
    assert school.post("/inbox/read").status_code == 302
    db.session.expire_all()
    assert (
        db.session.scalar(select(Notice).where(Notice.read_at.is_(None), Notice.user_id == world["principal"].id))
        is None
    )


def test_another_channel_gets_the_same_messages(app, world, monkeypatch):
    sent: list[tuple[str, str]] = []

    class FakeSms:
        def send(self, user, message):
            sent.append((user.username, message.key))
            return True

    monkeypatch.setitem(notifier.CHANNELS, "sms", FakeSms)
    app.config["NOTIFIERS"] = ["in_app", "sms"]
    _run(app, world["today"])
    assert (world["principal"].username, f"task_assigned:{world['task'].id}") in sent
    assert _kinds(world["principal"]) == ["report_due", "task_assigned", "task_due"]
