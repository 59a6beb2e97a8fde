"""School traits and types, county settings: the import, the bureau's forms, the profile checklists use."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from webapp.bureau.audit.operations import entries_for
from webapp.core.models import County, School
from webapp.extensions import db
from webapp.packs.operations import county_settings, school_profile

from . import exact_support
from .conftest import login
from .test_imports import _upload as upload_with_preview

HEADER = "学校代码,学校名称,学段,城乡类型,寄宿制,在校生数,班级数,学校特征\n"


@pytest.fixture
def bureau(app, factory):
    county = factory.county("特征县", "helan")
    client = app.test_client()
    login(client, factory.user("reviewer", county))
    return client, county


def _upload(client, county, text: str):
    """The school import: preview, then 确认导入 when the file had no errors."""
    return upload_with_preview(client, county, "schools", "s.csv", text.encode())


def _schools() -> dict[str, School]:
    db.session.expire_all()
    return {s.code: s for s in db.session.scalars(select(School))}


def test_import_reads_traits_and_the_new_school_types(bureau):
    client, county = bureau
    csv = HEADER + (
        "T01,一中,十二年一贯制,城区,是,3000,60,集团核心校、有校车;有食堂\n"
        "T02,二中,完全中学,乡镇,否,1200,24,乡镇中心校，原民族语言授课\n"
        "T03,三小,九年一贯制,村小,,300,9,寄宿制\n"
        "T04,四小,小学,村小,否,40,6,\n"
    )
    response = _upload(client, county, csv)
    assert response.status_code == 200, response.get_data(as_text=True)
    schools = _schools()
    assert schools["T01"].stage == "twelve_year"
    assert schools["T01"].traits == ["boarding", "canteen", "group_core", "school_bus"]
    assert schools["T02"].stage == "complete_secondary"
    assert schools["T02"].traits == ["minority_language", "township_central"] and not schools["T02"].is_boarding
    # 寄宿制 among the traits makes a boarding school even with the 寄宿制 cell blank.
    assert schools["T03"].is_boarding and schools["T03"].traits == ["boarding"]
    assert schools["T04"].traits == []
    profile = school_profile(schools["T01"])
    assert profile.traits == frozenset({"boarding", "canteen", "group_core", "school_bus"}) and profile.is_boarding


def test_import_names_the_bad_trait_and_writes_nothing(bureau):
    client, county = bureau
    csv = HEADER + "T01,一中,小学,城区,否,300,6,集团核心校、<b>飞行学校</b>\nT02,二中,初中,城区,否,300,6,寄宿制\n"
    response = _upload(client, county, csv)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "不是有效的学校特征" in page and "“&lt;b&gt;飞行学校&lt;/b&gt;”" in page
    assert "<b>飞行学校" not in page  # user text is escaped
    # 寄宿制 = 否 while 学校特征 says 寄宿制: the row contradicts itself.
    assert "<td>3</td><td>学校特征</td>" in page and "“寄宿制”列填的是“否”" in page
    assert _schools() == {}


def test_reimport_without_the_traits_column_keeps_traits(bureau):
    client, county = bureau
    _upload(client, county, HEADER + "T01,一中,小学,城区,否,300,6,有校车、集团核心校\n")
    old_file = "学校代码,学校名称,学段,城乡类型,寄宿制\nT01,一中,小学,城区,是\n"
    response = _upload(client, county, old_file)
    assert response.status_code == 200
    school = _schools()["T01"]
    assert school.traits == ["boarding", "group_core", "school_bus"] and school.is_boarding


def test_reviewer_edits_traits_with_csrf_and_validation(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        county = factory.county("表单县", "helan")
        other = factory.county("别县", "helan")
        school = factory.school(county, is_boarding=True, traits=["boarding"])
        foreign = factory.school(other)
        client = app.test_client()
        login(client, factory.user("reviewer", county))
        page = client.get(f"/schools/{school.id}/traits").get_data(as_text=True)
        assert "集团核心校" in page and 'value="boarding" checked' in page
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        # Without the token: refused.
        assert client.post(f"/schools/{school.id}/traits", data={"traits": ["school_bus"]}).status_code == 400
        bad = client.post(f"/schools/{school.id}/traits", data={"csrf_token": token, "traits": ["flying"]})
        assert bad.status_code == 422 and "不是有效的学校特征：“flying”" in bad.get_data(as_text=True)
        done = client.post(
            f"/schools/{school.id}/traits", data={"csrf_token": token, "traits": ["school_bus", "group_core"]}
        )
        assert done.status_code == 302
        db.session.expire_all()
        school = db.session.get(School, school.id)
        assert school.traits == ["group_core", "school_bus"] and not school.is_boarding
        (entry,) = entries_for("school", school.id)
        assert (entry.action, entry.old_value, entry.new_value) == (
            "traits",
            {"traits": ["boarding"]},
            {"traits": ["group_core", "school_bus"]},
        )
        # Another county's school: not the reviewer's.
        assert client.get(f"/schools/{foreign.id}/traits").status_code == 403


def test_county_settings_form_validates_and_keeps_defaults(app, factory):
    exact_support.install(app)
    county = factory.county("设定县", "testpack")
    client = app.test_client()
    login(client, factory.user("reviewer", county))
    page = client.get(f"/counties/{county.id}/settings").get_data(as_text=True)
    assert "优质均衡验收年份" in page and "三年轮训起始日" in page and "默认：2022-09-01" in page
    bad = client.post(
        f"/counties/{county.id}/settings", data={"acceptance_year": "明年", "teacher_cycle_anchor": "9/1"}
    )
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "应为年份，如 2027。" in text and "日期格式应为 2026-09-01。" in text
    assert client.post(f"/counties/{county.id}/settings", data={"acceptance_year": "1890"}).status_code == 422
    ok = client.post(f"/counties/{county.id}/settings", data={"acceptance_year": "2027", "teacher_cycle_anchor": ""})
    assert ok.status_code == 302
    db.session.expire_all()
    county = db.session.get(County, county.id)
    assert county.settings == {"acceptance_year": 2027}
    (entry,) = entries_for("county", county.id)
    assert (entry.action, entry.old_value, entry.new_value) == ("settings", {}, {"acceptance_year": 2027})
    # The blank anchor takes the pack's default.
    assert county_settings(county) == {
        "acceptance_year": 2027,
        "teacher_cycle_anchor": exact_support.PACK.county_settings[1].default,
    }


def test_county_settings_of_another_county_are_refused(app, factory):
    county, other = factory.county("甲设定县"), factory.county("乙设定县")
    client = app.test_client()
    login(client, factory.user("reviewer", county))
    assert client.get(f"/counties/{other.id}/settings").status_code == 403
    assert client.post(f"/counties/{other.id}/settings", data={}).status_code == 403
    assert client.get("/counties/999999/settings").status_code == 404
