"""Compliance across schools: for a term and a checklist, each school × item's latest result.

A cell is 达标, 未达标, 整改中 (failed, with a task not yet closed), 已整改 (failed,
task closed), 不适用 or 未检查. Only submitted and accepted visits count.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import select

from checklists import Pack
from checklists.generator import VISIT_CHECKERS, SchoolProfile, check_as_dict, compose
from checklists.model import Item
from checklists.vocabulary import SECTIONS

from ...core.models import County, School, Term
from ...extensions import db
from ...packs.operations import county_settings, packs, school_profile
from ...timeutil import today_in_china
from ...visits.models import ItemResult, Visit
from ..formatting import OUTCOMES, item_marks, number, outcome_label, outcome_symbol, threshold_text
from ..rectification.models import RectificationTask

#: Visit states whose results the bureau counts.
COUNTED_STATES = ("submitted", "accepted")
COMPLIANT = ("pass", "rectified")
CHECKED = ("pass", "fail", "rectifying", "rectified")
#: Schools shown at once: a county's 500 schools are read a page at a time (totals cover all).
SCHOOLS_PER_PAGE = 50


#: A cell's words by status: a symbol and a word, so it reads without colour.
CELL_TEXT = {code: f"{outcome_symbol(code)} {outcome_label(code)}" for code in OUTCOMES}


class Cell(NamedTuple):
    """One school × item: the latest result and what it means (``text``, e.g. ✗ 未达标 52)."""

    status: str
    text: str
    outcome: str | None = None
    number: float | None = None
    visit_id: str | None = None
    task_id: int | None = None
    overdue: bool = False


def make_cell(status: str, row: Latest | None = None, task_id: int | None = None, *, overdue: bool = False) -> Cell:
    """A cell (the page shows thousands: kept cheap); an overdue task adds ⚠逾期 to its words."""
    if row is None:
        return Cell(status, CELL_TEXT[status])
    text = CELL_TEXT[status] if row.number_value is None else f"{CELL_TEXT[status]} {number(row.number_value)}"
    if overdue:
        text += " ⚠逾期"
    return Cell(status, text, row.outcome, row.number_value, row.visit_id, task_id, overdue)


@dataclass
class ItemTotal:
    """How the county stands on one item."""

    checked: int = 0
    compliant: int = 0
    failed: int = 0
    rectifying: int = 0
    unchecked: int = 0
    numbers: list[float] = field(default_factory=list)
    over_by: list[float] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        """Share of checked schools compliant (None when none was checked)."""
        return self.compliant / self.checked if self.checked else None

    def numeric_summary(self, unit: str) -> str:
        """For numeric items: median, range and by how much failing schools miss the standard."""
        if not self.numbers:
            return ""
        text = (
            f"中位数 {number(round(statistics.median(self.numbers), 2))}{unit}，最大 {number(max(self.numbers))}{unit}"
        )
        if self.over_by:
            text += f"；{len(self.over_by)}所不达标，平均相差 {number(round(statistics.mean(self.over_by), 2))}{unit}"
        return text


@dataclass
class SchoolTotal:
    """How one school stands on the checklist."""

    checked: int = 0
    compliant: int = 0
    failed: int = 0

    @property
    def share(self) -> float | None:
        """Share of its checked items compliant."""
        return self.compliant / self.checked if self.checked else None


@dataclass
class Matrix:
    """Schools × items with totals both ways."""

    items: list[Item]
    thresholds: dict[str, str]
    schools: list[School]
    cells: dict[tuple[int, str], Cell]
    item_totals: dict[str, ItemTotal]
    school_totals: dict[int, SchoolTotal]
    #: Per item, (css class, words) shown under its name: 倡导性（力争）, 文件已到期, 应于…前 / 已逾期….
    marks: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def binding_items(self) -> list[Item]:
        """The mandatory items only (the filter 只看约束性条目 hides soft wording: 力争, 原则上 …)."""
        return [item for item in self.items if item.binding == "mandatory"]

    def cell(self, school_id: int, item_id: str) -> Cell:
        """The cell of a school and an item."""
        return self.cells[(school_id, item_id)]

    def page(
        self, items: list[Item], failing_only: bool, number: int, per_page: int = SCHOOLS_PER_PAGE
    ) -> tuple[list[tuple[School, list[Cell], SchoolTotal]], int]:
        """One page of rows and the number of pages (totals always cover every school)."""
        rows = self.rows(items, failing_only)
        pages = max(1, -(-len(rows) // per_page))
        number = min(max(1, number), pages)
        return rows[(number - 1) * per_page : number * per_page], pages

    def rows(self, items: list[Item], failing_only: bool = False) -> list[tuple[School, list[Cell], SchoolTotal]]:
        """Table rows for ``items``; with ``failing_only`` only schools failing one of them (or rectifying)."""
        rows = []
        for school in self.schools:
            cells = [self.cells[(school.id, item.id)] for item in items]
            if failing_only and not any(c.status in ("fail", "rectifying") for c in cells):
                continue
            rows.append((school, cells, self.school_totals[school.id]))
        return rows


def visit_items(pack: Pack, checklist_id: str) -> list[Item]:
    """The checklist's items an inspector checks on a visit (the matrix's columns)."""
    checklist = next((c for c in pack.checklists if c.id == checklist_id), None)
    return [i for i in checklist.items if i.checked_by in VISIT_CHECKERS] if checklist else []


_PROFILE_ITEMS: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = {}


def base_id(item_id: str) -> str:
    """The pack item an id stands for: ``class_size@primary`` (one section of a mixed school) → ``class_size``."""
    return item_id.partition("@")[0]


def section_ids(item_id: str) -> list[str]:
    """The ids an item's results may be stored under: its own, and one per section when split."""
    return [item_id, *(f"{item_id}@{section}" for section in SECTIONS)]


