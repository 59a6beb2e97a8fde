"""Exports parse back as the bureau's 台账; the printed report, its PDF and the term summary."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from webapp.bureau.rectification.models import RectificationTask
from webapp.bureau.review import listing
from webapp.extensions import db
from webapp.timeutil import today_in_china

from .bureau_support import ALARM, CLASS_SIZE, alarm_photo, make_world, record_visit


@pytest.fixture(name="world")
def world_fixture(factory):
    """The bureau tests' county, schools and people."""
    return make_world(factory)


@pytest.fixture
def reviewed(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}}, {ALARM: alarm_photo()})
    bureau.post(f"/bureau/visits/{visit_id}/review", data={"decision": "accept", "comment": "请尽快整改"})
    other, _, _ = record_visit(phone, world.junior, {CLASS_SIZE: {"number": 53}})
    task = db.session.scalar(select(RectificationTask))
    task.deadline = today_in_china() - timedelta(days=3)  # overdue
    db.session.commit()
    return visit_id, other, bureau


def _sheet(response):
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    return book[book.sheetnames[0]]


def _rows(sheet, header_row=1):
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[header_row - 1]
    return header, [dict(zip(header, row, strict=True)) for row in rows[header_row:]]


def test_visits_export(reviewed, world):
    visit_id, other, bureau = reviewed
    sheet = _sheet(bureau.get("/bureau/exports/visits.xlsx"))
    header, rows = _rows(sheet)
    assert header[:5] == ("督导日期", "学校", "学校代码", "责任督学", "状态")
    by_school = {r["学校"]: r for r in rows}
    assert by_school["吉强镇中心小学"]["状态"] == "已通过" and by_school["吉强镇中心小学"]["审核结论"] == "审核通过"
    assert by_school["吉强镇中心小学"]["未达标项"] == 1 and by_school["吉强镇中心小学"]["照片数"] == 1
    assert by_school["兴隆镇中学"]["状态"] == "已提交"
    assert isinstance(by_school["兴隆镇中学"]["督导日期"], date)
    assert sheet["A2"].number_format == 'yyyy"年"m"月"d"日"'
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    filtered = _sheet(bureau.get("/bureau/exports/visits.xlsx?failed=1&state=accepted"))
    assert [r["学校"] for r in _rows(filtered)[1]] == ["吉强镇中心小学"]


def test_results_tasks_and_schools_exports(reviewed, world):
    _, _, bureau = reviewed
    results = _sheet(bureau.get(f"/bureau/exports/results.xlsx?term={world.term.id}"))
    assert "检查结果" in results["A1"].value
    header, rows = _rows(results, header_row=2)
    assert header[:6] == ("督导日期", "学校", "责任督学", "检查组", "检查项", "标准")
    alarm = next(r for r in rows if r["检查项"].startswith("一键报警") and r["学校"] == "吉强镇中心小学")
    assert alarm["检查结果"] == "否" and alarm["判定"] == "未达标"
    size = next(r for r in rows if r["学校"] == "兴隆镇中学" and r["检查项"].startswith("班额"))
    assert size["检查结果"] == "53人" and size["标准"] == "≤ 50人"

    tasks = _sheet(bureau.get("/bureau/exports/tasks.xlsx"))
    header, rows = _rows(tasks)
    assert header[:4] == ("序号", "学校", "检查项", "存在问题")
    assert rows[0]["是否逾期"] == "是" and rows[0]["逾期天数"] == 3 and rows[0]["状态"] == "整改中"
    assert tasks["A2"].fill.fgColor.rgb.endswith("FBE3E1")  # overdue rows highlighted
    assert tasks["F2"].number_format == 'yyyy"年"m"月"d"日"'

    schools = _sheet(bureau.get(f"/bureau/exports/schools.xlsx?term={world.term.id}"))
    header, rows = _rows(schools, header_row=2)
    line = next(r for r in rows if r["学校"] == "吉强镇中心小学")
    assert line["督导次数"] == 1 and line["未达标项"] == 1 and line["逾期整改"] == 1
    assert 0 < line["达标率"] < 1
    assert bureau.get("/bureau/exports/nothing.xlsx").status_code == 404


