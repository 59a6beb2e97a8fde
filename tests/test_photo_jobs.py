"""Photos off the request path: verify and store at once, copies by a job (in process or RQ on Redis)."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from webapp import jobs
from webapp.extensions import db
from webapp.visits.models import Photo

from .conftest import login

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[1]


def _start_visit(app, factory):
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
    return client, visit_id


def _put(client, visit_id, data, photo_id=None):
    photo_id = photo_id or str(uuid.uuid4())
    form = {"sha256": hashlib.sha256(data).hexdigest(), "file": (io.BytesIO(data), "p.jpg")}
    return photo_id, client.put(f"/api/v1/visits/{visit_id}/photos/{photo_id}", data=form)


def _phone_copy(color=(10, 120, 200)) -> bytes:
    """A JPEG as the phone's canvas makes it: JFIF only, no EXIF."""
    out = io.BytesIO()
    Image.new("RGB", (800, 600), color).save(out, "JPEG", quality=80)
    return out.getvalue()


def _gps_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (38.0, 33.0, 0.0), 3: "E", 4: (106.0, 21.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 30, 30)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_a_pixel_bomb_is_refused_from_its_header(make_app, factory, monkeypatch):
    app = make_app()
    client, visit_id = _start_visit(app, factory)
    out = io.BytesIO()
    Image.new("L", (6000, 6600)).save(out, "PNG")
    bomb = out.getvalue()
    assert len(bomb) < 200_000

    def no_decoding(self):
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    _, response = _put(client, visit_id, bomb)
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "too_many_pixels"
    assert "2400 万像素" in response.get_json()["error"]["message"]


def test_a_copy_without_metadata_is_served_as_sent_and_one_with_gps_is_cleaned(make_app, factory):
    app = make_app()
    client, visit_id = _start_visit(app, factory)
    store = app.extensions["dudao.storage"]
    plain = _phone_copy()
    photo_id, response = _put(client, visit_id, plain)
    assert response.status_code == 201
    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        assert photo.public_key == photo.original_key and store.get(photo.public_key) == plain
        assert store.exists(photo.thumb_key)
    gps = _gps_jpeg()
    photo_id, response = _put(client, visit_id, gps)
    assert response.status_code == 201
    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        assert photo.public_key != photo.original_key and store.get(photo.original_key) == gps
        public = Image.open(io.BytesIO(store.get(photo.public_key)))
        assert not public.getexif() and "exif" not in public.info


def _webp(seed: int) -> bytes:
    """A WebP as the phone's canvas makes it (Chromium, Firefox): no metadata."""
    out = io.BytesIO()
    Image.effect_noise((640, 480), 30 + seed).convert("RGB").save(out, "WEBP", quality=80)
    return out.getvalue()


def test_a_webp_from_the_phone_is_kept_as_sent_served_as_webp_and_thumbnailed(make_app, factory):
    app = make_app()
    client, visit_id = _start_visit(app, factory)
    store = app.extensions["dudao.storage"]
    chunked, multipart = _webp(1), _webp(2)
    assert chunked[8:12] == b"WEBP" and len(chunked) < 256 * 1024
    sha = hashlib.sha256(chunked).hexdigest()
    headers = {"Content-Range": f"bytes 0-{len(chunked) - 1}/{len(chunked)}"}
    taken = client.put(f"/api/v1/uploads/{sha}", data=chunked, headers=headers, content_type="application/octet-stream")
    assert taken.get_json() == {"received": len(chunked), "complete": True}
    by_upload = str(uuid.uuid4())
    stored = client.put(f"/api/v1/visits/{visit_id}/photos/{by_upload}", json={"upload": sha, "caption": "黑板"})
    assert stored.status_code == 201, stored.get_json()
    by_form, response = _put(client, visit_id, multipart)
    assert response.status_code == 201, response.get_json()
    for photo_id, data in ((by_upload, chunked), (by_form, multipart)):
        with app.app_context():
            photo = db.session.get(Photo, photo_id)
            # No metadata to strip: the phone's bytes are the public copy, never re-encoded.
            assert photo.public_key == photo.original_key and store.get(photo.original_key) == data
            original, thumb = store.url(photo.public_key, 60), store.url(photo.thumb_key, 60)
        served = client.get(original)
        assert served.status_code == 200 and served.mimetype == "image/webp" and served.data == data
        small = client.get(thumb)
        assert small.status_code == 200 and small.mimetype == "image/jpeg"
        assert Image.open(io.BytesIO(small.data)).size == (320, 240)


