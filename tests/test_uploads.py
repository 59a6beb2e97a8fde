"""Resumable photo uploads: chunks keyed by SHA-256, resumed after a dropped link, attached to a record."""

from __future__ import annotations

import hashlib
import io
import uuid

import pytest
from PIL import Image

from webapp.extensions import db
from webapp.lessons.models import ActivityPhoto
from webapp.visits.models import Photo

from .conftest import login, s3_config
from .lessons_world import lesson, make_world


def _photo(seed: int = 1) -> bytes:
    image = Image.effect_noise((420, 300), 40 + seed).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _chunks(data: bytes, size: int = 32 * 1024) -> list[tuple[int, bytes]]:
    return [(start, data[start : start + size]) for start in range(0, len(data), size)]


def _send(client, sha, start, chunk, total):
    headers = {"Content-Range": f"bytes {start}-{start + len(chunk) - 1}/{total}"}
    return client.put(f"/api/v1/uploads/{sha}", data=chunk, headers=headers, content_type="application/octet-stream")


def _visit(app, factory, **config):
    with app.app_context():
        county = factory.county("西吉县", "xiji")
        school = factory.school(county)
        username = factory.user("inspector", county, (school,)).username
        school_id = school.id
    clients = []
    for _ in range(2):
        client = app.test_client()
        login(client, username)
        clients.append(client)
    bundle = clients[0].get(f"/api/v1/schools/{school_id}/bundle").get_json()
    visit_id = str(uuid.uuid4())
    body = {"school_id": school_id, "checklist_version": bundle["checklist"]["version"], "state": "in_progress"}
    assert clients[0].put(f"/api/v1/visits/{visit_id}", json=body).status_code == 201
    return clients, visit_id, username


def test_a_dropped_chunk_is_resent_and_the_photo_attached(make_app, factory):
    app = make_app()
    (phone, _), visit_id, _ = _visit(app, factory)
    data = _photo()
    sha, total = hashlib.sha256(data).hexdigest(), len(data)
    parts = _chunks(data)
    assert len(parts) >= 3
    missing = phone.get(f"/api/v1/uploads/{sha}")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "upload_not_found"
    assert _send(phone, sha, *parts[0], total).get_json() == {"received": len(parts[0][1]), "complete": False}
    # The link drops after the server got chunk 0; the phone sends it again: 409 says where to go on.
    again = _send(phone, sha, *parts[0], total)
    assert again.status_code == 409 and again.get_json()["code"] == "offset_mismatch"
    assert again.get_json()["received"] == len(parts[0][1])
    # Out of order (chunk 2 before chunk 1): refused the same way, nothing stored.
    ahead = _send(phone, sha, *parts[2], total)
    assert ahead.status_code == 409 and ahead.get_json()["received"] == len(parts[0][1])
    state = phone.get(f"/api/v1/uploads/{sha}").get_json()
    assert state == {"sha256": sha, "size": total, "received": len(parts[0][1]), "complete": False}
    for start, chunk in parts[1:]:
        answer = _send(phone, sha, start, chunk, total)
        assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"received": total, "complete": True}
    assert phone.get(f"/api/v1/uploads/{sha}").get_json()["complete"] is True

    photo_id = str(uuid.uuid4())
    body = {"upload": sha, "caption": "校门", "captured_at": "2026-11-20T09:00:00Z"}
    stored = phone.put(f"/api/v1/visits/{visit_id}/photos/{photo_id}", json=body)
    assert stored.status_code == 201, stored.get_json()
    assert stored.get_json()["receipt"]["photo_hashes"] == [sha]
    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        assert app.extensions["dudao.storage"].get(photo.original_key) == data and photo.caption == "校门"
    # A replay of the attach (the answer was lost) is answered as before; the upload itself is gone.
    replay = phone.put(f"/api/v1/visits/{visit_id}/photos/{photo_id}", json=body)
    assert replay.status_code == 200 and replay.get_json()["photo"]["id"] == photo_id
    assert phone.get(f"/api/v1/uploads/{sha}").status_code == 404


