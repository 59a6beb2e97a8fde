"""Rows of the bureau's XLSX exports (台账)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from checklists.vocabulary import STAGES

from ...auth.models import User
from ...core.models import County, School, Term
from ...extensions import db
from ...spreadsheets import Column, Sheet
from ...timeutil import to_china, today_in_china
from ...visits.models import VISIT_STATES, ItemResult, Photo, Visit
from ..compliance.matrix import COUNTED_STATES
from ..compliance.summary import school_lines
from ..formatting import item_marks, outcome_label, threshold_text, value_text
from ..rectification.models import RectificationTask, TaskUpdate
from ..review import listing
from ..review.models import Review

MAX_ROWS = 200_000


def local(value: datetime | None) -> datetime | None:
    """A stored UTC time as China time without a zone (Excel has none)."""
    converted = to_china(value)
    return converted.replace(tzinfo=None) if converted else None


def _outcome_counts(visit_ids: list[str]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for start in range(0, len(visit_ids), 500):
        chunk = visit_ids[start : start + 500]
        query = (
            select(ItemResult.visit_id, ItemResult.outcome, func.count())
            .where(ItemResult.visit_id.in_(chunk))
            .group_by(ItemResult.visit_id, ItemResult.outcome)
        )
        for visit_id, outcome, n in db.session.execute(query):
            counts[visit_id][outcome or "recorded"] += n
    return counts


def _latest_reviews(visit_ids: list[str]) -> dict[str, Review]:
    found: dict[str, Review] = {}
    for start in range(0, len(visit_ids), 500):
        query = select(Review).where(Review.visit_id.in_(visit_ids[start : start + 500])).order_by(Review.id)
        for review in db.session.scalars(query):
            found[review.visit_id] = review
    return found


def visits_sheet(filters: listing.VisitFilters) -> Sheet:
    """督导记录: one row per visit, as filtered on the list."""
    query = (
        listing.filtered(filters)
        .add_columns(School.name, School.code, User.display_name)
        .join(School, School.id == Visit.school_id)
        .join(User, User.id == Visit.inspector_id)
        .order_by(Visit.visited_on.desc(), Visit.id.desc())
        .limit(MAX_ROWS)
    )
    rows = db.session.execute(query).all()
    ids = [v.id for v, *_ in rows]
    counts = _outcome_counts(ids)
    reviews = _latest_reviews(ids)
    photos = (
        dict(
            db.session.execute(
                select(Photo.visit_id, func.count())
                .where(Photo.visit_id.in_(ids[:MAX_ROWS]), Photo.deleted_at.is_(None))
                .group_by(Photo.visit_id)
            ).all()
        )
        if ids
        else {}
    )
    columns = [
        Column("督导日期", 14, "date"),
        Column("学校", 24),
        Column("学校代码", 10),
        Column("责任督学", 12),
        Column("状态", 8),
        Column("开始记录", 18, "datetime"),
        Column("最后记录", 18, "datetime"),
        Column("提交时间", 18, "datetime"),
        Column("达标项", 8, "number"),
        Column("未达标项", 8, "number"),
        Column("不适用项", 8, "number"),
        Column("照片数", 8, "number"),
        Column("审核结论", 10),
        Column("审核时间", 18, "datetime"),
        Column("审核意见", 30),
        Column("督导小结", 40),
        Column("检查表依据", 12),
    ]
    drafts = listing.draft_versions({visit.checklist_version_id for visit, *_ in rows})
    data = []
    for visit, school, code, inspector in rows:
        c = counts.get(visit.id, Counter())
        review = reviews.get(visit.id)
        data.append(
            [
                visit.visited_on,
                school,
                code,
                inspector,
                VISIT_STATES.get(visit.state, visit.state),
                local(visit.first_recorded_at),
                local(visit.last_recorded_at),
                local(visit.submitted_at),
                c["pass"],
                c["fail"],
                c["na"],
                photos.get(visit.id, 0),
                review.decision_label if review else "",
                local(review.created_at) if review else None,
                review.comment if review else "",
                visit.summary,
                "征求意见稿" if visit.checklist_version_id in drafts else "正式文件",
            ]
        )
    return Sheet("督导记录", columns, data)


def _item_notes(item: dict[str, Any], visited_on: date, draft: bool) -> str:
    """征求意见稿, 文件已到期, 倡导性（力争）, the due state on the visit day …, joined for one cell."""
    words = ["征求意见稿"] if draft else []
    words += [text for _, text in item_marks(item, visited_on)]
    return "；".join(words)


def results_sheet(county: County, term: Term | None) -> Sheet:
    """检查结果: every result of the term's submitted and accepted visits."""
    query = (
        select(ItemResult, Visit, School.name, User.display_name)
        .join(Visit, Visit.id == ItemResult.visit_id)
        .join(School, School.id == Visit.school_id)
        .join(User, User.id == Visit.inspector_id)
        .where(Visit.county_id == county.id, Visit.state.in_(COUNTED_STATES))
        .order_by(Visit.visited_on.desc(), Visit.id, ItemResult.id)
        .limit(MAX_ROWS)
    )
    if term is not None:
        query = query.where(Visit.visited_on.between(term.starts_on, term.ends_on))
    columns = [
        Column("督导日期", 14, "date"),
        Column("学校", 24),
        Column("责任督学", 12),
        Column("检查组", 16),
        Column("检查项", 36),
        Column("标准", 18),
        Column("检查结果", 14),
        Column("判定", 8),
        Column("现场记录", 40),
        Column("记录时间", 18, "datetime"),
        Column("督导状态", 8),
        Column("条目说明", 30),
    ]
    items_cache: dict[str, dict[str, tuple[dict[str, Any], str]]] = {}
    draft_cache: dict[str, bool] = {}
    data, failed = [], set()
    for number, (result, visit, school, inspector) in enumerate(db.session.execute(query)):
        if visit.checklist_version_id not in items_cache:
            content = visit.checklist_version.content
            items_cache[visit.checklist_version_id] = {
                i["id"]: (i, s["title"]) for s in content["sections"] for i in s["items"]
            }
            draft_cache[visit.checklist_version_id] = content.get("pack", {}).get("status") == "draft"
        item, section = items_cache[visit.checklist_version_id].get(
            result.item_id, ({"title": result.item_id, "check": {}}, "")
        )
        if result.outcome == "fail":
            failed.add(number)
        data.append(
            [
                visit.visited_on,
                school,
                inspector,
                section,
                item["title"],
                threshold_text(item["check"]),
                value_text(item["check"], result.value),
                outcome_label(result.outcome),
                result.observation,
                local(result.edited_at),
                VISIT_STATES.get(visit.state, visit.state),
                _item_notes(item, visit.visited_on, draft_cache[visit.checklist_version_id]),
            ]
        )
    note = f"{county.name} {term.name if term else '全部学期'} 检查结果（已提交及已通过的督导）"
    return Sheet("检查结果", columns, data, highlight=failed, note=note)