def composed_items(
    pack: Pack, profile: SchoolProfile, settings: dict[str, Any] | None = None, on: date | None = None
) -> dict[str, dict[str, Any]]:
    """The items of a routine visit checklist for this school profile, by pack item id (cached per process).

    An item split by section for a mixed school is listed once, under its pack id.
    """
    on = on or today_in_china()
    key = (id(pack), profile, tuple(sorted((k, str(v)) for k, v in (settings or {}).items())), on)
    if key not in _PROFILE_ITEMS:
        if len(_PROFILE_ITEMS) > 1000:  # a long-running process sees new days and settings
            _PROFILE_ITEMS.clear()
        snapshot = compose(pack, profile, "routine", settings=settings, on=on)
        found: dict[str, dict[str, Any]] = {}
        for section in snapshot["sections"]:
            for item in section["items"]:
                found.setdefault(base_id(item["id"]), item)
        _PROFILE_ITEMS[key] = found
    return _PROFILE_ITEMS[key]


def applicable_items(pack: Pack, profile: SchoolProfile, settings: dict[str, Any] | None = None) -> frozenset[str]:
    """Ids of the pack's items on a routine visit checklist for this school profile."""
    return frozenset(composed_items(pack, profile, settings))


class Latest(NamedTuple):
    """The result in force for one school and item."""

    school_id: int
    item_id: str
    outcome: str | None
    number_value: float | None
    visit_id: str
    visited_on: date


def _rows(query: Any) -> list[Any]:
    """Plain rows through Core: thousands of them, and no ORM entity among the columns."""
    return db.session.connection().execute(query).all()


