"""What the pages show: bureau table rows, their order, a 教研员's records, photo links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from checklists.quotas import Standing

from ..auth.models import User
from ..core.models import Assignment, School
from ..extensions import db
from ..visits.photos import URL_SECONDS, storage
from .models import Activity
from .progress import QuotaContext, standings_for


@dataclass(frozen=True)
class BureauRow:
    """One 教研员 in the bureau table."""

    researcher: User
    subject: str
    standings: list[Standing]
    school_count: int

    @property
    def shortfall(self) -> int:
        """Everything still missing across the quotas."""
        return sum(item.remaining for item in self.standings)

    @property
    def apart(self) -> int:
        """Records of counted kinds that do not count (other schools)."""
        return sum(item.apart for item in self.standings)


def _school_counts(context: QuotaContext, researcher_ids: Sequence[int]) -> dict[int, int]:
    span = context.term_span
    if span is None or not researcher_ids:
        return {}
    rows = db.session.execute(
        select(Assignment.user_id, func.count(func.distinct(Assignment.school_id)))
        .join(School, School.id == Assignment.school_id)
        .where(
            Assignment.user_id.in_(list(researcher_ids)),
            Assignment.kind == "researcher",
            School.county_id == context.county.id,
            Assignment.starts_on <= span.end,
            or_(Assignment.ends_on.is_(None), Assignment.ends_on >= span.start),
        )
        .group_by(Assignment.user_id)
    )
    return {user_id: count for user_id, count in rows}


def bureau_rows(context: QuotaContext, researchers: Sequence[tuple[User, str]]) -> list[BureauRow]:
    """A row per 教研员: standings from one aggregate query, school counts from another."""
    ids = [user.id for user, _ in researchers]
    standings = standings_for(context, ids)
    schools = _school_counts(context, ids)
    return [BureauRow(user, subject, standings[user.id], schools.get(user.id, 0)) for user, subject in researchers]


def sort_rows(rows: list[BureauRow], sort: str) -> list[BureauRow]:
    """Order: ``shortfall`` (largest first, default), ``name``, or ``q<n>`` (shortfall on quota n)."""
    if sort == "name":
        return sorted(rows, key=lambda r: (r.researcher.display_name, r.researcher.id))
    if sort.startswith("q") and sort[1:].isdigit():
        index = int(sort[1:])
        if rows and index < len(rows[0].standings):
            return sorted(
                rows, key=lambda r: (-r.standings[index].remaining, r.standings[index].done, r.researcher.display_name)
            )
    return sorted(rows, key=lambda r: (-r.shortfall, r.researcher.display_name, r.researcher.id))


def records_of(context: QuotaContext, user: User, kind: str = "") -> list[Activity]:
    """The 教研员's live records in the term, newest first (optionally one kind)."""
    span = context.term_span
    if span is None:
        return []
    query = (
        select(Activity)
        .where(
            Activity.researcher_id == user.id,
            Activity.deleted_at.is_(None),
            Activity.occurred_on.between(span.start, span.end),
        )
        .order_by(Activity.occurred_on.desc(), Activity.created_at.desc())
    )
    if kind:
        query = query.where(Activity.kind == kind)
    return list(db.session.scalars(query))


def photo_urls(activity: Activity) -> list[dict[str, Any]]:
    """Short-lived links to a record's photos (thumbnail and the copy without GPS)."""
    target = storage()
    return [
        {
            "caption": photo.caption,
            "thumb": target.url(photo.thumb_key, URL_SECONDS),
            "full": target.url(photo.public_key, URL_SECONDS),
        }
        for photo in activity.photos
        if photo.deleted_at is None
    ]
