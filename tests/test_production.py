"""The README's production setup, for real: two gunicorn instances on PostgreSQL, S3 (moto) and Redis.

A session made on one instance works on the other, a resumable upload started on one is finished on the
other, and the photo job one instance enqueues is done by a separate worker process. Runs in the
PostgreSQL pass of the suite (CI sets TEST_DATABASE_URL).
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest
from PIL import Image

from benchmarks.serving import gunicorn, signed_in_session, wait_ready
from sync.storage import storage_from_config

from .conftest import PASSWORD, s3_config

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.production


def _wait(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_two_instances_share_sessions_uploads_and_jobs(app, factory, migrated, moto_endpoint, tmp_path):
    if not migrated.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: runs in the PostgreSQL pass (TEST_DATABASE_URL)")
    redis = pytest.importorskip("redis").Redis.from_url(REDIS_URL)
    county = factory.county("西吉县", "xiji")
    school = factory.school(county)
    username = factory.user("inspector", county, (school,)).username
    bucket = f"prod-{uuid.uuid4().hex[:8]}"
    queue = f"dudao-prod-{uuid.uuid4().hex[:8]}"
    s3 = s3_config(moto_endpoint, bucket)
    store = storage_from_config(s3)
    store.ensure_bucket()
    env = {
        "DATABASE_URL": migrated,
        "DUDAO_SECRET_KEY": "one-secret-for-every-instance",
        "DUDAO_SESSION_COOKIE_SECURE": "false",
        "DUDAO_REDIS_URL": REDIS_URL,
        "DUDAO_JOB_QUEUE_NAME": queue,
        "DUDAO_JOB_LEASE_SECONDS": "2",
        **{f"DUDAO_{key}": value for key, value in s3.items()},
    }
    with ExitStack() as stack:
        worker_log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed by the stack
        stack.callback(worker_log.close)
        worker = subprocess.Popen(
            [sys.executable, "-m", "webapp.jobs", "worker"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stack.callback(lambda: (os.killpg(worker.pid, signal.SIGTERM), worker.wait(timeout=20)))
        first, first_process = stack.enter_context(gunicorn(env, workers=1, threads=2, wait=False))
        second, second_process = stack.enter_context(gunicorn(env, workers=1, threads=2, wait=False))
        wait_ready(first, first_process)
        wait_ready(second, second_process)
        stack.callback(lambda: [redis.delete(key) for key in redis.scan_iter(f"*{queue}*")])

        # Signed in on the first instance, the same cookie works on the second.
        on_first = signed_in_session(first, username, PASSWORD)
        on_second = on_first.__class__()
        on_second.cookies.update(on_first.cookies)
        on_second.headers.update(on_first.headers)
        me = on_second.get(f"{second}/api/v1/me")
        assert me.status_code == 200 and me.json()["user"]["username"] == username

        # A visit written through the first instance's batch endpoint ...
        bundle = on_first.get(f"{first}/api/v1/schools/{school.id}/bundle").json()
        visit_id = str(uuid.uuid4())
        header = {"school_id": school.id, "checklist_version": bundle["checklist"]["version"], "state": "in_progress"}
        batch = on_first.post(
            f"{first}/api/v1/sync",
            json={"entries": [{"id": "1", "kind": "visit_put", "target": visit_id, "body": header}]},
        )
        assert batch.status_code == 200 and batch.json()["entries"][0]["status"] == 201

        # ... gets a photo uploaded in two chunks, one to each instance, and attached through the second.
        exif = Image.Exif()
        exif[0x8825] = {1: "N", 2: (38.0, 33.0, 0.0), 3: "E", 4: (106.0, 21.0, 0.0)}
        out = io.BytesIO()
        Image.effect_noise((400, 300), 50).convert("RGB").save(out, "JPEG", exif=exif.tobytes())
        data = out.getvalue()
        sha, half = hashlib.sha256(data).hexdigest(), len(data) // 2
        for base, session, start, chunk in ((first, on_first, 0, data[:half]), (second, on_second, half, data[half:])):
            rng = f"bytes {start}-{start + len(chunk) - 1}/{len(data)}"
            sent = session.put(f"{base}/api/v1/uploads/{sha}", data=chunk, headers={"Content-Range": rng})
            assert sent.status_code == 200, sent.text
        assert sent.json() == {"received": len(data), "complete": True}
        photo = on_second.put(f"{second}/api/v1/visits/{visit_id}/photos/{uuid.uuid4()}", json={"upload": sha})
        assert photo.status_code == 201, photo.text
        receipt = on_first.get(f"{first}/api/v1/visits/{visit_id}/receipt").json()["receipt"]
        assert receipt["photo_hashes"] == [sha]

        # The thumbnail and the copy without GPS are made by the worker, not by either instance.
        prefix = f"{sha[:2]}/{sha}.jpg"
        _wait(lambda: store.exists(f"photos/thumb/{prefix}") and store.exists(f"photos/public/{prefix}"), "the job")
        public = Image.open(io.BytesIO(store.get(f"photos/public/{prefix}")))
        assert not public.getexif()
        assert worker.poll() is None
    assert b"derive_photo" in (tmp_path / "worker.log").read_bytes()
