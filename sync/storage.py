"""Photo storage: one interface, a local-disk back end and an S3-compatible one.

The back end is chosen by configuration (:func:`storage_from_config`). Both
back ends accept the same keys (:func:`validate_key`), are durable once
``put`` returns, and hand out short-lived URLs scoped to a single object:
the local back end signs ``url_base/key?expires=…&sig=…`` with HMAC-SHA256
(the web app checks it with :meth:`LocalStorage.verify_url_signature`), the
S3 back end presigns a SigV4 ``GetObject`` URL.

Errors are typed: every failure raises :class:`StorageError` (a missing
object :class:`ObjectNotFound`); nothing returns ``False`` to mean failure.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

#: Longest lifetime of a URL from :meth:`Storage.url`, in seconds.
MAX_URL_EXPIRES_IN = 3600
#: Longest key accepted (S3's own limit is 1024 bytes).
MAX_KEY_LENGTH = 512
#: S3 addressing styles botocore understands.
ADDRESSING_STYLES = ("path", "virtual", "auto")

_KEY_RE = re.compile(r"[A-Za-z0-9/_.-]+")
#: Temporary files of the local back end start with a character keys cannot
#: contain, so they can never collide with, or be served as, an object.
_TMP_PREFIX = ".~tmp-"
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_NO_BUCKET_CODES = frozenset({"NoSuchBucket", "404", "NotFound"})


@dataclass(frozen=True)
class StoredObject:
    """One object as a listing shows it (the sweep of temporary objects goes by ``modified``)."""

    key: str
    size: int
    modified: datetime  # aware, UTC


class StorageError(Exception):
    """The storage back end failed, is unreachable, is misconfigured, or a key is invalid."""


class ObjectNotFound(StorageError):
    """No object is stored under the key."""


class UrlExpired(StorageError):
    """A signed local URL was valid but its expiry time has passed."""


class UrlSignatureInvalid(StorageError):
    """A signed local URL's signature does not match its key and expiry time."""


@runtime_checkable
class Storage(Protocol):
    """Where photos are kept: a flat namespace of keys to bytes."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing any object there; durable when it returns."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; raises :class:`ObjectNotFound` if there are none."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object under ``key``; deleting a missing object is not an error."""
        ...

    def url(self, key: str, expires_in: int) -> str:
        """A URL that reads this one object for ``expires_in`` seconds (1 to 3600)."""
        ...

    def list_keys(self, prefix: str) -> list[str]:
        """The keys that start with ``prefix`` (a folder-like prefix ending in ``/``), sorted."""
        ...

    def list_objects(self, prefix: str) -> list[StoredObject]:
        """The objects under ``prefix`` with their size and last-modified time, sorted by key."""
        ...

    def check(self) -> None:
        """Raise :class:`StorageError` if the back end cannot be reached or written."""
        ...


def validate_key(key: str) -> str:
    """Return ``key`` if it is a valid object key, else raise :class:`StorageError`.

    Keys use only ``A-Z a-z 0-9 / _ . -``, are at most :data:`MAX_KEY_LENGTH`
    characters, do not start or end with ``/``, and have no empty, ``.`` or
    ``..`` segments (and no ``..`` anywhere), so a key can never leave the
    storage root or mean different objects on different back ends.
    """
    if not isinstance(key, str) or not key:
        raise StorageError("invalid storage key: empty")
    if len(key) > MAX_KEY_LENGTH:
        raise StorageError(f"invalid storage key: longer than {MAX_KEY_LENGTH} characters")
    if not _KEY_RE.fullmatch(key):
        raise StorageError(f"invalid storage key {key!r}: only A-Z a-z 0-9 / _ . - are allowed")
    if ".." in key or key.startswith("/") or key.endswith("/"):
        raise StorageError(f"invalid storage key {key!r}: no '..', no leading or trailing '/'")
    if any(part in ("", ".") for part in key.split("/")):
        raise StorageError(f"invalid storage key {key!r}: empty or '.' path segment")
    return key