def test_visit_list_keyset_pages(app, world, reviewed):
    phone = world.client(app, "inspector")
    for _ in range(3):
        record_visit(phone, world.school)
    filters = listing.VisitFilters(county_id=world.county.id)
    first = listing.visits_page(filters, per_page=2)
    assert first.total == 5 and len(first.rows) == 2 and first.next_after
    seen = [r.visit.id for r in first.rows]
    cursor = first.next_after
    while cursor:
        page = listing.visits_page(
            listing.VisitFilters(county_id=world.county.id, after=listing.parse_cursor(cursor)), per_page=2
        )
        seen += [r.visit.id for r in page.rows]
        cursor = page.next_after
    assert len(seen) == len(set(seen)) == 5
    failed = listing.visits_page(listing.VisitFilters(county_id=world.county.id, failed_only=True))
    assert {r.school_name for r in failed.rows} == {"吉强镇中心小学", "兴隆镇中学"}
    assert all(r.failed_count == 1 for r in failed.rows)
    by_state = listing.visits_page(listing.VisitFilters(county_id=world.county.id, state="accepted"))
    assert by_state.total == 1
    html = world.client(app, "reviewer").get(f"/bureau/visits?state=submitted&school={world.school.id}")
    assert html.get_data(as_text=True).count('class="visit-row"') == 3


def test_report_page_and_pdf(reviewed):
    visit_id, _, bureau = reviewed
    page = bureau.get(f"/bureau/visits/{visit_id}/report").get_data(as_text=True)
    assert "责任督学挂牌督导报告" in page and "@page { size: A4" in page and "学校负责人（签字）" in page
    assert "一、存在问题及照片" in page and "请尽快整改" in page
    pdf = bureau.get(f"/bureau/visits/{visit_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert len(pdf.data) > 20_000  # fonts and the inlined photo are embedded
    assert b"CJK" in pdf.data and b"/Subtype /Image" in pdf.data  # Chinese set in Noto CJK, the photo inlined
    # A bureau's document: heading, 文号, page numbers on every page, signature lines with 日期.
    assert "西吉县人民政府教育督导室" in page and re.search(r'class="doc-no">西吉督〔\d{4}〕\d+号<', page)
    assert "counter(page)" in page and page.count('<div class="line"></div>') == 3 and page.count("日期：") == 3
    assert "onclick" not in page and "page.js" in page  # no inline handlers (CSP)
    from pypdf import PdfReader

    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages]
    total = len(pages)
    for number, text in enumerate(pages, start=1):
        assert re.search(rf"第 {number} .，共 {total} .", text), text[:120]  # 页 comes out as a CJK radical
        assert re.search(r"西吉督〔\d{4}〕\d+号", text)
    # The signatures never stand alone on the last page: the summary comes with them.
    last = unicodedata.normalize("NFKC", pages[-1])
    assert "督导小结" in last and "学校负责" in last


def test_pdf_without_chromium_says_so(make_app, factory):
    app = make_app(PDF_CHROMIUM="/nonexistent/chromium")
    with app.app_context():
        from webapp.bureau.reports.pdf import html_to_pdf
        from webapp.errors import AppError

        with pytest.raises(AppError) as caught:
            html_to_pdf("<p>x</p>")
    assert caught.value.status == 503 and "打印" in caught.value.message


def test_term_summary(reviewed, world):
    _, _, bureau = reviewed
    page = bureau.get(f"/bureau/summary?term={world.term.id}").get_data(as_text=True)
    assert "责任督学挂牌督导工作汇总" in page
    assert "本学期督导覆盖 2 所" in page and "逾期未销号 <b>1</b> 项" in page
    assert "一键报警装置" in page and "教研员任务完成情况" in page
    group = page[page.index("各教育集团情况") :]
    assert "一小教育集团" in group and '<td class="num">2</td><td class="num">2</td>' in group
