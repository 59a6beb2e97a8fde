"""The school's side of rectification: its own tasks only, progress from the phone exactly once, then closure."""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import func, select

from webapp.bureau.rectification.models import RectificationTask, TaskPhoto, TaskUpdate
from webapp.extensions import db

from .bureau_support import ALARM, make_world, record_visit
from .conftest import jpeg_bytes, login


@pytest.fixture(name="world")
def world_fixture(factory):
    """The bureau tests' county, with a 学校 account at the visited school and one at the other school."""
    world = make_world(factory)
    world.principal = factory.user("school", world.county, school_id=world.school.id)
    world.neighbour = factory.user("school", world.county, school_id=world.junior.id)
    return world


def _task(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}})
    assert bureau.post(f"/bureau/visits/{visit_id}/review", data={"decision": "accept"}).status_code == 302
    return db.session.scalar(select(RectificationTask).where(RectificationTask.item_id == ALARM)).id


def _client(app, user):
    client = app.test_client()
    assert login(client, user).status_code == 302
    return client


def _progress(client, task_id, client_id, note="已安装一键报警", closure=True, photos=1):
    data = {
        "note": note,
        "request_closure": "true" if closure else "false",
        "photos": [(io.BytesIO(jpeg_bytes(color=(n * 40, 90, 30))), f"{n}.jpg") for n in range(photos)],
    }
    return client.put(f"/api/v1/tasks/{task_id}/progress/{client_id}", data=data, content_type="multipart/form-data")


def test_the_school_sees_its_tasks_with_the_findings_and_no_one_elses(app, world):
    task_id = _task(app, world)
    mine = _client(app, world.principal).get("/api/v1/school/bundle").get_json()
    assert mine["school"]["id"] == world.school.id
    [task] = mine["tasks"]
    assert task["id"] == task_id and task["state"] == "open" and task["item_id"] == ALARM
    assert task["observation"] == "门卫室未安装" and task["inspector"] == world.inspector.display_name
    assert [u["kind"] for u in task["updates"]] == ["opened"]
    neighbour = _client(app, world.neighbour)
    assert neighbour.get("/api/v1/school/bundle").get_json()["tasks"] == []
    # Another school's task, its page, its school and the bureau's pages are closed to it.
    assert _progress(neighbour, task_id, str(uuid.uuid4())).status_code == 404
    assert neighbour.get(f"/rectification/{task_id}").status_code == 403
    assert neighbour.get(f"/schools/{world.school.id}").status_code == 403
    assert neighbour.get("/bureau/").status_code == 403


def test_progress_from_the_phone_is_recorded_once_and_the_reviewer_closes(app, world):
    task_id = _task(app, world)
    school = _client(app, world.principal)
    entry = str(uuid.uuid4())
    first = _progress(school, task_id, entry, photos=2)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["task"]["state"] == "requested"
    # The phone did not hear the answer and sends the same entry again: nothing new is recorded.
    again = _progress(school, task_id, entry, note="重发", photos=2)
    assert again.status_code == 200 and again.get_json()["replayed"] is True
    assert db.session.scalar(select(func.count()).select_from(TaskUpdate).where(TaskUpdate.client_id == entry)) == 1
    assert db.session.scalar(select(func.count()).select_from(TaskPhoto).where(TaskPhoto.task_id == task_id)) == 2
    bundle = school.get("/api/v1/school/bundle").get_json()
    [update] = [u for u in bundle["tasks"][0]["updates"] if u["client_id"] == entry]
    assert update["kind"] == "request" and update["author"] == world.principal.display_name
    assert len(update["photos"]) == 2
    # The reviewer sees the school's entry and closes the task; the school cannot close it itself.
    bureau = world.client(app, "reviewer")
    page = bureau.get(f"/rectification/{task_id}").get_data(as_text=True)
    assert "已安装一键报警" in page and world.principal.display_name in page
    assert school.post(f"/rectification/{task_id}/close", data={}).status_code == 403
    assert bureau.post(f"/rectification/{task_id}/close", data={"note": "核实"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(RectificationTask, task_id).state == "closed"
    closed = _progress(school, task_id, str(uuid.uuid4()))
    assert closed.status_code == 409 and closed.get_json()["error"]["code"] == "task_closed"


def test_progress_needs_text_or_a_photo_and_a_real_uuid(app, world):
    task_id = _task(app, world)
    school = _client(app, world.principal)
    empty = _progress(school, task_id, str(uuid.uuid4()), note="", closure=False, photos=0)
    assert empty.status_code == 422 and empty.get_json()["error"]["code"] == "note_required"
    assert _progress(school, task_id, "not-a-uuid").status_code == 404