def _check_expires_in(expires_in: int) -> int:
    """``expires_in`` as an int if it is 1 to :data:`MAX_URL_EXPIRES_IN`, else raise."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise StorageError("expires_in must be an integer number of seconds")
    if not 1 <= expires_in <= MAX_URL_EXPIRES_IN:
        raise StorageError(f"expires_in must be between 1 and {MAX_URL_EXPIRES_IN} seconds, got {expires_in}")
    return expires_in


# --------------------------------------------------------------------------- local disk


class LocalStorage:
    """Objects as files under ``root``; URLs signed with HMAC-SHA256 for a web route to serve.

    ``content_type`` is not stored: the serving route derives it from the key's
    extension, so keys should end in one (``…/photo.jpg``).
    """

    def __init__(self, root: Path, url_base: str, secret: bytes):
        if not secret:
            raise StorageError("local storage needs a non-empty secret to sign URLs")
        self.root = Path(root)
        self.url_base = url_base.rstrip("/")
        self._secret = bytes(secret)

    def path(self, key: str) -> Path:
        """The file that holds ``key`` (it may not exist); raises :class:`StorageError` for a bad key."""
        path = self.root / validate_key(key)
        # validate_key already rules out escapes; this guards against symlinks inside root.
        root = self.root.resolve()
        if not path.resolve().is_relative_to(root):
            raise StorageError(f"invalid storage key {key!r}: resolves outside the storage root")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write to a temporary file beside the target, fsync it, then rename it into place."""
        path = self.path(key)
        tmp_name: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, path)
            tmp_name = None
            _fsync_dir(path.parent)
        except OSError as exc:
            raise StorageError(f"cannot write {key!r}: {exc.strerror or exc}") from exc
        finally:
            if tmp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)

    def get(self, key: str) -> bytes:
        """The file's bytes; raises :class:`ObjectNotFound` if there is no such file."""
        path = self.path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFound(f"no object {key!r}") from exc
        except OSError as exc:
            raise StorageError(f"cannot read {key!r}: {exc.strerror or exc}") from exc

    def exists(self, key: str) -> bool:
        """Whether a file is stored under ``key``."""
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the file if it is there."""
        path = self.path(key)
        try:
            path.unlink(missing_ok=True)
        except IsADirectoryError:
            return
        except OSError as exc:
            raise StorageError(f"cannot delete {key!r}: {exc.strerror or exc}") from exc

    def list_keys(self, prefix: str) -> list[str]:
        """Files under the folder ``prefix`` (temporary files excluded), sorted."""
        return [item.key for item in self.list_objects(prefix)]

    def list_objects(self, prefix: str) -> list[StoredObject]:
        """Files under the folder ``prefix`` with size and modification time (temporary files excluded)."""
        folder = self.path(prefix.rstrip("/"))
        found = []
        try:
            for entry in folder.rglob("*"):
                if entry.name.startswith(_TMP_PREFIX) or not entry.is_file():
                    continue
                try:
                    stat = entry.stat()
                except FileNotFoundError:
                    continue  # removed while listing (a discard, another sweep): not there any more
                modified = datetime.fromtimestamp(stat.st_mtime, UTC)
                found.append(StoredObject(entry.relative_to(self.root).as_posix(), stat.st_size, modified))
        except OSError as exc:
            raise StorageError(f"cannot list {prefix!r}: {exc.strerror or exc}") from exc
        return sorted(found, key=lambda item: item.key)

    def url(self, key: str, expires_in: int) -> str:
        """``{url_base}/{key}?expires=<unix time>&sig=<hex HMAC-SHA256 of key and expiry>``."""
        validate_key(key)
        expires = int(time.time()) + _check_expires_in(expires_in)
        return f"{self.url_base}/{key}?expires={expires}&sig={self._sign(key, expires)}"

    def verify_url_signature(self, key: str, expires: int | str, sig: str, now: float | None = None) -> None:
        """Check the ``expires`` and ``sig`` query values of a URL made by :meth:`url` for ``key``.

        Raises :class:`UrlSignatureInvalid` if the signature does not match the key
        and expiry time (checked first, so a tampered expiry is never reported as
        merely expired), :class:`UrlExpired` if it matches but the time has passed,
        and :class:`StorageError` for an invalid key.
        """
        validate_key(key)
        try:
            expires_at = int(expires)
        except (TypeError, ValueError) as exc:
            raise UrlSignatureInvalid("malformed expiry time") from exc
        expected = self._sign(key, expires_at).encode("ascii")
        given = sig.encode("utf-8", "replace") if isinstance(sig, str) else b""
        if not hmac.compare_digest(expected, given):
            raise UrlSignatureInvalid("URL signature does not match")
        if (time.time() if now is None else now) >= expires_at:
            raise UrlExpired("URL has expired")

    def check(self) -> None:
        """Make sure the root exists and a file can be written, synced and removed there."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=_TMP_PREFIX + "check-", dir=self.root)
            try:
                os.write(fd, b"ok")
                os.fsync(fd)
            finally:
                os.close(fd)
                os.unlink(name)
        except OSError as exc:
            raise StorageError(f"storage directory {str(self.root)!r} is not writable: {exc.strerror or exc}") from exc

    def _sign(self, key: str, expires: int) -> str:
        # A newline cannot occur in a key, so "key\nexpires" is unambiguous.
        message = f"{key}\n{expires}".encode("ascii")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()


