"""What the inspector's phone gets from the bureau: the review of a returned visit, the school's open tasks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ...extensions import db
from ...timeutil import today_in_china
from ...visits.models import Visit
from ...visits.operations import iso
from ..rectification.models import RectificationTask
from .operations import latest_review


def review_for_phone(visit: Visit) -> dict[str, Any] | None:
    """The bureau's last decision on the visit, with per-item comments (None before any review)."""
    review = latest_review(visit)
    if review is None:
        return None
    return {
        "id": review.id,
        "decision": review.decision,
        "decision_label": review.decision_label,
        "comment": review.comment,
        "review_round": review.review_round,
        "reviewer": review.reviewer.display_name,
        "created_at": iso(review.created_at),
        "item_comments": {c.item_id: c.comment for c in review.comments},
    }


def open_tasks_for_phone(school_id: int) -> list[dict[str, Any]]:
    """The school's rectification tasks not yet closed, for the inspector to re-check on site."""
    today = today_in_china()
    tasks = db.session.scalars(
        select(RectificationTask)
        .where(RectificationTask.school_id == school_id, RectificationTask.state != "closed")
        .order_by(RectificationTask.deadline, RectificationTask.id)
    )
    return [
        {
            "id": task.id,
            "item_id": task.item_id,
            "item_title": task.item_title,
            "problem": task.problem,
            "deadline": task.deadline.isoformat(),
            "responsible_person": task.responsible_person,
            "state": task.state,
            "state_label": task.state_label,
            "is_overdue": task.is_overdue(today),
            "opened_on": task.opened_at.date().isoformat(),
        }
        for task in tasks
    ]
