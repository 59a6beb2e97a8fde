"""Progress against the pack's quotas: records are counted in SQL (one aggregate
query for a whole county), and ``checklists.quotas`` judges the counts.

The counting rule is the one of :func:`checklists.quotas.tally`; a test runs
both over the same records and compares.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, text, true
from sqlalchemy.sql import Subquery
from sqlalchemy.sql.expression import Exists

from checklists.quotas import (
    Coverage,
    Posting,
    QuotaRule,
    Span,
    Standing,
    Tally,
    Window,
    coverage,
    current_term,
    is_in_force,
    rules_of,
    standing,
    window_for,
)

from ..auth.models import User
from ..core.models import Assignment, County, School, Term
from ..extensions import db
from ..packs.operations import county_settings, pack_or_none
from ..timeutil import today_in_china
from .models import Activity, ResearcherProfile, Teacher
from .operations import county_terms, term_dates


@dataclass
class QuotaContext:
    """The quotas of one county for one term, with their counting windows."""

    county: County
    term: Term | None
    terms: list[Term]
    today: date
    rules: list[tuple[QuotaRule, Window]] = field(default_factory=list)
    teacher_rules: list[tuple[QuotaRule, Window]] = field(default_factory=list)

    @property
    def term_span(self) -> Span | None:
        """The term's days."""
        return Span(self.term.starts_on, self.term.ends_on) if self.term else None

    @property
    def is_closed(self) -> bool:
        """The term has ended: its records are final."""
        return self.term is not None and self.term.ends_on < self.today

    @property
    def days_left(self) -> int:
        """Days left in the term, today included (0 once it ended)."""
        if self.term is None or self.today > self.term.ends_on:
            return 0
        start = max(self.today, self.term.starts_on)
        return (self.term.ends_on - start).days + 1


def quota_context(county: County, term: Term | None = None, today: date | None = None) -> QuotaContext:
    """Quotas of ``county`` for ``term`` (default: the current term) in force for its windows."""
    today = today or today_in_china()
    terms = county_terms(county.id)
    dates = [term_dates(t) for t in terms]
    if term is None and terms:
        found = current_term(dates, today)
        term = next(t for t in terms if found is not None and t.name == found.name)
    context = QuotaContext(county=county, term=term, terms=terms, today=today)
    if term is None:
        return context
    for rule in rules_of(pack_or_none(county.policy_set), county_settings(county)):
        window = window_for(rule, term_dates(term), dates)
        if not is_in_force(rule, window):
            continue
        (context.teacher_rules if rule.who == "teacher" else context.rules).append((rule, window))
    return context


# --- counting in SQL -------------------------------------------------------------


def assigned_on_day() -> Exists:
    """SQL: the record's school was assigned (包片) to its 教研员 on the record's day."""
    return exists().where(
        Assignment.user_id == Activity.researcher_id,
        Assignment.school_id == Activity.school_id,
        Assignment.kind == "researcher",
        Assignment.starts_on <= Activity.occurred_on,
        or_(Assignment.ends_on.is_(None), Assignment.ends_on >= Activity.occurred_on),
    )


def _facts(county_id: int, lo: date, hi: date, kinds: set[str], researcher_ids: Sequence[int] | None) -> Subquery:
    """Live records of the county in [lo, hi] with their school's profile and whether
    the school was the 教研员's (包片) on the record's day."""
    assigned = assigned_on_day()
    query = (
        select(
            Activity.researcher_id,
            Activity.kind,
            Activity.form,
            Activity.occurred_on,
            Activity.school_id,
            School.stage,
            School.location,
            School.is_boarding,
            assigned.label("is_assigned"),
        )
        .outerjoin(School, School.id == Activity.school_id)
        .where(
            Activity.county_id == county_id,
            Activity.deleted_at.is_(None),
            Activity.occurred_on.between(lo, hi),
            Activity.kind.in_(sorted(kinds)),
        )
    )
    if researcher_ids is not None:
        query = query.where(Activity.researcher_id.in_(list(researcher_ids)))
    return query.subquery("facts")


def _is_sort(rule: QuotaRule, window: Window, facts: Subquery) -> ColumnElement[bool]:
    conditions = [facts.c.kind.in_(rule.kinds), facts.c.occurred_on.between(window.span.start, window.span.end)]
    if rule.forms:
        conditions.append(facts.c.form.in_(rule.forms))
    return and_(*conditions)


