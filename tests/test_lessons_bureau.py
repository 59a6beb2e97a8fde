"""Counting in SQL equals the quota module; the bureau table, drill-down, coverage, home page, exports."""

from __future__ import annotations

import csv
import io
import random
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from checklists.model import AppliesTo
from checklists.quotas import Fact, tally
from webapp.core.models import Assignment, School
from webapp.extensions import db
from webapp.lessons.models import Activity, ResearcherProfile, Teacher
from webapp.lessons.progress import QuotaContext, quota_context, quota_tallies

from .conftest import login
from .lessons_world import assign, guidance, lesson, make_world
from .test_imports import _confirm as confirm_import


@pytest.fixture
def world(factory):
    return make_world(factory)


def record(user, school, day, kind="lesson", form="observe", teacher=None, **fields):
    """A stored record, straight into the database (no lock check: the past is set up here)."""
    activity = Activity(
        id=str(uuid.uuid4()),
        researcher_id=user.id,
        county_id=user.county_id,
        school_id=school.id if school else None,
        kind=kind,
        form=form,
        occurred_on=day,
        subject=fields.pop("subject", "math"),
        teacher_id=teacher.id if teacher else None,
        teacher_name=teacher.name if teacher else fields.pop("teacher_name", "王老师"),
        topic=fields.pop("topic", "课题"),
        write_id=str(uuid.uuid4()),
        edited_at=datetime(2026, 1, 1),
        **fields,
    )
    db.session.add(activity)
    return activity


def test_sql_counting_matches_the_quota_module(world):
    """Random records, assignments starting and ending mid-term: SQL and Python count alike."""
    rng = random.Random(4)
    term = world.current
    schools = [world.rural, world.town, world.urban, world.unassigned]
    # The other 教研员 also holds the town school for a while, and the first loses the urban one mid-term.
    assign(world.other, world.town, term.starts_on + timedelta(days=20), term.starts_on + timedelta(days=40))
    urban = db.session.query(Assignment).filter_by(user_id=world.researcher.id, school_id=world.urban.id).one()
    urban.ends_on = term.starts_on + timedelta(days=10)
    db.session.commit()
    span = (term.ends_on - term.starts_on).days
    forms = {"lesson": ["observe", "open", "sending"], "guidance": ["seminar", "homework"], "studio": ["lecture"]}
    for _ in range(300):
        kind = rng.choice(list(forms))
        user = rng.choice([world.researcher, world.other])
        school = rng.choice([*schools, None]) if kind == "studio" else rng.choice(schools)
        day = term.starts_on + timedelta(days=rng.randint(-15, span + 15))
        record(
            user,
            school,
            day,
            kind,
            rng.choice(forms[kind]),
            deleted_at=datetime(2026, 1, 2) if rng.random() < 0.1 else None,
        )
    db.session.commit()
    context = quota_context(world.county, term, today=world.today)
    (lessons, window), (guide, _), (themed, year) = context.rules
    context.rules += [
        (replace(lessons, item_id="x.open", forms=("open", "sending")), window),
        (replace(guide, item_id="x.any", schools="any", applies_to=AppliesTo(stages=("primary",))), window),
        (replace(themed, item_id="x.studio", kinds=("studio",)), year),
        (replace(themed, item_id="x.studio.assigned", kinds=("studio",), schools="assigned"), year),
    ]
    sql = quota_tallies(context)
    assignments = db.session.query(Assignment).all()
    profiles = {s.id: (s.stage, s.location, s.is_boarding) for s in db.session.query(School)}

    def is_assigned(activity):
        return any(
            a.user_id == activity.researcher_id
            and a.school_id == activity.school_id
            and a.starts_on <= activity.occurred_on
            and (a.ends_on is None or activity.occurred_on <= a.ends_on)
            for a in assignments
        )

    compared = 0
    for user in (world.researcher, world.other):
        facts = [
            Fact(a.occurred_on, a.kind, a.form, profiles.get(a.school_id), is_assigned(a))
            for a in db.session.query(Activity).filter_by(researcher_id=user.id, deleted_at=None)
        ]
        for rule, rule_window in context.rules:
            expected = tally(rule, rule_window, facts)
            assert sql[user.id][rule.item_id] == expected, rule.item_id
            compared += expected.counted + expected.apart
    assert compared > 300