def _fsync_dir(directory: Path) -> None:
    """Sync a directory so a rename in it survives a crash (not possible on every OS)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- S3-compatible


class S3Storage:
    """Objects in an S3-compatible bucket: AWS S3, MinIO, Aliyun OSS, Tencent COS.

    ``addressing_style`` is ``"path"`` (``endpoint/bucket/key``: MinIO, most
    self-hosted servers) or ``"virtual"`` (``bucket.endpoint/key``: required by
    Aliyun OSS, preferred by Tencent COS) or ``"auto"``. Request checksums are
    only sent where S3 requires them, since several compatible services reject
    the newer CRC trailers; uploads carry ``Content-MD5`` instead.
    ``connect_timeout``, ``read_timeout`` and ``max_attempts`` exist for tests
    and unusual networks; the defaults suit production.
    """

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key: str | None,
        secret_key: str | None,
        addressing_style: str = "path",
        *,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        max_attempts: int = 3,
    ):
        import boto3
        from botocore.config import Config

        if not bucket:
            raise StorageError("S3 storage needs a bucket name")
        if addressing_style not in ADDRESSING_STYLES:
            raise StorageError(f"S3 addressing style must be one of {', '.join(ADDRESSING_STYLES)}")
        if bool(access_key) != bool(secret_key):
            raise StorageError("set both the S3 access key and secret key, or neither")
        self.bucket = bucket
        self.region = region
        config = Config(
            signature_version="s3v4",
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            s3={"addressing_style": addressing_style},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        # A private session: boto3's default session is not safe to share between threads.
        session = boto3.session.Session()
        self._client = session.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            config=config,
        )

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """``PutObject`` with ``Content-MD5``, so the server rejects a corrupted upload."""
        validate_key(key)
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")
        with self._errors("put", key):
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, ContentMD5=md5)

    def get(self, key: str) -> bytes:
        """``GetObject``; raises :class:`ObjectNotFound` for a missing key."""
        validate_key(key)
        with self._errors("get", key):
            body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
            try:
                return body.read()
            finally:
                body.close()

    def exists(self, key: str) -> bool:
        """``HeadObject``: ``False`` on 404, :class:`StorageError` on any other failure."""
        validate_key(key)
        try:
            with self._errors("head", key):
                self._client.head_object(Bucket=self.bucket, Key=key)
        except ObjectNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        """``DeleteObject`` (S3 itself treats deleting a missing key as success)."""
        validate_key(key)
        try:
            with self._errors("delete", key):
                self._client.delete_object(Bucket=self.bucket, Key=key)
        except ObjectNotFound:
            return

    def list_keys(self, prefix: str) -> list[str]:
        """``ListObjectsV2`` under ``prefix`` (all pages), sorted."""
        return [item.key for item in self.list_objects(prefix)]

    def list_objects(self, prefix: str) -> list[StoredObject]:
        """``ListObjectsV2`` under ``prefix`` (all pages) with ``Size`` and ``LastModified``, sorted by key."""
        validate_key(prefix.rstrip("/"))
        found: list[StoredObject] = []
        with self._errors("list", prefix):
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                found.extend(
                    StoredObject(item["Key"], int(item.get("Size", 0)), item["LastModified"].astimezone(UTC))
                    for item in page.get("Contents", [])
                )
        return sorted(found, key=lambda item: item.key)

    def url(self, key: str, expires_in: int) -> str:
        """A SigV4-presigned ``GetObject`` URL for this one key, valid ``expires_in`` seconds (1–3600)."""
        validate_key(key)
        _check_expires_in(expires_in)
        with self._errors("presign", key):
            return self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
            )

    def check(self) -> None:
        """``HeadBucket``: the endpoint answers, the credentials work and the bucket exists."""
        with self._errors("check", None):
            self._client.head_bucket(Bucket=self.bucket)

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (development and tests; production buckets are provisioned)."""
        from botocore.exceptions import ClientError

        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _error_code(exc) not in _NO_BUCKET_CODES:
                raise _storage_error("check", None, exc) from exc
        except Exception as exc:
            raise _storage_error("check", None, exc) from exc
        params: dict[str, Any] = {"Bucket": self.bucket}
        if self.region and self.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self._client.create_bucket(**params)
        except ClientError as exc:
            if _error_code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise _storage_error("create bucket", None, exc) from exc
        except Exception as exc:
            raise _storage_error("create bucket", None, exc) from exc

    @contextlib.contextmanager
    def _errors(self, op: str, key: str | None) -> Iterator[None]:
        """Turn botocore's errors into :class:`StorageError` / :class:`ObjectNotFound`."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except (ClientError, BotoCoreError) as exc:
            raise _storage_error(op, key, exc) from exc


def _error_code(exc: Exception) -> str:
    """The S3 error code of a ``ClientError`` (``"NoSuchKey"``, ``"404"`` …), else ``""``."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code", ""))


