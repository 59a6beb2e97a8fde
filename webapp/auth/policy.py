"""Who may see what: role checks and school visibility.

Every route goes through ``roles_required`` (or ``login_required`` for pages
every role may see) and school routes also through ``school_or_403``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, bindparam, select

from ..core.models import Assignment, School
from ..extensions import db
from ..timeutil import today_in_china
from .models import User

F = TypeVar("F", bound=Callable[..., Any])


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow only signed-in users with one of ``roles``; others get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def visible_schools(user: User) -> Select[tuple[School]]:
    """A query of the schools ``user`` may open.

    Admins see every school, reviewers their county's, inspectors and
    教研员 the schools currently assigned to them, a 学校 account its own.
    """
    query = select(School).order_by(School.county_id, School.code)
    if user.role == "admin":
        return query
    if user.role == "school":
        return query.where(School.id == user.school_id)
    if user.role == "reviewer":
        return query.where(School.county_id == user.county_id)
    today = today_in_china()
    assigned = (
        select(Assignment.school_id)
        .where(Assignment.user_id == user.id, Assignment.kind == user.role, Assignment.starts_on <= today)
        .where((Assignment.ends_on.is_(None)) | (Assignment.ends_on >= today))
    )
    return query.where(School.id.in_(assigned))


#: :func:`visible_schools` for one school and an assigned role, built once: every visit-sync asks it, and
#: building the query costs more than running it.
_ASSIGNED_SCHOOL = select(School).where(
    School.id == bindparam("school_id"),
    School.id.in_(
        select(Assignment.school_id).where(
            Assignment.user_id == bindparam("user_id"),
            Assignment.kind == bindparam("kind"),
            Assignment.starts_on <= bindparam("today"),
            (Assignment.ends_on.is_(None)) | (Assignment.ends_on >= bindparam("today")),
        )
    ),
)


def visible_school(user: User, school_id: int) -> School | None:
    """The school if ``user`` may open it (same rule as :func:`visible_schools`), else None."""
    if user.role in ("inspector", "researcher"):
        params = {"school_id": school_id, "user_id": user.id, "kind": user.role, "today": today_in_china()}
        return db.session.scalar(_ASSIGNED_SCHOOL, params)
    return db.session.scalar(visible_schools(user).where(School.id == school_id))


def can_view_school(user: User, school: School) -> bool:
    """Tell whether ``user`` may open ``school``."""
    return visible_school(user, school.id) is not None


def school_or_403(school_id: int) -> School:
    """The school, if the current user may open it; 404 if absent, else 403."""
    # Ids beyond 32 bits do not exist (and overflow SQLite's driver).
    school = db.session.get(School, school_id) if 0 < school_id < 2**31 else None
    if school is None:
        abort(404)
    if not can_view_school(current_user, school):
        abort(403)
    return school
