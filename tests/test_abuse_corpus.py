"""An abuse corpus against every write route of the app (enumerated from ``app.url_map``): control characters,
100k-character strings, malformed multipart, wrong content types, SVG and polyglot uploads. 0 server errors.

Each route is tried as the role that may use it, so the payload reaches validation, not just the role check
(the edge checks run before authentication anyway). The figures are printed as ``abuse_corpus_…`` lines.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from webapp.bureau.rectification.models import RectificationTask
from webapp.extensions import db

from .bureau_support import ALARM, alarm_photo, make_world, record_visit
from .conftest import login

LONG = "长" * 100_000
TEXTS = [
    "\x00",
    "门卫\x00室",
    "\x01\x02\x1b[2J",
    "\x7f\x85",
    "\ud800",
    LONG,
    '=HYPERLINK("http://x")',
    "<script>alert(1)</script>",
]
#: Every form field name a view reads (grep request.form / request.files), plus the review's per-item fields.
FIELDS = [
    "username", "password", "next", "decision", "comment", "note", "deadline", "responsible_person", "problem",
    "request_closure", "kind", "county_id", "subject", "term_id", "group", "active", "current_password",
    "new_password", "confirm_password", "caption", "sha256", "captured_at", "item_id", "device_id",
    f"note-{ALARM}", f"deadline-{ALARM}", f"person-{ALARM}",
]  # fmt: skip
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
GIFAR = b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00;*/=alert(1)//" + b"PK\x03\x04" + b"\x00" * 64
HTML_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00<html><script>alert(1)</script></html>" + b"\x00" * 32
UPLOADS = [
    ("x.svg", "image/svg+xml", SVG),
    ("x.gif", "image/gif", GIFAR),
    ("x.jpg", "image/jpeg", HTML_JPEG),
    ("x.csv", "text/csv", b"\xef\xbb\xbf\xe5\xad\xa6\xe6\xa0\xa1\xe4\xbb\xa3\xe7\xa0\x81\r\n=1+1,\x00\r\n"),
    ("x.xlsx", "application/octet-stream", b"PK\x03\x04broken zip"),
    ("x.jpg", "image/jpeg", b""),
]
MALFORMED = [
    b"--xyz\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--xyz--\r\n",
    b'--abc\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--abc--\r\n',
    b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue',
    b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="\x00.jpg"\r\n\r\nabc\r\n--xyz--\r\n',
]


def _json_bodies(visit_body: dict[str, Any]) -> Iterator[Any]:
    for text in [*TEXTS, LONG]:
        flat = dict.fromkeys(FIELDS, text)
        yield {**visit_body, **flat, "summary": text}
        yield {"writes": [{"id": str(uuid.uuid4()), "item_id": text, "value": {text: text}, "observation": text}]}
        yield {"entries": [{"id": text, "kind": text, "target": text, "body": flat}]}
    yield {"writes": [{"id": str(uuid.uuid4())}] * 501}
    yield [[[[[]]]]]
    yield "just a string"
    yield 12345
    yield None


def _requests(visit_body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Keyword arguments for ``client.open`` (method and path added by the caller)."""
    for start in range(0, len(FIELDS), 4):  # 100k characters in every field, four fields (≤ 500 kB) at a time
        yield {"data": {**dict.fromkeys(FIELDS, "1"), **dict.fromkeys(FIELDS[start : start + 4], "a" * 100_000)}}
    for text in TEXTS:
        if "\ud800" in text:
            continue  # only JSON can carry a lone surrogate (as an escape); a form is UTF-8 bytes
        yield {"data": dict.fromkeys(FIELDS, text)}
        yield {"data": {**dict.fromkeys(FIELDS, "1"), text[:64]: "x"}}
    for name, mimetype, content in UPLOADS:
        yield {
            "data": {
                "kind": "schools",
                "county_id": "1",
                "sha256": hashlib.sha256(content).hexdigest(),
                "caption": "证据",
                "captured_at": "2026-11-29T10:00:00Z",
                "note": "进展",
                "file": (io.BytesIO(content), name, mimetype),
                "photos": (io.BytesIO(content), name, mimetype),
            },
            "content_type": "multipart/form-data",
        }
    for body in MALFORMED:
        yield {"data": body, "content_type": "multipart/form-data; boundary=xyz"}
    yield {"data": b"garbage", "content_type": "multipart/form-data"}
    for body in _json_bodies(visit_body):
        yield {"data": json.dumps(body), "content_type": "application/json"}
    yield {"data": json.dumps(visit_body), "content_type": "text/plain"}
    yield {"data": json.dumps(visit_body), "content_type": "application/x-www-form-urlencoded"}
    yield {"data": "<visit><summary>x</summary></visit>", "content_type": "application/xml"}
    yield {"data": b'{"summary": "\xff\xfe"}', "content_type": "application/json"}
    yield {"data": b"\xff\xfe\x00\x00", "content_type": "application/json; charset=utf-32"}
    yield {"data": "[" * 50_000, "content_type": "application/json"}
    yield {"data": b"", "content_type": "application/octet-stream"}


