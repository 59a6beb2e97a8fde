"""The 督导室 home's figures: coverage, 达标率, 整改 over time, quotas; JSON and tables agree."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from webapp.bureau.dashboard import figures as dashboard
from webapp.bureau.rectification.models import RectificationTask
from webapp.extensions import db
from webapp.timeutil import today_in_china
from webapp.visits.models import ItemResult

from .bureau_support import ALARM, CLASS_SIZE, make_world, record_visit


@pytest.fixture(name="world")
def world_fixture(factory):
    """The bureau tests' county, schools and people."""
    return make_world(factory)


def test_figures_from_reviewed_visits(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    failing, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}, CLASS_SIZE: {"number": 50}})
    assert bureau.post(f"/bureau/visits/{failing}/review", data={"decision": "accept"}).status_code == 302
    coverage = bureau.get("/bureau/dashboard/coverage.json").get_json()
    # 吉强镇中心小学 (primary) visited; 兴隆镇中学 (junior) not.
    assert coverage["columns"] == ["学段", "已督导", "未督导"]
    assert coverage["rows"] == [["小学", 1, 0], ["初中", 0, 1]] and "1 / 2 所" in coverage["note"]
    items = bureau.get("/bureau/dashboard/items.json").get_json()
    worst = {row[0]: row[1:] for row in items["rows"]}
    assert [row[1] for row in items["rows"][:2]] == [0.0, 0.0]  # the two failed items come first
    assert all(v[0] == 100.0 for title, v in worst.items() if v[2] == 0)
    checklists = bureau.get("/bureau/dashboard/checklists.json").get_json()
    assert all(0 < row[1] <= 100 for row in checklists["rows"]) and any(row[1] < 100 for row in checklists["rows"])
    # The page holds the same numbers as tables (the accessible version of each chart).
    page = bureau.get("/bureau/").get_data(as_text=True)
    assert 'src="/static/echarts-6.1.0.min.js"' in page and 'id="chart-coverage"' in page
    assert '<th scope="row">小学</th><td class="num">1</td><td class="num">0</td>' in page
    # Charts load only on this page.
    assert "echarts" not in bureau.get("/bureau/visits").get_data(as_text=True)


def test_open_and_overdue_tasks_week_by_week(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    failing, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}, CLASS_SIZE: {"number": 50}})
    bureau.post(f"/bureau/visits/{failing}/review", data={"decision": "accept"})
    term = world.term
    alarm, size = (
        db.session.scalar(select(RectificationTask).where(RectificationTask.item_id == i)) for i in (ALARM, CLASS_SIZE)
    )
    # Opened in the term's first week (China time), due a week later; one closed in week 3.
    opened = datetime.combine(term.starts_on + timedelta(days=2), datetime.min.time()) + timedelta(hours=2)
    for task in (alarm, size):
        task.opened_at = opened
        task.deadline = term.starts_on + timedelta(days=9)
    size.state, size.closed_at = "closed", opened + timedelta(days=14)
    db.session.commit()
    figure = dashboard.rectification(world.county, term, today=term.starts_on + timedelta(days=34))
    rows = {row[0]: row[1:] for row in figure["rows"]}
    week = lambda n: (term.starts_on + timedelta(days=6 + 7 * n)).isoformat()  # noqa: E731
    assert rows[week(0)] == [2, 0]  # both open, not yet due
    assert rows[week(1)] == [2, 2]  # day 13: both past the deadline (day 9)
    assert rows[week(2)] == [1, 1]  # day 20: one closed on day 16
    assert list(rows)[-1] == (term.starts_on + timedelta(days=34)).isoformat()
    json = bureau.get(f"/bureau/dashboard/rectification.json?term={term.id}").get_json()
    assert json["columns"] == ["日期", "未销号", "逾期"] and json["rows"][0][0] == week(0)
    assert today_in_china() >= term.starts_on


def test_a_schools_results_over_terms(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, _, items = record_visit(phone, world.school, {ALARM: {"answer": "no"}, CLASS_SIZE: {"number": 50}})
    bureau.post(f"/bureau/visits/{visit_id}/review", data={"decision": "accept"})
    figure = phone.get(f"/bureau/dashboard/school/{world.school.id}.json").get_json()
    judged = db.session.scalar(
        select(func.count()).where(ItemResult.visit_id == visit_id, ItemResult.outcome.in_(("pass", "fail")))
    )
    assert figure["rows"] == [[world.term.name, round(100 * (judged - 2) / judged, 1), 1, 2]]
    page = phone.get(f"/schools/{world.school.id}").get_data(as_text=True)
    assert (
        'id="chart-school"' in page
        and "echarts-6.1.0.min.js" in page
        and f'<th scope="row">{world.term.name}</th>' in page
    )
    # No results, no chart (and no chart library).
    assert "echarts" not in phone.get(f"/schools/{world.junior.id}").get_data(as_text=True)
