"""Import of schools, users and assignments: row errors in Chinese, all or nothing."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from webapp.auth.models import User
from webapp.core.models import Assignment, School
from webapp.extensions import db

from .conftest import login

SCHOOLS_CSV = (
    "学校代码,学校名称,学段,城乡类型,寄宿制,在校生数,班级数,纬度,经度,教育集团\n"
    "A01,第一小学,小学,城区,否,1200,24,38.55,106.35,一集团\n"
    "A02,二中,初中,乡镇,是,600,12,38.60,106.40,\n"
    "A03,村小,primary,village,否,40,6,,,\n"
)


@pytest.fixture
def bureau(app, factory):
    county = factory.county("导入县", "helan")
    user = factory.user("reviewer", county)
    client = app.test_client()
    login(client, user)
    return client, county


def _preview(client, county, kind, name, data: bytes):
    """The first step: the file is checked and a preview shown (or every error)."""
    return client.post(
        "/admin/import/",
        data={"kind": kind, "county_id": str(county.id), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _confirm(client, preview_page: str):
    """The preview's 确认导入: its hidden fields posted back."""
    form = preview_page[preview_page.index('<section class="card" id="preview"') :]
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', form))
    return client.post("/admin/import/", data=fields, follow_redirects=True)


def _upload(client, county, kind, name, data: bytes):
    """Preview, then confirm when the file had no errors."""
    response = _preview(client, county, kind, name, data)
    page = response.get_data(as_text=True)
    if response.status_code != 200 or 'id="confirm-import"' not in page:
        return response
    return _confirm(client, page)


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_schools_from_csv(bureau):
    client, county = bureau
    response = _upload(client, county, "schools", "schools.csv", SCHOOLS_CSV.encode())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "新增 3 条" in response.get_data(as_text=True)
    schools = {s.code: s for s in db.session.scalars(select(School))}
    assert schools["A02"].stage == "junior" and schools["A02"].is_boarding and schools["A02"].location == "town"
    assert schools["A03"].latitude is None and schools["A01"].group_name == "一集团"
    # Importing again changes nothing.
    again = _upload(client, county, "schools", "schools.csv", SCHOOLS_CSV.encode())
    assert "未变 3 条" in again.get_data(as_text=True)
    assert _count(School) == 3


def test_excel_csv_in_gb18030_is_read(bureau):
    client, county = bureau
    response = _upload(client, county, "schools", "schools.csv", SCHOOLS_CSV.encode("gb18030"))
    assert response.status_code == 200
    assert _count(School) == 3