def _counts_at_school(rule: QuotaRule, facts: Subquery) -> ColumnElement[bool]:
    """SQL for :func:`checklists.quotas.counts_at_school`."""
    conditions: list[ColumnElement[bool]] = []
    if rule.schools == "assigned":
        conditions.append(facts.c.is_assigned == true())
    if rule.is_school_restricted():
        conditions.append(facts.c.school_id.is_not(None))
    applies = rule.applies_to
    profile: list[ColumnElement[bool]] = []
    if applies.stages:
        # Scopes name sections (小学); schools have a type (九年一贯制 has 小学 too).
        profile.append(facts.c.stage.in_(applies.school_types))
    if applies.locations:
        profile.append(facts.c.location.in_(applies.locations))
    if applies.boarding_only:
        profile.append(facts.c.is_boarding == true())
    if profile:
        # A record at no school passes the profile unless the rule is restricted (checked above).
        conditions.append(or_(facts.c.school_id.is_(None), and_(*profile)))
    return and_(true(), *conditions)


def without_jit() -> None:
    """Turn PostgreSQL's JIT off for the rest of the transaction.

    The per-record EXISTS (was the school the 教研员's that day?) makes the
    planner's cost estimate large enough to JIT-compile the aggregate, which
    takes about a second to save a few milliseconds (measured by
    ``python -m benchmarks.lessons``).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))


def quota_tallies(context: QuotaContext, researcher_ids: Sequence[int] | None = None) -> dict[int, dict[str, Tally]]:
    """Per 教研员 and quota item: records counted, and records of the same sort counted apart."""
    if not context.rules:
        return {}
    lo = min(w.span.start for _, w in context.rules)
    hi = max(w.span.end for _, w in context.rules)
    kinds = {kind for rule, _ in context.rules for kind in rule.kinds}
    facts = _facts(context.county.id, lo, hi, kinds, researcher_ids)
    without_jit()
    columns = []
    for index, (rule, window) in enumerate(context.rules):
        sort = _is_sort(rule, window, facts)
        columns.append(func.sum(case((sort, 1), else_=0)).label(f"all_{index}"))
        columns.append(func.sum(case((and_(sort, _counts_at_school(rule, facts)), 1), else_=0)).label(f"ok_{index}"))
    rows = db.session.execute(select(facts.c.researcher_id, *columns).group_by(facts.c.researcher_id)).all()
    result: dict[int, dict[str, Tally]] = {}
    for row in rows:
        per_rule = {}
        for index, (rule, _) in enumerate(context.rules):
            total, counted = int(row[1 + 2 * index] or 0), int(row[2 + 2 * index] or 0)
            per_rule[rule.item_id] = Tally(counted, total - counted)
        result[row[0]] = per_rule
    return result


def postings_of(context: QuotaContext, researcher_ids: Sequence[int] | None = None) -> dict[int, list[Posting]]:
    """The 教研员's assignments (包片) overlapping the quota windows, with each school's profile."""
    if not context.rules:
        return {}
    lo = min(w.span.start for _, w in context.rules)
    hi = max(w.span.end for _, w in context.rules)
    query = (
        select(
            Assignment.user_id,
            Assignment.starts_on,
            Assignment.ends_on,
            School.stage,
            School.location,
            School.is_boarding,
        )
        .join(School, School.id == Assignment.school_id)
        .where(
            School.county_id == context.county.id,
            Assignment.kind == "researcher",
            Assignment.starts_on <= hi,
            or_(Assignment.ends_on.is_(None), Assignment.ends_on >= lo),
        )
    )
    if researcher_ids is not None:
        query = query.where(Assignment.user_id.in_(list(researcher_ids)))
    result: dict[int, list[Posting]] = defaultdict(list)
    for user_id, starts_on, ends_on, stage, location, is_boarding in db.session.execute(query):
        result[user_id].append(Posting(Span(starts_on, ends_on or date.max), stage, location, is_boarding))
    return result


def standings_for(context: QuotaContext, researcher_ids: Sequence[int]) -> dict[int, list[Standing]]:
    """Each 教研员's standing on every quota of the term (two queries in all)."""
    tallies = quota_tallies(context, researcher_ids)
    postings = postings_of(context, researcher_ids)
    result = {}
    for user_id in researcher_ids:
        rows = []
        for rule, window in context.rules:
            counted = tallies.get(user_id, {}).get(rule.item_id, Tally(0, 0))
            rows.append(
                standing(rule, window, counted.counted, counted.apart, context.today, postings.get(user_id, []))
            )
        result[user_id] = rows
    return result


# --- 教研员 and their schools ------------------------------------------------------


@dataclass(frozen=True)
class SchoolProgress:
    """One school's records by one 教研员 in the term."""

    school: School
    is_assigned: bool
    lessons: int
    guidance: int
    others: int
    last_on: date | None


def researchers_of(county_id: int, group: str = "", subject: str = "") -> list[tuple[User, str]]:
    """The county's 教研员 (with their subject), optionally of a school group or subject."""
    query = (
        select(User, func.coalesce(ResearcherProfile.subject, ""))
        .outerjoin(ResearcherProfile, ResearcherProfile.user_id == User.id)
        .where(User.county_id == county_id, User.role == "researcher", User.is_active_account.is_(True))
        .order_by(User.display_name, User.id)
    )
    if subject:
        query = query.where(ResearcherProfile.subject == subject)
    if group:
        in_group = (
            select(Assignment.user_id)
            .join(School, School.id == Assignment.school_id)
            .where(Assignment.kind == "researcher", School.group_name == group)
        )
        query = query.where(User.id.in_(in_group))
    return [(user, subject or "") for user, subject in db.session.execute(query)]


