"""Exact checklists in the app (issue 8): not-applicable schools, old snapshots kept, mixed schools by
section in the matrix, the binding-only filter, drafts marked, concept names across counties."""

from __future__ import annotations

import copy
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from webapp.core.models import Term
from webapp.extensions import db
from webapp.packs.models import ChecklistVersion
from webapp.timeutil import today_in_china
from webapp.visits.models import Visit
from webapp.visits.operations import plan_visit

from . import exact_support
from .bureau_support import items_of, record_visit
from .conftest import login


@pytest.fixture
def world(app, factory):
    """测试县 on the synthetic pack with a current term, an inspector of four schools, a reviewer."""
    exact_support.install(app)
    exact_support.install(app, exact_support.DRAFT)
    county = factory.county("测试县", "testpack")
    today = today_in_china()
    db.session.add(
        Term(
            county_id=county.id,
            name="本学期",
            school_year="2026-2027",
            starts_on=today - timedelta(days=60),
            ends_on=today + timedelta(days=60),
        )
    )
    db.session.commit()
    schools = {
        "primary": factory.school(county, name="测试小学", stage="primary"),
        "nine": factory.school(county, name="测试九年一贯制学校", stage="nine_year", traits=["school_bus"]),
        "kindergarten": factory.school(county, name="测试幼儿园", stage="kindergarten"),
    }
    inspector = factory.user("inspector", county, tuple(schools.values()))
    reviewer = factory.user("reviewer", county)
    return county, schools, inspector, reviewer


def _client(app, user):
    client = app.test_client()
    assert login(client, user).status_code == 302
    return client


def test_kindergarten_gets_a_message_not_an_empty_list(app, world):
    county, schools, inspector, reviewer = world
    kindergarten = schools["kindergarten"]
    phone = _client(app, inspector)
    planned = phone.post(
        "/api/v1/visits", json={"school_id": kindergarten.id, "planned_on": today_in_china().isoformat()}
    )
    assert planned.status_code == 422
    error = planned.get_json()["error"]
    assert error["code"] == "checklist_not_applicable" and "不适用于幼儿园" in error["message"]
    bundle = phone.get(f"/api/v1/schools/{kindergarten.id}/bundle").get_json()
    assert bundle["checklist"]["applicable"] is False and "不适用于幼儿园" in bundle["checklist"]["not_applicable"]
    assert bundle["checklist"]["sections"] == []
    # Nothing was stored for it, no visit was made.
    assert db.session.scalar(select(func.count()).select_from(ChecklistVersion)) == 0
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0
    page = _client(app, reviewer).get(f"/schools/{kindergarten.id}").get_data(as_text=True)
    assert "不适用于幼儿园" in page and "没有符合条件的检查项" not in page
    # The primary school still gets its checklist.
    assert phone.get(f"/api/v1/schools/{schools['primary'].id}/bundle").get_json()["checklist"]["applicable"]


def test_a_visit_planned_before_keeps_its_checklist(app, world):
    county, schools, inspector, reviewer = world
    school = schools["primary"]
    old = plan_visit(inspector, school.id, today_in_china() + timedelta(days=3))
    db.session.commit()
    version_id = old.checklist_version_id
    stored = copy.deepcopy(db.session.get(ChecklistVersion, version_id).content)
    assert "testpack.bus" not in {i["id"] for s in stored["sections"] for i in s["items"]}
    # The school gets a school bus: new visits include the 校车 item, the planned one does not change.
    school.set_traits({"school_bus"})
    db.session.commit()
    new = plan_visit(inspector, school.id, today_in_china() + timedelta(days=4))
    db.session.commit()
    assert new.checklist_version_id != version_id
    new_items = {
        i["id"]
        for s in db.session.get(ChecklistVersion, new.checklist_version_id).content["sections"]
        for i in s["items"]
    }
    assert "testpack.bus" in new_items
    db.session.expire_all()
    assert db.session.get(Visit, old.id).checklist_version_id == version_id
    assert db.session.get(ChecklistVersion, version_id).content == stored
    bundle = _client(app, inspector).get(f"/api/v1/visits/{old.id}/bundle").get_json()
    assert bundle["checklist"] == stored


