"""The audit log: every change to a visit, item result, photo, review or task, never edited.

Visits and photos are written by the sync API's operations; a ``before_flush``
hook records what those flushes change (old and new values), so no write path
can skip it. Item results are written set-based (no ORM objects to watch), so
their operation records one entry per batch with the old and new value of every
item it changed, and the batch endpoint one entry with its counts. The bureau's own operations call :func:`record`
with a named action (退回, 销号 …).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

from flask import Flask, has_request_context, request
from flask_login import current_user
from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from ...extensions import db
from ...timeutil import utcnow
from ...visits.models import Photo, Visit
from .models import AuditEntry

#: Fields whose changes are recorded, per audited model. Derived fields (receipt
#: counts, recording times, ``updated_at``) follow from these and are left out.
VISIT_FIELDS = ("state", "summary", "started_at", "submitted_at", "review_round", "declared_result_count", "planned_on")
PHOTO_FIELDS = ("item_id", "caption", "deleted_at")

#: Chinese names of actions, for the history shown on pages.
ACTIONS: dict[str, str] = {
    "create": "创建",
    "update": "修改",
    "sync": "同步检查结果",
    "batch": "批量同步",
    "upload": "上传照片",
    "delete": "删除照片",
    "restore": "恢复照片",
    "return": "退回修改",
    "accept": "审核通过",
    "open": "下发整改",
    "progress": "整改进展",
    "request": "申请销号",
    "close": "销号",
    "reopen": "重新整改",
    "submit": "报送",
    "accepted": "核验通过",
    "returned": "退回补充",
    "edit": "修改",
    "recheck_pass": "复查达标",
    "recheck_fail": "复查未达标",
}
OBJECT_TYPES: dict[str, str] = {
    "visit": "督导记录",
    "item_result": "检查结果",
    "photo": "照片",
    "review": "审核",
    "task": "整改任务",
    "task_update": "整改记录",
    "task_photo": "整改照片",
    "sync_batch": "同步批次",
    "self_report": "自查报送",
}


#: The recorded fields in words, for the 修改记录 table (a key not here is shown as it is).
FIELDS: dict[str, str] = {
    "state": "状态",
    "planned_on": "计划日期",
    "started_at": "开始记录",
    "submitted_at": "提交时间",
    "summary": "督导小结",
    "declared_result_count": "申报结果数",
    "review_round": "审核轮次",
    "applied": "采用",
    "superseded": "被覆盖",
    "count": "条数",
    "items": "检查项",
    "caption": "照片说明",
    "captured_at": "拍摄时间",
    "item_id": "检查项",
    "sha256": "文件校验值",
    "comment": "意见",
    "decision": "结论",
    "item_comments": "检查项意见",
    "deadline": "整改期限",
    "note": "说明",
    "photos": "照片",
    "problem": "存在问题",
    "responsible_person": "责任人",
    "school_id": "学校",
    "entries": "条目",
    "kinds": "类型",
    "ok": "成功",
    "rejected": "被拒",
    "value": "填报结果",
}


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or remove an audit entry."""


def jsonable(value: Any) -> Any:
    """Dates as ISO text (UTC for datetimes); everything else as it is."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


_ACTING: ContextVar[int | None] = ContextVar("dudao_audit_acting_user", default=None)


@contextmanager
def acting_as(user_id: int | None) -> Iterator[None]:
    """Attribute changes made outside a request (demo loader, scripts) to ``user_id``."""
    token = _ACTING.set(user_id)
    try:
        yield
    finally:
        _ACTING.reset(token)


def acting_user_id() -> int | None:
    """The signed-in user making the change; outside a request whoever ``acting_as`` names, else None."""
    if not has_request_context():
        return _ACTING.get()
    return getattr(current_user, "id", None)


def request_device(default: str = "") -> str:
    """The device a change came from: the phone's device id if sent, else the browser."""
    if default:
        return default[:128]
    if not has_request_context():
        return "服务器"
    sent = request.headers.get("X-Device-Id") or ""
    if not sent and request.is_json:
        body = request.get_json(silent=True)
        sent = body.get("device_id", "") if isinstance(body, dict) else ""
    if not sent and request.form:
        sent = request.form.get("device_id", "")
    if sent:
        return str(sent)[:128]
    agent = request.user_agent.string or "未知浏览器"
    return ("网页 " + agent)[:128]


def record(
    object_type: str,
    object_id: str | int,
    scope: tuple[str, str | int],
    action: str,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    *,
    device: str = "",
    user_id: int | None = None,
    session: Session | None = None,
) -> AuditEntry:
    """Add one entry to the session (the caller's flush writes it with the change it describes)."""
    entry = AuditEntry(**_row(object_type, object_id, scope, action, old, new, device=device, user_id=user_id))
    (session or db.session).add(entry)
    return entry


def record_now(
    object_type: str,
    object_id: str | int,
    scope: tuple[str, str | int],
    action: str,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    *,
    device: str = "",
    user_id: int | None = None,
) -> None:
    """Write one entry at once with a plain INSERT: the same row as :func:`record`, for set-based writes that
    have no ORM objects to flush with it (an ORM insert would cost a flush and a RETURNING for an id nobody reads).
    """
    _insert_row(db.session(), _row(object_type, object_id, scope, action, old, new, device=device, user_id=user_id))