def _role_for(path: str) -> str:
    if path.startswith("/api/v1/activities"):
        return "researcher"
    if path.startswith("/api/"):
        return "inspector"
    if path.startswith("/admin/users"):
        return "admin"
    if path == "/login":
        return "anonymous"
    return "reviewer"


SESSION_ENDERS = {"/logout", "/account/sessions/end"}
SHARDS = 4  # the routes are split so that pytest-xdist spreads the corpus over its workers


def _corpus_world(app: Any, factory: Any) -> tuple[dict[str, Any], dict[str, str], dict[str, Any], str]:
    """Clients for every role, path values and a recorded visit (with an accepted failed item and its task)."""
    world = make_world(factory)
    phone = world.client(app, "inspector")
    visit_id, visit_body, _ = record_visit(phone, world.school, {ALARM: {"answer": "no"}}, {ALARM: alarm_photo()})
    world.client(app, "reviewer").post(f"/bureau/visits/{visit_id}/review", data={"decision": "accept"})
    task_id = db.session.scalar(select(RectificationTask.id))
    researcher = factory.user("researcher", world.county, (world.school,))
    clients = {
        "inspector": phone,
        "reviewer": world.client(app, "reviewer"),
        "admin": world.client(app, "admin"),
        "anonymous": app.test_client(),
    }
    clients["researcher"] = app.test_client()
    assert login(clients["researcher"], researcher).status_code == 302
    values = {
        "visit_id": visit_id,
        "photo_id": str(uuid.uuid4()),
        "activity_id": str(uuid.uuid4()),
        "task_id": str(task_id),
        "user_id": str(researcher.id),
    }
    return clients, values, visit_body, visit_id


def _report(capsys: Any, shard: str, count: int, failures: list[str]) -> None:
    with capsys.disabled():
        print(f"\nabuse_corpus_requests[{shard}]: {count} requests")
        print(f"abuse_corpus_server_errors[{shard}]: {len(failures)} responses")
    assert not failures, failures[:20]


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_write_route_survives_the_corpus(app, factory, capsys, monkeypatch, shard):
    # The corpus checks how each request is taken apart and validated; a started PDF report job would print
    # in Chromium once per request (a second each, inline in tests), which tests/test_report_jobs.py covers.
    monkeypatch.setattr("webapp.bureau.reports.jobs.print_report", lambda prefix: None)
    clients, values, visit_body, visit_id = _corpus_world(app, factory)
    rules = sorted(
        (r for r in app.url_map.iter_rules() if r.methods & {"POST", "PUT", "PATCH", "DELETE"}),
        key=lambda r: r.rule,
    )
    assert len(rules) >= 15
    failures, count = [], 0
    for rule in rules[shard::SHARDS]:
        if rule.rule in SESSION_ENDERS:
            continue
        path = re.sub(r"<(?:int:|path:)?(\w+)>", lambda m: values.get(m.group(1), "x"), rule.rule)
        who = _role_for(rule.rule)
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            for kwargs in _requests(visit_body):
                response = clients[who].open(path, method=method, **kwargs)
                count += 1
                if response.status_code >= 500:
                    failures.append(f"{who} {method} {path} {str(kwargs)[:120]}: {response.status_code}")
    _report(capsys, str(shard), count, failures)
    # Nothing is stuck: the inspector can still sync.
    assert clients["inspector"].get(f"/api/v1/visits/{visit_id}/receipt").status_code in (200, 401)


def test_the_session_enders_survive_the_corpus(app, factory, capsys):
    clients, _, visit_body, _ = _corpus_world(app, factory)
    failures, count = [], 0
    for path in sorted(SESSION_ENDERS):
        for kwargs in _requests(visit_body):
            response = clients["admin"].post(path, **kwargs)
            count += 1
            if response.status_code >= 500:
                failures.append(f"admin POST {path} {str(kwargs)[:120]}: {response.status_code}")
    _report(capsys, "session_enders", count, failures)


def test_a_huge_url_encoded_form_is_refused_unread(client):
    """24 MB of percent-encoding would take Werkzeug tens of seconds to decode: 413 before reading it."""
    body = "&".join(f"f{n}=" + "%E9%95%BF" * 300_000 for n in range(9)).encode()
    response = client.post("/login", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413 and "过长" in response.get_data(as_text=True)