def _storage_error(op: str, key: str | None, exc: Exception) -> StorageError:
    """A :class:`StorageError` describing ``exc`` (never includes credentials)."""
    from botocore.exceptions import ClientError

    target = f" {key!r}" if key else ""
    if isinstance(exc, ClientError):
        code = _error_code(exc)
        if key is not None and code in _NOT_FOUND_CODES:
            return ObjectNotFound(f"no object {key!r}")
        return StorageError(f"S3 {op}{target} failed: {code or 'error'}")
    return StorageError(f"S3 {op}{target} failed: {type(exc).__name__}: {exc}")


# --------------------------------------------------------------------------- configuration


def storage_from_config(config: Mapping[str, Any]) -> Storage:
    """The back end named by ``STORAGE_BACKEND`` (``"local"``, the default, or ``"s3"``).

    local: ``STORAGE_DIR`` (required), ``STORAGE_URL_BASE`` (default ``/media``),
    ``SECRET_KEY`` (required, signs URLs).
    s3: ``S3_BUCKET`` (required), ``S3_ENDPOINT_URL`` (unset for AWS),
    ``S3_REGION`` (default ``us-east-1``), ``S3_ACCESS_KEY`` and ``S3_SECRET_KEY``
    (both or neither; neither uses boto3's usual credential chain),
    ``S3_ADDRESSING_STYLE`` (``path`` default, ``virtual`` for Aliyun OSS / Tencent COS),
    ``S3_CONNECT_TIMEOUT`` (seconds, default 3), ``S3_READ_TIMEOUT`` (seconds, default 10) and
    ``S3_MAX_ATTEMPTS`` (tries per operation, default 2): a store that accepts connections and never
    answers fails an upload after about 2 × 10 s, inside the request's budget, not after minutes.
    Raises :class:`StorageError` naming any missing or invalid setting.
    """
    backend = _setting(config, "STORAGE_BACKEND") or "local"
    if backend.lower() == "local":
        root = _setting(config, "STORAGE_DIR")
        if not root:
            raise StorageError("STORAGE_DIR must be set for local photo storage")
        secret = config.get("SECRET_KEY")
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        if not isinstance(secret, bytes) or not secret:
            raise StorageError("SECRET_KEY must be set to sign local photo URLs")
        url_base = _setting(config, "STORAGE_URL_BASE") or "/media"
        return LocalStorage(Path(root), url_base, secret)
    if backend.lower() == "s3":
        bucket = _setting(config, "S3_BUCKET")
        if not bucket:
            raise StorageError("S3_BUCKET must be set for S3 photo storage")
        access_key = _setting(config, "S3_ACCESS_KEY")
        secret_key = _setting(config, "S3_SECRET_KEY")
        if bool(access_key) != bool(secret_key):
            raise StorageError("set both S3_ACCESS_KEY and S3_SECRET_KEY, or neither")
        style = _setting(config, "S3_ADDRESSING_STYLE") or "path"
        if style not in ADDRESSING_STYLES:
            raise StorageError(f"S3_ADDRESSING_STYLE must be one of {', '.join(ADDRESSING_STYLES)}, got {style!r}")
        return S3Storage(
            bucket=bucket,
            endpoint_url=_setting(config, "S3_ENDPOINT_URL"),
            region=_setting(config, "S3_REGION") or "us-east-1",
            access_key=access_key,
            secret_key=secret_key,
            addressing_style=style,
            connect_timeout=_number(config, "S3_CONNECT_TIMEOUT", 3),
            read_timeout=_number(config, "S3_READ_TIMEOUT", 10),
            max_attempts=int(_number(config, "S3_MAX_ATTEMPTS", 2)),
        )
    raise StorageError(f"STORAGE_BACKEND must be 'local' or 's3', got {backend!r}")


def _number(config: Mapping[str, Any], name: str, default: float) -> float:
    """A positive number setting (seconds, attempts), else ``default``; raises :class:`StorageError` if invalid."""
    text = _setting(config, name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise StorageError(f"{name} must be a number, got {text!r}") from None
    if value <= 0:
        raise StorageError(f"{name} must be positive, got {text!r}")
    return value


def _setting(config: Mapping[str, Any], name: str) -> str | None:
    """A setting as a stripped string; unset, ``None`` and empty all mean ``None``."""
    value = config.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None
