"""The 督导室 home's figures, each as a small table: coverage, 达标率, 整改 over time, 教研员 quotas.

Every figure is ``{"title", "unit", "chart", "columns", "rows", "note"}``: the page prints the table,
the JSON endpoint returns the same dict, and the chart script draws it. One source, so the chart,
its accessible table and the JSON always hold the same numbers.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from checklists.vocabulary import STAGES

from ...core.models import County, School, Term
from ...extensions import db
from ...timeutil import to_china, today_in_china
from ...visits.models import ItemResult, Visit
from ..compliance.matrix import COUNTED_STATES
from ..compliance.quotas import standing_for
from ..compliance.summary import matrices
from ..rectification.models import RectificationTask

#: The figures of the home page, in order, with the function that computes each.
KINDS = ("coverage", "checklists", "items", "rectification", "quotas")
#: Items shown on the 达标率 by item chart: the lowest first.
WORST_ITEMS = 12


def _figure(
    title: str, unit: str, chart: str, columns: list[str], rows: list[list[Any]], note: str = "", series: int = 0
) -> dict[str, Any]:
    """A figure; ``series`` is how many columns after the first are drawn (0: all of them)."""
    drawn = list(range(1, 1 + (series or len(columns) - 1)))
    return {
        "title": title,
        "unit": unit,
        "chart": chart,
        "columns": columns,
        "rows": rows,
        "note": note,
        "series": drawn,
    }


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def coverage(county: County, term: Term) -> dict[str, Any]:
    """Schools visited this term (submitted or accepted visits), by stage."""
    visited = set(
        db.session.scalars(
            select(func.distinct(Visit.school_id)).where(
                Visit.county_id == county.id,
                Visit.visited_on.between(term.starts_on, term.ends_on),
                Visit.state.in_(COUNTED_STATES),
            )
        )
    )
    by_stage: dict[str, list[int]] = {}
    for school_id, stage in db.session.execute(select(School.id, School.stage).where(School.county_id == county.id)):
        counts = by_stage.setdefault(stage, [0, 0])
        counts[0 if school_id in visited else 1] += 1
    rows = [[STAGES.get(stage, stage), *by_stage[stage]] for stage in STAGES if stage in by_stage]
    done = sum(r[1] for r in rows)
    total = done + sum(r[2] for r in rows)
    note = f"本学期已督导 {done} / {total} 所（{_percent(done, total) or 0}%）。"
    return _figure("本学期督导覆盖（按学段）", "所", "stack", ["学段", "已督导", "未督导"], rows, note)


def _totals(county: County, term: Term) -> list[tuple[Any, list[tuple[str, Any]]]]:
    """Per checklist, each visit item's title and county total for the term."""
    return [
        (checklist, [(item.title, built.item_totals[item.id]) for item in built.items])
        for checklist, built in matrices(county, term)
    ]


def by_checklist(county: County, term: Term, totals: list | None = None) -> dict[str, Any]:
    """达标率 of each checklist: compliant results over checked ones, latest result per school and item."""
    rows = []
    for checklist, items in totals if totals is not None else _totals(county, term):
        checked = sum(t.checked for _, t in items)
        compliant = sum(t.compliant for _, t in items)
        if checked:
            rows.append([checklist.title, _percent(compliant, checked), checked])
    return _figure("各检查表达标率", "%", "hbar", ["检查表", "达标率（%）", "已查项次"], rows, series=1)


def by_item(county: County, term: Term, totals: list | None = None) -> dict[str, Any]:
    """The items with the lowest 达标率 this term (those checked at least once)."""
    lines = [
        [title, _percent(t.compliant, t.checked), t.checked, t.failed]
        for _, items in (totals if totals is not None else _totals(county, term))
        for title, t in items
        if t.checked
    ]
    lines.sort(key=lambda r: (r[1], -r[3], r[0]))
    note = f"共 {len(lines)} 项有检查结果，列出达标率最低的 {min(WORST_ITEMS, len(lines))} 项。"
    columns = ["检查项", "达标率（%）", "已查学校", "未达标学校"]
    return _figure("达标率最低的检查项", "%", "hbar", columns, lines[:WORST_ITEMS], note, series=1)


