"""The sweep of unfinished uploads and old reports (sync.sweep), on local disk and on S3 (moto), and its command."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.storage import LocalStorage, S3Storage, Storage
from sync.sweep import sweep

from .test_storage import SECRET, _s3

HOUR = timedelta(hours=1)


def _fill(store: Storage) -> None:
    store.put("uploads/u1/aaa/part-000000000000-000000262144-of-000000300000", b"x" * 10, "application/octet-stream")
    store.put("uploads/u1/bbb/part-000000000000-000000262144-of-000000300000", b"y" * 20, "application/octet-stream")
    store.put("reports/u1/tok1/report.pdf", b"%PDF", "application/pdf")
    store.put("photos/keep/original.jpg", b"\xff\xd8", "image/jpeg")


def _listed(store: Storage) -> set[str]:
    return {key for prefix in ("uploads/", "reports/", "photos/") for key in store.list_keys(prefix)}


def test_nothing_recent_is_swept_and_photos_never_are(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media", "/media", SECRET)
    _fill(store)
    before = _listed(store)
    result = sweep(store, datetime.now(UTC))
    assert result.deleted == {"uploads/": 0, "reports/": 0} and _listed(store) == before
    # Years later: uploads and reports go, photos stay.
    result = sweep(store, datetime.now(UTC) + timedelta(days=3650))
    assert result.deleted == {"uploads/": 2, "reports/": 1} and result.bytes_freed == 34
    assert _listed(store) == {"photos/keep/original.jpg"}


def test_an_upload_still_receiving_chunks_keeps_its_early_parts(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media", "/media", SECRET)
    _fill(store)
    old = (datetime.now(UTC) - timedelta(days=30)).timestamp()
    os.utime(store.path("uploads/u1/aaa/part-000000000000-000000262144-of-000000300000"), (old, old))
    os.utime(store.path("uploads/u1/bbb/part-000000000000-000000262144-of-000000300000"), (old, old))
    store.put("uploads/u1/bbb/part-000000262144-000000300000-of-000000300000", b"z", "application/octet-stream")
    listed = {item.key: item for item in store.list_objects("uploads/")}
    assert listed["uploads/u1/aaa/part-000000000000-000000262144-of-000000300000"].modified.tzinfo is not None
    result = sweep(store, datetime.now(UTC))
    assert result.deleted["uploads/"] == 1  # aaa, untouched for 30 days
    assert store.list_keys("uploads/u1/aaa/") == [] and len(store.list_keys("uploads/u1/bbb/")) == 2


def test_only_folders_are_swept(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        sweep(LocalStorage(tmp_path, "/media", SECRET), datetime.now(UTC), {"": HOUR})


def test_s3_objects_carry_their_age_and_are_swept(moto_endpoint: str) -> None:
    store = _s3(moto_endpoint)
    assert isinstance(store, S3Storage)
    store.ensure_bucket()
    for key in store.list_keys("uploads/") + store.list_keys("reports/"):
        store.delete(key)
    _fill(store)
    objects = store.list_objects("uploads/")
    assert [o.size for o in objects] == [10, 20]
    assert all(abs(o.modified - datetime.now(UTC)) < timedelta(minutes=10) for o in objects)
    assert sweep(store, datetime.now(UTC)).deleted == {"uploads/": 0, "reports/": 0}
    result = sweep(store, datetime.now(UTC) + timedelta(days=8))
    assert result.deleted == {"uploads/": 2, "reports/": 1}
    assert store.list_keys("uploads/") == [] and store.exists("photos/keep/original.jpg")


def test_the_command_sweeps_the_apps_storage(app) -> None:
    store = app.extensions["dudao.storage"]
    _fill(store)
    old = (datetime.now(UTC) - timedelta(hours=30)).timestamp()
    os.utime(store.path("reports/u1/tok1/report.pdf"), (old, old))
    result = app.test_cli_runner().invoke(args=["storage", "sweep"])
    assert result.exit_code == 0, result.output
    assert "reports/ deleted 1, kept 0" in result.output and "uploads/ deleted 0, kept 2" in result.output
    assert store.list_keys("reports/") == [] and len(store.list_keys("uploads/")) == 2
    refused = app.test_cli_runner().invoke(args=["storage", "sweep", "--upload-days", "0"])
    assert refused.exit_code != 0
