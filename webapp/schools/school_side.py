"""What the bureau sees of the schools' side: how fast each task got a response, who is overdue
without any progress, and how far each school's self-report is."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from ..bureau.rectification.models import RectificationTask, TaskUpdate
from ..core.models import County, School
from ..extensions import db

#: Updates that count as the school responding.
RESPONSES = ("progress", "request")
LIMIT = 500


@dataclass
class TaskResponse:
    """One task and the school's first response to it."""

    task: RectificationTask
    school_name: str
    first_response: datetime | None

    @property
    def response_days(self) -> float | None:
        """Days from opening to the first progress entry (None: no response yet)."""
        if self.first_response is None:
            return None
        return round((self.first_response - self.task.opened_at).total_seconds() / 86400, 1)


@dataclass
class SilentSchool:
    """A school with overdue tasks on which it has recorded nothing."""

    school: School
    tasks: list[RectificationTask]


def task_responses(county: County) -> list[TaskResponse]:
    """The county's tasks (latest first) with the school's first response."""
    first = (
        select(TaskUpdate.task_id, func.min(TaskUpdate.created_at).label("at"))
        .where(TaskUpdate.kind.in_(RESPONSES))
        .group_by(TaskUpdate.task_id)
        .subquery()
    )
    rows = db.session.execute(
        select(RectificationTask, School.name, first.c.at)
        .join(School, School.id == RectificationTask.school_id)
        .outerjoin(first, first.c.task_id == RectificationTask.id)
        .where(RectificationTask.county_id == county.id)
        .order_by(RectificationTask.opened_at.desc())
        .limit(LIMIT)
    ).all()
    return [TaskResponse(task, name, at) for task, name, at in rows]


def median_days(responses: list[TaskResponse]) -> float | None:
    """The median response time in days over the tasks that got one."""
    days = [r.response_days for r in responses if r.response_days is not None]
    return round(statistics.median(days), 1) if days else None


def silent_schools(responses: list[TaskResponse], today: date) -> list[SilentSchool]:
    """Schools with overdue tasks and no progress on them, most such tasks first."""
    by_school: dict[int, SilentSchool] = {}
    for row in responses:
        if row.first_response is None and row.task.is_overdue(today):
            entry = by_school.setdefault(row.task.school_id, SilentSchool(row.task.school, []))
            entry.tasks.append(row.task)
    return sorted(by_school.values(), key=lambda s: (-len(s.tasks), s.school.code))
