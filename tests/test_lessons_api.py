"""The 教研员's sync API: exactly once, last write wins with history, term locks, validation, photos."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.lessons.models import Activity, ActivityPhoto, ActivityWrite

from .conftest import jpeg_bytes, login
from .lessons_world import edit_time, guidance, lesson, make_world


@pytest.fixture
def world(factory):
    return make_world(factory)


@pytest.fixture
def phone(client, world):
    login(client, world.researcher)
    return client


def put(client, activity_id, body):
    return client.put(f"/api/v1/activities/{activity_id}", json=body)


def test_a_record_is_created_once_however_often_it_is_sent(phone, world):
    activity_id = str(uuid.uuid4())
    body = lesson(world.rural, world.today)
    first = put(phone, activity_id, body)
    assert first.status_code == 201, first.get_json()
    for _ in range(3):
        again = put(phone, activity_id, body)
        assert again.status_code == 200
        assert again.get_json() == {**first.get_json()}
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 1
    assert db.session.scalar(select(func.count()).select_from(ActivityWrite)) == 1
    stored = first.get_json()["activity"]
    assert stored["school_name"] == "村小" and stored["kind_label"] == "听评课" and stored["form_label"] == "听评课"
    assert first.get_json()["write"] == {"id": body["write_id"], "decision": "applied"}


def test_last_edit_wins_and_every_write_is_kept(phone, world):
    activity_id = str(uuid.uuid4())
    now = world.today
    first = lesson(world.rural, now, edited_at="2026-01-01T01:00:00+00:00", topic="第一版")
    late = lesson(world.rural, now, edited_at="2026-01-01T03:00:00+00:00", topic="第三版")
    early = lesson(world.rural, now, edited_at="2026-01-01T02:00:00+00:00", topic="第二版")
    # The phone's edit time orders them, not the order they arrive in.
    for body in (first, late, early):
        put(phone, activity_id, body)
    replay = put(phone, activity_id, early)
    assert replay.get_json()["write"]["decision"] == "superseded"
    assert replay.get_json()["activity"]["topic"] == "第三版"
    decisions = {w.id: w.decision for w in db.session.scalars(select(ActivityWrite))}
    assert decisions == {first["write_id"]: "applied", late["write_id"]: "applied", early["write_id"]: "superseded"}
    history = {w.payload["topic"] for w in db.session.scalars(select(ActivityWrite))}
    assert history == {"第一版", "第二版", "第三版"}


def test_a_write_id_cannot_be_reused_for_another_record(phone, world):
    body = lesson(world.rural, world.today)
    assert put(phone, str(uuid.uuid4()), body).status_code == 201
    response = put(phone, str(uuid.uuid4()), body)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "write_id_reused"


def test_another_researchers_record_is_not_revealed(client, world):
    activity_id = str(uuid.uuid4())
    login(client, world.other)
    assert put(client, activity_id, lesson(world.unassigned, world.today)).status_code == 201
    client.post("/logout")
    login(client, world.researcher)
    response = put(client, activity_id, lesson(world.rural, world.today))
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "活动记录不存在。"
    assert client.get(f"/api/v1/activities/{activity_id}").status_code == 404


def test_edits_after_the_term_ended_are_refused_with_a_clear_message(phone, world):
    day = world.past.ends_on  # a record on the last day of a term that has ended
    response = put(phone, str(uuid.uuid4()), lesson(world.rural, day))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "term_closed"
    assert (
        "上学期" in error["message"] and "已结束" in error["message"] and "不能再新增、修改或删除" in error["message"]
    )
    # Made on the phone on the last day, synced only now: accepted (nothing recorded in time is lost).
    offline = lesson(world.rural, day, edited_at=edit_time(day))
    activity_id = str(uuid.uuid4())
    assert put(phone, activity_id, offline).status_code == 201
    # …but changing it now is not, and neither is moving a current record into the closed term.
    assert put(phone, activity_id, lesson(world.rural, day)).status_code == 409
    current = str(uuid.uuid4())
    assert put(phone, current, lesson(world.rural, world.today)).status_code == 201
    moved = put(phone, current, lesson(world.rural, world.past.starts_on))
    assert moved.status_code == 409 and moved.get_json()["error"]["fields"]["occurred_on"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"school_id": None}, "school_id", "听评课必须选择学校。"),
        ({"subject": ""}, "subject", "请选择学科。"),
        ({"grade": ""}, "grade", "请选择年级。"),
        ({"teacher_name": " "}, "teacher_name", "请选择或填写授课教师。"),
        ({"scores": {"goals": 6}}, "scores.goals", "教学目标的评分应在 1–5 之间。"),
        ({"scores": {"charisma": 3}}, "scores.charisma", "评价维度不在本县评课量表中。"),
        ({"form": "seminar"}, "form", "形式与活动类别不符。"),
        ({"kind": "dance"}, "kind", "活动类别无效。"),
        ({"grade": "g99"}, "grade", "取值无效。"),
    ],
)
def test_bad_records_are_refused_field_by_field(phone, world, change, field, message):
    response = put(phone, str(uuid.uuid4()), lesson(world.rural, world.today, **change))
    assert response.status_code == 422
    assert message in response.get_json()["error"]["fields"][field]


def test_schools_and_teachers_must_be_the_countys(phone, world):
    foreign = put(phone, str(uuid.uuid4()), lesson(world.foreign, world.today))
    assert foreign.get_json()["error"]["fields"]["school_id"] == ["学校不存在或不属于本县区。"]
    wrong_teacher = put(phone, str(uuid.uuid4()), lesson(world.town, world.today, teacher_id=world.teacher.id))
    assert wrong_teacher.get_json()["error"]["fields"]["teacher_id"] == ["授课教师不在该校教师名单中。"]
    future = put(phone, str(uuid.uuid4()), lesson(world.rural, world.today + timedelta(days=3)))
    assert future.get_json()["error"]["fields"]["occurred_on"] == ["活动日期不能晚于今天。"]
    assert put(phone, "not-a-uuid", lesson(world.rural, world.today)).status_code == 422
    assert phone.put(f"/api/v1/activities/{uuid.uuid4()}", data="{", content_type="application/json").status_code == 400


def test_a_typed_teacher_on_the_list_is_linked(phone, world):
    body = put(phone, str(uuid.uuid4()), lesson(world.rural, world.today, teacher_name=" 马晓梅 ")).get_json()
    assert body["activity"]["teacher_id"] == world.teacher.id
    picked = lesson(world.rural, world.today, teacher_id=world.teacher.id, teacher_name="")
    assert put(phone, str(uuid.uuid4()), picked).get_json()["activity"]["teacher_name"] == "马晓梅"


def test_sessions_need_a_topic_and_may_be_away_from_a_school(phone, world):
    assert put(phone, str(uuid.uuid4()), guidance(world.rural, world.today, topic="")).status_code == 422
    themed = guidance(None, world.today, kind="themed_research", form="seminar", topic="乡村课堂质量研讨")
    response = put(phone, str(uuid.uuid4()), themed)
    assert response.status_code == 201
    assert response.get_json()["activity"]["school_id"] is None
    assert put(phone, str(uuid.uuid4()), guidance(None, world.today)).status_code == 422  # 教研指导 needs a school


def test_bundle_counts_assigned_rural_schools_and_the_rest_apart(phone, world):
    for school in (world.rural, world.town, world.rural, world.urban, world.unassigned):
        assert put(phone, str(uuid.uuid4()), lesson(school, world.today)).status_code == 201
    deleted = str(uuid.uuid4())
    put(phone, deleted, lesson(world.rural, world.today))
    put(phone, deleted, lesson(world.rural, world.today, is_deleted=True))
    put(phone, str(uuid.uuid4()), guidance(world.town, world.today))
    bundle = phone.get("/api/v1/researcher/bundle").get_json()
    quotas = {q["item_id"]: q for q in bundle["quotas"]}
    lessons = quotas["helan.researcher.lessons_observed"]
    assert (lessons["standing"]["done"], lessons["standing"]["apart"], lessons["target"]) == (3, 2, 15)
    assert lessons["standing"]["pace"] == "还需 12 节，剩余 9 周"
    assert lessons["standing"]["is_expired"] is True and lessons["effective_until"] == "2025-12-31"
    assert quotas["helan.researcher.guidance_sessions"]["standing"]["done"] == 1
    assert bundle["term"]["name"] == "本学期" and bundle["term"]["days_left"] == 61
    assert [d["id"] for d in bundle["rubric"]] == ["goals", "process", "engagement", "effect"]
    mine = {s["id"]: s for s in bundle["schools"]}
    assert mine[world.rural.id]["postings"] and not mine[world.unassigned.id]["postings"]
    assert world.foreign.id not in mine
    assert {t["name"] for t in bundle["teachers"]} == {"马晓梅", "李志强"}
    assert len(bundle["records"]) == 7 and sum(r["is_deleted"] for r in bundle["records"]) == 1


def test_photos_go_with_the_record_once(phone, world):
    activity_id = str(uuid.uuid4())
    put(phone, activity_id, lesson(world.rural, world.today))
    data = jpeg_bytes()
    sha = hashlib.sha256(data).hexdigest()
    photo_id = str(uuid.uuid4())

    def upload(payload: bytes = data, digest: str = sha):
        form = {"file": (io.BytesIO(payload), "p.jpg"), "sha256": digest, "caption": "板书"}
        return phone.put(f"/api/v1/activities/{activity_id}/photos/{photo_id}", data=form)

    first = upload()
    assert first.status_code == 201 and first.get_json()["receipt"]["photo_hashes"] == [sha]
    assert upload().status_code == 200
    assert db.session.scalar(select(func.count()).select_from(ActivityPhoto)) == 1
    assert upload(digest="0" * 64).status_code in (200, 409)  # same id, other hash: never a second photo
    bad = phone.put(
        f"/api/v1/activities/{activity_id}/photos/{uuid.uuid4()}",
        data={"file": (io.BytesIO(b"not a jpeg"), "p.jpg"), "sha256": hashlib.sha256(b"not a jpeg").hexdigest()},
    )
    assert bad.status_code == 422
    shown = phone.get(f"/api/v1/activities/{activity_id}").get_json()
    assert [p["sha256"] for p in shown["activity"]["photos"]] == [sha]
    gone = phone.delete(f"/api/v1/activities/{activity_id}/photos/{photo_id}")
    assert gone.status_code == 200 and gone.get_json()["receipt"]["photo_hashes"] == []
    assert phone.delete(f"/api/v1/activities/{activity_id}/photos/{photo_id}").status_code == 200


def test_writes_need_the_csrf_header(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        world = make_world(factory)
        body = lesson(world.rural, world.today)
        client = app.test_client()
        login(client, world.researcher)
        refused = put(client, str(uuid.uuid4()), body)
        assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf_failed"
        token = client.get("/api/v1/me").get_json()["csrf_token"]
        ok = client.put(f"/api/v1/activities/{uuid.uuid4()}", json=body, headers={"X-CSRFToken": token})
        assert ok.status_code == 201
