"""A county with terms around today, schools, 教研员 and teachers, for the lesson log tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from webapp.auth.models import User
from webapp.core.models import Assignment, County, School, Term
from webapp.extensions import db
from webapp.lessons.models import Teacher
from webapp.timeutil import today_in_china


@dataclass
class LessonWorld:
    county: County
    past: Term
    current: Term
    rural: School
    town: School
    urban: School
    unassigned: School
    foreign: School
    researcher: User
    other: User
    reviewer: User
    teacher: Teacher
    today: date


def make_world(factory: Any, policy_set: str = "helan") -> LessonWorld:
    """贺兰 rules by default: 15 lessons and 2 guidance a term at assigned rural schools."""
    today = today_in_china()
    county = factory.county("贺兰县", policy_set)
    other_county = factory.county("外县", "xiji")
    past = Term(
        county_id=county.id,
        name="上学期",
        school_year="2025-2026",
        starts_on=today - timedelta(days=200),
        ends_on=today - timedelta(days=100),
    )
    current = Term(
        county_id=county.id,
        name="本学期",
        school_year="2026-2027",
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=60),
    )
    db.session.add_all([past, current])
    db.session.commit()
    rural = factory.school(county, name="村小", location="village", group_name="一集团")
    town = factory.school(county, name="镇中心小学", location="town", group_name="二集团")
    urban = factory.school(county, name="城区小学", location="urban", group_name="一集团")
    unassigned = factory.school(county, name="别人的村小", location="village", group_name="二集团")
    foreign = factory.school(other_county, name="外县小学", location="village")
    researcher = factory.user("researcher", county, (rural, town, urban))
    other = factory.user("researcher", county, (unassigned,))
    reviewer = factory.user("reviewer", county)
    researcher.display_name, other.display_name = "张老师", "刘老师"
    teacher = Teacher(school_id=rural.id, name="马晓梅", subject="math")
    db.session.add_all([teacher, Teacher(school_id=rural.id, name="李志强", subject="chinese")])
    db.session.commit()
    return LessonWorld(
        county, past, current, rural, town, urban, unassigned, foreign, researcher, other, reviewer, teacher, today
    )


def edit_time(day: date | None = None) -> str:
    """An ISO edit time: now, or noon China time on ``day``."""
    if day is None:
        return datetime.now(UTC).isoformat()
    return datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC).isoformat()


def lesson(school: School, day: date, **fields: Any) -> dict[str, Any]:
    """A valid 听评课 write."""
    body = {
        "write_id": str(uuid.uuid4()),
        "edited_at": edit_time(),
        "device_id": "phone-1",
        "kind": "lesson",
        "form": "observe",
        "occurred_on": day.isoformat(),
        "school_id": school.id,
        "grade": "g3",
        "class_name": "2班",
        "subject": "math",
        "teacher_name": "王老师",
        "topic": "分数的初步认识",
        "scores": {"goals": 4, "process": 5},
        "strengths": "目标清晰",
        "suggestions": "多留展示时间",
    }
    body.update(fields)
    return body


def guidance(school: School | None, day: date, **fields: Any) -> dict[str, Any]:
    """A valid 教研指导 write."""
    body = {
        "write_id": str(uuid.uuid4()),
        "edited_at": edit_time(),
        "kind": "guidance",
        "form": "collective_prep",
        "occurred_on": day.isoformat(),
        "school_id": school.id if school else None,
        "topic": "单元整体教学集体备课",
        "participants": 12,
    }
    body.update(fields)
    return body


def assign(user: User, school: School, starts_on: date, ends_on: date | None = None) -> None:
    """Assign ``school`` to the 教研员 from ``starts_on``."""
    db.session.add(
        Assignment(user_id=user.id, school_id=school.id, kind="researcher", starts_on=starts_on, ends_on=ends_on)
    )
    db.session.commit()