def test_incomplete_corrupt_and_oversized_uploads_are_refused(make_app, factory):
    app = make_app()
    (phone, _), visit_id, _ = _visit(app, factory)
    data = _photo(2)
    sha, total = hashlib.sha256(data).hexdigest(), len(data)
    parts = _chunks(data)
    _send(phone, sha, *parts[0], total)
    early = phone.put(f"/api/v1/visits/{visit_id}/photos/{uuid.uuid4()}", json={"upload": sha})
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "upload_incomplete"
    # The rest arrives corrupted: the whole file's hash is checked at the end and the upload discarded.
    for start, chunk in parts[1:]:
        answer = _send(phone, sha, start, chunk if start != parts[-1][0] else b"x" * len(chunk), total)
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "checksum_mismatch"
    assert phone.get(f"/api/v1/uploads/{sha}").status_code == 404
    # A pixel bomb is refused when its last chunk arrives (from the header, nothing decoded).
    out = io.BytesIO()
    Image.new("L", (6000, 6600)).save(out, "PNG")
    bomb = out.getvalue()
    bomb_sha = hashlib.sha256(bomb).hexdigest()
    for start, chunk in _chunks(bomb, 256 * 1024):
        answer = _send(phone, bomb_sha, start, chunk, len(bomb))
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "too_many_pixels"
    # Chunks over 256 KiB, bad ranges and bad ids.
    big = b"\xff" * (256 * 1024 + 1)
    assert _send(phone, sha, 0, big, len(big) + 10).status_code == 413
    wrong = phone.put(f"/api/v1/uploads/{sha}", data=b"abc", headers={"Content-Range": "bytes 0-9/20"})
    assert wrong.status_code == 400 and wrong.get_json()["error"]["code"] == "bad_range"
    assert phone.put(f"/api/v1/uploads/{sha}", data=b"abc").status_code == 400
    assert phone.get("/api/v1/uploads/NOTASHA").status_code == 422


def test_each_persons_uploads_are_their_own(make_app, factory):
    app = make_app()
    (phone, _), _, _ = _visit(app, factory)
    with app.app_context():
        county = factory.county("外县", "xiji")
        other = factory.user("inspector", county).username
    stranger = app.test_client()
    login(stranger, other)
    data = _photo(3)
    sha = hashlib.sha256(data).hexdigest()
    _send(phone, sha, 0, data[:1000], len(data))
    assert stranger.get(f"/api/v1/uploads/{sha}").status_code == 404


def test_any_instance_takes_the_next_chunk_on_s3(make_app, factory, moto_endpoint):
    bucket = f"uploads-{uuid.uuid4().hex[:8]}"
    first = make_app(**s3_config(moto_endpoint, bucket))
    first.extensions["dudao.storage"].ensure_bucket()
    second = make_app(**s3_config(moto_endpoint, bucket))
    (phone_a, _), visit_id, username = _visit(first, factory)
    phone_b = second.test_client()
    login(phone_b, username)
    data = _photo(4)
    sha, total = hashlib.sha256(data).hexdigest(), len(data)
    parts = _chunks(data)
    for n, (start, chunk) in enumerate(parts):
        client = phone_a if n % 2 == 0 else phone_b
        answer = _send(client, sha, start, chunk, total)
        assert answer.status_code == 200, answer.get_json()
        # Resending the chunk to the other instance: it knows it arrived.
        other = phone_b if client is phone_a else phone_a
        if start + len(chunk) < total:
            assert _send(other, sha, start, chunk, total).get_json()["received"] == start + len(chunk)
    assert answer.get_json()["complete"] is True
    photo_id = str(uuid.uuid4())
    stored = phone_b.put(f"/api/v1/visits/{visit_id}/photos/{photo_id}", json={"upload": sha})
    assert stored.status_code == 201, stored.get_json()
    store = first.extensions["dudao.storage"]
    assert store.list_keys("uploads/") == []


def test_an_activity_photo_can_be_attached_from_an_upload(app, factory):
    world = make_world(factory)
    client = app.test_client()
    login(client, world.researcher)
    activity_id = str(uuid.uuid4())
    assert client.put(f"/api/v1/activities/{activity_id}", json=lesson(world.rural, world.today)).status_code == 201
    data = _photo(5)
    sha = hashlib.sha256(data).hexdigest()
    for start, chunk in _chunks(data, 256 * 1024):
        assert _send(client, sha, start, chunk, len(data)).status_code == 200
    photo_id = str(uuid.uuid4())
    stored = client.put(f"/api/v1/activities/{activity_id}/photos/{photo_id}", json={"upload": sha, "caption": "板书"})
    assert stored.status_code == 201, stored.get_json()
    db.session.expire_all()
    assert db.session.get(ActivityPhoto, photo_id).caption == "板书"


@pytest.mark.parametrize("body", [{"upload": "zz"}, {"caption": "x"}])
def test_a_bad_upload_reference_is_refused(make_app, factory, body):
    app = make_app()
    (phone, _), visit_id, _ = _visit(app, factory)
    response = phone.put(f"/api/v1/visits/{visit_id}/photos/{uuid.uuid4()}", json=body)
    assert response.status_code == 422 and "upload" in response.get_json()["error"]["fields"]