def assigned_schools(user: User, span: Span) -> dict[int, tuple[School, date]]:
    """Schools assigned to the 教研员 at some point in ``span``, with the first day in it."""
    rows = db.session.execute(
        select(School, Assignment.starts_on)
        .join(Assignment, Assignment.school_id == School.id)
        .where(
            Assignment.user_id == user.id,
            Assignment.kind == "researcher",
            Assignment.starts_on <= span.end,
            or_(Assignment.ends_on.is_(None), Assignment.ends_on >= span.start),
        )
        .order_by(School.code)
    ).all()
    result: dict[int, tuple[School, date]] = {}
    for school, starts_on in rows:
        first = max(starts_on, span.start)
        if school.id not in result or first < result[school.id][1]:
            result[school.id] = (school, first)
    return result


def school_progress(context: QuotaContext, user: User) -> list[SchoolProgress]:
    """Per school: the 教研员's lessons, guidance and other records this term (assigned schools first)."""
    span = context.term_span
    if span is None:
        return []
    assigned = assigned_schools(user, span)
    rows = db.session.execute(
        select(Activity.school_id, Activity.kind, func.count(), func.max(Activity.occurred_on))
        .where(
            Activity.researcher_id == user.id,
            Activity.deleted_at.is_(None),
            Activity.school_id.is_not(None),
            Activity.occurred_on.between(span.start, span.end),
        )
        .group_by(Activity.school_id, Activity.kind)
    ).all()
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    last: dict[int, date] = {}
    for school_id, kind, count, last_on in rows:
        counts[school_id][kind] += count
        last[school_id] = max(last.get(school_id, last_on), last_on)
    others = set(counts) - set(assigned)
    schools = {s.id: s for s in db.session.scalars(select(School).where(School.id.in_(others)))} if others else {}
    result = []
    for school_id in [*assigned, *sorted(others)]:
        school = assigned[school_id][0] if school_id in assigned else schools[school_id]
        per_kind = counts.get(school_id, {})
        lessons, guidance = per_kind.get("lesson", 0), per_kind.get("guidance", 0)
        result.append(
            SchoolProgress(
                school=school,
                is_assigned=school_id in assigned,
                lessons=lessons,
                guidance=guidance,
                others=sum(per_kind.values()) - lessons - guidance,
                last_on=last.get(school_id),
            )
        )
    return result


# --- teacher coverage (a ``who: teacher`` quota, 西吉's three-year cycle) --------------


@dataclass(frozen=True)
class SchoolCoverage:
    """Teachers of one school observed in the cycle."""

    school: School
    coverage: Coverage
    #: Lessons in the cycle whose teacher was typed and is not on the school's list.
    unlisted_lessons: int


def teacher_coverage(
    context: QuotaContext, rule: QuotaRule, window: Window, school_ids: Sequence[int] | None = None
) -> list[SchoolCoverage]:
    """For each school of the county (or those given): the share of its teachers observed in ``window``."""
    schools_query = select(School).where(School.county_id == context.county.id).order_by(School.code)
    if school_ids is not None:
        schools_query = schools_query.where(School.id.in_(list(school_ids)))
    schools = list(db.session.scalars(schools_query))
    ids = [s.id for s in schools]
    teachers: dict[int, dict[int, str]] = defaultdict(dict)
    for teacher_id, school_id, name in db.session.execute(
        select(Teacher.id, Teacher.school_id, Teacher.name).where(
            Teacher.school_id.in_(ids), Teacher.is_active.is_(True)
        )
    ):
        teachers[school_id][teacher_id] = name
    lessons = (
        select(Activity.school_id, Activity.teacher_id, func.count())
        .where(
            Activity.county_id == context.county.id,
            Activity.school_id.in_(ids),
            Activity.deleted_at.is_(None),
            Activity.kind.in_(rule.kinds),
            Activity.occurred_on.between(window.span.start, window.span.end),
        )
        .group_by(Activity.school_id, Activity.teacher_id)
    )
    if rule.forms:
        lessons = lessons.where(Activity.form.in_(rule.forms))
    observed: dict[int, set[int]] = defaultdict(set)
    unlisted: dict[int, int] = defaultdict(int)
    for school_id, teacher_id, count in db.session.execute(lessons):
        if teacher_id is None:
            unlisted[school_id] += count
        else:
            observed[school_id].add(teacher_id)
    return [SchoolCoverage(s, coverage(teachers[s.id], observed[s.id]), unlisted[s.id]) for s in schools]