def counted_visits(county_id: int, term: Term, school_ids: list[int] | None = None) -> dict[int, list[Any]]:
    """Per school, its submitted and accepted visits of the term, latest first."""
    query = (
        select(Visit.id, Visit.school_id, Visit.visited_on)
        .where(
            Visit.county_id == county_id,
            Visit.visited_on.between(term.starts_on, term.ends_on),
            Visit.state.in_(COUNTED_STATES),
        )
        .order_by(Visit.school_id, Visit.visited_on.desc(), Visit.last_recorded_at.desc(), Visit.id.desc())
    )
    if school_ids is not None:
        query = query.where(Visit.school_id.in_(school_ids))
    visits: dict[int, list[Any]] = {}
    for row in _rows(query):
        visits.setdefault(row.school_id, []).append(row)
    return visits


def _results_of(visit_ids: list[str], item_ids: list[str]) -> list[Any]:
    rows = []
    for start in range(0, len(visit_ids), 1000):
        query = select(ItemResult.visit_id, ItemResult.item_id, ItemResult.outcome, ItemResult.number_value).where(
            ItemResult.visit_id.in_(visit_ids[start : start + 1000]), ItemResult.item_id.in_(item_ids)
        )
        rows.extend(_rows(query))
    return rows


def latest_results(
    county_id: int, term: Term, item_ids: list[str], school_ids: list[int] | None = None
) -> list[Latest]:
    """Per school and item, the result of its latest counted visit in the term that recorded the item.

    Two indexed look-ups instead of one scan: the results of each school's latest visit
    (which nearly always answer every item), then, for schools still missing some item,
    the results of their earlier visits of the term.
    """
    visits = counted_visits(county_id, term, school_ids)
    found: dict[tuple[int, str], Latest] = {}
    order = {v.id: n for rows in visits.values() for n, v in enumerate(rows)}
    day = {v.id: (v.school_id, v.visited_on) for rows in visits.values() for v in rows}

    def take(rows: list[Any]) -> None:
        for visit_id, item_id, outcome, number_value in rows:
            school_id, visited_on = day[visit_id]
            key = (school_id, item_id)
            if key not in found:
                found[key] = Latest(school_id, item_id, outcome, number_value, visit_id, visited_on)

    # Each school's latest visit: no two rows compete for a cell.
    take(_results_of([rows[0].id for rows in visits.values()], item_ids))
    # Complete when every item has a result (any of its ids, for an item checked per section).
    wanted = {base_id(i) for i in item_ids}
    answered: dict[int, set[str]] = {}
    for school_id, item_id in found:
        answered.setdefault(school_id, set()).add(base_id(item_id))
    missing = [s for s, rows in visits.items() if len(rows) > 1 and not answered.get(s, set()) >= wanted]
    earlier = [v.id for s in missing for v in visits[s][1:]]
    if earlier:
        take(sorted(_results_of(earlier, item_ids), key=lambda r: order[r.visit_id]))
    return list(found.values())


#: Which of two section results a merged cell shows: a failing section first.
_OUTCOME_RANK = {"fail": 0, "pass": 1, "na": 2, None: 3}


def merge_sections(rows: list[Latest]) -> dict[tuple[int, str], Latest]:
    """Results by (school, pack item id): a mixed school's per-section results become one cell,
    failing when any section fails (小学部 ≤45 kept, 初中部 52 > 50 → 未达标 52)."""
    merged: dict[tuple[int, str], Latest] = {}
    for row in rows:
        key = (row.school_id, base_id(row.item_id))
        held = merged.get(key)
        if held is None or _OUTCOME_RANK.get(row.outcome, 3) < _OUTCOME_RANK.get(held.outcome, 3):
            merged[key] = row._replace(item_id=key[1])
    return merged


class TaskRef(NamedTuple):
    """What a cell needs to know of a task."""

    id: int
    visit_id: str
    state: str
    deadline: date


def _tasks(county_id: int, item_ids: list[str]) -> dict[tuple[int, str], list[TaskRef]]:
    query = (
        select(
            RectificationTask.school_id,
            RectificationTask.item_id,
            RectificationTask.id,
            RectificationTask.visit_id,
            RectificationTask.state,
            RectificationTask.deadline,
        )
        .where(RectificationTask.county_id == county_id, RectificationTask.item_id.in_(item_ids))
        .order_by(RectificationTask.id)
    )
    found: dict[tuple[int, str], list[TaskRef]] = {}
    for school_id, item_id, task_id, visit_id, state, deadline in _rows(query):
        found.setdefault((school_id, base_id(item_id)), []).append(TaskRef(task_id, visit_id, state, deadline))
    return found