def week_ends(start: date, end: date) -> list[date]:
    """Every 7th day from ``start`` up to ``end``, and ``end`` itself."""
    days = []
    day = start + timedelta(days=6)
    while day < end:
        days.append(day)
        day += timedelta(days=7)
    return [*days, end]


def rectification(county: County, term: Term, today: date | None = None) -> dict[str, Any]:
    """Open (未销号) and overdue 整改 at the end of each week of the term, up to today."""
    today = today or today_in_china()
    end = min(today, term.ends_on)
    tasks = db.session.execute(
        select(RectificationTask.opened_at, RectificationTask.closed_at, RectificationTask.deadline).where(
            RectificationTask.county_id == county.id
        )
    ).all()
    spans = [(_day(opened), _day(closed), deadline) for opened, closed, deadline in tasks]
    rows = []
    for day in week_ends(term.starts_on, end) if end >= term.starts_on else []:
        open_ = [(o, c, d) for o, c, d in spans if o <= day and (c is None or c > day)]
        rows.append([day.isoformat(), len(open_), sum(1 for _, _, d in open_ if d < day)])
    return _figure("未销号与逾期整改（每周）", "项", "line", ["日期", "未销号", "逾期"], rows)


def _day(value: Any) -> date | None:
    local = to_china(value)
    return local.date() if local else None


def quotas(county: County, term: Term) -> dict[str, Any]:
    """Each 教研员's completion of each quota this term, in percent of the target (at most 100)."""
    table = standing_for(county, term)
    if table is None or not table.rules:
        return _figure("教研员任务完成率", "%", "bar", ["教研员"], [], "本县没有教研员任务指标。")
    columns = ["教研员", *(f"{rule.kinds_label}（%）" for rule in table.rules)]
    rows = [
        [name, *(min(100.0, _percent(s.done, s.target) or 0.0) if s.target else 100.0 for s in standings)]
        for name, standings in table.rows
    ]
    return _figure("教研员任务完成率", "%", "bar", columns, rows, "按本学期目标计，超过目标记为 100%。")


def school_terms(school: School) -> dict[str, Any]:
    """A school's results term by term: 达标率 of its checked items, visits, failed results."""
    terms = db.session.scalars(select(Term).where(Term.county_id == school.county_id).order_by(Term.starts_on))
    rows = []
    for term in terms:
        counted = select(Visit.id).where(
            Visit.school_id == school.id,
            Visit.visited_on.between(term.starts_on, term.ends_on),
            Visit.state.in_(COUNTED_STATES),
        )
        outcomes = dict(
            db.session.execute(
                select(ItemResult.outcome, func.count())
                .where(ItemResult.visit_id.in_(counted), ItemResult.outcome.in_(("pass", "fail")))
                .group_by(ItemResult.outcome)
            ).all()
        )
        visits = db.session.scalar(select(func.count()).select_from(counted.subquery())) or 0
        if visits:
            passed, failed = outcomes.get("pass", 0), outcomes.get("fail", 0)
            rows.append([term.name, _percent(passed, passed + failed), visits, failed])
    columns = ["学期", "达标率（%）", "督导次数", "未达标项次"]
    return _figure("历学期检查结果", "%", "bar", columns, rows, "只计已提交和已审核通过的督导。", series=1)


def figure(kind: str, county: County, term: Term) -> dict[str, Any]:
    """One figure by name (see ``KINDS``)."""
    if kind == "coverage":
        return coverage(county, term)
    if kind == "checklists":
        return by_checklist(county, term)
    if kind == "items":
        return by_item(county, term)
    if kind == "rectification":
        return rectification(county, term)
    if kind == "quotas":
        return quotas(county, term)
    raise KeyError(kind)


def all_figures(county: County, term: Term) -> dict[str, dict[str, Any]]:
    """Every figure of the home page (the matrices built once for both 达标率 figures)."""
    totals = _totals(county, term)
    return {
        "coverage": coverage(county, term),
        "checklists": by_checklist(county, term, totals),
        "items": by_item(county, term, totals),
        "rectification": rectification(county, term),
        "quotas": quotas(county, term),
    }
