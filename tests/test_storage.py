"""Photo storage (sync.storage): local disk, and S3 against a real moto server over HTTP."""

from __future__ import annotations

import socket
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from sync.storage import (
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    StorageError,
    UrlExpired,
    UrlSignatureInvalid,
    storage_from_config,
)

SECRET = b"test-signing-secret"
BUCKET = "dudao-photos"


# --------------------------------------------------------------------------- local disk


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media", "/media", SECRET)


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_local_round_trip(local: LocalStorage) -> None:
    key = "visits/2024/abc-123/photo_1.jpg"
    assert isinstance(local, Storage)
    assert not local.exists(key)
    local.put(key, b"first", "image/jpeg")
    local.put(key, b"second", "image/jpeg")
    assert local.exists(key)
    assert local.get(key) == b"second"
    local.delete(key)
    local.delete(key)  # idempotent
    assert not local.exists(key)
    with pytest.raises(ObjectNotFound):
        local.get(key)
    local.check()


def test_local_write_leaves_no_temp_files(local: LocalStorage) -> None:
    for n in range(3):
        local.put(f"a/b/{n}.jpg", b"x" * 1000, "image/jpeg")
    local.check()
    files = sorted(p.relative_to(local.root).as_posix() for p in local.root.rglob("*") if p.is_file())
    assert files == ["a/b/0.jpg", "a/b/1.jpg", "a/b/2.jpg"]


