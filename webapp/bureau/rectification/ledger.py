"""The rectification ledger (整改台账): tasks with filters, overdue first, and counts by school, item and age."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, case, or_, select

from ...auth.models import User
from ...auth.policy import visible_schools
from ...core.models import School
from ...extensions import db
from ...tables import Sort, like
from ...timeutil import today_in_china
from .models import RectificationTask

#: Filters on state; 未销号 is the default view.
STATE_FILTERS: dict[str, str] = {
    "unclosed": "未销号",
    "overdue": "已逾期",
    "open": "整改中",
    "requested": "待销号",
    "closed": "已销号",
    "all": "全部",
}
#: Age buckets (days since the task was opened) for unclosed tasks.
AGE_BUCKETS: list[tuple[str, int, int | None]] = [
    ("7天内", 0, 7),
    ("8–30天", 8, 30),
    ("31–90天", 31, 90),
    ("90天以上", 91, None),
]
LIMIT = 500
PER_PAGE = 50
#: Sortable columns of the desktop table; ``due`` (the default) is overdue first, then by deadline.
SORTS = ("due", "school", "item", "opened", "state")


@dataclass(frozen=True)
class LedgerFilters:
    """Which tasks to list: county (None for an inspector's schools), state, school and item."""

    county_id: int | None
    state: str = "unclosed"
    school_id: int | None = None
    item_id: str = ""
    q: str = ""
    sort: Sort = Sort("due", False)

    def as_args(self) -> dict[str, Any]:
        """The filters as query arguments (for sort links, paging and exports)."""
        args: dict[str, Any] = {"state": self.state}
        if self.school_id:
            args["school"] = self.school_id
        if self.item_id:
            args["item"] = self.item_id
        if self.q:
            args["q"] = self.q
        if self.sort.arg != "due":
            args["sort"] = self.sort.arg
        return args


def scoped(user: User, county_id: int | None) -> Select[tuple[RectificationTask]]:
    """Tasks the user may see: the county's for the bureau, the assigned schools' for an inspector."""
    query = select(RectificationTask)
    if user.role in ("reviewer", "admin"):
        return query.where(RectificationTask.county_id == county_id)
    schools = visible_schools(user).with_only_columns(School.id).order_by(None)
    return query.where(RectificationTask.school_id.in_(schools))


def tasks(
    user: User, filters: LedgerFilters, today: date | None = None, *, limit: int = LIMIT, offset: int = 0
) -> list[RectificationTask]:
    """The ledger rows: overdue first, then by deadline (or by the column asked for)."""
    today = today or today_in_china()
    query = scoped(user, filters.county_id)
    state = filters.state
    if state == "unclosed":
        query = query.where(RectificationTask.state != "closed")
    elif state == "overdue":
        query = query.where(RectificationTask.state != "closed", RectificationTask.deadline < today)
    elif state in ("open", "requested", "closed"):
        query = query.where(RectificationTask.state == state)
    if filters.school_id:
        query = query.where(RectificationTask.school_id == filters.school_id)
    if filters.item_id:
        query = query.where(RectificationTask.item_id == filters.item_id)
    if filters.q:
        pattern = like(filters.q)
        schools = select(School.id).where(School.name.like(pattern, escape="\\"))
        query = query.where(
            or_(
                RectificationTask.school_id.in_(schools),
                RectificationTask.item_title.like(pattern, escape="\\"),
                RectificationTask.responsible_person.like(pattern, escape="\\"),
                RectificationTask.problem.like(pattern, escape="\\"),
            )
        )
    overdue_first = case(((RectificationTask.state != "closed") & (RectificationTask.deadline < today), 0), else_=1)
    key = filters.sort.key
    if key == "due":
        order = [overdue_first, RectificationTask.deadline]
    else:
        if key == "school":
            names = select(School.name).where(School.id == RectificationTask.school_id).scalar_subquery()
            column: Any = names
        else:
            column = {
                "item": RectificationTask.item_title,
                "opened": RectificationTask.opened_at,
                "state": RectificationTask.state,
            }[key]
        order = [column.desc() if filters.sort.descending else column.asc(), RectificationTask.deadline]
    query = query.order_by(*order, RectificationTask.id).offset(offset).limit(limit)
    return list(db.session.scalars(query))


def age_bucket(days: int) -> str:
    """The bucket a task of this age falls in."""
    for name, low, high in AGE_BUCKETS:
        if days >= low and (high is None or days <= high):
            return name
    return AGE_BUCKETS[-1][0]


@dataclass
class LedgerCounts:
    """Unclosed and overdue tasks by school, by item, and by age."""

    unclosed: int
    overdue: int
    by_school: list[tuple[str, int, int]]
    by_item: list[tuple[str, int, int]]
    by_age: list[tuple[str, int, int]]


def counts(user: User, county_id: int | None, today: date | None = None) -> LedgerCounts:
    """Counts of unclosed tasks (and how many of them are overdue) three ways."""
    today = today or today_in_china()
    query = scoped(user, county_id).where(RectificationTask.state != "closed")
    rows = list(db.session.scalars(query))
    school_ids = {t.school_id for t in rows}
    names = dict(db.session.execute(select(School.id, School.name).where(School.id.in_(school_ids))).all())
    totals: dict[str, Counter[str]] = {"school": Counter(), "item": Counter(), "age": Counter()}
    late: dict[str, Counter[str]] = {"school": Counter(), "item": Counter(), "age": Counter()}
    for task in rows:
        keys = {
            "school": names.get(task.school_id, str(task.school_id)),
            "item": task.item_title,
            "age": age_bucket(task.days_open(today)),
        }
        for way, key in keys.items():
            totals[way][key] += 1
            if task.is_overdue(today):
                late[way][key] += 1

    def listed(way: str) -> list[tuple[str, int, int]]:
        return [(key, n, late[way][key]) for key, n in totals[way].most_common()]

    ages = [(name, totals["age"][name], late["age"][name]) for name, _, _ in AGE_BUCKETS]
    return LedgerCounts(
        unclosed=len(rows),
        overdue=sum(1 for t in rows if t.is_overdue(today)),
        by_school=listed("school"),
        by_item=listed("item"),
        by_age=ages,
    )