def test_in_process_jobs_run_after_the_response_and_a_placeholder_is_served_meanwhile(make_app, factory):
    app = make_app(JOB_QUEUE="thread")
    client, visit_id = _start_visit(app, factory)
    store = app.extensions["dudao.storage"]
    photo_id, response = _put(client, visit_id, _phone_copy((200, 200, 10)))
    assert response.status_code == 201
    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        thumb_key = photo.thumb_key
        # The response is not closed yet: the job has not run, and serving the thumbnail is not an error.
        assert not store.exists(thumb_key)
        url = store.url(thumb_key, 60)
    pending = client.get(url)
    assert pending.status_code == 200 and pending.mimetype == "image/svg+xml"
    assert pending.headers["Cache-Control"] == "no-store"
    response.close()  # the server has sent the answer: the job runs
    assert store.exists(thumb_key)
    served = client.get(url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(served.data)).size == (320, 240)


# --- RQ on Redis, with a real worker process ------------------------------------------------------------


@pytest.fixture
def redis_queue():
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis is not running at 127.0.0.1:6379 (./dev.sh starts it)")
    name = f"dudao-test-{uuid.uuid4().hex[:10]}"
    yield connection, name
    for key in connection.scan_iter(f"*{name}*"):
        connection.delete(key)
    connection.close()


def _worker(name: str, tmp_path: Path, storage: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DUDAO_REDIS_URL": REDIS_URL,
        "DUDAO_JOB_QUEUE_NAME": name,
        "DUDAO_JOB_LEASE_SECONDS": "1",
        "DUDAO_STORAGE_DIR": str(storage),
        "DUDAO_SECRET_KEY": "test-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path}/worker.sqlite3",
    }
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115 - closed with the process below
    process = subprocess.Popen(
        [sys.executable, "-m", "webapp.jobs", "worker"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the work horse dies with it
    )
    log.close()
    return process


def _wait(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_a_worker_killed_mid_job_leaves_nothing_undone(make_app, factory, redis_queue, tmp_path):
    from rq import Queue

    from .job_support import slow_derive

    connection, name = redis_queue
    storage = tmp_path / "photos"
    app = make_app(JOB_QUEUE="rq", REDIS_URL=REDIS_URL, JOB_QUEUE_NAME=name, STORAGE_DIR=str(storage))
    client, visit_id = _start_visit(app, factory)
    store = app.extensions["dudao.storage"]
    photo_id, response = _put(client, visit_id, _gps_jpeg())
    assert response.status_code == 201
    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        keys = (photo.original_key, photo.thumb_key, photo.public_key)
    # Answered before any copy exists: they are a job on the queue.
    assert not store.exists(keys[1]) and not store.exists(keys[2])
    queue = Queue(name, connection=connection)
    assert [job.func_name for job in queue.jobs] == ["webapp.jobs.derive_photo"]
    # A second job whose first run hangs, so the worker can be killed in the middle of it.
    markers = tmp_path / "markers"
    markers.mkdir()
    other = Image.new("RGB", (500, 400), (1, 2, 3))
    out = io.BytesIO()
    other.save(out, "JPEG", exif=Image.Exif().tobytes())
    store.put("photos/original/zz/slow.jpg", out.getvalue(), "image/jpeg")
    slow_keys = ("photos/original/zz/slow.jpg", "photos/thumb/zz/slow.jpg", "photos/public/zz/slow.jpg")
    with app.app_context():
        jobs.enqueue(slow_derive, str(markers), *slow_keys)

    worker = _worker(name, tmp_path, storage)
    try:
        _wait(lambda: (markers / "attempt-1").exists(), "the slow job to start")
        assert store.exists(keys[1]) and store.exists(keys[2])  # the photo's job ran first
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        assert not (markers / "done").exists()
        worker = _worker(name, tmp_path, storage)
        _wait(lambda: (markers / "done").exists(), "the killed job to run again and finish")
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    assert (markers / "done").read_text() == "2"
    assert store.exists(slow_keys[1]) and store.exists(slow_keys[2])
    assert Image.open(io.BytesIO(store.get(slow_keys[1]))).size == (320, 256)
