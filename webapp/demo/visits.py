"""Demo planned visits, so an inspector's phone has the day's work to download."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import exists, select

from ..auth.models import User
from ..core.models import Assignment
from ..errors import AppError
from ..extensions import db
from ..visits.models import Visit
from ..visits.operations import plan_visit

# Routine visits to the first two assigned schools, and a safety visit to the third.
PLAN = (("routine", 0, 1), ("routine", 1, 3), ("safety", 2, 7))


def _plan_first_fitting(inspector: User, school_ids: list[int], start: int, day: date, visit_type: str) -> bool:
    """Plan at the ``start``-th school, or the next one the pack has a checklist for (西吉: no kindergartens)."""
    for school_id in school_ids[start:]:
        try:
            with db.session.begin_nested():
                plan_visit(inspector, school_id, day, visit_type)
        except AppError as exc:
            if exc.code != "checklist_not_applicable":
                raise
            continue
        return True
    return False


def plan_demo_visits(today: date) -> int:
    """Plan a few visits for every inspector who has none yet; return how many were planned."""
    planned = 0
    inspectors = db.session.scalars(select(User).where(User.role == "inspector").order_by(User.id))
    for inspector in inspectors:
        if db.session.scalar(select(exists().where(Visit.inspector_id == inspector.id))):
            continue
        school_ids = db.session.scalars(
            select(Assignment.school_id)
            .where(Assignment.user_id == inspector.id, Assignment.kind == "inspector")
            .order_by(Assignment.school_id)
        ).all()
        for visit_type, index, days_ahead in PLAN:
            if _plan_first_fitting(inspector, list(school_ids), index, today + timedelta(days=days_ahead), visit_type):
                planned += 1
    return planned
