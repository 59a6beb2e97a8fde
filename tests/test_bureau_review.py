"""Reviewing a visit: return with per-item comments, amend and resubmit on the phone, accept and open tasks."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp.bureau.audit.models import AuditEntry
from webapp.bureau.rectification.models import RectificationTask
from webapp.bureau.review.models import Review
from webapp.extensions import db
from webapp.timeutil import today_in_china
from webapp.visits.models import ItemResult, ResultWrite, Visit

from .bureau_support import ALARM, CLASS_SIZE, alarm_photo, make_world, record_visit, stamp, upload


@pytest.fixture(name="world")
def world_fixture(factory):
    """The bureau tests' county, schools and people."""
    return make_world(factory)


def _review(client, visit_id, decision, **fields):
    return client.post(f"/bureau/visits/{visit_id}/review", data={"decision": decision, **fields})


def test_return_amend_resubmit_accept(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, body, items = record_visit(phone, world.school, {ALARM: {"answer": "no"}}, {ALARM: alarm_photo()})
    page = bureau.get(f"/bureau/visits/{visit_id}")
    assert page.status_code == 200 and "一键报警装置" in page.get_data(as_text=True)

    returned = _review(bureau, visit_id, "return", comment="请补拍门卫室", **{f"note-{ALARM}": "报警装置照片看不清"})
    assert returned.status_code == 302
    bundle = phone.get(f"/api/v1/visits/{visit_id}/bundle").get_json()
    assert bundle["visit"]["state"] == "returned" and bundle["visit"]["review_round"] == 1
    assert bundle["review"]["decision"] == "returned" and bundle["review"]["comment"] == "请补拍门卫室"
    assert bundle["review"]["item_comments"] == {ALARM: "报警装置照片看不清"}

    # A late replay of the first submit (no round named) must not resubmit the visit unamended.
    replay = phone.put(f"/api/v1/visits/{visit_id}", json=body)
    assert replay.status_code == 200 and replay.get_json()["visit"]["state"] == "returned"
    # The phone amends: a new write and a new photo are accepted on a returned visit.
    amend = {
        "id": str(uuid.uuid4()),
        "item_id": ALARM,
        "value": {"answer": "yes"},
        "observation": "已安装",
        "edited_at": stamp(200),
        "device_id": "phone-1",
    }
    assert phone.post(f"/api/v1/visits/{visit_id}/results", json={"writes": [amend]}).status_code == 200
    extra = alarm_photo((200, 10, 10))
    upload(phone, visit_id, extra, ALARM, 201)
    in_progress = phone.put(f"/api/v1/visits/{visit_id}", json={**body, "state": "in_progress"})
    assert in_progress.get_json()["visit"]["state"] == "returned"
    hashes = body["declared"]["photo_hashes"] + [__import__("hashlib").sha256(extra).hexdigest()]
    resubmit = {
        **body,
        "review_round": 1,
        "submitted_at": stamp(210),
        "declared": {**body["declared"], "photo_hashes": hashes},
    }
    again = phone.put(f"/api/v1/visits/{visit_id}", json=resubmit)
    assert again.get_json()["visit"]["state"] == "submitted" and again.get_json()["receipt"]["is_fully_received"]

    # History kept: both values of the alarm item are in the write history.
    db.session.expire_all()
    history = db.session.scalars(select(ResultWrite.value).where(ResultWrite.item_id == ALARM)).all()
    assert {v["answer"] for v in history} == {"no", "yes"}

    assert _review(bureau, visit_id, "accept", comment="同意").status_code == 302
    db.session.expire_all()
    visit = db.session.get(Visit, visit_id)
    assert visit.state == "accepted"
    assert [r.decision for r in db.session.scalars(select(Review).order_by(Review.id))] == ["returned", "accepted"]
    # Accepted: new writes and photos are refused, replays of old ones still answered.
    refused = phone.post(f"/api/v1/visits/{visit_id}/results", json={"writes": [{**amend, "id": str(uuid.uuid4())}]})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "visit_accepted"
    assert phone.post(f"/api/v1/visits/{visit_id}/results", json={"writes": [amend]}).status_code == 200
    photo_id = str(uuid.uuid4())
    other = alarm_photo((1, 200, 1))
    response = phone.put(
        f"/api/v1/visits/{visit_id}/photos/{photo_id}",
        data={
            "sha256": __import__("hashlib").sha256(other).hexdigest(),
            "file": (__import__("io").BytesIO(other), "x.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "visit_accepted"
    assert phone.put(f"/api/v1/visits/{visit_id}", json=resubmit).get_json()["visit"]["state"] == "accepted"
    # The alarm was fixed before acceptance: no task for it.
    assert db.session.scalar(select(func.count()).select_from(RectificationTask)) == 0


def test_accept_opens_a_task_per_failed_item(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    failing = {ALARM: {"answer": "no"}, CLASS_SIZE: {"number": 52}}
    visit_id, _, _ = record_visit(phone, world.school, failing)
    deadline = today_in_china() + timedelta(days=3)
    response = _review(
        bureau,
        visit_id,
        "accept",
        **{
            f"deadline-{ALARM}": deadline.isoformat(),
            f"responsible-{ALARM}": "马校长",
            f"problem-{ALARM}": "门卫室无一键报警",
        },
    )
    assert response.status_code == 302
    tasks = {t.item_id: t for t in db.session.scalars(select(RectificationTask))}
    assert set(tasks) == {ALARM, CLASS_SIZE}
    alarm, size = tasks[ALARM], tasks[CLASS_SIZE]
    assert (alarm.deadline, alarm.responsible_person, alarm.problem) == (deadline, "马校长", "门卫室无一键报警")
    # Defaults: 90 days for 办学条件, the last responsible person at the school, the problem from the result.
    assert size.deadline == today_in_china() + timedelta(days=90)
    assert size.responsible_person == "马校长"
    assert "52人" in size.problem and "≤ 45人" in size.problem
    assert alarm.state == size.state == "open" and alarm.county_id == world.county.id
    page = bureau.get(f"/bureau/visits/{visit_id}?done=accepted").get_data(as_text=True)
    assert "已下发 2 项整改任务" in page


def test_accept_needs_everything_received_and_a_return_needs_a_comment(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, body, _ = record_visit(phone, world.school, submit=False)
    declared = {"result_count": 1, "photo_hashes": ["a" * 64]}
    phone.put(f"/api/v1/visits/{visit_id}", json={**body, "state": "submitted", "declared": declared})
    refused = _review(bureau, visit_id, "accept")
    assert refused.status_code == 409 and "尚未全部上传" in refused.get_data(as_text=True)
    empty = _review(bureau, visit_id, "return", comment="  ")
    assert empty.status_code == 422 and "退回时请填写" in empty.get_data(as_text=True)
    bad = _review(bureau, visit_id, "maybe")
    assert bad.status_code == 422
    late = _review(bureau, visit_id, "accept", **{f"deadline-{ALARM}": "2001-01-01"})
    assert late.status_code in (409, 422)
    db.session.expire_all()
    assert db.session.get(Visit, visit_id).state == "submitted"
    assert db.session.scalar(select(func.count()).select_from(Review)) == 0


def test_only_submitted_visits_are_reviewed(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, _, _ = record_visit(phone, world.school, submit=False)
    response = _review(bureau, visit_id, "return", comment="x")
    assert response.status_code == 409 and "只能审核已提交的督导" in response.get_data(as_text=True)


def test_past_deadline_is_refused_with_a_field_error(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}})
    late = (today_in_china() - timedelta(days=1)).isoformat()
    response = _review(bureau, visit_id, "accept", **{f"deadline-{ALARM}": late})
    assert response.status_code == 422 and "整改期限不能早于今天" in response.get_data(as_text=True)
    garbled = _review(bureau, visit_id, "accept", **{f"deadline-{ALARM}": "next week"})
    assert garbled.status_code == 422 and "日期格式" in garbled.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(RectificationTask)) == 0


def test_reviewer_sees_only_their_county(app, world):
    phone = world.client(app, "inspector")
    visit_id, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}})
    mine = world.client(app, "reviewer")
    theirs = world.client(app, "other_reviewer")
    admin = world.client(app, "admin")
    assert mine.get(f"/bureau/visits/{visit_id}").status_code == 200
    assert theirs.get(f"/bureau/visits/{visit_id}").status_code == 404
    assert _review(theirs, visit_id, "return", comment="x").status_code == 404
    assert admin.get(f"/bureau/visits/{visit_id}").status_code == 200
    # Lists, matrix and ledger are the reviewer's own county whatever is asked for.
    assert visit_id in mine.get("/bureau/visits").get_data(as_text=True)
    assert visit_id not in theirs.get("/bureau/visits").get_data(as_text=True)
    assert visit_id not in theirs.get(f"/bureau/visits?county={world.county.id}").get_data(as_text=True)
    assert "吉强镇中心小学" not in theirs.get(f"/bureau/matrix?county={world.county.id}").get_data(as_text=True)
    assert "吉强镇中心小学" in mine.get("/bureau/matrix").get_data(as_text=True)
    assert admin.get(f"/bureau/visits?county={world.county.id}").status_code == 200
    assert visit_id in admin.get(f"/bureau/visits?county={world.county.id}").get_data(as_text=True)
    export = theirs.get("/bureau/exports/visits.xlsx?term=")
    assert export.status_code == 200 and b"\xe5\x90\x89\xe5\xbc\xba" not in export.data  # 吉强 not in the file
    db.session.expire_all()
    assert db.session.get(Visit, visit_id).state == "submitted"


def test_visit_page_flags_far_and_late_evidence(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    school = world.school
    far = {"latitude": str(school.latitude + 0.02), "longitude": str(school.longitude)}  # ≈ 2.2 km north
    visit_id, _, _ = record_visit(phone, school, photos={ALARM: alarm_photo()}, photo_meta=far)
    page = bureau.get(f"/bureau/visits/{visit_id}").get_data(as_text=True)
    assert "超过500米" in page and "2.2公里" in page
    near = {"latitude": str(school.latitude + 0.001), "longitude": str(school.longitude), "captured_at": stamp(-600)}
    visit2, _, _ = record_visit(phone, school, photos={ALARM: alarm_photo((5, 5, 5))}, photo_meta=near)
    page2 = bureau.get(f"/bureau/visits/{visit2}").get_data(as_text=True)
    assert "超过500米" not in page2 and "拍摄时间不在本次督导时段内" in page2
    # Photos are served through short-lived signed URLs.
    assert "/media/photos/thumb/" in page2 and "expires=" in page2 and "sig=" in page2


def test_item_results_on_visit_page_show_thresholds(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, _, _ = record_visit(phone, world.school, {CLASS_SIZE: {"number": 52}})
    page = bureau.get(f"/bureau/visits/{visit_id}").get_data(as_text=True)
    assert "标准：≤ 45人" in page and "52人" in page and "✗ 未达标" in page
    result = db.session.scalar(select(ItemResult).where(ItemResult.item_id == CLASS_SIZE))
    assert result.outcome == "fail"


def test_submitted_visit_opens_on_failed_and_flagged_items(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, _, items = record_visit(phone, world.school, {CLASS_SIZE: {"number": 52}}, {ALARM: alarm_photo()})
    plain = next(i for i, item in items.items() if i not in (ALARM, CLASS_SIZE) and not item.get("photo_required"))
    page = bureau.get(f"/bureau/visits/{visit_id}").get_data(as_text=True)
    # The decision is reachable from the top, before any result.
    assert page.index('class="action-bar') < page.index('id="results"') < page.index('id="review"')
    assert 'href="#review-accept"' in page and 'href="#review"' in page
    assert f'id="item-{CLASS_SIZE}"' in page and f'id="item-{plain}"' not in page
    assert 'aria-current="page">只看未达标' in page
    everything = bureau.get(f"/bureau/visits/{visit_id}?only=all").get_data(as_text=True)
    assert f'id="item-{plain}"' in everything and f'id="item-{CLASS_SIZE}"' in everything
    # An accepted visit shows every item unless asked.
    assert _review(bureau, visit_id, "accept").status_code == 302
    accepted = bureau.get(f"/bureau/visits/{visit_id}").get_data(as_text=True)
    assert f'id="item-{plain}"' in accepted and 'class="action-bar' in accepted and "#review-accept" not in accepted


def test_accept_updates_the_open_task_of_a_failed_item(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    first, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}})
    assert _review(bureau, first, "accept").status_code == 302
    task = db.session.scalar(select(RectificationTask))
    first_problem = task.problem
    second, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}, CLASS_SIZE: {"number": 50}})
    page = bureau.get(f"/bureau/visits/{second}").get_data(as_text=True)
    assert "该项已有整改任务" in page and "其中 1 项学校已有整改任务" in page
    deadline = today_in_china() + timedelta(days=5)
    fields = {
        f"problem-{ALARM}": "复查仍未安装一键报警，限期安装",
        f"deadline-{ALARM}": deadline.isoformat(),
        f"responsible-{ALARM}": "王副校长",
    }
    assert _review(bureau, second, "accept", **fields).status_code == 302
    db.session.expire_all()
    tasks = {t.item_id: t for t in db.session.scalars(select(RectificationTask))}
    assert set(tasks) == {ALARM, CLASS_SIZE} and tasks[ALARM].id == task.id
    updated = tasks[ALARM]
    assert (updated.problem, updated.deadline, updated.responsible_person) == (
        fields[f"problem-{ALARM}"],
        deadline,
        "王副校长",
    )
    kinds = [(u.kind, u.visit_id) for u in updated.updates]
    assert kinds[-2:] == [("recheck_fail", second), ("edit", second)]
    assert "复查仍未安装一键报警" in updated.updates[-1].note
    # The change is in the audit log with the old values.
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.object_type == "task", AuditEntry.action == "edit")
        .order_by(AuditEntry.id.desc())
    )
    assert entry is not None and entry.new_value["problem"] == fields[f"problem-{ALARM}"]
    assert entry.old_value["problem"] == first_problem
    done = bureau.get(f"/bureau/visits/{second}?done=accepted").get_data(as_text=True)
    assert "已下发 1 项整改任务，复查了 1 项已有整改任务" in done


def test_accept_keeps_an_overdue_open_task_deadline_unless_changed(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    first, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}})
    assert _review(bureau, first, "accept").status_code == 302
    task = db.session.scalar(select(RectificationTask))
    past = today_in_china() - timedelta(days=3)
    task.deadline = past
    db.session.commit()
    second, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}})
    # The form sends the task's own (past) deadline back: accepted, nothing changed but the re-check note.
    assert _review(bureau, second, "accept", **{f"deadline-{ALARM}": past.isoformat()}).status_code == 302
    db.session.expire_all()
    kept = db.session.get(RectificationTask, task.id)
    assert kept.deadline == past and [u.kind for u in kept.updates][-1] == "recheck_fail"
