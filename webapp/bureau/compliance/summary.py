"""The county's term summary: visits, compliance per item and per school, rectification."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from checklists.generator import check_as_dict

from ...core.models import County, School, Term
from ...extensions import db
from ...packs.operations import packs
from ...timeutil import today_in_china
from ...visits.models import Photo, Visit
from ..rectification.models import RectificationTask
from .matrix import COUNTED_STATES, ItemTotal, Matrix, build_matrix, visit_items


@dataclass
class SchoolLine:
    """One school's term: visits, latest results, tasks."""

    school: School
    visits: int = 0
    last_visit: date | None = None
    checked: int = 0
    compliant: int = 0
    failed: int = 0
    unclosed: int = 0
    overdue: int = 0

    @property
    def share(self) -> float | None:
        """Share of its checked items compliant."""
        return self.compliant / self.checked if self.checked else None


@dataclass
class GroupLine:
    """One 教育集团 (schools sharing ``group_name``) summed over its schools."""

    name: str
    schools: int = 0
    visited: int = 0
    checked: int = 0
    compliant: int = 0
    unclosed: int = 0
    overdue: int = 0

    @property
    def share(self) -> float | None:
        """Share of the group's checked items compliant."""
        return self.compliant / self.checked if self.checked else None


def group_lines(lines: list[SchoolLine]) -> list[GroupLine]:
    """The schools' lines summed per 教育集团 (schools in none are left out)."""
    groups: dict[str, GroupLine] = {}
    for line in lines:
        name = line.school.group_name
        if not name:
            continue
        group = groups.setdefault(name, GroupLine(name))
        group.schools += 1
        group.visited += 1 if line.visits else 0
        group.checked += line.checked
        group.compliant += line.compliant
        group.unclosed += line.unclosed
        group.overdue += line.overdue
    return sorted(groups.values(), key=lambda g: ordinal_key(g.name))


_NUMERALS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _chinese_number(text: str) -> int:
    """一 → 1, 十二 → 12, 二十 → 20, 一百零五 → 105 (the numbers in school and group names)."""
    total, digit = 0, 0
    for char in text:
        if char in _NUMERALS:
            digit = _NUMERALS[char]
        elif char == "十":
            total += (digit or 1) * 10
            digit = 0
        elif char == "百":
            total += (digit or 1) * 100
            digit = 0
    return total + digit


def ordinal_key(name: str) -> tuple[Any, ...]:
    """Sort 第一、第二、第三…第十一 (and 2, 10) by their number, the rest of the name as text."""
    parts = re.findall(r"\d+|[零〇一二两三四五六七八九十百]+|[^\d零〇一二两三四五六七八九十百]+", name)
    key: list[tuple[int, Any]] = []
    for part in parts:
        if part.isdigit():
            key.append((0, int(part)))
        elif part[0] in _NUMERALS or part[0] in "十百":
            key.append((0, _chinese_number(part)))
        else:
            key.append((1, part))
    return tuple(key)


def matrices(county: County, term: Term) -> list[tuple[Any, Matrix]]:
    """The term's matrix for each checklist of the county's pack that has visit items."""
    pack = packs()[county.policy_set]
    return [(c, build_matrix(county, term, c.id)) for c in pack.checklists if visit_items(pack, c.id)]


def school_lines(county: County, term: Term, built: list[tuple[Any, Matrix]] | None = None) -> list[SchoolLine]:
    """Per school, for the term: visits, compliance over every visit checklist, open and overdue tasks."""
    schools = list(db.session.scalars(select(School).where(School.county_id == county.id).order_by(School.code)))
    lines = {s.id: SchoolLine(s) for s in schools}
    visits = db.session.execute(
        select(Visit.school_id, func.count(), func.max(Visit.visited_on))
        .where(
            Visit.county_id == county.id,
            Visit.state.in_(COUNTED_STATES),
            Visit.visited_on.between(term.starts_on, term.ends_on),
        )
        .group_by(Visit.school_id)
    )
    for school_id, n, last in visits:
        lines[school_id].visits, lines[school_id].last_visit = n, last
    for _, matrix in built if built is not None else matrices(county, term):
        for school_id, total in matrix.school_totals.items():
            line = lines[school_id]
            line.checked += total.checked
            line.compliant += total.compliant
            line.failed += total.failed
    today = today_in_china()
    for task in db.session.scalars(
        select(RectificationTask).where(RectificationTask.county_id == county.id, RectificationTask.state != "closed")
    ):
        lines[task.school_id].unclosed += 1
        lines[task.school_id].overdue += 1 if task.is_overdue(today) else 0
    return list(lines.values())


@dataclass
class ItemLine:
    """One item's standing across the county."""

    checklist: str
    title: str
    threshold: str
    total: ItemTotal
    unit: str = ""


@dataclass
class TermSummary:
    """The term summary's figures."""

    county: County
    term: Term
    visit_states: dict[str, int]
    schools_total: int
    schools_visited: int
    inspectors_active: int
    photo_count: int
    items: list[ItemLine] = field(default_factory=list)
    schools: list[SchoolLine] = field(default_factory=list)
    tasks_opened: int = 0
    tasks_closed: int = 0
    overdue: list[RectificationTask] = field(default_factory=list)


def term_summary(county: County, term: Term) -> TermSummary:
    """Counts, compliance per item, overdue rectification for the county's term."""
    in_term = (Visit.county_id == county.id, Visit.visited_on.between(term.starts_on, term.ends_on))
    states = dict(db.session.execute(select(Visit.state, func.count()).where(*in_term).group_by(Visit.state)).all())
    counted = (*in_term, Visit.state.in_(COUNTED_STATES))
    summary = TermSummary(
        county=county,
        term=term,
        visit_states=states,
        schools_total=db.session.scalar(select(func.count()).where(School.county_id == county.id)) or 0,
        schools_visited=db.session.scalar(select(func.count(func.distinct(Visit.school_id))).where(*counted)) or 0,
        inspectors_active=db.session.scalar(select(func.count(func.distinct(Visit.inspector_id))).where(*counted)) or 0,
        photo_count=db.session.scalar(
            select(func.count())
            .select_from(Photo)
            .join(Visit, Visit.id == Photo.visit_id)
            .where(*counted, Photo.deleted_at.is_(None))
        )
        or 0,
    )
    built = matrices(county, term)
    for checklist, matrix in built:
        for item in matrix.items:
            unit = check_as_dict(item.check).get("unit", "") or ""
            summary.items.append(
                ItemLine(checklist.title, item.title, matrix.thresholds[item.id], matrix.item_totals[item.id], unit)
            )
    summary.schools = school_lines(county, term, built)
    start = datetime.combine(term.starts_on, datetime.min.time())
    end = datetime.combine(term.ends_on, datetime.max.time())
    task_filter = (RectificationTask.county_id == county.id, RectificationTask.opened_at.between(start, end))
    summary.tasks_opened = db.session.scalar(select(func.count()).where(*task_filter)) or 0
    summary.tasks_closed = (
        db.session.scalar(select(func.count()).where(*task_filter, RectificationTask.state == "closed")) or 0
    )
    today = today_in_china()
    summary.overdue = list(
        db.session.scalars(
            select(RectificationTask)
            .where(
                RectificationTask.county_id == county.id,
                RectificationTask.state != "closed",
                RectificationTask.deadline < today,
            )
            .order_by(RectificationTask.deadline)
        )
    )
    return summary
