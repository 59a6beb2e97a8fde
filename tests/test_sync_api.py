"""The sync API: idempotent visits, last-write-wins results with history, photos, receipts."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.visits.models import ItemResult, Photo, ResultWrite, Visit

from .conftest import jpeg_bytes, login

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def phone(app, inspector_world):
    client = app.test_client()
    assert login(client, inspector_world["inspector"]).status_code == 302
    return client


@pytest.fixture
def started(phone, inspector_world):
    """A visit started on the phone: bundle downloaded, header PUT."""
    school = inspector_world["school"]
    bundle = phone.get(f"/api/v1/schools/{school.id}/bundle").get_json()
    visit_id = str(uuid.uuid4())
    body = {
        "school_id": school.id,
        "checklist_version": bundle["checklist"]["version"],
        "state": "in_progress",
        "started_at": at(0),
        "device_id": "phone-1",
    }
    response = phone.put(f"/api/v1/visits/{visit_id}", json=body)
    assert response.status_code == 201, response.get_json()
    items = {i["id"]: i for s in bundle["checklist"]["sections"] for i in s["items"]}
    return visit_id, items, body


def _item(items, check_type):
    return next(i for i in items.values() if i["check"]["type"] == check_type)


def _write(item_id, value, minutes, observation="", write_id=None):
    return {
        "id": write_id or str(uuid.uuid4()),
        "item_id": item_id,
        "value": value,
        "edited_at": at(minutes),
        "observation": observation,
        "device_id": "phone-1",
    }


def test_visit_put_is_idempotent(phone, started):
    visit_id, _, body = started
    again = phone.put(f"/api/v1/visits/{visit_id}", json=body)
    assert again.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 1


def test_results_are_judged_and_replays_answer_the_same(phone, started):
    visit_id, items, _ = started
    yes_no = _item(items, "yes_no")
    numeric = next(i for i in items.values() if i["check"]["type"] == "numeric" and i["check"].get("value"))
    over = numeric["check"]["value"] + 5 if numeric["check"]["operator"] in ("<=", "<") else 0
    batch = {
        "writes": [
            _write(yes_no["id"], {"answer": "no"}, 1, "门口未见保安"),
            _write(numeric["id"], {"number": over}, 2),
        ]
    }
    first = phone.post(f"/api/v1/visits/{visit_id}/results", json=batch)
    assert first.status_code == 200, first.get_json()
    decisions = first.get_json()["writes"]
    assert [d["decision"] for d in decisions] == ["applied", "applied"]
    assert [d["outcome"] for d in decisions] == ["fail", "fail"]
    for _ in range(3):
        replay = phone.post(f"/api/v1/visits/{visit_id}/results", json=batch)
        assert replay.get_json()["writes"] == decisions
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ResultWrite)) == 2
    assert db.session.scalar(select(func.count()).select_from(ItemResult)) == 2


def test_last_write_wins_by_phone_time_and_history_is_kept(phone, started):
    visit_id, items, _ = started
    item = _item(items, "yes_no")
    newer = _write(item["id"], {"answer": "yes"}, 10, "已整改")
    older = _write(item["id"], {"answer": "no"}, 5, "现场未见")
    # The newer edit arrives first (another device), the older one later.
    assert phone.post(f"/api/v1/visits/{visit_id}/results", json={"writes": [newer]}).status_code == 200
    late = phone.post(f"/api/v1/visits/{visit_id}/results", json={"writes": [older]}).get_json()
    assert late["writes"][0]["decision"] == "superseded"
    db.session.expire_all()
    result = db.session.scalar(select(ItemResult).where(ItemResult.item_id == item["id"]))
    assert result.value == {"answer": "yes"} and result.outcome == "pass" and result.observation == "已整改"
    history = db.session.scalars(select(ResultWrite).order_by(ResultWrite.edited_at)).all()
    assert [(h.value["answer"], h.decision) for h in history] == [("no", "superseded"), ("yes", "applied")]


def test_bad_values_are_refused_with_field_errors(phone, started):
    visit_id, items, _ = started
    numeric = _item(items, "numeric")
    good = _write(_item(items, "yes_no")["id"], {"answer": "yes"}, 1)
    bad = {"writes": [good, _write(numeric["id"], {"number": "many"}, 2), _write("xiji.nope", {"answer": "yes"}, 3)]}
    response = phone.post(f"/api/v1/visits/{visit_id}/results", json=bad)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (
        error["code"] == "invalid_results"
        and "writes.1.value" in error["fields"]
        and "writes.2.item_id" in error["fields"]
    )
    assert "请输入数字" in error["fields"]["writes.1.value"][0]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ResultWrite)) == 0  # nothing half-written
    # The good write alone goes through afterwards.
    assert phone.post(f"/api/v1/visits/{visit_id}/results", json={"writes": [good]}).status_code == 200


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ("not json", 400, "bad_json"),
        ({"writes": []}, 422, "invalid_payload"),
        ({"writes": [{"id": "x"}]}, 422, "invalid_payload"),
    ],
)
def test_malformed_payloads_get_structured_errors(phone, started, payload, status, code):
    visit_id, _, _ = started
    kwargs = {"data": payload, "content_type": "application/json"} if isinstance(payload, str) else {"json": payload}
    response = phone.post(f"/api/v1/visits/{visit_id}/results", **kwargs)
    assert response.status_code == status
    body = response.get_json()["error"]
    assert body["code"] == code and body["message"]


def _upload(phone, visit_id, data, photo_id=None, **meta):
    photo_id = photo_id or str(uuid.uuid4())
    form = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "caption": "校门",
        "captured_at": at(3),
        **meta,
        "file": (io.BytesIO(data), "p.jpg"),
    }
    return photo_id, phone.put(
        f"/api/v1/visits/{visit_id}/photos/{photo_id}", data=form, content_type="multipart/form-data"
    )


def test_photo_upload_is_stored_once(app, phone, started):
    visit_id, _, _ = started
    data = jpeg_bytes(800, 600, orientation=6)
    photo_id, first = _upload(phone, visit_id, data)
    assert first.status_code == 201, first.get_json()
    stored = first.get_json()["photo"]
    assert stored["width"] == 800 and stored["sha256"] == hashlib.sha256(data).hexdigest()
    _, again = _upload(phone, visit_id, data, photo_id=photo_id)
    assert again.status_code == 200
    # Same picture under a new id: deduplicated by content.
    _, dup = _upload(phone, visit_id, data)
    assert dup.status_code == 200 and dup.get_json()["photo"]["id"] == photo_id
    db.session.expire_all()
    photo = db.session.get(Photo, photo_id)
    storage = app.extensions["dudao.storage"]
    assert storage.get(photo.original_key) == data
    assert storage.exists(photo.thumb_key) and storage.exists(photo.public_key)
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 1


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"not an image at all", "not_an_image"), (jpeg_bytes(400, 300)[:900], "truncated")],
)
def test_bad_photos_are_refused(phone, started, data, code):
    visit_id, _, _ = started
    _, response = _upload(phone, visit_id, data)
    assert response.status_code == 422 and response.get_json()["error"]["code"] == code


def test_checksum_mismatch_is_refused(phone, started):
    visit_id, _, _ = started
    _, response = _upload(phone, visit_id, jpeg_bytes(), sha256="0" * 64)
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "checksum_mismatch"


def test_completeness_and_submit(phone, started):
    visit_id, items, body = started
    a, b = jpeg_bytes(color=(1, 2, 3)), jpeg_bytes(color=(9, 9, 9))
    hashes = sorted(hashlib.sha256(x).hexdigest() for x in (a, b))
    writes = [_write(_item(items, "yes_no")["id"], {"answer": "yes"}, 1)]
    phone.post(f"/api/v1/visits/{visit_id}/results", json={"writes": writes})
    submit = {
        **body,
        "state": "submitted",
        "submitted_at": at(30),
        "summary": "总体良好",
        "declared": {"result_count": 1, "photo_hashes": hashes},
    }
    receipt = phone.put(f"/api/v1/visits/{visit_id}", json=submit).get_json()["receipt"]
    assert receipt["state"] == "submitted" and not receipt["is_fully_received"]
    assert receipt["missing_photo_hashes"] == hashes
    # Photos may arrive after the header: the visit completes when they do.
    for data in (a, b):
        assert _upload(phone, visit_id, data)[1].status_code in (201,)
    receipt = phone.get(f"/api/v1/visits/{visit_id}/receipt").get_json()["receipt"]
    assert receipt["is_fully_received"] and receipt["photo_hashes"] == hashes and receipt["result_count"] == 1
    # A submitted visit refuses new edits but answers replays of old ones.
    refused = phone.post(
        f"/api/v1/visits/{visit_id}/results", json={"writes": [_write(writes[0]["item_id"], {"answer": "no"}, 40)]}
    )
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "visit_submitted"
    assert phone.post(f"/api/v1/visits/{visit_id}/results", json={"writes": writes}).status_code == 200
    back = phone.put(f"/api/v1/visits/{visit_id}", json={**body, "state": "in_progress"})
    assert back.status_code == 200 and back.get_json()["visit"]["state"] == "submitted"


def test_other_inspectors_cannot_touch_the_visit(app, started, inspector_world):
    visit_id, items, body = started
    rival = app.test_client()
    login(rival, inspector_world["rival"])
    assert rival.get(f"/api/v1/visits/{visit_id}/bundle").status_code == 404
    assert rival.put(
        f"/api/v1/visits/{visit_id}", json={**body, "school_id": inspector_world["other_school"].id}
    ).status_code in (404, 409, 422)
    assert rival.put(f"/api/v1/visits/{visit_id}", json=body).status_code == 403
    write = _write(_item(items, "yes_no")["id"], {"answer": "no"}, 1)
    assert rival.post(f"/api/v1/visits/{visit_id}/results", json={"writes": [write]}).status_code == 404
    assert rival.get(f"/api/v1/schools/{inspector_world['school'].id}/bundle").status_code == 403


def test_planned_visit_bundle(phone, inspector_world):
    school = inspector_world["school"]
    planned = phone.post("/api/v1/visits", json={"school_id": school.id, "planned_on": "2026-11-25"})
    assert planned.status_code == 201
    visit_id = planned.get_json()["visit"]["id"]
    listing = phone.get("/api/v1/visits").get_json()
    assert [v["id"] for v in listing["visits"]] == [visit_id]
    bundle = phone.get(f"/api/v1/visits/{visit_id}/bundle").get_json()
    assert bundle["school"]["name"] == "吉强镇中心小学" and bundle["checklist"]["sections"]
    assert bundle["rectifications"] == [] and bundle["receipt"]["result_count"] == 0


def test_unauthenticated_api_gets_json_401(client):
    response = client.get("/api/v1/visits")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "auth_required"


def test_api_writes_need_the_csrf_header(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        county = factory.county("西吉县", "xiji")
        school = factory.school(county)
        username = factory.user("inspector", county, (school,)).username
        school_id = school.id
    client = app.test_client()
    login(client, username)
    body = {"school_id": school_id, "planned_on": "2026-11-25"}
    refused = client.post("/api/v1/visits", json=body)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf_failed"
    token = client.get("/api/v1/me").get_json()["csrf_token"]
    assert client.post("/api/v1/visits", json=body, headers={"X-CSRFToken": token}).status_code == 201
