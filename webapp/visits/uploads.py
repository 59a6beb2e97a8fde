"""Resumable photo uploads (``/api/v1/uploads/<sha256>``) and attaching a finished upload to a record.

The phone asks what the server holds (GET), sends the rest in chunks of at most 256 KiB (PUT with
``Content-Range``), and then names the upload in the photo PUT (``{"upload": sha256, ...}``) instead
of sending the file again. A dropped link costs at most one chunk.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask_login import current_user
from marshmallow import Schema, fields

from sync.images import DEFAULT_MAX_BYTES
from sync.storage import StorageError
from sync.uploads import MAX_CHUNK, ChecksumMismatch, ChunkedUploads, OffsetMismatch

from ..apidoc import operation
from ..auth.policy import roles_required
from ..errors import AppError, error_body
from ..extensions import csrf
from .api import check_csrf_header, load
from .photos import RETRY_AFTER, storage
from .schemas import ErrorSchema

bp = Blueprint("uploads_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # the CSRF token comes in the X-CSRFToken header, checked below
bp.before_request(check_csrf_header)

_SHA256 = re.compile(r"[0-9a-f]{64}")
_RANGE = re.compile(r"bytes (\d{1,12})-(\d{1,12})/(\d{1,12})")
UPLOADERS = ("inspector", "researcher")
#: A chunk's place in the file (``END`` inclusive, as in HTTP).
CONTENT_RANGE = {
    "Content-Range": {"required": True, "schema": {"type": "string", "pattern": r"^bytes \d{1,12}-\d{1,12}/\d{1,12}$"}}
}


class UploadStateSchema(Schema):
    """How much of a file the server holds."""

    sha256 = fields.String(required=True)
    size = fields.Integer(required=True)
    received = fields.Integer(required=True)
    complete = fields.Boolean(required=True)


class ChunkTakenSchema(Schema):
    """What the server holds after a chunk."""

    received = fields.Integer(required=True)
    complete = fields.Boolean(required=True)


class OffsetMismatchSchema(ErrorSchema):
    """409 when a chunk does not start where the server's copy ends: go on from ``received``."""

    code = fields.String(required=True)
    received = fields.Integer(required=True)


def uploads() -> ChunkedUploads:
    """Chunked uploads in the configured photo storage."""
    return ChunkedUploads(storage())


def _owner() -> str:
    # Each person's partial uploads are their own: nobody can spoil another's upload of the same file.
    return f"u{current_user.id}"


def _check_sha(sha256: str) -> None:
    if not _SHA256.fullmatch(sha256):
        raise AppError(422, "invalid_id", "上传编号必须是 64 位小写十六进制 SHA-256。", {"sha256": ["格式无效。"]})


def _unavailable(exc: StorageError) -> AppError:
    current_app.logger.warning("upload storage failed: %s", exc)
    return AppError(
        503, "storage_unavailable", "照片存储暂不可用，照片仍保存在手机上，稍后会自动重试。", retry_after=RETRY_AFTER
    )


@bp.route("/uploads/<sha256>")
@operation({200: UploadStateSchema}, (404, 422, 503))
@roles_required(*UPLOADERS)
def upload_state(sha256: str) -> Response:
    """How much of the file the server holds."""
    _check_sha(sha256)
    try:
        state = uploads().state(_owner(), sha256)
    except StorageError as exc:
        raise _unavailable(exc) from exc
    if state is None:
        raise AppError(404, "upload_not_found", "服务器上还没有这张照片的任何部分。")
    return jsonify({"sha256": sha256, "size": state.size, "received": state.received, "complete": state.complete})


@bp.route("/uploads/<sha256>", methods=["PUT"])
@operation(
    {200: ChunkTakenSchema},
    (413, 422, 503),
    raw="application/octet-stream",
    headers=CONTENT_RANGE,
    conflict=OffsetMismatchSchema,
)
@roles_required(*UPLOADERS)
def upload_chunk(sha256: str) -> tuple[Response, int]:
    """Take one chunk (``Content-Range: bytes START-END/TOTAL``); 409 with what is held if START is wrong."""
    _check_sha(sha256)
    match = _RANGE.fullmatch(request.headers.get("Content-Range", "").strip())
    if match is None:
        raise AppError(400, "bad_range", "缺少或无效的 Content-Range（bytes 起-止/总长）。")
    start, end, total = (int(g) for g in match.groups())
    if total > DEFAULT_MAX_BYTES:
        raise AppError(413, "too_large_bytes", "图片太大，请压缩后再上传。")
    if (request.content_length or 0) > MAX_CHUNK:
        raise AppError(413, "chunk_too_large", "每段最多 256 KB。")
    data = request.get_data(cache=False)
    if not data or end < start or end - start + 1 != len(data) or end >= total or len(data) > MAX_CHUNK:
        raise AppError(400, "bad_range", "Content-Range 与内容长度不符。")
    try:
        state = uploads().put_chunk(_owner(), sha256, start, total, data)
    except OffsetMismatch as exc:
        body = error_body("offset_mismatch", "续传位置不一致，请从服务器已收到的位置继续。")
        return jsonify({**body, "code": "offset_mismatch", "received": exc.received}), 409
    except ChecksumMismatch:
        raise AppError(
            422, "checksum_mismatch", "照片在传输中损坏（校验值不一致），请重试上传。", {"file": ["校验值不一致。"]}
        ) from None
    except StorageError as exc:
        raise _unavailable(exc) from exc
    if state.complete:
        _check_image(sha256)
    return jsonify({"received": state.received, "complete": state.complete}), 200


def _check_image(sha256: str) -> None:
    """Format and pixel budget of a completed upload (checked from the header, before decoding)."""
    from sync.images import DEFAULT_MAX_PIXELS, ImageRejected, inspect_upload

    data = uploads().read_complete(_owner(), sha256) or b""
    try:
        max_pixels = current_app.config.get("IMAGE_MAX_PIXELS") or DEFAULT_MAX_PIXELS
        inspect_upload(data, max_pixels=max_pixels, sha256=sha256)
    except ImageRejected as exc:
        uploads().discard(_owner(), sha256)
        raise AppError(422, exc.code, exc.message, {"file": [exc.message]}) from exc


def photo_from_request(
    schema: Schema, attach: Schema
) -> tuple[dict[str, Any], Callable[[], bytes], Callable[[], None]]:
    """A photo PUT's metadata, a loader of its bytes, and what to do once it is stored.

    Multipart: ``file`` plus form fields (``schema``). JSON (``attach``): ``{"upload": sha256, ...the same
    fields}`` naming a completed resumable upload (409 ``upload_incomplete`` otherwise); it is discarded
    once stored.
    """
    if not request.is_json:
        meta = load(schema, request.form.to_dict())
        upload = request.files.get("file")
        if upload is None:
            raise AppError(422, "missing_file", "没有收到照片文件。", {"file": ["必填。"]})
        data = upload.read()
        return meta, lambda: data, lambda: None
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise AppError(400, "bad_json", "请求内容不是有效的 JSON。")
    meta = load(attach, body)
    sha256 = meta["sha256"] = meta.pop("upload")
    owner = _owner()

    def read() -> bytes:
        try:
            data = uploads().read_complete(owner, sha256)
        except StorageError as exc:
            raise _unavailable(exc) from exc
        if data is None:
            raise AppError(409, "upload_incomplete", "照片还没有上传完整，请先传完再保存。")
        return data

    def done() -> None:
        try:
            uploads().discard(owner, sha256)
        except StorageError as exc:  # the photo is stored; a leftover upload is only space
            current_app.logger.warning("could not discard upload %s: %s", sha256, exc)

    return meta, read, done
