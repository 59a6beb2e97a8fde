"""The compliance matrix: latest result per school and item, task states, totals both ways, evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from webapp.bureau.compliance.matrix import build_matrix
from webapp.bureau.rectification.models import RectificationTask
from webapp.extensions import db
from webapp.timeutil import today_in_china

from .bureau_support import ALARM, CLASS_SIZE, alarm_photo, make_world, record_visit


@pytest.fixture(name="world")
def world_fixture(factory):
    """The bureau tests' county, schools and people."""
    return make_world(factory)


@pytest.fixture
def landscape(app, world, factory):
    """A: failed the alarm (after passing it earlier), task open; B: class size over; C: kindergarten; D: no visit."""
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    kinder = factory.school(world.county, name="西吉县第六幼儿园", stage="kindergarten", location="urban")
    idle = factory.school(world.county, name="偏城乡涝池小学", stage="primary", location="village")
    earlier = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0) - timedelta(days=5)
    record_visit(phone, world.school, {CLASS_SIZE: {"number": 40}}, base=earlier)
    a_visit, _, _ = record_visit(
        phone, world.school, {ALARM: {"answer": "no"}, CLASS_SIZE: {"number": 44}}, {ALARM: alarm_photo()}
    )
    bureau.post(f"/bureau/visits/{a_visit}/review", data={"decision": "accept"})
    record_visit(phone, world.junior, {CLASS_SIZE: {"number": 52}})
    # Not counted: a visit still being recorded, and a visit of another term.
    record_visit(phone, world.junior, {ALARM: {"answer": "no"}}, submit=False)
    record_visit(phone, world.junior, {ALARM: {"answer": "no"}}, base=earlier - timedelta(days=150))
    return {"A": world.school, "B": world.junior, "C": kinder, "D": idle, "a_visit": a_visit}


def test_cells_follow_the_latest_counted_result_and_tasks(app, world, landscape):
    safety = build_matrix(world.county, world.term, "campus_safety")
    status = {name: safety.cell(landscape[name].id, ALARM).status for name in "ABCD"}
    # 西教体函发〔2022〕203号 addresses 义务教育阶段学校 only: nothing of it applies to the kindergarten C.
    assert status == {"A": "rectifying", "B": "pass", "C": "na", "D": "unchecked"}
    total = safety.item_totals[ALARM]
    assert (total.checked, total.compliant, total.failed, total.rectifying, total.unchecked) == (2, 1, 1, 1, 1)
    assert total.share == 0.5
    a = safety.school_totals[landscape["A"].id]
    assert a.failed == 1 and a.checked == len(
        [i for i in safety.items if safety.cell(landscape["A"].id, i.id).status != "na"]
    )

    conditions = build_matrix(world.county, world.term, "school_conditions")
    size = {name: conditions.cell(landscape[name].id, CLASS_SIZE) for name in "ABCD"}
    assert [size[n].status for n in "ABCD"] == ["pass", "fail", "na", "unchecked"]
    assert (size["A"].number, size["B"].number) == (44, 52)  # the later visit wins over the earlier 40
    totals = conditions.item_totals[CLASS_SIZE]
    assert totals.share == 0.5 and sorted(totals.numbers) == [44, 52] and totals.over_by == [2]
    assert "平均相差 2人" in totals.numeric_summary("人")

    # Past its deadline the task's cell says so (in words, not only colour).
    task = db.session.scalar(select(RectificationTask).where(RectificationTask.item_id == ALARM))
    assert not safety.cell(landscape["A"].id, ALARM).overdue
    task.deadline = today_in_china() - timedelta(days=1)
    db.session.commit()
    late = build_matrix(world.county, world.term, "campus_safety").cell(landscape["A"].id, ALARM)
    assert late.overdue and late.text == "△ 整改中 ⚠逾期"

    # Closing the task turns the failed cell into 已整改, counted as compliant.
    task.state = "closed"
    db.session.commit()
    again = build_matrix(world.county, world.term, "campus_safety")
    assert again.cell(landscape["A"].id, ALARM).status == "rectified"
    assert again.item_totals[ALARM].share == 1.0


def test_from_failing_schools_to_photo_evidence(app, world, landscape):
    bureau = world.client(app, "reviewer")
    page = bureau.get(f"/bureau/matrix?checklist=campus_safety&item={ALARM}&failing=1").get_data(as_text=True)
    assert "吉强镇中心小学" in page and "兴隆镇中学" not in page
    assert "达标率 <b>50%</b>" in page and "△ 整改中" in page
    cell = bureau.get(f"/bureau/matrix/cell?school={landscape['A'].id}&item={ALARM}", headers={"HX-Request": "true"})
    html = cell.get_data(as_text=True)
    assert cell.status_code == 200 and "<html" not in html
    assert "/media/photos/thumb/" in html and "整改任务" in html and landscape["a_visit"] in html
    # The legend reads without colour: every state has a symbol and a word.
    full = bureau.get("/bureau/matrix").get_data(as_text=True)
    for word in ("✓ 达标", "✗ 未达标", "△ 整改中", "○ 未检查", "— 不适用"):
        assert word in full
    assert bureau.get(f"/bureau/matrix/cell?school={world.foreign_school.id}&item={ALARM}").status_code == 404
    assert bureau.get("/bureau/matrix?checklist=nope").status_code == 404


def test_concepts_compare_across_counties(app, world, landscape):
    admin = world.client(app, "admin")
    page = admin.get("/bureau/compare?checklist=campus_safety").get_data(as_text=True)
    assert "safety.one_click_alarm" in page and "西吉县" in page and "50%" in page
    assert world.client(app, "reviewer").get("/bureau/compare").status_code == 403