def test_bureau_table_sorted_by_shortfall_with_filters_and_drill_down(client, world):
    for n in range(5):
        record(world.researcher, world.rural, world.today - timedelta(days=n))
    record(world.researcher, world.town, world.today, kind="guidance", form="seminar")
    record(world.researcher, world.unassigned, world.today)  # not theirs: apart
    record(world.other, world.unassigned, world.today)
    db.session.add(ResearcherProfile(user_id=world.other.id, subject="chinese"))
    db.session.commit()
    login(client, world.reviewer)
    page = client.get("/lessons/bureau").get_data(as_text=True)
    assert page.index("刘老师") < page.index("张老师")  # 刘 is further behind: first
    assert "还需 10 节，剩余 9 周" in page and "另 1 不计入" in page
    assert "有效期至 2025-12-31，已到期" in page
    by_name = client.get("/lessons/bureau?sort=name").get_data(as_text=True)
    assert by_name.index("刘老师") < by_name.index("张老师")  # 刘 (liú) sorts by code point before 张
    fragment = client.get("/lessons/bureau?subject=chinese", headers={"HX-Request": "true"})
    assert "HX-Request" in fragment.headers["Vary"]
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "刘老师" in body and "张老师" not in body
    grouped = client.get("/lessons/bureau?group=二集团").get_data(as_text=True)
    assert "刘老师" in grouped and "张老师" in grouped  # both hold a 二集团 school
    drill = client.get(f"/lessons/bureau/researchers/{world.researcher.id}").get_data(as_text=True)
    assert "5</span><small> / 15 节" in drill
    assert "非包片，不计入" in drill and "本学期尚未听课" in drill  # the urban school has no lesson yet
    records = client.get(
        f"/lessons/bureau/researchers/{world.researcher.id}?kind=guidance", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert records.count("<li>") == 1 and "教研指导" in records


def test_stray_url_arguments_neither_break_the_table_nor_reach_its_links(client, world):
    """``?kind=`` or ``?fmt=`` (the export's own names) and ``?_method=`` (url_for's) once made the page a 500."""
    login(client, world.reviewer)
    for query in ("kind=zzz", "fmt=pdf", "_method=zzz", "endpoint=x", "kind=ledger&subject=chinese&sort=name"):
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(f"/lessons/bureau?{query}", headers=headers)
            assert response.status_code == 200, query
            body = response.get_data(as_text=True)
            assert "/lessons/bureau/export/ledger.xlsx" in body and "zzz" not in body and "pdf" not in body
    body = client.get("/lessons/bureau?kind=ledger&subject=chinese&sort=name").get_data(as_text=True)
    assert "/lessons/bureau/export/summary.csv?subject=chinese&amp;sort=name" in body


def test_a_researcher_assigned_mid_term_has_a_prorated_target(client, world, factory):
    late = factory.user("researcher", world.county)
    late.display_name = "王老师"
    assign(late, world.rural, world.today - timedelta(days=1))
    login(client, world.reviewer)
    page = client.get(f"/lessons/bureau/researchers/{late.id}").get_data(as_text=True)
    # 62 of the term's 91 days: 15 × 62 / 91 = 10.2 → 11
    assert "0</span><small> / 11 节" in page and "起包片，要求按在岗天数折算为 11 节" in page


def test_a_county_without_quotas_still_lists_records(client, factory):
    world = make_world(factory, policy_set="xinganmeng")
    record(world.researcher, world.rural, world.today)
    db.session.commit()
    login(client, world.reviewer)
    page = client.get("/lessons/bureau").get_data(as_text=True)
    assert "本县政策包未设定教研员的学期数量要求" in page and "张老师" in page
    client.post("/logout")
    login(client, world.researcher)
    assert client.get("/api/v1/researcher/bundle").get_json()["quotas"] == []
    home = client.get("/").get_data(as_text=True)
    assert "本县政策包未设定教研员听评课、教研指导的数量要求" in home


def test_home_page_shows_progress_and_silent_schools(client, world):
    for n in range(3):
        record(world.researcher, world.rural, world.today - timedelta(days=n))
    db.session.commit()
    login(client, world.researcher)
    home = client.get("/").get_data(as_text=True)
    assert '<span class="done">3</span><small> / 15 节' in home
    assert "还需 12 节，剩余 9 周" in home
    assert "本学期尚未听课的包片学校：镇中心小学、城区小学" in home
    mine = client.get("/lessons/").get_data(as_text=True)
    assert "本学期记录" in mine and "村小" in mine


def test_records_show_their_history_to_their_owner_and_the_bureau_only(client, world, factory):
    login(client, world.researcher)
    activity_id = str(uuid.uuid4())
    client.put(f"/api/v1/activities/{activity_id}", json=lesson(world.rural, world.today, topic="初稿"))
    client.put(f"/api/v1/activities/{activity_id}", json=lesson(world.rural, world.today, topic="定稿"))
    page = client.get(f"/lessons/records/{activity_id}").get_data(as_text=True)
    assert "修改记录（2）" in page and "· 初稿" in page and "定稿" in page
    client.post("/logout")
    login(client, world.other)
    assert client.get(f"/lessons/records/{activity_id}").status_code == 404
    client.post("/logout")
    outsider = factory.user("reviewer", factory.county())
    login(client, outsider)
    assert client.get(f"/lessons/records/{activity_id}").status_code == 404
    assert client.get(f"/lessons/bureau/researchers/{world.researcher.id}").status_code == 404


def test_the_bureau_sets_a_researchers_subject(client, world):
    login(client, world.reviewer)
    response = client.post(f"/lessons/bureau/researchers/{world.researcher.id}/profile", data={"subject": "math"})
    assert response.status_code == 302
    assert db.session.get(ResearcherProfile, world.researcher.id).subject == "math"
    bad = client.post(f"/lessons/bureau/researchers/{world.researcher.id}/profile", data={"subject": "alchemy"})
    assert bad.status_code == 422 and "学科无效" in bad.get_data(as_text=True)


def test_teacher_coverage_over_the_three_year_cycle(client, factory):
    world = make_world(factory, policy_set="xiji")
    third = Teacher(school_id=world.rural.id, name="王文斌")
    db.session.add(third)
    db.session.commit()
    teachers = db.session.query(Teacher).filter_by(school_id=world.rural.id).all()
    marked = next(t for t in teachers if t.name == "马晓梅")
    record(world.researcher, world.rural, world.today, teacher=marked)
    record(world.other, world.rural, world.today - timedelta(days=1), teacher=marked)
    record(world.researcher, world.rural, world.today, teacher_name="不在名单")
    record(world.researcher, world.rural, date(2022, 5, 1), teacher=third)  # before this cycle
    db.session.commit()
    login(client, world.reviewer)
    page = client.get("/lessons/bureau/coverage").get_data(as_text=True)
    assert "3年一周期全体教师课堂质量监测" in page
    assert "全县 1 / 3 位教师已听课（33%）" in page
    assert "李志强、王文斌" in page and "另有 1 节课的教师不在名单中" in page
    client.post("/logout")
    login(client, world.researcher)  # their own page: coverage of their 包片 schools only
    mine = client.get("/lessons/").get_data(as_text=True)
    assert "3年一周期全体教师课堂质量监测" in mine and "别人的村小" not in mine
    assert '<td class="num">33%</td>' in mine


def test_exports_open_in_excel_with_chinese_intact(client, world):
    activity = record(world.researcher, world.rural, world.today, teacher_name="=HYPERLINK(1)", topic="分数")
    record(world.other, world.unassigned, world.today - timedelta(days=2))
    db.session.commit()
    login(client, world.reviewer)
    ledger = client.get("/lessons/bureau/export/ledger.xlsx")
    assert ledger.status_code == 200 and "filename*=UTF-8''" in ledger.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(ledger.data)).active
    rows = list(sheet.iter_rows(values_only=True))[1:]  # under the title row
    assert rows[0][:4] == ("日期", "教研员", "类别", "形式") and "评分：教学目标" in rows[0]
    assert len(rows) == 3
    mine = next(r for r in rows[1:] if r[-1] == activity.id)
    assert mine[1:5] == ("张老师", "听评课", "听评课", "村小") and mine[8] == "是"
    assert "=HYPERLINK(1)" in mine  # kept as text, not a formula
    assert sheet.cell(row=rows.index(mine) + 2, column=rows[0].index("授课教师") + 1).data_type == "s"
    csv_response = client.get("/lessons/bureau/export/ledger.csv")
    text = csv_response.data.decode("utf-8")
    assert text.startswith("\ufeff日期,教研员") and "\r\n" in text
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(parsed) == 3 and "'=HYPERLINK(1)" in parsed[1] + parsed[2]
    summary = load_workbook(io.BytesIO(client.get("/lessons/bureau/export/summary.xlsx").data)).active
    summary_rows = list(summary.iter_rows(values_only=True))[1:]
    assert summary_rows[0][:4] == ("教研员", "学科", "指标", "统计周期")
    assert len(summary_rows) == 1 + 2 * 3  # two 教研员 × three 贺兰 quotas
    zhang = [r for r in summary_rows if r[0] == "张老师"]
    assert ("教研员每学期听评课≥15节", "本学期", 15, 1, 14) == zhang[0][2:7]
    assert "已到期，仍按原标准统计" in zhang[0][-1]
    summary_csv = client.get("/lessons/bureau/export/summary.csv?subject=chinese").data.decode("utf-8-sig")
    assert summary_csv.count("\r\n") == 1  # header only: nobody teaches 语文 here
    assert client.get("/lessons/bureau/export/ledger.pdf").status_code == 404


