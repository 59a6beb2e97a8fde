"""Rectification tasks after they are opened: progress with photos, closure request, close, reopen, edit.

Writes only ``flush()``; the route commits. Every change is in the audit log.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date

from ...auth.models import User
from ...errors import AppError
from ...extensions import db
from ...timeutil import today_in_china, utcnow
from ...visits.operations import naive_utc
from ...visits.photos import put_verified_image
from ..access import can_manage_task
from ..audit import operations as audit
from ..review.operations import changes_in_words, task_snapshot
from .models import RectificationTask, TaskPhoto, TaskUpdate

#: Photos one progress entry may carry.
MAX_PHOTOS = 6


@dataclass(frozen=True)
class Upload:
    """A photo file sent with a progress entry."""

    data: bytes
    caption: str = ""


def _require_manager(user: User, task: RectificationTask) -> None:
    if not can_manage_task(user, task):
        raise AppError(403, "not_reviewer", "只有督导室可以销号、重新整改或修改整改期限。")


def _entry(user: User, task: RectificationTask, kind: str, note: str, client_id: str | None = None) -> TaskUpdate:
    update = TaskUpdate(
        kind=kind,
        note=note.strip(),
        author_id=user.id,
        device=audit.request_device(),
        client_id=client_id,
        created_at=utcnow(),
    )
    task.updates.append(update)
    db.session.flush()
    return update


def _audit(task: RectificationTask, action: str, old: dict | None, new: dict | None) -> None:
    audit.record("task", task.id, ("task", task.id), action, old, new)


def add_progress(
    user: User,
    task: RectificationTask,
    note: str,
    uploads: list[Upload],
    *,
    request_closure: bool = False,
    client_id: str | None = None,
) -> TaskUpdate:
    """Record what the school did (with photos); optionally ask the bureau to close the task.

    ``client_id`` is the phone's UUID of the entry (the caller answers a replay before calling).
    """
    if task.state == "closed":
        raise AppError(409, "task_closed", "该整改任务已销号；如需继续整改，请督导室先重新整改。")
    if not note.strip() and not uploads:
        raise AppError(422, "note_required", "请填写整改情况或上传照片。", {"note": ["请填写整改情况。"]})
    if len(uploads) > MAX_PHOTOS:
        raise AppError(422, "too_many_photos", f"每次最多上传{MAX_PHOTOS}张照片。", {"photos": ["照片太多。"]})
    update = _entry(user, task, "request" if request_closure else "progress", note, client_id)
    for upload in uploads:
        _store_photo(user, task, update, upload)
    _audit(task, "progress", None, {"note": update.note, "photos": len(uploads)})
    if request_closure:
        old_state = task.state
        task.state = "requested"
        task.closure_requested_at = utcnow()
        _audit(task, "request", {"state": old_state}, {"state": task.state})
    db.session.flush()
    return update


def _store_photo(user: User, task: RectificationTask, update: TaskUpdate, upload: Upload) -> TaskPhoto:
    sha256 = hashlib.sha256(upload.data).hexdigest()
    info, keys = put_verified_image(upload.data, sha256, "照片存储暂不可用，请稍后重试。")
    photo = TaskPhoto(
        id=str(uuid.uuid4()),
        task_id=task.id,
        update_id=update.id,
        sha256=sha256,
        caption=upload.caption[:200],
        byte_size=len(upload.data),
        width=info.width,
        height=info.height,
        exif_captured_at=naive_utc(info.exif_captured_at),
        exif_latitude=info.exif_latitude,
        exif_longitude=info.exif_longitude,
        uploaded_by_id=user.id,
        created_at=utcnow(),
        **keys,
    )
    db.session.add(photo)
    db.session.flush()
    audit.record("task_photo", photo.id, ("task", task.id), "upload", None, {"sha256": sha256})
    return photo


def close_task(user: User, task: RectificationTask, note: str) -> None:
    """The bureau checks the evidence and closes (销号) the task."""
    _require_manager(user, task)
    if task.state == "closed":
        raise AppError(409, "task_closed", "该整改任务已经销号。")
    old = {"state": task.state}
    _entry(user, task, "close", note or "审核通过，予以销号。")
    task.state = "closed"
    task.closed_at = utcnow()
    task.closed_by_id = user.id
    _audit(task, "close", old, {"state": task.state, "note": note.strip()})
    db.session.flush()


def reopen_task(user: User, task: RectificationTask, note: str, deadline: date | None) -> None:
    """The bureau finds the rectification not done: back to 整改中, with a new deadline if given."""
    _require_manager(user, task)
    if task.state == "open":
        raise AppError(409, "task_open", "该整改任务正在整改中，无需重新整改。")
    if not note.strip():
        raise AppError(422, "note_required", "请说明需要继续整改的原因。", {"note": ["请填写原因。"]})
    _check_deadline(deadline)
    old = {"state": task.state, "deadline": task.deadline}
    _entry(user, task, "reopen", note)
    task.state = "open"
    task.closed_at = None
    task.closed_by_id = None
    task.closure_requested_at = None
    if deadline:
        task.deadline = deadline
    _audit(task, "reopen", old, {"state": task.state, "deadline": task.deadline, "note": note.strip()})
    db.session.flush()


def edit_task(
    user: User, task: RectificationTask, deadline: date | None, responsible_person: str, problem: str
) -> None:
    """Change the deadline, the responsible person or the description (each change is logged)."""
    _require_manager(user, task)
    _check_deadline(deadline, allow_past_if_unchanged=task.deadline)
    before = task_snapshot(task)
    if deadline:
        task.deadline = deadline
    if responsible_person.strip():
        task.responsible_person = responsible_person.strip()[:64]
    if problem.strip():
        task.problem = problem.strip()
    after = task_snapshot(task)
    old = {k: v for k, v in before.items() if after[k] != v}
    new = {k: after[k] for k in old}
    if not new:
        return
    _entry(user, task, "edit", changes_in_words(new))
    _audit(task, "edit", old, new)
    db.session.flush()


def _check_deadline(deadline: date | None, allow_past_if_unchanged: date | None = None) -> None:
    if deadline and deadline < today_in_china() and deadline != allow_past_if_unchanged:
        raise AppError(422, "bad_deadline", "整改期限不能早于今天。", {"deadline": ["整改期限不能早于今天。"]})
