"""Import of schools, users and assignments: row errors in Chinese, all or nothing."""

from __future__ import annotations

import io

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


def _upload(client, county, kind, name, data: bytes):
    return client.post(
        "/admin/import/",
        data={"kind": kind, "county_id": str(county.id), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


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
        "outsider,A01,挂牌督导,2026-09-01\njy1,A01,挂牌督导,2026-09-01\njy1,ZZZ,包片包抓,2026/9/1\n"
    )
    page = _upload(client, county, "assignments", "a.csv", data.encode()).get_data(as_text=True)
    assert "本县区没有用户“outsider”" in page
    assert "角色是教研员" in page
    assert "日期格式应为" in page
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
