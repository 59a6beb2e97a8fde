"""Rectification to closure: progress with photos, closure request, close, reopen, re-check on the next visit."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.bureau.rectification import ledger
from webapp.bureau.rectification.models import RectificationTask, TaskPhoto, TaskUpdate
from webapp.extensions import db
from webapp.timeutil import today_in_china

from .bureau_support import ALARM, CLASS_SIZE, make_world, record_visit
from .conftest import jpeg_bytes


@pytest.fixture(name="world")
def world_fixture(factory):
    """The bureau tests' county, schools and people."""
    return make_world(factory)


def _accepted_task(app, world, item=ALARM, value=None):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, _, _ = record_visit(phone, world.school, {item: value or {"answer": "no"}})
    assert bureau.post(f"/bureau/visits/{visit_id}/review", data={"decision": "accept"}).status_code == 302
    task = db.session.scalar(select(RectificationTask).where(RectificationTask.item_id == item))
    return task.id, phone, bureau


def _state(task_id):
    db.session.expire_all()
    return db.session.get(RectificationTask, task_id).state


def test_lifecycle_to_closure_and_reopen(app, world):
    task_id, phone, bureau = _accepted_task(app, world)
    # The school's inspector sees the task on the phone and in the ledger.
    bundle = phone.get(f"/api/v1/schools/{world.school.id}/bundle").get_json()
    assert [t["item_id"] for t in bundle["rectifications"]] == [ALARM]
    assert f"/rectification/{task_id}" in phone.get("/rectification/").get_data(as_text=True)

    progress = phone.post(
        f"/rectification/{task_id}/progress",
        data={
            "note": "已安装一键报警并与公安联网",
            "caption": "门卫室",
            "request_closure": "true",
            "photos": [(io.BytesIO(jpeg_bytes(800, 600)), "a.jpg"), (io.BytesIO(jpeg_bytes(color=(0, 0, 0))), "b.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert progress.status_code == 302
    assert _state(task_id) == "requested"
    photos = db.session.scalars(select(TaskPhoto).where(TaskPhoto.task_id == task_id)).all()
    assert len(photos) == 2 and all(app.extensions["dudao.storage"].exists(p.thumb_key) for p in photos)
    page = bureau.get(f"/rectification/{task_id}").get_data(as_text=True)
    assert "已安装一键报警并与公安联网" in page and "/media/photos/thumb/" in page

    # Only the bureau closes.
    refused = phone.post(f"/rectification/{task_id}/close", data={"note": "我来销号"})
    assert refused.status_code == 403 and _state(task_id) == "requested"
    assert bureau.post(f"/rectification/{task_id}/close", data={"note": "照片显示已整改到位"}).status_code == 302
    assert _state(task_id) == "closed"
    assert phone.get(f"/api/v1/schools/{world.school.id}/bundle").get_json()["rectifications"] == []
    late = phone.post(f"/rectification/{task_id}/progress", data={"note": "补充"})
    assert late.status_code == 409

    # Reopen needs a reason; with one, the task is back to 整改中 with the new deadline.
    assert bureau.post(f"/rectification/{task_id}/reopen", data={"note": ""}).status_code == 422
    new_deadline = today_in_china() + timedelta(days=10)
    response = bureau.post(
        f"/rectification/{task_id}/reopen", data={"note": "复查发现未联网", "deadline": new_deadline}
    )
    assert response.status_code == 302
    db.session.expire_all()
    task = db.session.get(RectificationTask, task_id)
    assert task.state == "open" and task.deadline == new_deadline and task.closed_at is None
    kinds = [
        u.kind
        for u in db.session.scalars(select(TaskUpdate).where(TaskUpdate.task_id == task_id).order_by(TaskUpdate.id))
    ]
    assert kinds == ["opened", "request", "close", "reopen"]


def test_progress_needs_a_note_or_photo_and_rejects_bad_files(app, world):
    task_id, phone, _ = _accepted_task(app, world)
    empty = phone.post(f"/rectification/{task_id}/progress", data={"note": " "})
    assert empty.status_code == 422 and "请填写整改情况" in empty.get_data(as_text=True)
    bad = phone.post(
        f"/rectification/{task_id}/progress",
        data={"note": "见照片", "photos": [(io.BytesIO(b"not a photo"), "x.jpg")]},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "不是有效的图片" in bad.get_data(as_text=True)
    assert _state(task_id) == "open"
    assert db.session.scalar(select(TaskUpdate).where(TaskUpdate.kind == "progress")) is None


def test_edit_deadline_and_overdue(app, world):
    task_id, phone, bureau = _accepted_task(app, world)
    past = (today_in_china() - timedelta(days=1)).isoformat()
    refused = bureau.post(
        f"/rectification/{task_id}/edit", data={"deadline": past, "responsible_person": "王主任", "problem": "新描述"}
    )
    assert refused.status_code == 422
    # What was typed comes back in the form, opened where the error is (it was lost in a closed 修改 box).
    form = refused.get_data(as_text=True).split("修改期限、责任人或问题描述")[0].rsplit("<details", 1)[1]
    assert form.startswith(" open>")
    again = refused.get_data(as_text=True).split('id="edit-deadline"')[1]
    assert f'value="{past}"' in again and 'value="王主任"' in again and ">新描述</textarea>" in again
    assert phone.post(f"/rectification/{task_id}/edit", data={"responsible_person": "x"}).status_code == 403
    assert bureau.post(f"/rectification/{task_id}/edit", data={"responsible_person": "马副校长"}).status_code == 302
    # Its history (and the ledger's 最新进展) says what changed in words, not by column names.
    history = bureau.get(f"/rectification/{task_id}").get_data(as_text=True)
    assert "修改期限或责任人" in history and "责任人：马副校长" in history and "responsible_person：" not in history
    # Make it overdue (as time passing would) and see it highlighted and counted.
    task = db.session.get(RectificationTask, task_id)
    task.deadline = today_in_china() - timedelta(days=5)
    db.session.commit()
    assert task.is_overdue() and task.responsible_person == "马副校长"
    page = bureau.get("/rectification/").get_data(as_text=True)
    assert "逾期 5 天" in page and 'class="overdue"' in page
    assert "已下发 0 天" in page and "已 0 天" not in page  # says what the days count
    counts = ledger.counts(world.reviewer, world.county.id)
    assert counts.unclosed == 1 and counts.overdue == 1
    assert counts.by_school == [(world.school.name, 1, 1)]
    assert counts.by_item[0][1:] == (1, 1)
    assert [(name, n) for name, n, _ in counts.by_age if n] == [("7天内", 1)]
    overdue_only = bureau.get("/rectification/?state=overdue").get_data(as_text=True)
    assert f"/rectification/{task_id}" in overdue_only


def test_next_visit_rechecks_open_tasks(app, world):
    task_id, phone, bureau = _accepted_task(app, world, CLASS_SIZE, {"number": 50})
    # The next visit's bundle pre-loads the open task; the inspector finds it fixed.
    visit_id, _, _ = record_visit(phone, world.school, {})
    bundle = phone.get(f"/api/v1/visits/{visit_id}/bundle").get_json()
    assert [t["id"] for t in bundle["rectifications"]] == [task_id]
    assert bureau.post(f"/bureau/visits/{visit_id}/review", data={"decision": "accept"}).status_code == 302
    db.session.expire_all()
    updates = db.session.scalars(select(TaskUpdate).where(TaskUpdate.task_id == task_id).order_by(TaskUpdate.id)).all()
    assert [u.kind for u in updates] == ["opened", "recheck_pass"] and updates[-1].visit_id == visit_id
    # Still failing on a third visit: noted on the same task, no duplicate opened.
    third, _, _ = record_visit(phone, world.school, {CLASS_SIZE: {"number": 49}})
    bureau.post(f"/bureau/visits/{third}/review", data={"decision": "accept"})
    db.session.expire_all()
    assert db.session.scalar(select(TaskUpdate.kind).order_by(TaskUpdate.id.desc()).limit(1)) == "recheck_fail"
    assert len(db.session.scalars(select(RectificationTask)).all()) == 1


def test_tasks_are_hidden_from_other_counties_and_unassigned_inspectors(app, world):
    task_id, _, _ = _accepted_task(app, world)
    assert world.client(app, "other_reviewer").get(f"/rectification/{task_id}").status_code == 404
    assert world.client(app, "outsider").get(f"/rectification/{task_id}").status_code == 404
    assert world.client(app, "admin").get(f"/rectification/{task_id}").status_code == 200
    outsider_ledger = world.client(app, "outsider").get("/rectification/").get_data(as_text=True)
    assert f"/rectification/{task_id}" not in outsider_ledger
