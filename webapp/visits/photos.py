"""Photo uploads: verify, store durably (original, thumbnail, copy without GPS), then record."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select

from sync.images import DEFAULT_MAX_PIXELS, ImageInfo, ImageRejected, inspect_upload
from sync.storage import Storage, StorageError

from ..auth.models import User
from ..errors import AppError
from ..extensions import db
from ..packs.cache import version_items
from ..timeutil import utcnow
from .held import forget_tally
from .models import LOCKED_STATES, Photo, Visit
from .operations import iso, naive_utc, refresh_completeness

#: Copies served to browsers live a few minutes only.
URL_SECONDS = 300
#: Seconds the phone waits before retrying when storage is unavailable.
RETRY_AFTER = 30
#: What an accepted format is stored as.
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def storage() -> Storage:
    """The configured photo storage (local disk or S3-compatible)."""
    return current_app.extensions["dudao.storage"]


def _keys(sha256: str) -> dict[str, str]:
    """Content-addressed keys: an identical re-upload lands on the same objects."""
    prefix = f"{sha256[:2]}/{sha256}"
    return {
        "original_key": f"photos/original/{prefix}.jpg",
        "public_key": f"photos/public/{prefix}.jpg",
        "thumb_key": f"photos/thumb/{prefix}.jpg",
    }


#: Writes of originals, run beside the database work of their request (a local disk's fsyncs, or an S3 PUT,
#: take about as long): the request waits for its write before it commits, so a committed row always has its
#: bytes. Threads start on first use, so each gunicorn worker has its own.
_WRITER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="photo-write")


def put_verified_image(
    data: bytes, sha256: str, unavailable: str = "照片存储暂不可用，照片仍保存在手机上，稍后会自动重试。"
) -> tuple[ImageInfo, dict[str, str]]:
    """Verify an uploaded image and store the original durably; its copies are made by a background job.

    ``sha256`` is the data's, computed by the caller. The request reads the header only (format, pixel
    limit, EXIF) and checks that the file is whole (:func:`sync.images.inspect_upload`): decoding is the
    job's. The thumbnail, and the copy without metadata when the file carries any (a phone's resized copy
    usually does not: then the original is served as it is), are made off the request path; until
    they exist, media serving answers a placeholder. Raises AppError 422 for a file that is not an
    acceptable photo, 503 (``unavailable``) when storage fails.
    """
    info, keys, finish = start_verified_image(data, sha256, unavailable)
    finish()
    return info, keys


def start_verified_image(
    data: bytes, sha256: str, unavailable: str = "照片存储暂不可用，照片仍保存在手机上，稍后会自动重试。"
) -> tuple[ImageInfo, dict[str, str], Callable[[], None]]:
    """:func:`put_verified_image` that returns once the image is verified and its write has started.

    ``finish()`` waits for the write (AppError 503 if it failed) and queues the copies' job: call it before
    the commit, after the row's own database work.
    """
    from .. import jobs

    max_pixels = current_app.config.get("IMAGE_MAX_PIXELS") or DEFAULT_MAX_PIXELS
    try:
        info = inspect_upload(data, max_pixels=max_pixels, sha256=sha256)
    except ImageRejected as exc:
        raise AppError(422, exc.code, exc.message, {"file": [exc.message]}) from exc
    keys = _keys(sha256)
    if not info.has_metadata:
        keys["public_key"] = keys["original_key"]
    written = _WRITER.submit(storage().put, keys["original_key"], data, CONTENT_TYPES[info.format])

    def finish() -> None:
        try:
            written.result()
        except StorageError as exc:
            current_app.logger.warning("photo storage failed: %s", exc)
            raise AppError(503, "storage_unavailable", unavailable, retry_after=RETRY_AFTER) from exc
        public = keys["public_key"] if info.has_metadata else None
        jobs.enqueue(jobs.derive_photo, keys["original_key"], keys["thumb_key"], public)

    return info, keys, finish


def store_photo(
    user: User, visit: Visit, photo_id: str, data: bytes | Callable[[], bytes], meta: dict[str, Any]
) -> tuple[Photo, bool]:
    """Store one photo exactly once; return it and whether it is new.

    ``data`` may be a loader, called only when the photo is not stored yet (a replay needs no bytes).
    The row is committed only after the original is durably in storage (its write runs beside the
    row's INSERT and is waited for here); the copies follow from the job.
    """
    claimed = meta["sha256"]
    existing = duplicate = None
    # One query for both: this photo id, and the same picture already in the visit.
    query = select(Photo).where(or_(Photo.id == photo_id, and_(Photo.visit_id == visit.id, Photo.sha256 == claimed)))
    for found in db.session.scalars(query):
        if found.id == photo_id:
            existing = found
        if found.visit_id == visit.id and found.sha256 == claimed:
            duplicate = found
    if existing is not None:
        if existing.visit_id != visit.id or existing.sha256 != claimed:
            raise AppError(409, "photo_id_reused", "照片编号已被另一张照片使用。")
        return existing, False
    data = data() if callable(data) else data
    actual = hashlib.sha256(data).hexdigest()
    if actual != claimed:
        raise AppError(
            422, "checksum_mismatch", "照片在传输中损坏（校验值不一致），请重试上传。", {"file": ["校验值不一致。"]}
        )
    if duplicate is not None and duplicate.deleted_at is None:
        return duplicate, False
    if visit.state in LOCKED_STATES and actual not in (visit.declared_photo_hashes or []):
        # Photos declared at submit may still arrive (they upload after the header); others may not.
        raise AppError(409, f"visit_{visit.state}", LOCKED_STATES[visit.state] + "，不能再添加照片。")
    if meta.get("item_id") and not _item_exists(visit, meta["item_id"]):
        raise AppError(422, "unknown_item", "照片所属的检查项不在本次检查表中。", {"item_id": ["检查项不存在。"]})
    info, keys, finish = start_verified_image(data, actual)
    if duplicate is not None:
        # The same picture was deleted earlier and is being added again.
        duplicate.deleted_at = None
        duplicate.caption = meta["caption"]
        db.session.flush()
        forget_tally(visit.id)
        refresh_completeness(visit)
        finish()
        return duplicate, False
    photo = Photo(
        id=photo_id,
        visit_id=visit.id,
        item_id=meta.get("item_id"),
        sha256=actual,
        caption=meta["caption"],
        content_type="image/jpeg",
        byte_size=len(data),
        width=info.width,
        height=info.height,
        captured_at=naive_utc(meta.get("captured_at")),
        latitude=meta.get("latitude"),
        longitude=meta.get("longitude"),
        accuracy_m=meta.get("accuracy_m"),
        exif_captured_at=info.exif_captured_at,
        exif_latitude=info.exif_latitude,
        exif_longitude=info.exif_longitude,
        uploaded_by_id=user.id,
        device_id=meta.get("device_id", ""),
        **keys,
    )
    db.session.add(photo)
    db.session.flush()
    forget_tally(visit.id)
    refresh_completeness(visit)
    finish()
    return photo, True


def _item_exists(visit: Visit, item_id: str) -> bool:
    # The version's items are held in process (versions never change): no 27 KB JSON read per photo.
    return item_id in version_items(visit.checklist_version_id)


def delete_photo(visit: Visit, photo_id: str) -> None:
    """Mark a photo deleted (before submit); deleting twice, or an unknown id, is fine."""
    photo = db.session.get(Photo, photo_id)
    if photo is None or photo.visit_id != visit.id or photo.deleted_at is not None:
        return
    if visit.state in LOCKED_STATES:
        raise AppError(409, f"visit_{visit.state}", LOCKED_STATES[visit.state] + "，不能删除照片。")
    photo.deleted_at = utcnow()
    db.session.flush()
    forget_tally(visit.id)
    refresh_completeness(visit)


def photo_as_dict(photo: Photo) -> dict[str, Any]:
    """A photo's metadata (no storage URLs: those are made per viewer, short-lived)."""
    return {
        "id": photo.id,
        "visit_id": photo.visit_id,
        "item_id": photo.item_id,
        "sha256": photo.sha256,
        "caption": photo.caption,
        "width": photo.width,
        "height": photo.height,
        "byte_size": photo.byte_size,
        "captured_at": iso(photo.captured_at),
        "latitude": photo.latitude,
        "longitude": photo.longitude,
        "exif_captured_at": iso(photo.exif_captured_at),
    }
