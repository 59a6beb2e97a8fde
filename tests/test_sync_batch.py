"""``POST /api/v1/sync``: many outbox entries in one request, each answered as its single endpoint would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from webapp.bureau.audit.models import AuditEntry
from webapp.extensions import db
from webapp.lessons.models import Activity, ActivityWrite
from webapp.visits.models import ItemResult, ResultWrite, Visit

from .conftest import login
from .lessons_world import lesson, make_world

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def phone(app, inspector_world):
    client = app.test_client()
    assert login(client, inspector_world["inspector"]).status_code == 302
    return client


@pytest.fixture
def checklist(phone, inspector_world):
    bundle = phone.get(f"/api/v1/schools/{inspector_world['school'].id}/bundle").get_json()
    items = [i for s in bundle["checklist"]["sections"] for i in s["items"]]
    return bundle["checklist"]["version"], items


def _header(world, version, **fields):
    return {
        "school_id": world["school"].id,
        "checklist_version": version,
        "state": "in_progress",
        "started_at": at(0),
        "device_id": "phone-1",
        **fields,
    }


def _write(item, answer, minutes, write_id=None):
    value = {"answer": answer} if item["check"]["type"] == "yes_no" else {"number": 3}
    return {
        "id": write_id or str(uuid.uuid4()),
        "item_id": item["id"],
        "value": value,
        "edited_at": at(minutes),
        "observation": "",
        "device_id": "phone-1",
    }


def _entry(kind, target, body):
    return {"id": str(uuid.uuid4()), "kind": kind, "target": target, "body": body}


def _count(model):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_mixed_batch_answers_each_entry_and_keeps_the_good_ones(phone, inspector_world, checklist):
    version, items = checklist
    yes_no = [i for i in items if i["check"]["type"] == "yes_no"]
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    writes_a = [_write(yes_no[0], "no", 1), _write(yes_no[1], "yes", 2)]
    entries = [
        _entry("visit_put", first, _header(inspector_world, version)),
        _entry("results_post", first, {"writes": writes_a}),
        # Refused: a value that is not an answer; the rest of the batch goes on.
        _entry("results_post", first, {"writes": [{**_write(yes_no[2], "no", 3), "value": {"answer": "maybe"}}]}),
        # Refused: another inspector's school; and an unknown visit.
        _entry(
            "visit_put",
            str(uuid.uuid4()),
            _header(inspector_world, version, school_id=inspector_world["other_school"].id),
        ),
        _entry("results_post", str(uuid.uuid4()), {"writes": [_write(yes_no[0], "yes", 4)]}),
        # Refused: a kind of another role.
        _entry("activity_put", str(uuid.uuid4()), {}),
        _entry("visit_put", second, _header(inspector_world, version)),
        _entry("results_post", second, {"writes": [_write(yes_no[0], "yes", 5)]}),
        # Last write wins inside one batch too: an older edit of the same item is kept as superseded.
        _entry("results_post", first, {"writes": [_write(yes_no[0], "yes", 0.5)]}),
    ]
    response = phone.post("/api/v1/sync", json={"entries": entries})
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    statuses = [e["status"] for e in answer["entries"]]
    assert statuses == [201, 200, 422, 403, 404, 403, 201, 200, 200]
    assert [e["id"] for e in answer["entries"]] == [e["id"] for e in entries]
    bodies = [e["body"] for e in answer["entries"]]
    assert bodies[2]["error"]["code"] == "invalid_results" and "writes.0.value" in bodies[2]["error"]["fields"]
    assert bodies[4]["error"]["code"] == "visit_not_found"
    assert [w["decision"] for w in bodies[1]["writes"]] == ["applied", "applied"]
    assert bodies[8]["writes"][0]["decision"] == "superseded"
    assert set(answer["receipts"]) == {first, second}
    assert answer["receipts"][first]["result_count"] == 2 and answer["receipts"][second]["result_count"] == 1
    assert _count(Visit) == 2 and _count(ResultWrite) == 4 and _count(ItemResult) == 3
    kept = db.session.scalar(
        select(ItemResult).where(ItemResult.visit_id == first, ItemResult.item_id == yes_no[0]["id"])
    )
    assert kept.value == {"answer": "no"} and kept.outcome == "fail"
    # One audit entry for the batch, with its counts.
    batch = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "sync_batch")).all()
    assert len(batch) == 1 and batch[0].new_value["entries"] == 9 and batch[0].new_value["rejected"] == 4

    # The same batch again (the phone did not hear the answer): same answers, nothing written twice.
    again = phone.post("/api/v1/sync", json={"entries": entries}).get_json()
    assert [e["status"] for e in again["entries"]] == [200, 200, 422, 403, 404, 403, 200, 200, 200]
    assert [e["body"]["writes"] for e in again["entries"] if e["status"] == 200 and "writes" in e["body"]] == [
        bodies[1]["writes"],
        bodies[7]["writes"],
        bodies[8]["writes"],
    ]
    assert _count(Visit) == 2 and _count(ResultWrite) == 4 and _count(ItemResult) == 3
    # The receipt matches what the single endpoint says.
    single = phone.get(f"/api/v1/visits/{first}/receipt").get_json()["receipt"]
    assert {k: v for k, v in single.items() if k != "server_time"} == {
        k: v for k, v in again["receipts"][first].items() if k != "server_time"
    }


def test_a_submit_in_the_batch_completes_the_visit_and_locks_later_edits(phone, inspector_world, checklist):
    version, items = checklist
    item = next(i for i in items if i["check"]["type"] == "yes_no")
    visit_id = str(uuid.uuid4())
    header = _header(inspector_world, version)
    write = _write(item, "yes", 1)
    entries = [
        _entry("visit_put", visit_id, header),
        _entry("results_post", visit_id, {"writes": [write]}),
        _entry(
            "visit_put",
            visit_id,
            {
                **header,
                "state": "submitted",
                "submitted_at": at(9),
                "declared": {"result_count": 1, "photo_hashes": []},
            },
        ),
        _entry("results_post", visit_id, {"writes": [_write(item, "no", 10)]}),
        _entry("results_post", visit_id, {"writes": [write]}),
    ]
    answer = phone.post("/api/v1/sync", json={"entries": entries}).get_json()
    assert [e["status"] for e in answer["entries"]] == [201, 200, 200, 409, 200]
    assert answer["entries"][3]["body"]["error"]["code"] == "visit_submitted"
    receipt = answer["receipts"][visit_id]
    assert receipt["state"] == "submitted" and receipt["is_fully_received"] and receipt["result_count"] == 1


def test_a_write_id_reused_on_another_visit_undoes_only_that_entry(phone, inspector_world, checklist):
    version, items = checklist
    yes_no = [i for i in items if i["check"]["type"] == "yes_no"]
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    reused = _write(yes_no[0], "yes", 1)
    entries = [
        _entry("visit_put", a, _header(inspector_world, version)),
        _entry("visit_put", b, _header(inspector_world, version)),
        _entry("results_post", a, {"writes": [reused]}),
        # A fresh write first, then the reused id: the whole entry is undone, the fresh write too.
        _entry("results_post", b, {"writes": [_write(yes_no[1], "no", 2), reused]}),
    ]
    answer = phone.post("/api/v1/sync", json={"entries": entries}).get_json()
    assert [e["status"] for e in answer["entries"]] == [201, 201, 200, 409]
    assert answer["entries"][3]["body"]["error"]["code"] == "write_id_reused"
    assert _count(ResultWrite) == 1 and answer["receipts"][b]["result_count"] == 0


@pytest.mark.parametrize(
    ("payload", "status"),
    [({}, 422), ({"entries": []}, 422), ({"entries": [{"id": "1", "kind": "nope", "target": "x", "body": {}}]}, 422)],
)
def test_a_malformed_batch_is_refused_whole(phone, payload, status):
    response = phone.post("/api/v1/sync", json=payload)
    assert response.status_code == status and response.get_json()["error"]["code"] == "invalid_payload"


def test_not_json_and_not_signed_in(client, phone):
    assert phone.post("/api/v1/sync", data="x", content_type="application/json").status_code == 400
    assert client.application.test_client().post("/api/v1/sync", json={"entries": []}).status_code == 401


def test_a_database_failure_writes_nothing(phone, inspector_world, checklist, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from webapp.visits import results

    version, items = checklist
    item = next(i for i in items if i["check"]["type"] == "yes_no")
    visit_id = str(uuid.uuid4())
    calls = {"n": 0}
    real = results._write

    def failing(*args, **kwargs):
        calls["n"] += 1
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(results, "_write", failing)
    entries = [
        _entry("visit_put", visit_id, _header(inspector_world, version)),
        _entry("results_post", visit_id, {"writes": [_write(item, "yes", 1)]}),
    ]
    response = phone.post("/api/v1/sync", json={"entries": entries})
    assert response.status_code == 503 and calls["n"] == 1
    assert _count(Visit) == 0 and _count(ResultWrite) == 0
    monkeypatch.setattr(results, "_write", real)
    assert phone.post("/api/v1/sync", json={"entries": entries}).status_code == 200
    assert _count(Visit) == 1 and _count(ItemResult) == 1


def test_activity_entries_go_through_the_batch(app, factory):
    world = make_world(factory)
    client = app.test_client()
    login(client, world.researcher)
    record = str(uuid.uuid4())
    first = lesson(world.rural, world.today)
    later = (datetime.fromisoformat(first["edited_at"]) + timedelta(seconds=1)).isoformat()
    entries = [
        _entry("activity_put", record, first),
        _entry(
            "activity_put", record, {**first, "write_id": str(uuid.uuid4()), "topic": "改过的主题", "edited_at": later}
        ),
        _entry(
            "activity_put", str(uuid.uuid4()), {**first, "write_id": str(uuid.uuid4()), "school_id": world.foreign.id}
        ),
        _entry("visit_put", str(uuid.uuid4()), {}),
    ]
    answer = client.post("/api/v1/sync", json={"entries": entries}).get_json()
    assert [e["status"] for e in answer["entries"]] == [201, 200, 422, 403]
    assert answer["entries"][1]["body"]["activity"]["topic"] == "改过的主题"
    assert answer["receipts"] == {}
    replay = client.post("/api/v1/sync", json={"entries": entries[:2]}).get_json()
    assert [e["status"] for e in replay["entries"]] == [200, 200]
    assert [e["body"]["write"] for e in replay["entries"]] == [e["body"]["write"] for e in answer["entries"][:2]]
    assert _count(Activity) == 1 and _count(ActivityWrite) == 2


def test_a_refused_first_entry_undoes_only_itself(phone, inspector_world, checklist, monkeypatch):
    """The first entry runs without a savepoint: refusing it after it wrote rolls back just its writes."""
    from webapp.errors import AppError
    from webapp.visits import results

    version, items = checklist
    item = next(i for i in items if i["check"]["type"] == "yes_no")
    visit_id, other = str(uuid.uuid4()), str(uuid.uuid4())
    made = phone.post(
        "/api/v1/sync", json={"entries": [_entry("visit_put", visit_id, _header(inspector_world, version))]}
    )
    assert made.get_json()["entries"][0]["status"] == 201

    def refuse(*args, **kwargs):
        # Called after the history and the values in force were written.
        raise AppError(409, "refused_for_the_test", "测试中拒绝。")

    monkeypatch.setattr(results, "_audit_results", refuse)
    entries = [
        _entry("results_post", visit_id, {"writes": [_write(item, "yes", 1)]}),
        _entry("visit_put", other, _header(inspector_world, version)),
    ]
    answer = phone.post("/api/v1/sync", json={"entries": entries}).get_json()
    assert [e["status"] for e in answer["entries"]] == [409, 201]
    assert _count(ResultWrite) == 0 and _count(ItemResult) == 0
    assert _count(Visit) == 2
    batch = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "sync_batch").order_by(AuditEntry.id)
    ).all()
    assert [b.new_value["rejected"] for b in batch] == [0, 1]
    # A one-entry batch refused: nothing of it stays, and the request still answers 200 with the entry's status.
    alone = phone.post("/api/v1/sync", json={"entries": entries[:1]})
    assert alone.status_code == 200 and alone.get_json()["entries"][0]["status"] == 409
    assert _count(ResultWrite) == 0


def _submit(world, version, result_count):
    return {
        **_header(world, version),
        "state": "submitted",
        "submitted_at": at(9),
        "declared": {"result_count": result_count, "photo_hashes": []},
    }


def test_a_submit_after_a_refused_write_of_its_visit_is_held(phone, inspector_world, checklist):
    """The phone sends a visit recorded offline whole (header, writes, submit): if a write is refused, the
    submit must not lock the visit without it; it is answered 424 and the phone keeps it."""
    version, items = checklist
    yes_no = [i for i in items if i["check"]["type"] == "yes_no"]
    visit_id, other = str(uuid.uuid4()), str(uuid.uuid4())
    entries = [
        _entry("visit_put", visit_id, _header(inspector_world, version)),
        _entry("results_post", visit_id, {"writes": [_write(yes_no[0], "yes", 1)]}),
        _entry("results_post", visit_id, {"writes": [{**_write(yes_no[1], "no", 2), "value": {"answer": "maybe"}}]}),
        _entry("visit_put", visit_id, _submit(inspector_world, version, 2)),
        # Another visit in the same batch is not held by it.
        _entry("visit_put", other, _header(inspector_world, version)),
        _entry("visit_put", other, _submit(inspector_world, version, 0)),
    ]
    answer = phone.post("/api/v1/sync", json={"entries": entries}).get_json()
    assert [e["status"] for e in answer["entries"]] == [201, 200, 422, 424, 201, 200]
    assert answer["entries"][3]["body"]["error"]["code"] == "held_for_earlier_entry"
    assert answer["receipts"][visit_id]["state"] == "in_progress" and answer["receipts"][visit_id]["result_count"] == 1
    db.session.expire_all()
    assert db.session.get(Visit, visit_id).state == "in_progress"
    assert db.session.get(Visit, other).state == "submitted"
    # Once the write is mended, the held submit goes and completes the visit.
    mended = [
        _entry("results_post", visit_id, {"writes": [_write(yes_no[1], "no", 3)]}),
        _entry("visit_put", visit_id, _submit(inspector_world, version, 2)),
    ]
    again = phone.post("/api/v1/sync", json={"entries": mended}).get_json()
    assert [e["status"] for e in again["entries"]] == [200, 200]
    receipt = again["receipts"][visit_id]
    assert receipt["state"] == "submitted" and receipt["is_fully_received"] and receipt["result_count"] == 2


def _statements(app):
    """The SQL statements the app runs while the block runs (a list filled in place)."""
    from sqlalchemy import event

    seen: list[str] = []
    engine = db.engine

    def log(conn, cursor, statement, params, context, executemany):  # noqa: ANN001, ARG001
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", log)
    return seen, lambda: event.remove(engine, "before_cursor_execute", log)


def test_an_accepted_batch_runs_without_savepoints_and_audits_in_one_statement(app, phone, inspector_world, checklist):
    version, items = checklist
    yes_no = [i for i in items if i["check"]["type"] == "yes_no"]
    visit_id = str(uuid.uuid4())
    entries = [
        _entry("visit_put", visit_id, _header(inspector_world, version)),
        _entry("results_post", visit_id, {"writes": [_write(yes_no[0], "no", 1), _write(yes_no[1], "yes", 2)]}),
        _entry("visit_put", visit_id, _submit(inspector_world, version, 2)),
    ]
    seen, stop = _statements(app)
    try:
        answer = phone.post("/api/v1/sync", json={"entries": entries}).get_json()
    finally:
        stop()
    assert [e["status"] for e in answer["entries"]] == [201, 200, 200]
    assert not [s for s in seen if s.startswith("SAVEPOINT")]
    # The new visit is inserted without a read first, and never read back within the batch.
    assert not [s for s in seen if s.startswith("SELECT") and "FROM visits" in s]
    assert len([s for s in seen if s.startswith("INSERT INTO visits")]) == 1
    if db.engine.dialect.name == "postgresql":
        # Nor are its write ids looked up: none can be its own (another visit's is caught by the write).
        assert not [s for s in seen if s.startswith("SELECT") and "result_writes" in s]
    assert len([s for s in seen if "INSERT INTO audit_log" in s]) == 1
    # Every change is still recorded, in the order made.
    rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(r.object_type, r.action) for r in rows] == [
        ("visit", "create"),
        ("item_result", "sync"),
        ("visit", "update"),
        ("sync_batch", "batch"),
    ]
    assert rows[2].new_value["state"] == "submitted" and rows[1].new_value["applied"] == 2


def test_a_refused_entry_leaves_one_audit_entry_per_change_kept(phone, inspector_world, checklist):
    """The run that met the refusal is rolled back whole: its held-back audit entries are not written twice."""
    version, items = checklist
    yes_no = [i for i in items if i["check"]["type"] == "yes_no"]
    visit_id = str(uuid.uuid4())
    entries = [
        _entry("visit_put", visit_id, _header(inspector_world, version)),
        _entry("results_post", visit_id, {"writes": [_write(yes_no[0], "no", 1)]}),
        _entry("results_post", str(uuid.uuid4()), {"writes": [_write(yes_no[0], "no", 1)]}),
    ]
    answer = phone.post("/api/v1/sync", json={"entries": entries}).get_json()
    assert [e["status"] for e in answer["entries"]] == [201, 200, 404]
    rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(r.object_type, r.action) for r in rows] == [
        ("visit", "create"),
        ("item_result", "sync"),
        ("sync_batch", "batch"),
    ]
    assert rows[2].new_value["rejected"] == 1


def test_a_write_for_another_account_is_refused_whole(phone, inspector_world, checklist):
    """A shared phone's old tab names its records' owner (X-Dudao-User); the session is someone else's: 409
    user_changed and nothing applied. Reads, unknown routes and methods are not its business."""
    version, _items = checklist
    own = str(inspector_world["inspector"].id)
    visit_id = str(uuid.uuid4())
    body = {"entries": [_entry("visit_put", visit_id, _header(inspector_world, version))]}
    refused = phone.post("/api/v1/sync", json=body, headers={"X-Dudao-User": own + "0"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "user_changed"
    assert _count(Visit) == 0
    assert phone.put(f"/api/v1/visits/{visit_id}", json={}, headers={"X-Dudao-User": "1" + own}).status_code == 409
    assert phone.get("/api/v1/me", headers={"X-Dudao-User": own + "0"}).status_code == 200
    assert phone.open("/api/v1/sync", method="TRACE", headers={"X-Dudao-User": own + "0"}).status_code == 405
    assert phone.post("/api/v1/nothing-here", json={}, headers={"X-Dudao-User": own + "0"}).status_code == 404
    accepted = phone.post("/api/v1/sync", json=body, headers={"X-Dudao-User": own})
    assert accepted.status_code == 200 and accepted.get_json()["entries"][0]["status"] == 201
    assert _count(Visit) == 1
