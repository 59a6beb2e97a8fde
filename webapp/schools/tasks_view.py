"""A school's rectification tasks as the phone shows them: what is wrong, who said so, and what happened since."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..bureau.rectification.models import RectificationTask, TaskUpdate
from ..bureau.review.evidence import photo_urls
from ..bureau.review.models import Review, ReviewComment
from ..core.models import School
from ..extensions import db
from ..timeutil import today_in_china
from ..visits.models import ItemResult, Photo
from ..visits.operations import iso

#: At most this many tasks go to the phone (unclosed ones first).
MAX_TASKS = 100


def _urls(photo: Any) -> dict[str, str]:
    thumb, full = photo_urls(photo.thumb_key, photo.public_key)
    return {"id": photo.id, "thumb": thumb, "full": full, "caption": photo.caption}


def _update(update: TaskUpdate) -> dict[str, Any]:
    return {
        "id": update.id,
        "client_id": update.client_id,
        "kind": update.kind,
        "kind_label": update.kind_label,
        "note": update.note,
        "author": update.author.display_name if update.author else "",
        "at": iso(update.created_at),
        "photos": [_urls(p) for p in update.photos],
    }


def _findings(task: RectificationTask) -> dict[str, Any]:
    """The inspector's observation and photos of the item, and the reviewer's comment on it."""
    result = db.session.scalar(
        select(ItemResult).where(ItemResult.visit_id == task.visit_id, ItemResult.item_id == task.item_id)
    )
    photos = db.session.scalars(
        select(Photo)
        .where(Photo.visit_id == task.visit_id, Photo.item_id == task.item_id, Photo.deleted_at.is_(None))
        .order_by(Photo.created_at)
    ).all()
    comment = db.session.scalar(
        select(ReviewComment.comment)
        .join(Review)
        .where(Review.visit_id == task.visit_id, ReviewComment.item_id == task.item_id)
        .order_by(Review.id.desc())
        .limit(1)
    )
    return {
        "observation": result.observation if result else "",
        "inspector": task.visit.inspector.display_name if task.visit.inspector else "",
        "visited_on": task.visit.visited_on.isoformat(),
        "inspector_photos": [_urls(p) for p in photos],
        "reviewer_comment": comment or "",
    }


def task_as_dict(task: RectificationTask) -> dict[str, Any]:
    """One task with its findings and history, for the school's phone."""
    today = today_in_china()
    return {
        "id": task.id,
        "item_id": task.item_id,
        "item_title": task.item_title,
        "problem": task.problem,
        "deadline": task.deadline.isoformat(),
        "days_left": (task.deadline - today).days,
        "overdue": task.is_overdue(today),
        "state": task.state,
        "state_label": task.state_label,
        "responsible_person": task.responsible_person,
        **_findings(task),
        "updates": [_update(u) for u in task.updates],
    }


def school_tasks(school: School) -> list[RectificationTask]:
    """The school's tasks: unclosed first (nearest deadline first), then the latest closed."""
    rows = db.session.scalars(
        select(RectificationTask)
        .where(RectificationTask.school_id == school.id)
        .order_by((RectificationTask.state == "closed"), RectificationTask.deadline, RectificationTask.id)
        .limit(MAX_TASKS)
    ).all()
    return list(rows)
