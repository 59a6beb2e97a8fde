"""Ledger (one row per record) and summary (one row per 教研员 per quota) as CSV or XLSX.

Written by the app's one spreadsheet writer (``webapp.spreadsheets``): UTF-8 CSV with a BOM, XLSX row by row,
user text never a formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from flask import Response
from sqlalchemy import func, select

from checklists.quotas import Standing
from checklists.vocabulary import ACTIVITY_FORMS, ACTIVITY_KINDS, GRADES, LOCATIONS, SUBJECTS

from ..auth.models import User
from ..core.models import School
from ..extensions import db
from ..spreadsheets import Column, Sheet, download
from ..timeutil import to_china
from .models import Activity, ActivityPhoto
from .operations import rubric_for
from .progress import QuotaContext, assigned_on_day, without_jit

#: Wider columns for the free text, so it wraps in the cell.
_WIDE = {"课题/主题": 24, "优点": 30, "建议": 30, "备注": 30, "说明": 30, "指标": 24, "依据文件": 24, "学校": 20}


def table_response(filename: str, fmt: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A download of ``rows`` as ``fmt`` (csv or xlsx) named ``filename`` (Chinese allowed), by the one writer."""
    columns = [Column(h, _WIDE.get(h, 12), "date" if h == "日期" else "text") for h in headers]
    return download(Sheet(filename, columns, rows), filename, fmt)


# --- the ledger --------------------------------------------------------------------


def ledger_headers(context: QuotaContext) -> list[str]:
    """Column titles of the ledger (the county's rubric dimensions included)."""
    rubric = [f"评分：{d.label}" for d in rubric_for(context.county)]
    return [
        "日期",
        "教研员",
        "类别",
        "形式",
        "学校",
        "学校代码",
        "城乡",
        "教育集团",
        "包片学校",
        "年级",
        "班级",
        "学科",
        "授课教师",
        "课题/主题",
        "参加人数",
        *rubric,
        "优点",
        "建议",
        "备注",
        "照片数",
        "最后修改（北京时间）",
        "记录编号",
    ]


def ledger_rows(context: QuotaContext, researcher_ids: Sequence[int]) -> Iterator[list[Any]]:
    """One row per live record of the term by the given 教研员, by date."""
    if context.term is None or not researcher_ids:
        return
    dimensions = [d.id for d in rubric_for(context.county)]
    assigned = assigned_on_day()
    photos = (
        select(func.count())
        .where(ActivityPhoto.activity_id == Activity.id, ActivityPhoto.deleted_at.is_(None))
        .scalar_subquery()
    )
    query = (
        select(
            Activity, User.display_name, School.name, School.code, School.location, School.group_name, assigned, photos
        )
        .join(User, User.id == Activity.researcher_id)
        .outerjoin(School, School.id == Activity.school_id)
        .where(
            Activity.county_id == context.county.id,
            Activity.deleted_at.is_(None),
            Activity.researcher_id.in_(list(researcher_ids)),
            Activity.occurred_on.between(context.term.starts_on, context.term.ends_on),
        )
        .order_by(Activity.occurred_on, User.display_name, Activity.id)
        .execution_options(yield_per=1000)
    )
    without_jit()
    for activity, name, school, code, location, group, is_assigned, photo_count in db.session.execute(query):
        scores = activity.scores or {}
        edited = to_china(activity.edited_at)
        yield [
            activity.occurred_on,
            name,
            ACTIVITY_KINDS.get(activity.kind, activity.kind),
            ACTIVITY_FORMS.get(activity.kind, {}).get(activity.form, activity.form),
            school or "",
            code or "",
            LOCATIONS.get(location or "", ""),
            group or "",
            "是" if is_assigned else "否",
            GRADES.get(activity.grade, activity.grade),
            activity.class_name,
            SUBJECTS.get(activity.subject, activity.subject),
            activity.teacher_name,
            activity.topic,
            activity.participants,
            *[scores.get(key) for key in dimensions],
            activity.strengths,
            activity.suggestions,
            activity.notes,
            photo_count,
            edited.strftime("%Y-%m-%d %H:%M") if edited else "",
            activity.id,
        ]


# --- the summary ---------------------------------------------------------------------

SUMMARY_HEADERS = [
    "教研员",
    "学科",
    "指标",
    "统计周期",
    "要求",
    "完成",
    "差额",
    "其他学校（不计入）",
    "状态",
    "进度",
    "依据文件",
    "说明",
]


def summary_rows(researchers: Sequence[tuple[User, str]], standings: dict[int, list[Standing]]) -> Iterator[list[Any]]:
    """One row per 教研员 per quota."""
    for user, subject in researchers:
        for item in standings.get(user.id, []):
            notes = []
            if item.prorated_from:
                notes.append(f"{item.prorated_from:%Y-%m-%d} 起包片，按天数折算")
            if item.is_expired and item.rule.effective_until:
                notes.append(f"文件有效期至 {item.rule.effective_until:%Y-%m-%d}，已到期，仍按原标准统计")
            yield [
                user.display_name,
                SUBJECTS.get(subject, subject),
                item.rule.title,
                item.window.label,
                item.target,
                item.done,
                item.remaining,
                item.apart,
                item.state_label,
                item.pace,
                "、".join(item.rule.doc_nos),
                "；".join(notes),
            ]