def _styles(sheet, header_row: int) -> dict:
    """What makes an export look like the bureau's: title row, header style, frozen header, filter, widths."""
    header = list(sheet.iter_rows(min_row=header_row, max_row=header_row))[0]
    return {
        "title": bool(sheet["A1"].value) and header_row == 2,
        "bold": {c.font.b for c in header},
        "fill": {c.fill.fgColor.rgb for c in header},
        "freeze": sheet.freeze_panes,
        "filter_from": sheet.auto_filter.ref.split(":")[0],
    }


def test_lessons_exports_are_styled_like_the_bureau_s(client, world):
    """教研 exports: the bureau's 台账 look, through the one writer (compared cell style by cell style)."""
    record(world.researcher, world.rural, world.today, topic="分数")
    db.session.commit()
    login(client, world.reviewer)
    bureau = load_workbook(io.BytesIO(client.get("/bureau/exports/schools.xlsx").data)).active
    ledger = load_workbook(io.BytesIO(client.get("/lessons/bureau/export/ledger.xlsx").data)).active
    summary = load_workbook(io.BytesIO(client.get("/lessons/bureau/export/summary.xlsx").data)).active
    expected = _styles(bureau, 2)
    assert expected == {"title": True, "bold": {True}, "fill": {"00DDE7F0"}, "freeze": "A3", "filter_from": "A2"}
    assert _styles(ledger, 2) == expected and _styles(summary, 2) == expected
    assert ledger.title == "活动台账" and summary.title == "完成情况汇总"  # short names, as 学校汇总
    assert ledger["A1"].value.endswith("教研员活动台账") and summary["A1"].value.endswith("教研员完成情况汇总")
    assert ledger["A1"].value.startswith(world.county.name) and bureau["A1"].value.startswith(world.county.name)
    # Widths per column, as the bureau's: a date 14, a school 24, long text wider; not one width for all.
    header = [c.value for c in ledger[2]]
    width = {h: ledger.column_dimensions[chr(ord("A") + i)].width for i, h in enumerate(header[:26])}
    assert width["日期"] == bureau.column_dimensions["E"].width == 14  # 最近督导
    assert width["学校"] == bureau.column_dimensions["B"].width == 24
    assert width["课题/主题"] > width["教研员"]
    # Dates and times are typed cells with the bureau's Chinese formats.
    assert ledger["A3"].number_format == 'yyyy"年"m"月"d"日"'
    edited = ledger.cell(row=3, column=header.index("最后修改（北京时间）") + 1)
    assert edited.is_date and edited.number_format == 'yyyy"年"m"月"d"日" hh:mm'
    # The CSV stays data for other programs: header first, no title row.
    text = client.get("/lessons/bureau/export/ledger.csv").data.decode("utf-8-sig")
    assert text.startswith("日期,教研员")


