"""Bundles answer 304 when the phone already holds them (ETag), and change when the data does."""

from __future__ import annotations

import uuid

from .conftest import login
from .lessons_world import lesson, make_world


def _revalidate(client, url, etag, **headers):
    return client.get(url, headers={"If-None-Match": etag, **headers})


def test_the_visit_bundle_is_conditional(app, inspector_world):
    phone = app.test_client()
    login(phone, inspector_world["inspector"])
    school = inspector_world["school"]
    planned = phone.post("/api/v1/visits", json={"school_id": school.id, "planned_on": "2026-11-25"}).get_json()
    url = f"/api/v1/visits/{planned['visit']['id']}/bundle"
    first = phone.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag and first.headers["Cache-Control"] == "private, no-cache"
    same = _revalidate(phone, url, etag)
    assert same.status_code == 304 and same.data == b"" and same.headers["ETag"] == etag
    # Compressed answers carry a weak ETag; revalidating with it still matches.
    gzipped = phone.get(url, headers={"Accept-Encoding": "gzip"})
    assert _revalidate(phone, url, gzipped.headers["ETag"], **{"Accept-Encoding": "gzip"}).status_code == 304
    # A write changes the bundle: a full answer with a new ETag.
    items = [i for s in first.get_json()["checklist"]["sections"] for i in s["items"]]
    yes_no = next(i for i in items if i["check"]["type"] == "yes_no")
    write = {
        "id": str(uuid.uuid4()),
        "item_id": yes_no["id"],
        "value": {"answer": "no"},
        "edited_at": "2026-11-25T02:00:00Z",
    }
    assert phone.post(f"/api/v1/visits/{planned['visit']['id']}/results", json={"writes": [write]}).status_code == 200
    changed = _revalidate(phone, url, etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["receipt"]["result_count"] == 1


def test_the_researcher_bundle_is_conditional(app, factory):
    world = make_world(factory)
    client = app.test_client()
    login(client, world.researcher)
    first = client.get("/api/v1/researcher/bundle")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and _revalidate(client, "/api/v1/researcher/bundle", etag).status_code == 304
    assert client.put(f"/api/v1/activities/{uuid.uuid4()}", json=lesson(world.rural, world.today)).status_code == 201
    changed = _revalidate(client, "/api/v1/researcher/bundle", etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
