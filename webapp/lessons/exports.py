"""Ledger (one row per record) and summary (one row per 教研员 per quota) as CSV or XLSX.

Written by the app's one spreadsheet writer (``webapp.spreadsheets``): UTF-8 CSV with a BOM, XLSX row by row,
user text never a formula.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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


def table_response(sheet: Sheet, filename: str, fmt: str) -> Response:
    """A download of ``sheet`` as ``fmt`` (csv or xlsx) named ``filename`` (Chinese allowed), by the one writer.

    Styled as the bureau's 台账: a short sheet name, the title row above the frozen, shaded header, and widths
    per column. A CSV is data for other programs: header first, no title row.
    """
    if fmt == "csv":
        sheet = Sheet(sheet.title, sheet.columns, sheet.rows, sheet.highlight)
    return download(sheet, filename, fmt)


# --- the ledger --------------------------------------------------------------------


def ledger_columns(context: QuotaContext) -> list[Column]:
    """Columns of the ledger (the county's rubric dimensions included), as wide as the bureau's alike."""
    rubric = [Column(f"评分：{d.label}", 10, "number") for d in rubric_for(context.county)]
    return [
        Column("日期", 14, "date"),
        Column("教研员", 12),
        Column("类别", 10),
        Column("形式", 10),
        Column("学校", 24),
        Column("学校代码", 10),
        Column("城乡", 8),
        Column("教育集团", 16),
        Column("包片学校", 8),
        Column("年级", 8),
        Column("班级", 8),
        Column("学科", 8),
        Column("授课教师", 12),
        Column("课题/主题", 24),
        Column("参加人数", 8, "number"),
        *rubric,
        Column("优点", 30),
        Column("建议", 30),
        Column("备注", 30),
        Column("照片数", 8, "number"),
        Column("最后修改（北京时间）", 18, "datetime"),
        Column("记录编号", 38),
    ]


def ledger_sheet(context: QuotaContext, researcher_ids: Sequence[int]) -> Sheet:
    """活动台账: one row per live record of the term, titled like the bureau's term sheets."""
    term = context.term.name if context.term else "无学期"
    note = f"{context.county.name} {term} 教研员活动台账"
    return Sheet("活动台账", ledger_columns(context), ledger_rows(context, researcher_ids), note=note)


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
        edited = to_china(activity.edited_at)  # a China time without a zone, as the bureau's sheets (Excel has none)
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
            edited.replace(tzinfo=None) if edited else None,
            activity.id,
        ]


# --- the summary ---------------------------------------------------------------------

SUMMARY_COLUMNS = [
    Column("教研员", 12),
    Column("学科", 8),
    Column("指标", 30),
    Column("统计周期", 12),
    Column("要求", 8, "number"),
    Column("完成", 8, "number"),
    Column("差额", 8, "number"),
    Column("其他学校（不计入）", 10, "number"),
    Column("状态", 10),
    Column("进度", 24),
    Column("依据文件", 24),
    Column("说明", 40),
]


def summary_sheet(
    context: QuotaContext, researchers: Sequence[tuple[User, str]], standings: dict[int, list[Standing]]
) -> Sheet:
    """完成情况汇总: one row per 教研员 per quota, titled like the bureau's term sheets."""
    term = context.term.name if context.term else "无学期"
    note = f"{context.county.name} {term} 教研员完成情况汇总"
    return Sheet("完成情况汇总", SUMMARY_COLUMNS, summary_rows(researchers, standings), note=note)


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