def test_quota_context_of_a_county_without_terms(factory):
    county = factory.county("无学期县", "helan")
    context = quota_context(county)
    assert isinstance(context, QuotaContext) and context.term is None and context.rules == []
    assert quota_tallies(context) == {}


def test_guidance_counts_only_at_assigned_rural_schools(client, world):
    login(client, world.researcher)
    for school in (world.rural, world.urban, world.unassigned):
        client.put(f"/api/v1/activities/{uuid.uuid4()}", json=guidance(school, world.today))
    quotas = client.get("/api/v1/researcher/bundle").get_json()["quotas"]
    standing = next(q for q in quotas if q["item_id"] == "helan.researcher.guidance_sessions")["standing"]
    assert (standing["done"], standing["apart"]) == (1, 2)


def test_teacher_lists_are_imported_like_schools(client, world):
    login(client, world.reviewer)
    csv_text = (
        "学校代码,姓名,学科,在职\r\n"
        f"{world.rural.code},马晓梅,语文,是\r\n"  # already listed (as math): updated
        f"{world.rural.code},王文斌,数学,\r\n"
        f"{world.town.code},白春生,体育与健康,否\r\n"
    )

    def upload(text: str):
        data = {
            "kind": "teachers",
            "county_id": world.county.id,
            "file": (io.BytesIO(text.encode("utf-8-sig")), "t.csv"),
        }
        response = client.post("/admin/import/", data=data, content_type="multipart/form-data")
        page = response.get_data(as_text=True)
        if response.status_code == 200 and 'id="confirm-import"' in page:
            return confirm_import(client, page)  # the preview, then 确认导入
        return response

    assert upload(csv_text).status_code == 200
    teachers = {(t.school_id, t.name): t for t in db.session.query(Teacher)}
    assert teachers[(world.rural.id, "马晓梅")].subject == "chinese"
    assert teachers[(world.rural.id, "王文斌")].subject == "math" and teachers[(world.rural.id, "王文斌")].is_active
    assert teachers[(world.town.id, "白春生")].is_active is False
    bad = upload("学校代码,姓名,学科\r\nNOPE,张三,数学\r\n" + f"{world.rural.code},李四,炼金术\r\n")
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "没有学校代码“NOPE”" in page and "不是有效的学科" in page
    assert db.session.query(Teacher).count() == 4  # nothing written from the bad file