def test_row_errors_name_row_and_column_and_nothing_is_written(bureau):
    client, county = bureau
    bad = SCHOOLS_CSV + "A04,坏学校,中学,城区,也许,-5,2,91,106,\nA01,重复,小学,城区,否,1,1,,,\n"
    response = _upload(client, county, "schools", "schools.csv", bad.encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "未导入任何数据" in page
    for expected in (
        "不是有效的学段",
        "应填写“是”或“否”",
        "应为0到20000之间的整数",
        "纬度应在18到54之间",
        "与第2行重复",
    ):
        assert expected in page, expected
    assert "<td>5</td><td>学段</td>" in page and "<td>6</td><td>学校代码</td>" in page
    assert _count(School) == 0


def test_row_errors_are_in_chinese_and_quote_a_long_value_shortly(bureau):
    """marshmallow's English for NaN and inf reached the error list, and a 10,000-character cell was quoted whole."""
    client, county = bureau
    bad = SCHOOLS_CSV + "A04,四小,小学,城区,否,1,1,NaN,inf,\nA05," + "长" * 10_000 + ",小学,城区,否,1,1,,,\n"
    response = _upload(client, county, "schools", "schools.csv", bad.encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "not permitted" not in page and page.count("不能是 NaN 或无穷大。（填写的是“NaN”）") == 1
    assert "最长128个字。（填写的是“" + "长" * 40 + "…”）" in page and "长" * 41 not in page
    assert _count(School) == 0


def test_missing_and_unknown_columns(bureau):
    client, county = bureau
    response = _upload(client, county, "schools", "s.csv", "学校名称,颜色\n一小,红\n".encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "缺少必填列" in page and "无法识别的列名" in page and "颜色" in page


def test_bad_files_are_refused_clearly(bureau):
    client, county = bureau
    for name, data, message in [
        ("s.txt", b"x", "只支持 CSV 或 XLSX"),
        ("s.xlsx", b"not a zip", "无法读取 XLSX"),
        ("s.csv", b"", "文件是空的"),
    ]:
        response = _upload(client, county, "schools", name, data)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert "请选择要上传" in client.post("/admin/import/", data={"kind": "schools", "county_id": county.id}).get_data(
        as_text=True
    )


def _xlsx(rows) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_users_and_assignments_from_xlsx(bureau):
    client, county = bureau
    _upload(client, county, "schools", "schools.csv", SCHOOLS_CSV.encode())
    users = _xlsx(
        [
            ["用户名", "姓名", "角色", "初始密码"],
            ["wang_dx", "王督学", "责任督学", "pass-word-1"],
            ["li_jy", "李教研", "教研员", "pass-word-2"],
        ]
    )
    assert _upload(client, county, "users", "u.xlsx", users).status_code == 200
    from datetime import date

    assignments = _xlsx(
        [
            ["用户名", "学校代码", "类型", "开始日期", "结束日期"],
            ["wang_dx", "A01", "挂牌督导", date(2026, 9, 1), None],
            ["li_jy", "A03", "包片包抓", "2026-09-01", ""],
        ]
    )
    response = _upload(client, county, "assignments", "a.xlsx", assignments)
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = db.session.scalars(select(Assignment).order_by(Assignment.id)).all()
    assert [(a.user.username, a.school.code, a.kind) for a in rows] == [
        ("wang_dx", "A01", "inspector"),
        ("li_jy", "A03", "researcher"),
    ]
    wang = db.session.scalar(select(User).where(User.username == "wang_dx"))
    assert wang.check_password("pass-word-1") and wang.county_id == county.id


def test_assignment_references_are_checked(bureau, factory):
    client, county = bureau
    _upload(client, county, "schools", "schools.csv", SCHOOLS_CSV.encode())
    other = factory.county("别县")
    factory.user("inspector", other, username="outsider")
    factory.user("researcher", county, username="jy1")
    data = (
        "用户名,学校代码,类型,开始日期\n"
        "outsider,A01,挂牌督导,2026-09-01\njy1,A01,挂牌督导,2026-09-01\njy1,ZZZ,包片包抓,2026/13/1\n"
    )
    page = _upload(client, county, "assignments", "a.csv", data.encode()).get_data(as_text=True)
    assert "本县区没有用户“outsider”" in page
    assert "角色是教研员" in page
    assert "应为日期，如 2026-09-01" in page and "（填写的是“2026/13/1”）" in page
    assert _count(Assignment) == 0


def test_new_users_need_a_password_and_names_are_unique_across_counties(bureau, factory):
    client, county = bureau
    factory.user("inspector", factory.county("别县"), username="taken")
    data = "用户名,姓名,角色,初始密码\ntaken,某人,责任督学,pass-word-1\nnewbie,新人,教研员,\nx,短,督导室,short\n"
    page = _upload(client, county, "users", "u.csv", data.encode()).get_data(as_text=True)
    assert "已被其他县区" in page and "新用户必须填写初始密码" in page and "密码至少10位" in page
    assert db.session.scalar(select(User).where(User.username == "newbie")) is None


def test_reviewer_cannot_import_into_another_county(bureau, factory):
    client, _ = bureau
    other = factory.county("别县")
    response = _upload(client, other, "schools", "s.csv", SCHOOLS_CSV.encode())
    assert response.status_code == 422 and "请选择县区" in response.get_data(as_text=True)
    assert _count(School) == 0


def test_template_has_the_headers(bureau):
    client, _ = bureau
    body = client.get("/admin/import/template/assignments.csv").get_data()
    assert body.startswith("\ufeff".encode()) and "用户名,学校代码,类型,开始日期,结束日期" in body.decode("utf-8-sig")


def test_school_accounts_name_their_school_by_code(bureau):
    client, county = bureau
    assert _upload(client, county, "schools", "s.csv", SCHOOLS_CSV.encode()).status_code == 200
    bad = "用户名,姓名,角色,初始密码,学校代码\nxz1,校长,学校,pass-word-1,Z99\ndxx1,督学,责任督学,pass-word-1,A01\n"
    page = _upload(client, county, "users", "u.csv", bad.encode()).get_data(as_text=True)
    assert "学校账号须填写本县区的学校代码" in page and "只有学校账号填写学校代码" in page
    assert db.session.scalar(select(User).where(User.username == "xz1")) is None
    good = "用户名,姓名,角色,初始密码,学校代码\nxz1,校长,学校,pass-word-1,A01\ndxx1,督学,责任督学,pass-word-1,\n"
    response = _upload(client, county, "users", "u.csv", good.encode())
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    principal = db.session.scalar(select(User).where(User.username == "xz1"))
    assert principal.role == "school" and principal.school.code == "A01"
    assert db.session.scalar(select(User).where(User.username == "dxx1")).school_id is None


def test_preview_shows_what_changes_and_writes_nothing_until_confirmed(bureau):
    client, county = bureau
    _upload(client, county, "schools", "schools.csv", SCHOOLS_CSV.encode())
    changed = (
        SCHOOLS_CSV.replace("A02,二中,初中,乡镇,是,600", "A02,二中,初中,乡镇,是,650")
        + "A04,新学校,小学,村小,否,80,6,,,\n"
    )
    preview = _preview(client, county, "schools", "schools.csv", changed.encode())
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "将新增 1 条，更新 1 条，2 条不变" in page
    table = page[page.index('id="preview-table"') : page.index("</table>", page.index('id="preview-table"'))]
    assert "<td>新增</td><td>A04 新学校</td>" in table and "<td>更新</td><td>A02 二中</td><td>在校生数</td>" in table
    assert "A01" not in table  # unchanged rows are counted, not listed
    db.session.expire_all()
    assert _count(School) == 3 and db.session.scalar(select(School.enrolment).where(School.code == "A02")) == 600
    done = _confirm(client, page)
    assert done.status_code == 200 and "新增 1 条，更新 1 条，未变 2 条" in done.get_data(as_text=True)
    assert _count(School) == 4 and db.session.scalar(select(School.enrolment).where(School.code == "A02")) == 650


def test_excel_dates_are_accepted_and_every_error_comes_at_once(bureau, factory):
    from datetime import date, datetime

    client, county = bureau
    _upload(client, county, "schools", "schools.csv", SCHOOLS_CSV.encode())
    factory.user("inspector", county, username="dx1")
    rows = [
        ["用户名", "学校代码", "类型", "开始日期", "结束日期"],
        ["dx1", "A01", "挂牌督导", "2026/9/1", "2027年1月31日"],
        ["dx1", "A02", "挂牌督导", datetime(2026, 9, 2), 46418],  # a date cell; an Excel serial (2027-01-31)
        ["dx1", "A03", "挂牌督导", "2026.9.3", None],
    ]
    response = _upload(client, county, "assignments", "a.xlsx", _xlsx(rows))
    assert response.status_code == 200, response.get_data(as_text=True)
    got = {a.school.code: (a.starts_on, a.ends_on) for a in db.session.scalars(select(Assignment))}
    assert got == {
        "A01": (date(2026, 9, 1), date(2027, 1, 31)),
        "A02": (date(2026, 9, 2), date(2027, 1, 31)),
        "A03": (date(2026, 9, 3), None),
    }
    # An unknown column, two bad rows and a reference error: all in one answer, each bad value echoed.
    bad = "用户名,学校代码,类型,开始日期,备注\ndx1,A01,班主任,2026-02-30,x\nnobody,ZZZ,挂牌督导,明天,y\n"
    page = _preview(client, county, "assignments", "a.csv", bad.encode()).get_data(as_text=True)
    for expected in (
        "无法识别的列名",
        "不是有效的类型",
        "（填写的是“班主任”）",
        "（填写的是“2026-02-30”）",
        "（填写的是“明天”）",
    ):
        assert expected in page, expected


def test_xlsx_template_has_an_example_row(bureau):
    from openpyxl import load_workbook

    client, _ = bureau
    response = client.get("/admin/import/template/assignments.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    fill, example = book.worksheets
    assert [c.value for c in fill[1]] == ["用户名", "学校代码", "类型", "开始日期", "结束日期"] and fill.max_row == 1
    values = [[c.value for c in row] for row in example.iter_rows(min_row=2)]
    assert values[0] == ["用户名", "学校代码", "类型", "开始日期", "结束日期"]
    assert values[1][:3] == ["zhang_duxue", "001", "挂牌督导"] and values[1][3].date().isoformat() == "2026-09-01"


def test_a_confirmed_import_runs_as_a_job_whose_progress_the_page_shows(make_app, factory):
    """The write step is a job (as the report PDFs): the page says it is running, then what was written."""
    app = make_app(JOB_QUEUE="thread")
    with app.app_context():
        county = factory.county("测试县", "ceshi")
        client = app.test_client()
        login(client, factory.user("reviewer", county))
        page = _preview(client, county, "schools", "schools.csv", SCHOOLS_CSV.encode()).get_data(as_text=True)
        form = page[page.index('<section class="card" id="preview"') :]
        fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', form))
        confirmed = client.post("/admin/import/", data=fields)
        assert confirmed.status_code == 303 and "/admin/import/jobs/" in confirmed.location
        job_url = confirmed.location
        # The answer is not yet closed: the job has not run, nothing is written, the page polls.
        running = client.get(job_url).get_data(as_text=True)
        assert 'data-state="running"' in running and 'hx-trigger="every 1s"' in running
        assert f'hx-get="{job_url}"' in running and "已排队" in running and "<progress" in running
        assert _count(School) == 0
        polled = client.get(job_url, headers={"HX-Request": "true"})
        assert "<html" not in polled.get_data(as_text=True) and 'data-state="running"' in polled.get_data(as_text=True)
        confirmed.close()  # the answer has been sent: the job runs
        done = client.get(job_url, headers={"HX-Request": "true"}).get_data(as_text=True)
        assert 'data-state="done"' in done and "hx-trigger" not in done  # polling stops
        assert "新增 3 条，更新 0 条，未变 0 条" in done
        db.session.expire_all()
        assert _count(School) == 3
        # Only the person who asked can follow it.
        other = app.test_client()
        login(other, factory.user("reviewer", county))
        assert other.get(job_url).status_code == 404
        assert client.get("/admin/import/jobs/not-a-token").status_code == 404


def test_an_import_refused_by_its_job_writes_nothing_and_lists_the_errors(bureau, factory):
    """The name was taken elsewhere between the preview and the confirmation: the job checks again, refuses."""
    client, county = bureau
    data = "用户名,姓名,角色,初始密码\nlate1,某人,责任督学,pass-word-1\nlate2,某人二,教研员,pass-word-2\n"
    page = _preview(client, county, "users", "u.csv", data.encode()).get_data(as_text=True)
    assert 'id="confirm-import"' in page
    factory.user("inspector", factory.county("别县"), username="late1")
    refused = _confirm(client, page).get_data(as_text=True)
    assert 'data-state="failed"' in refused and "未导入任何数据" in refused and "已被其他县区" in refused
    assert db.session.scalar(select(User).where(User.username == "late2")) is None