def test_a_format_1_snapshot_still_shows(app, world):
    """A visit made before issue 8 (snapshot format 1, no binding/status/due fields) opens on every page."""
    county, schools, inspector, reviewer = world
    content = {
        "format": 1,
        "pack": {"id": "testpack", "name": "测试县", "status": "in_force"},
        "visit_type": {"id": "routine", "title": "经常性督导"},
        "profile": {"stage": "primary", "location": "town", "is_boarding": False},
        "sections": [
            {
                "id": "campus_safety",
                "title": "校园安全",
                "items": [
                    {
                        "id": "testpack.alarm",
                        "concept": "safety.one_click_alarm",
                        "title": "一键报警接入公安",
                        "guidance": "",
                        "check": {"type": "yes_no", "type_label": "是/否"},
                        "photo_required": False,
                        "checked_by": "inspector_visit",
                        "applies_to": {"stages": [], "locations": [], "boarding_only": False},
                        "effective_from": None,
                        "effective_until": None,
                        "sources": [],
                    }
                ],
            }
        ],
        "version": "f" * 64,
    }
    db.session.add(
        ChecklistVersion(id="f" * 64, pack_id="testpack", visit_type="routine", item_count=1, content=content)
    )
    db.session.commit()
    phone = _client(app, inspector)
    visit_id = str(uuid.uuid4())
    body = {
        "school_id": schools["primary"].id,
        "checklist_version": "f" * 64,
        "state": "submitted",
        "started_at": "2026-11-01T02:00:00Z",
        "submitted_at": "2026-11-01T03:00:00Z",
        "device_id": "p",
        "declared": {"result_count": 0, "photo_hashes": []},
    }
    assert phone.put(f"/api/v1/visits/{visit_id}", json=body).status_code == 201
    bureau = _client(app, reviewer)
    page = bureau.get(f"/bureau/visits/{visit_id}?only=all")
    assert page.status_code == 200 and "一键报警接入公安" in page.get_data(as_text=True)
    assert bureau.get(f"/bureau/visits/{visit_id}/report").status_code == 200
    assert db.session.get(ChecklistVersion, "f" * 64).content == content


def test_mixed_school_is_checked_per_section_and_the_matrix_merges_sections(app, world):
    county, schools, inspector, reviewer = world
    phone = _client(app, inspector)
    nine = schools["nine"]
    bundle = phone.get(f"/api/v1/schools/{nine.id}/bundle").get_json()
    items = items_of(bundle)
    primary, junior = items["testpack.class_size@primary"], items["testpack.class_size@junior"]
    assert (primary["section_label"], primary["check"]["value"]) == ("小学部", 45)
    assert (junior["section_label"], junior["check"]["value"]) == ("初中部", 50)
    assert "testpack.class_size" not in items
    record_visit(
        phone, nine, {"testpack.class_size@primary": {"number": 44}, "testpack.class_size@junior": {"number": 52}}
    )
    record_visit(phone, schools["primary"], {"testpack.class_size": {"number": 40}})
    bureau = _client(app, reviewer)
    page = bureau.get("/bureau/matrix?checklist=school_conditions").get_data(as_text=True)
    row = page[page.index("测试九年一贯制学校") :].split("</tr>")[0]
    assert "✗ 未达标 52" in row
    primary_row = page[page.index("测试小学") :].split("</tr>")[0]
    assert "✓ 达标 40" in primary_row
    cell = bureau.get(f"/bureau/matrix/cell?school={nine.id}&item=testpack.class_size").get_data(as_text=True)
    assert "小学部" in cell and "初中部" in cell and "52人" in cell


def test_matrix_binding_only_hides_soft_items_and_shows_due_state(app, world):
    county, schools, inspector, reviewer = world
    bureau = _client(app, reviewer)
    everything = bureau.get("/bureau/matrix?checklist=reporting").get_data(as_text=True)
    assert "按时报送督导报告" in everything and "倡导性（力争）" in everything
    assert "纳入集团化管理" in everything
    overdue = (today_in_china() - date(2023, 12, 31)).days
    assert f"已逾期 {overdue} 天" in everything
    binding = bureau.get("/bureau/matrix?checklist=reporting&binding=1").get_data(as_text=True)
    assert "纳入集团化管理" in binding and "按时报送督导报告" not in binding
    assert "只显示约束性条目：1 / 2 项" in binding
    # The filter survives in the links of the table (htmx and plain).
    assert "binding=1" in binding[binding.index("<table") :]