def cell_for(row: Latest, tasks: list[TaskRef], today: date) -> Cell:
    """The status of a cell from its latest result and the school's tasks on the item (overdue marked)."""
    outcome = row.outcome
    status = outcome or "recorded"
    task_id = None
    if outcome == "fail":
        unclosed = next((t for t in tasks if t.state != "closed"), None)
        closed = next((t for t in reversed(tasks) if t.state == "closed" and t.visit_id == row.visit_id), None)
        if unclosed is not None:
            status, task_id = "rectifying", unclosed.id
            if unclosed.deadline < today:
                return make_cell(status, row, task_id, overdue=True)
        elif closed is not None:
            status, task_id = "rectified", closed.id
    elif tasks:
        task_id = tasks[-1].id
    return make_cell(status, row, task_id)


def build_matrix(county: County, term: Term, checklist_id: str) -> Matrix:
    """The matrix of the county's schools and the checklist's visit items for the term."""
    pack = packs()[county.policy_set]
    items = visit_items(pack, checklist_id)
    # A mixed school's results of an item checked per section are stored as ``<id>@<section>``.
    item_ids = [stored for i in items for stored in (section_ids(i.id) if i.check.by_stage else [i.id])]
    schools = list(db.session.scalars(select(School).where(School.county_id == county.id).order_by(School.code)))
    results = merge_sections(latest_results(county.id, term, item_ids)) if items else {}
    tasks = _tasks(county.id, item_ids) if items else {}
    settings = county_settings(county)
    # Each item as some school's checklist has it (binding word, status, resolved due date), for the marks.
    seen: dict[str, dict[str, Any]] = {}
    today = today_in_china()
    cells: dict[tuple[int, str], Cell] = {}
    item_totals = {i.id: ItemTotal() for i in items}
    school_totals = {s.id: SchoolTotal() for s in schools}
    for school in schools:
        profile = school_profile(school)
        composed = composed_items(pack, profile, settings, today)
        applicable = composed.keys()
        for item_id, data in composed.items():
            seen.setdefault(item_id, data)
        for item in items:
            row = results.get((school.id, item.id))
            if row is not None:
                cell = cell_for(row, tasks.get((school.id, item.id), []), today)
            else:
                cell = make_cell("unchecked" if item.id in applicable else "na")
            cells[(school.id, item.id)] = cell
            _count(item, profile, cell, item_totals[item.id], school_totals[school.id])
    thresholds = {i.id: threshold_text(check_as_dict(i.check)) for i in items}
    marks = {i.id: item_marks({**seen[i.id], "section_label": ""}, today) if i.id in seen else [] for i in items}
    return Matrix(items, thresholds, schools, cells, item_totals, school_totals, marks)


def _count(item: Item, profile: SchoolProfile, cell: Cell, per_item: ItemTotal, per_school: SchoolTotal) -> None:
    if cell.status == "unchecked":
        per_item.unchecked += 1
    if cell.status not in CHECKED:
        return
    per_item.checked += 1
    per_school.checked += 1
    if cell.status in COMPLIANT:
        per_item.compliant += 1
        per_school.compliant += 1
    else:
        per_item.failed += 1
        per_school.failed += 1
    if cell.status == "rectifying":
        per_item.rectifying += 1
    if cell.number is not None and item.check.type in ("numeric", "percentage", "count_per_period"):
        per_item.numbers.append(cell.number)
        limit = item.check.count if item.check.type == "count_per_period" else item.check.threshold_for(profile.stage)
        if cell.outcome == "fail" and limit is not None:
            per_item.over_by.append(abs(cell.number - float(limit)))
