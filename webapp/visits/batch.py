"""``POST /api/v1/sync``: many writes of the phone's outbox in one request and one transaction.

Each entry is exactly one single-entry write endpoint (same body, same
validation, same exactly-once and last-write-wins rules), applied in order: a
rejected entry answers its own status and undoes only itself, and a visit
header after a rejected entry of its visit is held (424), so a submit never
locks a visit without the answers it declares. A failure of the request
itself (database gone, a lost race retried once) answers 5xx and writes
nothing, so the phone retries the whole batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user
from marshmallow import Schema, fields, validate

from ..apidoc import operation
from ..auth.policy import roles_required
from ..errors import AppError, error_body
from ..extensions import csrf, db
from ..lessons.api import activity_put_entry
from .api import check_csrf_header, committed, load, results_post_entry, visit_put_entry
from .schemas import ReceiptSchema

bp = Blueprint("sync_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # the CSRF token comes in the X-CSRFToken header, checked below
bp.before_request(check_csrf_header)

#: Largest batch, in entries and in bytes (the phone splits its outbox to fit).
MAX_ENTRIES = 500
MAX_BYTES = 8 * 1024 * 1024

Handler = Callable[[str, Any], tuple[dict[str, Any], int]]
#: Entry kind → (role that may send it, the single-entry write it is).
KINDS: dict[str, tuple[str, Handler]] = {
    "visit_put": ("inspector", visit_put_entry),
    "results_post": ("inspector", results_post_entry),
    "activity_put": ("researcher", activity_put_entry),
}


class EntrySchema(Schema):
    """One outbox entry."""

    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    kind = fields.String(required=True, validate=validate.OneOf(list(KINDS)))
    #: The visit's or record's UUID (made on the phone): anything else refuses the whole request.
    target = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
    )
    #: The single write's body (VisitUpsert, ResultBatch or ActivityWrite by ``kind``): checked per entry, so a
    #: bad one is that entry's 422 and the request still answers 200.
    body = fields.Dict(required=True, metadata={"description": "the body of the single write named by kind"})


class BatchSchema(Schema):
    """POST /api/v1/sync: the outbox entries, applied in order."""

    entries = fields.List(fields.Nested(EntrySchema), required=True, validate=validate.Length(min=1, max=MAX_ENTRIES))


class EntryAnswerSchema(Schema):
    """One entry's answer: the status and body the single write would have given, or 424
    ``held_for_earlier_entry`` for a visit header after a refused entry of the same visit (not applied: the
    phone keeps it until what it declares was accepted)."""

    id = fields.String(required=True)
    status = fields.Integer(required=True)
    body = fields.Dict(required=True)


class BatchAnswerSchema(Schema):
    """Every entry's answer, in order, and the final receipt of each visit written."""

    entries = fields.List(fields.Nested(EntryAnswerSchema), required=True)
    receipts = fields.Dict(keys=fields.String(), values=fields.Nested(ReceiptSchema), required=True)


#: One instance for every request (a schema keeps no state between loads; building one costs more than a load).
_BATCH_SCHEMA = BatchSchema()


@bp.route("/sync", methods=["POST"])
@operation({200: BatchAnswerSchema}, (413, 422, 503), body=BatchSchema)
@roles_required("inspector", "researcher")
def sync_batch() -> Response:
    """Apply a batch of outbox entries; answer each entry's status and body, and the visits' receipts."""
    if (request.content_length or 0) > MAX_BYTES:
        raise AppError(413, "batch_too_large", "一次同步的数据太多，请分批上传。")
    data = load(_BATCH_SCHEMA, request.get_json(silent=True))
    return jsonify(committed(lambda: apply_batch(data["entries"])))


