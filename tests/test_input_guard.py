"""Control characters and malformed bodies are refused at the edge, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import uuid

import pytest
from sqlalchemy import func, select

from webapp.bureau.rectification.models import RectificationTask
from webapp.extensions import db
from webapp.visits.models import ItemResult, Photo, Visit

from .bureau_support import ALARM, alarm_photo, make_world, record_visit, stamp
from .conftest import PASSWORD, login

BAD = ["\x00", "a\x00b", "\x01", "\x08", "\x0b", "\x1b[31m", "\x7f", "\x85", "\ud800"]


@pytest.fixture(name="world")
def world_fixture(factory):
    return make_world(factory)


def _error(response, status, code="invalid_characters"):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["error"]["code"] == code and "控制字符" in body["error"]["message"] or code != "invalid_characters"
    return body["error"]


def test_json_text_fields_refuse_control_characters(app, world):
    phone = world.client(app, "inspector")
    visit_id, body, items = record_visit(phone, world.school, submit=False)
    for bad in BAD:
        _refused_everywhere(phone, visit_id, body, bad)
    assert (
        db.session.scalar(select(func.count()).select_from(ItemResult).where(ItemResult.observation.like("未安装%")))
        == 0
    )
    assert db.session.get(Visit, visit_id).summary == ""


def _refused_everywhere(phone, visit_id, body, bad):
    for field in ("summary", "device_id"):
        response = phone.put(f"/api/v1/visits/{visit_id}", json={**body, field: f"门卫{bad}"})
        assert _error(response, 422)["fields"] == {field: ["不能包含控制字符。"]}
    write = {
        "id": str(uuid.uuid4()),
        "item_id": ALARM,
        "value": {"answer": "no"},
        "observation": f"未安装{bad}",
        "edited_at": stamp(3),
    }
    response = phone.post(f"/api/v1/visits/{visit_id}/results", json={"writes": [write]})
    assert _error(response, 422)["fields"] == {"writes.0.observation": ["不能包含控制字符。"]}
    nested_key = {**write, "observation": "", "value": {f"an{bad}swer": "no"}}
    response = phone.post(f"/api/v1/visits/{visit_id}/results", json={"writes": [nested_key]})
    assert _error(response, 422)["fields"]


def test_unescaped_and_escaped_bodies_are_checked_alike(app, world):
    """The phone sends Chinese unescaped (JSON.stringify), Python escapes it: a control character is refused
    either way, raw or as any JSON escape, and an escaped backslash before ``u0000`` is plain text."""
    phone = world.client(app, "inspector")
    visit_id, body, _ = record_visit(phone, world.school, submit=False)
    for bad in [*BAD, "\x0c"]:
        for ensure_ascii in (True, False):
            raw = json.dumps({**body, "summary": f"门卫{bad}"}, ensure_ascii=ensure_ascii)
            if not ensure_ascii and bad == "\ud800":
                continue  # a lone surrogate cannot be sent unescaped (UTF-8 has no encoding for it)
            response = phone.put(f"/api/v1/visits/{visit_id}", data=raw, content_type="application/json")
            assert _error(response, 422)["fields"] == {"summary": ["不能包含控制字符。"]}, (bad, ensure_ascii)
    raw = json.dumps({**body, "summary": "路径 C:\\u0000\\b"}, ensure_ascii=False)
    assert phone.put(f"/api/v1/visits/{visit_id}", data=raw, content_type="application/json").status_code == 200


def test_tab_newline_and_carriage_return_stay_allowed(app, world):
    phone = world.client(app, "inspector")
    visit_id, body, _ = record_visit(phone, world.school, submit=False)
    response = phone.put(f"/api/v1/visits/{visit_id}", json={**body, "summary": "第一行\r\n第二行\t完"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Visit, visit_id).summary == "第一行\r\n第二行\t完"


def test_photo_caption_and_file_name_refuse_control_characters(app, world):
    phone = world.client(app, "inspector")
    visit_id, _, _ = record_visit(phone, world.school, submit=False)
    data = alarm_photo()
    for caption, filename in (("门卫\x00", "p.jpg"), ("门卫", "p\x00.jpg")):
        form = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "caption": caption,
            "captured_at": stamp(5),
            "item_id": ALARM,
            "file": (io.BytesIO(data), filename),
        }
        response = phone.put(
            f"/api/v1/visits/{visit_id}/photos/{uuid.uuid4()}", data=form, content_type="multipart/form-data"
        )
        _error(response, 422)
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0


@pytest.mark.parametrize(
    "url",
    ["/api/v1/visits/%00", "/api/v1/visits/abc%01def/receipt", "/schools?q=%00", "/bureau/visits?school=1%00"],
)
def test_url_segments_and_query_strings_refuse_control_characters(app, world, url):
    phone = world.client(app, "reviewer")
    _error(phone.get(url, headers={"Accept": "application/json"}), 400)


def test_login_username_with_nul_is_refused_with_a_chinese_page(client, world):
    response = client.post("/login", data={"username": world.inspector.username + "\x00", "password": PASSWORD})
    assert response.status_code == 422
    assert "控制字符" in response.get_data(as_text=True)
    assert login(client, world.inspector).status_code == 302


def test_device_header_and_task_form(app, world):
    phone = world.client(app, "inspector")
    bureau = world.client(app, "reviewer")
    visit_id, _, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}}, {ALARM: alarm_photo()})
    bureau.post(f"/bureau/visits/{visit_id}/review", data={"decision": "accept"})
    task = db.session.scalar(select(RectificationTask))
    response = bureau.post(f"/rectification/{task.id}/edit", data={"responsible_person": "张\x00三"})
    assert response.status_code == 422 and "控制字符" in response.get_data(as_text=True)
    db.session.expire_all()
    assert "\x00" not in db.session.get(RectificationTask, task.id).responsible_person
    response = phone.get("/api/v1/me", headers={"X-Device-Id": "phone\x01"})
    _error(response, 400)


def test_json_nested_too_deep_is_a_bad_request(app, world):
    phone = world.client(app, "inspector")
    response = phone.post(f"/api/v1/visits/{uuid.uuid4()}/results", data="[" * 100_000, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_json"


MALFORMED = {
    "part without a name": b"--xyz\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--xyz--\r\n",
    "file part without a name": (
        b'--xyz\r\nContent-Disposition: form-data; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\na,b\r\n--xyz--\r\n'
    ),
    "broken boundary": b'--abc\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--abc--\r\n',
    "truncated": b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue',
}


@pytest.mark.parametrize("csrf", [False, True])
def test_malformed_multipart_is_a_bad_request_never_a_500(make_app, factory, csrf):
    setup = make_app()
    with setup.app_context():
        world = make_world(factory)
        visit_id, _, _ = record_visit(world.client(setup, "inspector"), world.school, {ALARM: {"answer": "no"}})
        researcher_id = factory.user("researcher", world.county).id
        names = [u.username for u in (world.inspector, world.reviewer, world.admin)]
    app = make_app(WTF_CSRF_ENABLED=csrf)
    with app.app_context():
        phone, bureau, admin, anonymous = (app.test_client() for _ in range(4))
        for client, name in zip((phone, bureau, admin), names, strict=True):
            assert login(client, name).status_code == 302
        targets = [
            (anonymous, "/login"),
            (admin, "/admin/import/"),
            (bureau, f"/bureau/visits/{visit_id}/review"),
            (bureau, "/rectification/1/progress"),
            (bureau, f"/lessons/bureau/researchers/{researcher_id}/profile"),
            (phone, f"/api/v1/visits/{visit_id}/photos/{uuid.uuid4()}"),
        ]
        for (client, url), kind in itertools.product(targets, MALFORMED):
            method = client.put if url.startswith("/api/") else client.post
            response = method(url, data=MALFORMED[kind], content_type="multipart/form-data; boundary=xyz")
            assert response.status_code == 400, (url, kind, response.status_code)