def _insert_row(session: Session, row: dict[str, Any]) -> None:
    """Write one entry's row now with a plain INSERT, or hold it back inside :func:`batched_entries`."""
    pending = session.info.get(_BATCHED)
    if pending is not None:
        pending.append(row)
        return
    session.connection().execute(insert(AuditEntry.__table__), row)


#: Session key of the rows :func:`batched_entries` holds back.
_BATCHED = "dudao.audit_batched"


@contextmanager
def batched_entries() -> Iterator[None]:
    """Hold back the entries written in the block and write them together at its end.

    For the sync batch, whose entries each record a few changes: one statement instead of one per change.
    The session is flushed first, so changes still pending record theirs too, in the order recorded. If the
    block raises, what it held back is dropped (the caller rolls its changes back too).
    """
    session = db.session()
    pending: list[dict[str, Any]] = []
    session.info[_BATCHED] = pending
    try:
        yield
        session.flush()
    finally:
        session.info.pop(_BATCHED, None)
    if pending:
        # One executemany of one cached statement (psycopg sends the rows in one round trip); a multi-row
        # VALUES statement would be compiled anew for every batch.
        session.execute(insert(AuditEntry.__table__), pending)


def _row(
    object_type: str,
    object_id: str | int,
    scope: tuple[str, str | int],
    action: str,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    *,
    device: str = "",
    user_id: int | None = None,
) -> dict[str, Any]:
    """One entry's row (the columns :func:`record` sets)."""
    return {
        "at": utcnow(),
        "user_id": user_id if user_id is not None else acting_user_id(),
        "device": request_device(device),
        "object_type": object_type,
        "object_id": str(object_id),
        "scope_type": scope[0],
        "scope_id": str(scope[1]),
        "action": action,
        "old_value": {k: jsonable(v) for k, v in old.items()} if old is not None else None,
        "new_value": {k: jsonable(v) for k, v in new.items()} if new is not None else None,
    }


def entries_for(scope_type: str, scope_id: str | int) -> list[AuditEntry]:
    """A page's history, oldest first."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.scope_type == scope_type, AuditEntry.scope_id == str(scope_id))
        .order_by(AuditEntry.id)
    )
    return list(db.session.scalars(query))


# --- changes made by the sync API's operations ---------------------------------------------


def _changes(obj: Any, names: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for name in names:
        history = state.attrs[name].history
        if not history.has_changes():
            continue
        before = history.deleted[0] if history.deleted else None
        after = history.added[0] if history.added else None
        if before != after:
            old[name], new[name] = before, after
    return old, new


def _values(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names if getattr(obj, name) is not None}


def _visit_entry(session: Session, visit: Visit, is_new: bool) -> None:
    if is_new:
        _insert_now(session, "visit", visit.id, ("visit", visit.id), "create", None, _values(visit, VISIT_FIELDS))
        return
    old, new = _changes(visit, VISIT_FIELDS)
    if new or old:
        _insert_now(session, "visit", visit.id, ("visit", visit.id), "update", old, new)


#: Fields of a new visit at their defaults, left out of its "create" entry as the flush hook leaves them out
#: (the ORM fills them in only when it inserts).
_NEW_VISIT_DEFAULTS = {("summary", ""), ("review_round", 0)}


def visit_created(visit: Visit) -> None:
    """Record a visit inserted without the ORM's flush (whose hook records the others)."""
    values = {k: v for k, v in _values(visit, VISIT_FIELDS).items() if (k, v) not in _NEW_VISIT_DEFAULTS}
    _insert_now(db.session(), "visit", visit.id, ("visit", visit.id), "create", None, values)


def _insert_now(session: Session, *args: Any, **kwargs: Any) -> None:
    """Write a flush's own entry at once with a plain INSERT (as :func:`record_now`): an ORM entry would cost
    the flush a second mapper and a RETURNING for an id nobody reads. Entries someone else added to this flush
    keep going first, as they always did (ids in the order things were recorded): then this one joins them."""
    if _BATCHED not in session.info and any(isinstance(obj, AuditEntry) for obj in session.new):
        record(*args, session=session, **kwargs)
        return
    _insert_row(session, _row(*args, **kwargs))


def _photo_entry(session: Session, photo: Photo, is_new: bool) -> None:
    scope = ("visit", photo.visit_id)
    if is_new:
        values = {"sha256": photo.sha256, **_values(photo, ("item_id", "caption", "captured_at"))}
        _insert_now(session, "photo", photo.id, scope, "upload", None, values, device=photo.device_id)
        return
    old, new = _changes(photo, PHOTO_FIELDS)
    if not (new or old):
        return
    action = "update"
    if "deleted_at" in new:
        action = "delete" if new["deleted_at"] is not None else "restore"
    _insert_now(session, "photo", photo.id, scope, action, old, new, device=photo.device_id)


_WRITERS = {Visit: _visit_entry, Photo: _photo_entry}


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEntry):
            raise AuditLogIsAppendOnly("审计记录不能删除。")
    # Finding the signed-in user may load it: no flush from inside this one.
    with session.no_autoflush:
        for obj in list(session.new):
            writer = _WRITERS.get(type(obj))
            if writer is not None:
                writer(session, obj, True)
        for obj in list(session.dirty):
            if isinstance(obj, AuditEntry) and session.is_modified(obj):
                raise AuditLogIsAppendOnly("审计记录不能修改。")
            writer = _WRITERS.get(type(obj))
            if writer is not None and session.is_modified(obj):
                writer(session, obj, False)


def init(app: Flask) -> None:
    """Start recording (once per process: the hook is on every session)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
