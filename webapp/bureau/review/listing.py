"""The county's visits, filtered, newest first, a page at a time (keyset: fast on any page)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, or_, select

from ...auth.models import User
from ...core.models import County, School, Term
from ...extensions import db
from ...packs.models import ChecklistVersion
from ...tables import Sort, like, page_from, search_from, sort_from
from ...visits.models import VISIT_STATES, Visit
from ..access import int_arg, term_for

PER_PAGE = 25
#: Sortable columns of the desktop table; the default (newest first) pages by keyset, the others by offset.
SORTS = ("date", "school", "inspector", "state", "failed")
DEFAULT_SORT = "-date"
#: States the bureau can filter on (planned visits are the inspectors' own business).
LISTED_STATES = {k: v for k, v in VISIT_STATES.items() if k != "planned"}


@dataclass(frozen=True)
class VisitFilters:
    """What the list is narrowed to; ``after`` is the keyset cursor ``(visited_on, id)`` of the last row shown."""

    county_id: int
    term: Term | None = None
    school_id: int | None = None
    inspector_id: int | None = None
    state: str = ""
    failed_only: bool = False
    after: tuple[date, str] | None = None
    q: str = ""
    sort: Sort = Sort("date", True)
    page: int = 1

    @property
    def keyset(self) -> bool:
        """The default order (newest first) pages by keyset cursor; other orders by page number."""
        return self.sort.arg == DEFAULT_SORT

    def as_args(self) -> dict[str, Any]:
        """The filters as query arguments (for links and exports)."""
        # An empty term means "every term" (no term argument means the current one).
        args: dict[str, Any] = {"term": self.term.id if self.term else ""}
        for name in ("school_id", "inspector_id"):
            if getattr(self, name):
                args[name.removesuffix("_id")] = getattr(self, name)
        if self.state:
            args["state"] = self.state
        if self.failed_only:
            args["failed"] = 1
        if self.q:
            args["q"] = self.q
        if self.sort.arg != DEFAULT_SORT:
            args["sort"] = self.sort.arg
        return args


@dataclass
class VisitRow:
    """One line of the list."""

    visit: Visit
    school_name: str
    inspector_name: str
    failed_count: int
    #: The visit's checklist came from a draft pack (征求意见稿).
    draft: bool = False
    #: Items of its checklist whose documents had expired on the visit's day (文件已到期).
    expired: int = 0


@dataclass
class VisitPage:
    """A page of rows, the cursor of the next page (if any) and the number of matching visits."""

    rows: list[VisitRow]
    next_after: str | None
    total: int
    state_counts: dict[str, int] = field(default_factory=dict)
    page: int = 1
    has_next: bool = False


def filtered(filters: VisitFilters) -> Select[tuple[Visit]]:
    """Visits matching the filters (no order, no page)."""
    query = select(Visit).where(Visit.county_id == filters.county_id, Visit.state != "planned")
    if filters.term is not None:
        query = query.where(Visit.visited_on.between(filters.term.starts_on, filters.term.ends_on))
    if filters.school_id:
        query = query.where(Visit.school_id == filters.school_id)
    if filters.inspector_id:
        query = query.where(Visit.inspector_id == filters.inspector_id)
    if filters.state:
        query = query.where(Visit.state == filters.state)
    if filters.failed_only:
        query = query.where(Visit.failed_count > 0)
    if filters.q:
        pattern = like(filters.q)
        school_ids = select(School.id).where(
            School.county_id == filters.county_id, School.name.like(pattern, escape="\\")
        )
        inspector_ids = select(User.id).where(User.display_name.like(pattern, escape="\\"))
        query = query.where(or_(Visit.school_id.in_(school_ids), Visit.inspector_id.in_(inspector_ids)))
    return query


def visits_page(filters: VisitFilters, per_page: int = PER_PAGE) -> VisitPage:
    """One page of the list: newest visit day first by keyset, or sorted by a column a page number at a time."""
    query = filtered(filters).add_columns(School.name, User.display_name, Visit.failed_count)
    query = query.join(School, School.id == Visit.school_id).join(User, User.id == Visit.inspector_id)
    if filters.keyset:
        if filters.after:
            day, visit_id = filters.after
            query = query.where(or_(Visit.visited_on < day, and_(Visit.visited_on == day, Visit.id < visit_id)))
        query = query.order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(per_page + 1)
    else:
        column = {
            "date": Visit.visited_on,
            "school": School.name,
            "inspector": User.display_name,
            "state": Visit.state,
            "failed": Visit.failed_count,
        }[filters.sort.key]
        ordered = column.desc() if filters.sort.descending else column.asc()
        query = query.order_by(ordered, Visit.visited_on.desc(), Visit.id.desc())
        query = query.offset((filters.page - 1) * per_page).limit(per_page + 1)
    rows = [VisitRow(v, school, inspector, n or 0) for v, school, inspector, n in db.session.execute(query)]
    notes = version_notes({row.visit.checklist_version_id for row in rows})
    for row in rows:
        note = notes.get(row.visit.checklist_version_id)
        if note is not None:
            row.draft, row.expired = note.draft, note.expired
    next_after = None
    has_next = len(rows) > per_page
    if has_next:
        rows = rows[:per_page]
        last = rows[-1].visit
        next_after = f"{last.visited_on.isoformat()}_{last.id}" if filters.keyset else None
    return VisitPage(rows=rows, next_after=next_after, total=count(filters), page=filters.page, has_next=has_next)


@dataclass(frozen=True)
class VersionNote:
    """What the list says about a visit's checklist: from a draft pack, how many items of expired documents."""

    draft: bool
    expired: int