def apply_batch(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply the entries in order; one audit entry for the batch.

    Most batches are accepted whole, so they first run with no savepoints and with their audit entries
    written together at the end. The first refusal rolls that run back and the batch runs again with
    each entry in its own savepoint, so a refused entry undoes only itself: correctness never rests on an
    entry refusing before it writes.
    """
    from ..bureau.audit import operations as audit

    try:
        with audit.batched_entries():
            answers = _apply_all(entries, isolated=False)
            _record_batch(entries, answers)
    except _Refused:
        db.session.rollback()
        answers = _apply_all(entries, isolated=True)
        _record_batch(entries, answers)
    receipts: dict[str, Any] = {}
    for entry, answer in zip(entries, answers, strict=True):
        if answer["status"] < 300 and entry["kind"] in ("visit_put", "results_post"):
            # Entries apply in order and each touches one visit: its last answer's receipt is the final one.
            receipts[entry["target"]] = answer["body"]["receipt"]
    return {"entries": answers, "receipts": receipts}


def _record_batch(entries: list[dict[str, Any]], answers: list[dict[str, Any]]) -> None:
    from ..bureau.audit import operations as audit

    statuses = Counter("ok" if a["status"] < 300 else "rejected" for a in answers)
    audit.record_now(
        "sync_batch",
        current_user.id,
        ("user", current_user.id),
        "batch",
        None,
        {
            "entries": len(entries),
            "ok": statuses["ok"],
            "rejected": statuses["rejected"],
            "kinds": dict(Counter(e["kind"] for e in entries)),
        },
    )


class _Refused(Exception):
    """An entry was refused in a run without savepoints: run the batch again with them."""


#: A header (start, submit) after a refused entry of its visit in the same batch waits: the phone keeps it
#: (not parked) until what it declares was accepted, as the phone's outbox orders it.
HELD = (424, "held_for_earlier_entry", "同一督导记录中前面的数据未被接受，这条暂缓发送。")


def _apply_all(entries: list[dict[str, Any]], *, isolated: bool) -> list[dict[str, Any]]:
    """Each entry's answer, in order. Not ``isolated``: raise :class:`_Refused` at the first refusal."""
    _begin_for_savepoints()
    answers = []
    refused_targets: set[str] = set()
    for index, entry in enumerate(entries):
        if entry["kind"] == "visit_put" and entry["target"] in refused_targets:
            status, body = HELD[0], error_body(HELD[1], HELD[2])
        elif isolated:
            status, body = _apply_entry(entry, first=index == 0)
        else:
            status, body = _apply_entry_plain(entry)
        if status >= 300:
            refused_targets.add(entry["target"])
        answers.append({"id": entry["id"], "status": status, "body": body})
    return answers


def _apply_entry_plain(entry: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Apply one entry with no savepoint; a refusal ends the run (:class:`_Refused`)."""
    role, handler = KINDS[entry["kind"]]
    if current_user.role != role:
        raise _Refused
    try:
        body, status = handler(entry["target"], entry["body"])
    except AppError as exc:
        raise _Refused from exc
    return status, body


def _begin_for_savepoints() -> None:
    """Make sure a real transaction is open before the first savepoint.

    Python's sqlite3 module opens its transaction only before a data change; a
    SAVEPOINT outside one starts its own, and releasing it would commit the
    entry on its own. An explicit BEGIN keeps every entry in the batch's
    transaction. (PostgreSQL's driver always has begun.)
    """
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN")


def _apply_entry(entry: dict[str, Any], *, first: bool) -> tuple[int, dict[str, Any]]:
    """Apply one entry; undo only it if it is refused.

    The first entry needs no savepoint: nothing is written before it, so undoing it is rolling the
    transaction back (two statements fewer per batch, and a one-entry batch has none).
    """
    role, handler = KINDS[entry["kind"]]
    if current_user.role != role:
        return 403, error_body("forbidden", "您没有权限进行此操作。")
    savepoint = None if first else db.session.begin_nested()
    try:
        body, status = handler(entry["target"], entry["body"])
    except AppError as exc:
        if savepoint is None:
            db.session.rollback()
            _begin_for_savepoints()
        else:
            savepoint.rollback()
        return exc.status, error_body(exc.code, exc.message, exc.fields)
    except BaseException:
        # A lost race or the database failing: the whole batch rolls back (``committed`` decides).
        if savepoint is not None and savepoint.is_active:
            savepoint.rollback()
        raise
    if savepoint is not None:
        savepoint.commit()
    return status, body
