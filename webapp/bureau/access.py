"""Who may see and act on the bureau's records: reviewers their county, admins all, inspectors their schools."""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import select

from ..auth.models import User
from ..auth.policy import can_view_school
from ..core.models import County, Term
from ..extensions import db
from ..timeutil import today_in_china
from ..visits.models import Visit
from .rectification.models import RectificationTask

BUREAU_ROLES = ("reviewer", "admin")
#: Who may record what a school did about a task (the school's inspector on its behalf, or the bureau).
TASK_REPORTERS = ("inspector", "reviewer", "admin")


def counties_for(user: User) -> list[County]:
    """The counties whose records ``user`` may see (admins: all)."""
    query = select(County).order_by(County.id)
    if user.role != "admin":
        query = query.where(County.id == user.county_id)
    return list(db.session.scalars(query))


def county_for(user: User, county_id: int | None) -> County:
    """The county a bureau page shows: the reviewer's own; for an admin the one asked for, else the first."""
    counties = counties_for(user)
    if not counties:
        abort(404)
    if user.role == "admin" and county_id:
        chosen = next((c for c in counties if c.id == county_id), None)
        if chosen is None:
            abort(404)
        return chosen
    return counties[0]


def terms_of(county: County) -> list[Term]:
    """The county's terms, newest first."""
    return list(db.session.scalars(select(Term).where(Term.county_id == county.id).order_by(Term.starts_on.desc())))


def term_for(county: County, term_id: int | None) -> Term | None:
    """The term asked for (of this county), else the one containing today, else the latest."""
    terms = terms_of(county)
    if term_id:
        chosen = next((t for t in terms if t.id == term_id), None)
        if chosen is None:
            abort(404)
        return chosen
    today = today_in_china()
    return next((t for t in terms if t.contains(today)), terms[0] if terms else None)


def visit_for_bureau(user: User, visit_id: str, *, lock: bool = False) -> Visit:
    """A visit of the reviewer's county (any for an admin); 404 otherwise, so ids elsewhere are not revealed."""
    query = select(Visit).where(Visit.id == str(visit_id)[:36])
    if lock:
        query = query.with_for_update()
    visit = db.session.scalar(query)
    if visit is None or (user.role != "admin" and visit.county_id != user.county_id):
        abort(404)
    return visit


def can_see_task(user: User, task: RectificationTask) -> bool:
    """Reviewers see their county's tasks, admins all, inspectors those of schools assigned to them,
    a 学校 account its own school's."""
    if user.role == "admin":
        return True
    if user.role == "school":
        return user.school_id is not None and task.school_id == user.school_id
    if user.role == "reviewer":
        return task.county_id == user.county_id
    if user.role == "inspector":
        return can_view_school(user, task.school)
    return False


def task_for(user: User, task_id: int, *, lock: bool = False) -> RectificationTask:
    """A task the user may see; 404 if absent or hidden."""
    query = select(RectificationTask).where(RectificationTask.id == task_id)
    if lock:
        query = query.with_for_update()
    task = db.session.scalar(query) if 0 < task_id < 2**31 else None
    if task is None or not can_see_task(user, task):
        abort(404)
    return task


def can_manage_task(user: User, task: RectificationTask) -> bool:
    """Only the bureau closes, reopens or changes a task's deadline."""
    return user.role in BUREAU_ROLES and can_see_task(user, task)


def int_arg(args: Any, name: str) -> int | None:
    """A positive 32-bit integer query argument, or None when absent or malformed."""
    value = args.get(name, type=int)
    return value if value is not None and 0 < value < 2**31 else None