def version_notes(version_ids: set[str]) -> dict[str, VersionNote]:
    """Notes on these checklist versions (a page of the list holds only a few distinct ones)."""
    if not version_ids:
        return {}
    query = select(ChecklistVersion.id, ChecklistVersion.content).where(ChecklistVersion.id.in_(version_ids))
    notes = {}
    for version_id, content in db.session.execute(query):
        items = [i for section in content.get("sections", []) for i in section["items"]]
        notes[version_id] = VersionNote(
            draft=content.get("pack", {}).get("status") == "draft",
            expired=sum(1 for i in items if i.get("status") == "expired"),
        )
    return notes


def draft_versions(version_ids: set[str]) -> set[str]:
    """Which of these checklist versions were composed from a draft pack."""
    return {vid for vid, note in version_notes(version_ids).items() if note.draft}


def count(filters: VisitFilters) -> int:
    """How many visits match."""
    return db.session.scalar(filtered(filters).with_only_columns(func.count()).order_by(None)) or 0


def state_counts(filters: VisitFilters) -> dict[str, int]:
    """Matching visits per state, ignoring the state filter (for the chips above the list)."""
    base = VisitFilters(**{**filters.__dict__, "state": "", "after": None})
    query = filtered(base).with_only_columns(Visit.state, func.count()).group_by(Visit.state)
    return dict(db.session.execute(query).all())


def filters_from_args(args: Any, county: County) -> VisitFilters:
    """The list's filters from query arguments (no ``term`` argument: the current term; empty: every term)."""
    term_id = int_arg(args, "term")
    state = args.get("state", "")
    return VisitFilters(
        county_id=county.id,
        term=term_for(county, term_id) if term_id or args.get("term") is None else None,
        school_id=int_arg(args, "school"),
        inspector_id=int_arg(args, "inspector"),
        state=state if state in LISTED_STATES else "",
        failed_only=args.get("failed") == "1",
        after=parse_cursor(args.get("after")),
        q=search_from(args),
        sort=sort_from(args, SORTS, DEFAULT_SORT),
        page=page_from(args),
    )


def parse_cursor(value: str | None) -> tuple[date, str] | None:
    """``2026-11-20_<uuid>`` → ``(date, id)``; anything else is no cursor."""
    if not value or "_" not in value:
        return None
    day, _, visit_id = value.partition("_")
    try:
        return date.fromisoformat(day), visit_id[:36]
    except ValueError:
        return None


def inspectors_of(county_id: int) -> list[User]:
    """Inspectors of the county, for the filter."""
    query = select(User).where(User.county_id == county_id, User.role == "inspector").order_by(User.display_name)
    return list(db.session.scalars(query))


def schools_of(county_id: int) -> list[School]:
    """Schools of the county, for the filter."""
    return list(db.session.scalars(select(School).where(School.county_id == county_id).order_by(School.code)))
