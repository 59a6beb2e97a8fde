"""The audit log: every change recorded with who, when, device, old and new value; never edited."""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from webapp.bureau.audit.models import AuditEntry
from webapp.bureau.audit.operations import AuditLogIsAppendOnly
from webapp.bureau.rectification.models import RectificationTask
from webapp.extensions import db

from .bureau_support import ALARM, alarm_photo, make_world, record_visit, stamp
from .conftest import jpeg_bytes


@pytest.fixture(name="world")
def world_fixture(factory):
    """The bureau tests' county, schools and people."""
    return make_world(factory)


def _entries(scope_type, scope_id):
    db.session.expire_all()
    query = select(AuditEntry).where(AuditEntry.scope_type == scope_type, AuditEntry.scope_id == str(scope_id))
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


def test_visit_results_photos_and_reviews_are_recorded(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, body, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}}, {ALARM: alarm_photo()})
    entries = _entries("visit", visit_id)
    kinds = {(e.object_type, e.action) for e in entries}
    assert {("visit", "create"), ("item_result", "sync"), ("photo", "upload"), ("visit", "update")} <= kinds
    # One entry per batch of results, with its counts and each changed item's new value.
    batch = next(e for e in entries if e.object_type == "item_result")
    alarm = batch.new_value["items"][ALARM]
    assert alarm["value"] == {"answer": "no"} and alarm["outcome"] == "fail"
    assert batch.new_value["count"] == batch.new_value["applied"] >= 1 and batch.new_value["superseded"] == 0
    assert batch.user_id == world.inspector.id and batch.device == "phone-1" and batch.old_value is None
    submitted = [e for e in entries if e.object_type == "visit" and e.action == "update"]
    assert submitted[-1].old_value["state"] == "in_progress" and submitted[-1].new_value["state"] == "submitted"

    bureau.post(f"/bureau/visits/{visit_id}/review", data={"decision": "return", f"note-{ALARM}": "照片模糊"})
    amend = {
        "id": str(uuid.uuid4()),
        "item_id": ALARM,
        "value": {"answer": "yes"},
        "observation": "",
        "edited_at": stamp(300),
        "device_id": "phone-2",
    }
    phone.post(f"/api/v1/visits/{visit_id}/results", json={"writes": [amend]})
    entries = _entries("visit", visit_id)
    review = next(e for e in entries if e.object_type == "review")
    assert review.action == "return" and review.user_id == world.reviewer.id
    assert review.new_value["item_comments"] == {ALARM: "照片模糊"}
    assert review.device.startswith("网页")
    change = [e for e in entries if e.object_type == "item_result"][-1]
    assert change.old_value[ALARM]["value"] == {"answer": "no"}
    assert change.new_value["items"][ALARM]["value"] == {"answer": "yes"} and change.new_value["count"] == 1
    assert change.device == "phone-2"
    # Shown on the visit's page, read-only.
    page = bureau.get(f"/bureau/visits/{visit_id}").get_data(as_text=True)
    assert "修改记录（" in page and "照片模糊" in page and "phone-2" in page
    # In words: the fields and the states (they were shown as item_comments, state：submitted).
    audit = page[page.index('id="audit"') :]
    assert "<b>检查项意见</b>" in audit and "<b>item_comments</b>" not in audit
    assert '<b>结论</b>：<span class="new">退回修改</span>' in audit
    assert "<b>状态</b>" in audit and ">submitted<" not in audit and "已提交" in audit


def test_task_changes_are_recorded_and_shown(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}})
    bureau.post(f"/bureau/visits/{visit_id}/review", data={"decision": "accept"})
    task_id = db.session.scalar(select(RectificationTask.id))
    phone.post(
        f"/rectification/{task_id}/progress",
        data={"note": "已整改", "request_closure": "true", "photos": [(io.BytesIO(jpeg_bytes()), "a.jpg")]},
        content_type="multipart/form-data",
    )
    bureau.post(f"/rectification/{task_id}/close", data={"note": "同意销号"})
    actions = [(e.object_type, e.action) for e in _entries("task", task_id)]
    assert actions == [
        ("task", "open"),
        ("task_photo", "upload"),
        ("task", "progress"),
        ("task", "request"),
        ("task", "close"),
    ]
    close = _entries("task", task_id)[-1]
    assert close.old_value == {"state": "requested"} and close.new_value["state"] == "closed"
    assert close.user_id == world.reviewer.id
    assert "同意销号" in bureau.get(f"/rectification/{task_id}").get_data(as_text=True)


def test_history_cannot_be_edited(app, world):
    phone = world.client(app, "inspector")
    visit_id, _, _ = record_visit(phone, world.school)
    entry = _entries("visit", visit_id)[0]
    entry.action = "forged"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    # The database refuses it too, whatever the client.
    with pytest.raises(DatabaseError):
        db.session.execute(text("UPDATE audit_log SET action = 'forged' WHERE id = :id"), {"id": entry.id})
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).action == "create"
    # DELETE as well (migration c7000000c0de), one row or all of them.
    count = db.session.scalar(text("SELECT count(*) FROM audit_log"))
    for statement in ("DELETE FROM audit_log WHERE id = :id", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError):
            db.session.execute(text(statement), {"id": entry.id})
        db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        with pytest.raises(DatabaseError):
            db.session.execute(text("TRUNCATE audit_log"))
        db.session.rollback()
    assert db.session.scalar(text("SELECT count(*) FROM audit_log")) == count > 0