def test_drafts_and_expired_items_are_marked_for_the_bureau(app, world, factory):
    county, schools, inspector, reviewer = world
    phone = _client(app, inspector)
    visit_id, _, items = record_visit(phone, schools["primary"])
    assert items["testpack.old_rule"]["status"] == "expired"
    bureau = _client(app, reviewer)
    page = bureau.get(f"/bureau/visits/{visit_id}").get_data(as_text=True)
    assert "文件已到期" in page and "征求意见稿" not in page
    assert "含文件已到期 1 项" in bureau.get("/bureau/visits").get_data(as_text=True)
    # The same county moves to the draft pack: new visits are drafts everywhere.
    county.policy_set = "testdraft"
    db.session.commit()
    draft_id, _, draft_items = record_visit(phone, schools["primary"])
    assert all(i["status"] == "draft" for i in draft_items.values())
    page = bureau.get(f"/bureau/visits/{draft_id}").get_data(as_text=True)
    assert "征求意见稿" in page
    report = bureau.get(f"/bureau/visits/{draft_id}/report").get_data(as_text=True)
    assert "征求意见稿" in report
    listing = bureau.get("/bureau/visits").get_data(as_text=True)
    # Only the draft visit is marked, once in the desktop table and once in the phone cards.
    table, cards = listing.split('<ul class="list narrow-only">')
    assert table.count("征求意见稿") == 1 and cards.count("征求意见稿") == 1
    assert "征求意见稿" in bureau.get("/bureau/matrix?checklist=campus_safety").get_data(as_text=True)
    assert "征求意见稿" in bureau.get("/bureau/summary").get_data(as_text=True)


def test_compare_shows_concept_names(app, world, factory):
    other = factory.county("另一县", "testdraft")
    today = today_in_china()
    db.session.add(
        Term(
            county_id=other.id,
            name="本学期",
            school_year="2026-2027",
            starts_on=today - timedelta(days=30),
            ends_on=today + timedelta(days=30),
        )
    )
    db.session.commit()
    admin = _client(app, factory.user("admin"))
    page = admin.get("/bureau/compare?checklist=campus_safety").get_data(as_text=True)
    assert "一键报警" in page and "走读学生接送" in page
    assert page.count("征求意见稿") == 1  # the draft county's column
    table = page[page.index("<tbody") :]
    assert "safety.one_click_alarm" not in table.replace('title="safety.one_click_alarm"', "")


def test_pack_browser_shows_scope_binding_status_and_due_rules(app, world):
    county, schools, inspector, reviewer = world
    client = _client(app, reviewer)
    page = client.get("/packs/testpack").get_data(as_text=True)
    report = page[page.index('id="testpack.report"') :].split("</li>")[0]
    assert "适用：小学、初中" in report and "倡导性（力争）" in report and "每年12月5日前" in report
    bus = page[page.index('id="testpack.bus"') :].split("</li>")[0]
    assert "有校车" in bus and "约束性" in bus and "参考：《校车安全管理条例》" in bus
    old = page[page.index('id="testpack.old_rule"') :].split("</li>")[0]
    assert "文件已到期" in old
    draft = client.get("/packs/testdraft").get_data(as_text=True)
    assert draft.count("征求意见稿") >= len(exact_support.PACK.items)
    # Composing for a profile: a kindergarten gets the pack's message.
    composed = client.get("/packs/testpack/compose?stage=kindergarten").get_data(as_text=True)
    assert "本政策包不适用于幼儿园" in composed


def test_exports_say_draft_and_mark_items(app, world):
    import io

    from openpyxl import load_workbook

    county, schools, inspector, reviewer = world
    county.policy_set = "testdraft"
    db.session.commit()
    record_visit(_client(app, inspector), schools["primary"])
    bureau = _client(app, reviewer)
    visits = load_workbook(io.BytesIO(bureau.get("/bureau/exports/visits.xlsx").data)).active
    assert any("征求意见稿" in [c.value for c in row] for row in visits.iter_rows())
    results = load_workbook(io.BytesIO(bureau.get("/bureau/exports/results.xlsx").data)).active
    notes = [row[-1].value for row in results.iter_rows() if row[-1].value]
    assert any("倡导性（力争）" in str(n) and "征求意见稿" in str(n) for n in notes)


def test_a_wrong_profile_in_the_url_is_said_in_words(app, world):
    """?traits=zzz gave "traits：0" (the index of the message, not the message) on the error page."""
    county, schools, inspector, reviewer = world
    client = app.test_client()
    login(client, reviewer)
    response = client.get("/packs/testpack/compose?stage=primary&location=urban&traits=zzz")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "traits：0" not in page and "学校特征" in page.split("traits：")[1].split("</li>")[0]
