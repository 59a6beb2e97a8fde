"""A hung object store: the request gives up after the configured limits and answers 503 with Retry-After."""

from __future__ import annotations

import hashlib
import io
import socket
import threading
import uuid
from collections.abc import Iterator

import pytest

from sync.storage import S3Storage, StorageError, storage_from_config

from .conftest import jpeg_bytes, login, s3_config


@pytest.fixture
def hung_store() -> Iterator[str]:
    """An endpoint that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


LIMITS = {"S3_CONNECT_TIMEOUT": 1, "S3_READ_TIMEOUT": 1, "S3_MAX_ATTEMPTS": 1}


def test_the_limits_come_from_the_configuration(hung_store):
    store = storage_from_config({**s3_config(hung_store, "photos"), **LIMITS})
    assert isinstance(store, S3Storage)
    config = store._client.meta.config
    assert (config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"]) == (1, 1, 1)
    with pytest.raises(StorageError):
        store.put("photos/a.jpg", b"x", "image/jpeg")
    with pytest.raises(StorageError, match="S3_READ_TIMEOUT"):
        storage_from_config({**s3_config(hung_store, "photos"), "S3_READ_TIMEOUT": "soon"})


def test_a_photo_put_to_a_hung_store_answers_503_with_retry_after(make_app, factory, hung_store):
    app = make_app(**s3_config(hung_store, "photos"), **LIMITS)
    with app.app_context():
        county = factory.county("西吉县", "xiji")
        school = factory.school(county)
        username = factory.user("inspector", county, (school,)).username
        school_id = school.id
    client = app.test_client()
    login(client, username)
    bundle = client.get(f"/api/v1/schools/{school_id}/bundle").get_json()
    visit_id = str(uuid.uuid4())
    body = {"school_id": school_id, "checklist_version": bundle["checklist"]["version"], "state": "in_progress"}
    assert client.put(f"/api/v1/visits/{visit_id}", json=body).status_code == 201
    data = jpeg_bytes()
    form = {"sha256": hashlib.sha256(data).hexdigest(), "file": (io.BytesIO(data), "p.jpg")}
    response = client.put(f"/api/v1/visits/{visit_id}/photos/{uuid.uuid4()}", data=form)
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "storage_unavailable"
    assert int(response.headers["Retry-After"]) > 0
    # A resumable upload's chunk too.
    sha = hashlib.sha256(data).hexdigest()
    chunk = client.put(
        f"/api/v1/uploads/{sha}", data=data, headers={"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}
    )
    assert chunk.status_code == 503 and "Retry-After" in chunk.headers
