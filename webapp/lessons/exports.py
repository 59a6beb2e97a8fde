"""Ledger (one row per record) and summary (one row per 教研员 per quota) as CSV or XLSX.

CSV is UTF-8 with a BOM and CRLF line ends, which Excel and WPS open with the
Chinese intact; XLSX is written row by row (openpyxl write-only). Text that a spreadsheet would run
as a formula is kept as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import func, select

from checklists.quotas import Standing
from checklists.vocabulary import ACTIVITY_FORMS, ACTIVITY_KINDS, GRADES, LOCATIONS, SUBJECTS

from ..auth.models import User
from ..core.models import School
from ..extensions import db
from ..timeutil import to_china
from .models import Activity, ActivityPhoto
from .operations import rubric_for
from .progress import QuotaContext, assigned_on_day, without_jit

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _csv_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv_lines(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    yield "\ufeff" + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_csv_safe(v) for v in row])
        yield buffer.getvalue()


def _xlsx_bytes(sheet_title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    sheet.append(list(headers))
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif isinstance(value, date) and not isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def table_response(filename: str, fmt: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A download of ``rows`` as ``fmt`` (csv or xlsx) named ``filename`` (Chinese allowed)."""
    name = f"{filename}.{fmt}"
    disposition = f"attachment; filename=\"dudao.{fmt}\"; filename*=UTF-8''{quote(name)}"
    if fmt == "csv":
        # Built whole (a term's ledger is thousands of rows, not millions): the query
        # runs inside the request, where its session and errors belong.
        body: Any = "".join(_csv_lines(headers, rows)).encode("utf-8")
    else:
        body = _xlsx_bytes(filename[:31], headers, rows)
    response = Response(body, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = disposition
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


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
