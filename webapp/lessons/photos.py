"""Activity photos: the visit photo path (verify, store three copies durably, then record)."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select

from ..auth.models import User
from ..errors import AppError
from ..extensions import db
from ..timeutil import to_china, today_in_china, utcnow
from ..visits.operations import iso, naive_utc
from ..visits.photos import put_verified_image
from .models import Activity, ActivityPhoto
from .operations import closed_message, county_terms, locked_by


def _refuse_if_locked(activity: Activity, taken: Any = None) -> None:
    """No photo changes once the record's term has ended; a photo taken before the end may still arrive."""
    moment = to_china(naive_utc(taken)) if taken else None
    today = today_in_china()
    on = min(moment.date(), today) if moment else today
    term = locked_by(activity.occurred_on, county_terms(activity.county_id), on)
    if term is not None:
        raise AppError(409, "term_closed", closed_message(term))


def store_activity_photo(
    user: User, activity: Activity, photo_id: str, data: bytes, meta: dict[str, Any]
) -> tuple[ActivityPhoto, bool]:
    """Store one photo of a record exactly once; return it and whether it is new."""
    existing = db.session.get(ActivityPhoto, photo_id)
    if existing is not None:
        if existing.activity_id != activity.id or existing.sha256 != meta["sha256"]:
            raise AppError(409, "photo_id_reused", "照片编号已被另一张照片使用。")
        return existing, False
    actual = hashlib.sha256(data).hexdigest()
    if actual != meta["sha256"]:
        raise AppError(
            422, "checksum_mismatch", "照片在传输中损坏（校验值不一致），请重试上传。", {"file": ["校验值不一致。"]}
        )
    duplicate = db.session.scalar(
        select(ActivityPhoto).where(ActivityPhoto.activity_id == activity.id, ActivityPhoto.sha256 == actual)
    )
    if duplicate is not None and duplicate.deleted_at is None:
        return duplicate, False
    _refuse_if_locked(activity, meta.get("captured_at"))
    info, keys = put_verified_image(data, actual)
    if duplicate is not None:
        duplicate.deleted_at = None
        duplicate.caption = meta["caption"]
        db.session.flush()
        db.session.expire(activity, ["photos"])
        return duplicate, False
    photo = ActivityPhoto(
        id=photo_id,
        activity_id=activity.id,
        sha256=actual,
        caption=meta["caption"],
        byte_size=len(data),
        width=info.width,
        height=info.height,
        captured_at=naive_utc(meta.get("captured_at")),
        latitude=meta.get("latitude"),
        longitude=meta.get("longitude"),
        exif_captured_at=info.exif_captured_at,
        uploaded_by_id=user.id,
        device_id=meta.get("device_id", ""),
        **keys,
    )
    db.session.add(photo)
    db.session.flush()
    db.session.expire(activity, ["photos"])
    return photo, True


def delete_activity_photo(activity: Activity, photo_id: str) -> None:
    """Mark a photo deleted; twice, or an unknown id, is fine. Not after the term ended."""
    photo = db.session.get(ActivityPhoto, photo_id)
    if photo is None or photo.activity_id != activity.id or photo.deleted_at is not None:
        return
    _refuse_if_locked(activity)
    photo.deleted_at = utcnow()
    db.session.flush()
    db.session.expire(activity, ["photos"])


def activity_photo_as_dict(photo: ActivityPhoto) -> dict[str, Any]:
    """A photo's metadata (storage URLs are made per viewer, short-lived)."""
    return {
        "id": photo.id,
        "activity_id": photo.activity_id,
        "sha256": photo.sha256,
        "caption": photo.caption,
        "width": photo.width,
        "height": photo.height,
        "byte_size": photo.byte_size,
        "captured_at": iso(photo.captured_at),
    }