def test_local_failed_write_cleans_up(local: LocalStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sync.storage.os.replace", broken_replace)
    with pytest.raises(StorageError):
        local.put("a/1.jpg", b"data", "image/jpeg")
    assert [p for p in local.root.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    "key",
    ["", "../etc/passwd", "a/../../b", "/abs.jpg", "a//b.jpg", "a/./b.jpg", "a/", "照片.jpg", "a b.jpg", "a\\b", "a?b"],
)
def test_local_bad_keys_refused(local: LocalStorage, key: str) -> None:
    for call in (lambda: local.put(key, b"x", "image/jpeg"), lambda: local.get(key), lambda: local.url(key, 60)):
        with pytest.raises(StorageError) as info:
            call()
        assert not isinstance(info.value, ObjectNotFound)
    assert not local.root.exists()  # nothing was created anywhere


def test_local_url_signature(local: LocalStorage) -> None:
    url = local.url("v/1/a.jpg", 300)
    assert url.startswith("/media/v/1/a.jpg?expires=")
    q = _query(url)
    assert int(q["expires"]) == pytest.approx(time.time() + 300, abs=5)
    local.verify_url_signature("v/1/a.jpg", q["expires"], q["sig"])

    with pytest.raises(UrlExpired):
        local.verify_url_signature("v/1/a.jpg", q["expires"], q["sig"], now=time.time() + 301)
    with pytest.raises(UrlSignatureInvalid):
        local.verify_url_signature("v/1/b.jpg", q["expires"], q["sig"])
    with pytest.raises(UrlSignatureInvalid):
        local.verify_url_signature("v/1/a.jpg", str(int(q["expires"]) + 3600), q["sig"])
    with pytest.raises(UrlSignatureInvalid):
        local.verify_url_signature("v/1/a.jpg", "soon", q["sig"])
    with pytest.raises(UrlSignatureInvalid):
        local.verify_url_signature("v/1/a.jpg", q["expires"], q["sig"][:-1] + "é")
    other = LocalStorage(local.root, "/media", b"another-secret")
    with pytest.raises(UrlSignatureInvalid):
        other.verify_url_signature("v/1/a.jpg", q["expires"], q["sig"])
    for bad in (0, 3601):
        with pytest.raises(StorageError):
            local.url("v/1/a.jpg", bad)


def test_storage_from_config(tmp_path: Path) -> None:
    store = storage_from_config({"STORAGE_DIR": str(tmp_path), "SECRET_KEY": "k"})
    assert isinstance(store, LocalStorage) and store.url_base == "/media"
    with pytest.raises(StorageError, match="STORAGE_DIR"):
        storage_from_config({"SECRET_KEY": "k"})
    with pytest.raises(StorageError, match="SECRET_KEY"):
        storage_from_config({"STORAGE_DIR": str(tmp_path)})
    with pytest.raises(StorageError, match="S3_BUCKET"):
        storage_from_config({"STORAGE_BACKEND": "s3"})
    with pytest.raises(StorageError, match="S3_SECRET_KEY"):
        storage_from_config({"STORAGE_BACKEND": "s3", "S3_BUCKET": "b", "S3_ACCESS_KEY": "a"})
    with pytest.raises(StorageError, match="S3_ADDRESSING_STYLE"):
        storage_from_config({"STORAGE_BACKEND": "s3", "S3_BUCKET": "b", "S3_ADDRESSING_STYLE": "sideways"})
    with pytest.raises(StorageError, match="STORAGE_BACKEND"):
        storage_from_config({"STORAGE_BACKEND": "ftp"})
    s3 = storage_from_config(
        {
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": "dudao-photos",
            "S3_ENDPOINT_URL": "https://oss-cn-hangzhou.aliyuncs.com",
            "S3_REGION": "oss-cn-hangzhou",
            "S3_ACCESS_KEY": "a",
            "S3_SECRET_KEY": "s",
            "S3_ADDRESSING_STYLE": "virtual",
        }
    )
    assert isinstance(s3, S3Storage)
    # Virtual-hosted addressing puts the bucket in the host name, as Aliyun OSS requires.
    assert urlsplit(s3.url("k.jpg", 60)).netloc == "dudao-photos.oss-cn-hangzhou.aliyuncs.com"


# --------------------------------------------------------------------------- S3 on moto


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _s3(endpoint: str, **options: float) -> S3Storage:
    return S3Storage(BUCKET, endpoint, "us-east-1", "testing-key", "testing-secret", "path", **options)


@pytest.fixture(scope="module")
def s3(moto_endpoint: str) -> S3Storage:
    store = _s3(moto_endpoint)
    store.ensure_bucket()
    store.ensure_bucket()  # a second call finds it
    return store


def test_s3_round_trip(s3: S3Storage) -> None:
    key = "visits/2024/abc/photo.jpg"
    assert isinstance(s3, Storage)
    s3.check()
    assert not s3.exists(key)
    s3.put(key, b"\xff\xd8photo", "image/jpeg")
    assert s3.exists(key)
    assert s3.get(key) == b"\xff\xd8photo"
    s3.delete(key)
    s3.delete(key)
    assert not s3.exists(key)
    with pytest.raises(ObjectNotFound):
        s3.get(key)
    with pytest.raises(StorageError):
        s3.put("../x", b"", "image/jpeg")


def test_s3_missing_bucket_is_not_object_not_found(moto_endpoint: str) -> None:
    store = S3Storage("no-such-bucket", moto_endpoint, "us-east-1", "k", "s")
    with pytest.raises(StorageError) as info:
        store.get("a.jpg")
    assert not isinstance(info.value, ObjectNotFound)
    with pytest.raises(StorageError):
        store.check()


def test_s3_check_fails_fast_on_closed_port() -> None:
    store = _s3(f"http://127.0.0.1:{_free_port()}", connect_timeout=0.5, read_timeout=0.5, max_attempts=1)
    started = time.monotonic()
    with pytest.raises(StorageError):
        store.check()
    with pytest.raises(StorageError):
        store.put("a.jpg", b"x", "image/jpeg")
    assert time.monotonic() - started < 5


def test_s3_presigned_url_is_scoped_and_short_lived(s3: S3Storage, moto_endpoint: str) -> None:
    key = "visits/v1/item_2/p.jpg"
    s3.put(key, b"jpeg bytes", "image/jpeg")
    url = s3.url(key, 300)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == moto_endpoint
    assert parts.path == f"/{BUCKET}/{key}"
    q = _query(url)
    assert q["X-Amz-Expires"] == "300"
    assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert "host" in q["X-Amz-SignedHeaders"].split(";")
    assert q["X-Amz-Signature"] and q["X-Amz-Credential"].startswith("testing-key/")
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"jpeg bytes"
        assert response.headers["Content-Type"] == "image/jpeg"

    for bad in (3601, 0, -5):
        with pytest.raises(StorageError):
            s3.url(key, bad)
