"""Self-reports (自查/报送): the school fills the items its documents leave to it; the inspector or the
bureau verifies; reported and verified results stay apart."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.core.models import Term
from webapp.extensions import db
from webapp.schools.models import SelfReport
from webapp.timeutil import today_in_china

from .conftest import jpeg_bytes, login

ROAD = "helan.safety.road_safety_education"
HOME_VISITS = "helan.moral.home_visits"


@pytest.fixture
def world(app, factory):
    county = factory.county("贺兰县", "helan")
    today = today_in_china()
    term = Term(
        county_id=county.id,
        name="本学期",
        school_year="2026-2027",
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=60),
    )
    db.session.add(term)
    db.session.commit()
    school = factory.school(county, name="金贵镇中心小学")
    other = factory.school(county, name="洪广镇中学", stage="junior")
    people = {
        "principal": factory.user("school", county, school_id=school.id),
        "neighbour": factory.user("school", county, school_id=other.id),
        "inspector": factory.user("inspector", county, (school,)),
        "stranger": factory.user("inspector", county, (other,)),
        "reviewer": factory.user("reviewer", county),
    }
    clients = {}
    for name, user in people.items():
        clients[name] = app.test_client()
        assert login(clients[name], user).status_code == 302
    return {"school": school, "term": term, "people": people, "clients": clients}


def _fill(client, item, action="submit", photo=True, **form):
    data = {"action": action, **form}
    if photo:
        data["photos"] = [(io.BytesIO(jpeg_bytes()), "p.jpg")]
    return client.post(f"/self-reports/mine/{item}", data=data, content_type="multipart/form-data")


def _report(item=ROAD):
    db.session.expire_all()
    return db.session.scalar(select(SelfReport).where(SelfReport.item_id == item))


def test_school_reports_and_the_inspector_returns_then_the_bureau_verifies(world):
    school, bureau, inspector = (world["clients"][n] for n in ("principal", "reviewer", "inspector"))
    page = school.get("/self-reports/mine").get_data(as_text=True)
    assert "开展道路交通安全教育" in page and "贺党教发〔2023〕1号" in page
    # Saved is not reported; a report needs evidence; a number must be a number.
    assert _fill(school, ROAD, action="save", photo=False, answer="yes").status_code == 302
    assert _report().state == "draft"
    empty = _fill(school, ROAD, photo=False, answer="yes")
    assert empty.status_code == 422 and "请上传佐证照片或填写说明" in empty.get_data(as_text=True)
    assert _fill(school, HOME_VISITS, number="两次", note="家访").status_code == 422
    assert _fill(school, HOME_VISITS, number="0", note="本学期尚未家访", photo=False).status_code == 302
    assert _report(HOME_VISITS).compliant is False
    assert _fill(school, ROAD, answer="yes", note="主题班会4次").status_code == 302
    report = _report()
    assert report.state == "submitted" and report.compliant is True and len(report.photos) == 1

    # Reported apart from verified, per school.
    board = bureau.get("/self-reports/").get_data(as_text=True)
    assert f'<tr data-school-id="{world["school"].id}">' in board
    row = board.split(f'data-school-id="{world["school"].id}"')[1].split("</tr>")[0]
    assert '<td class="reported">2</td>' in row and '<td class="verified">0</td>' in row

    # Returning needs a reason; the school sees it and reports again.
    assert inspector.post(f"/self-reports/{report.id}/verify", data={"decision": "return"}).status_code == 422
    back = inspector.post(f"/self-reports/{report.id}/verify", data={"decision": "return", "comment": "缺少签到表"})
    assert back.status_code == 302 and _report().state == "returned"
    assert "缺少签到表" in school.get("/self-reports/mine").get_data(as_text=True)
    assert _fill(school, ROAD, answer="yes", note="补充签到表").status_code == 302
    assert bureau.post(f"/self-reports/{report.id}/verify", data={"decision": "accept"}).status_code == 302
    report = _report()
    assert report.state == "accepted" and report.verified_by_id == world["people"]["reviewer"].id
    # Verified is final for the school.
    assert _fill(school, ROAD, answer="no", note="改").status_code == 409
    row = bureau.get("/self-reports/").get_data(as_text=True).split(f'data-school-id="{world["school"].id}"')[1]
    assert '<td class="verified">1</td>' in row.split("</tr>")[0]


def test_a_number_too_large_to_read_is_not_called_negative(world):
    """1e309 (read as infinity) and NaN were refused with 数值不能为负数."""
    school = world["clients"]["principal"]
    for typed in ("1e309", "NaN"):
        page = _fill(school, HOME_VISITS, action="save", photo=False, number=typed, note="说明").get_data(as_text=True)
        assert "请输入数字。" in page and "数值不能为负数" not in page, typed
    negative = _fill(school, HOME_VISITS, action="save", photo=False, number="-2", note="说明").get_data(as_text=True)
    assert "数值不能为负数。" in negative
    assert _report(HOME_VISITS) is None


def test_a_refused_save_keeps_what_was_typed(world):
    """A refused save came back with the form empty: the note typed was lost."""
    school = world["clients"]["principal"]
    refused = _fill(school, HOME_VISITS, action="save", photo=False, number="-2", note="两次家访，见台账")
    assert refused.status_code == 422
    form = refused.get_data(as_text=True).split(f'id="item-{HOME_VISITS}"')[1].split("</section>")[0]
    assert 'value="-2"' in form and ">两次家访，见台账</textarea>" in form
    assert _report(HOME_VISITS) is None


def test_others_cannot_see_or_verify(world):
    school = world["clients"]["principal"]
    assert _fill(school, ROAD, answer="yes").status_code == 302
    report = _report()
    assert world["clients"]["neighbour"].get(f"/self-reports/{report.id}").status_code == 404
    assert world["clients"]["stranger"].get(f"/self-reports/{report.id}").status_code == 404
    refused = world["clients"]["stranger"].post(f"/self-reports/{report.id}/verify", data={"decision": "accept"})
    assert refused.status_code == 404 and _report().state == "submitted"
    assert school.post(f"/self-reports/{report.id}/verify", data={"decision": "accept"}).status_code == 403
    assert school.post("/self-reports/mine/helan.safety.fire_safety", data={"answer": "yes"}).status_code == 404


def test_the_matrix_shows_reported_and_verified_apart(world):
    school, bureau = world["clients"]["principal"], world["clients"]["reviewer"]
    assert _fill(school, ROAD, answer="yes", note="班会").status_code == 302
    assert _fill(school, HOME_VISITS, number="0", note="未家访", photo=False).status_code == 302
    bureau.post(f"/self-reports/{_report().id}/verify", data={"decision": "accept"})
    grid = bureau.get("/self-reports/").get_data(as_text=True).split('id="self-report-matrix"')[1]
    row = grid.split(f'data-school-id="{world["school"].id}"')[1].split("</tr>")[0]
    assert 'data-cell="verified"' in row and "核验✓" in row
    assert 'data-cell="reported"' in row and "自报✗" in row
    assert "self-report-matrix" in bureau.get("/bureau/matrix").get_data(as_text=True)