def tasks_sheet(tasks: list[RectificationTask], today: date | None = None) -> Sheet:
    """整改台账: one row per task; overdue rows highlighted."""
    today = today or today_in_china()
    names = dict(
        db.session.execute(select(School.id, School.name).where(School.id.in_({t.school_id for t in tasks}))).all()
    )
    latest: dict[int, TaskUpdate] = {}
    if tasks:
        for update in db.session.scalars(
            select(TaskUpdate).where(TaskUpdate.task_id.in_([t.id for t in tasks])).order_by(TaskUpdate.id)
        ):
            latest[update.task_id] = update
    columns = [
        Column("序号", 6, "number"),
        Column("学校", 24),
        Column("检查项", 30),
        Column("存在问题", 40),
        Column("下发日期", 14, "date"),
        Column("整改期限", 14, "date"),
        Column("责任人", 10),
        Column("状态", 8),
        Column("是否逾期", 8),
        Column("逾期天数", 8, "number"),
        Column("最新进展", 40),
        Column("进展日期", 14, "date"),
        Column("销号日期", 14, "date"),
    ]
    data, overdue = [], set()
    for number, task in enumerate(tasks):
        late = task.is_overdue(today)
        if late:
            overdue.add(number)
        update = latest.get(task.id)
        data.append(
            [
                number + 1,
                names.get(task.school_id, ""),
                task.item_title,
                task.problem,
                local(task.opened_at).date() if task.opened_at else None,
                task.deadline,
                task.responsible_person,
                task.state_label,
                "是" if late else "否",
                (today - task.deadline).days if late else 0,
                f"{update.kind_label}：{update.note}" if update else "",
                local(update.created_at).date() if update else None,
                local(task.closed_at).date() if task.closed_at else None,
            ]
        )
    return Sheet("整改台账", columns, data, highlight=overdue)


def schools_sheet(county: County, term: Term) -> Sheet:
    """学校汇总: one row per school for the term."""
    columns = [
        Column("学校代码", 10),
        Column("学校", 24),
        Column("学段", 10),
        Column("督导次数", 8, "number"),
        Column("最近督导", 14, "date"),
        Column("已检查项", 8, "number"),
        Column("达标项", 8, "number"),
        Column("未达标项", 8, "number"),
        Column("达标率", 8, "percent"),
        Column("未销号整改", 10, "number"),
        Column("逾期整改", 8, "number"),
    ]
    lines = school_lines(county, term)
    data = [
        [
            line.school.code,
            line.school.name,
            STAGES.get(line.school.stage, line.school.stage),
            line.visits,
            line.last_visit,
            line.checked,
            line.compliant,
            line.failed,
            line.share,
            line.unclosed,
            line.overdue,
        ]
        for line in lines
    ]
    flagged = {n for n, line in enumerate(lines) if line.overdue}
    return Sheet("学校汇总", columns, data, highlight=flagged, note=f"{county.name} {term.name} 学校汇总")
