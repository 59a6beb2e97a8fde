"""Visit writes: plan, upsert, apply item results, receipts. Only ``flush()``: the edge commits."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Integer, String, event, func, insert, literal, select, text
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from sync.evaluate import InvalidValue, evaluate, number_of, validate_value
from sync.merge import WriteStamp, decide

from ..auth.models import User
from ..auth.policy import visible_school
from ..core.models import School
from ..errors import AppError
from ..extensions import db
from ..packs.cache import version_content, version_items
from ..packs.models import ChecklistVersion
from ..packs.operations import checklist_for_school, store_version
from ..timeutil import to_china, utcnow
from .models import LOCKED_STATES, NEXT_STATES, ItemResult, Photo, ResultWrite, Visit


def naive_utc(value: datetime | None) -> datetime | None:
    """Store aware times as naive UTC, as every datetime in the database is."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def iso(value: datetime | None) -> str | None:
    """A stored naive UTC time as ISO 8601 with ``Z``."""
    return value.isoformat(timespec="milliseconds") + "Z" if value else None


def _school_for_inspector(user: User, school_id: int) -> School:
    # One query when the school is the inspector's (every sync), none for a second header of the transaction
    # (a visit's start and submit in one batch); which error it is costs a second one.
    if 0 < school_id < 2**31 and user.role == "inspector":
        seen = _visible_cache()
        school = seen.get((user.id, school_id))
        if school is None:
            school = visible_school(user, school_id)
        if school is not None:
            seen[(user.id, school_id)] = school
            return school
    if not 0 < school_id < 2**31 or db.session.get(School, school_id) is None:
        raise AppError(404, "school_not_found", "学校不存在。", {"school_id": ["学校不存在。"]})
    raise AppError(403, "school_not_assigned", "这所学校不在您的督导范围内。")


def not_applicable_error(snapshot: dict[str, Any]) -> AppError:
    """The error for a school the pack composes nothing for (本政策包不适用于幼儿园)."""
    message = snapshot.get("not_applicable") or "本政策包没有适用于这所学校的检查项。"
    return AppError(422, "checklist_not_applicable", message, {"school_id": [message]})


def checklist_version_for(school: School, visit_type: str, on: date | None = None) -> ChecklistVersion:
    """Compose the school's checklist as of ``on`` and keep it as an immutable version.

    Raises AppError (422) when the pack has nothing for the school: no empty
    checklist is stored or handed out.
    """
    snapshot = checklist_for_school(school, visit_type, on)
    if not snapshot.get("applicable", True):
        raise not_applicable_error(snapshot)
    return store_version(snapshot)


def plan_visit(user: User, school_id: int, planned_on: date, visit_type: str = "routine") -> Visit:
    """Plan a visit (server-made UUID) to one of the inspector's schools.

    The checklist is composed for the planned day (due dates, expired documents).
    """
    school = _school_for_inspector(user, school_id)
    version = checklist_version_for(school, visit_type, planned_on)
    visit = Visit(
        id=str(uuid.uuid4()),
        school_id=school.id,
        county_id=school.county_id,
        visited_on=planned_on,
        inspector_id=user.id,
        checklist_version_id=version.id,
        visit_type=visit_type,
        state="planned",
        planned_on=planned_on,
    )
    db.session.add(visit)
    db.session.flush()
    return visit


def visit_for_inspector(user: User, visit_id: str, *, lock: bool = False) -> Visit:
    """The visit, if it is the user's; 404 otherwise (ids of others' visits are not revealed)."""
    visit = _locked_visits().get(visit_id) if lock else None
    if visit is None:
        query = select(Visit).where(Visit.id == visit_id)
        if lock:
            query = query.with_for_update()
        visit = db.session.scalar(query)
        if lock and visit is not None:
            _locked_visits()[visit_id] = visit
    if visit is None or visit.inspector_id != user.id:
        raise AppError(404, "visit_not_found", "督导记录不存在。")
    return visit


def upsert_visit(user: User, visit_id: str, data: dict[str, Any]) -> tuple[Visit, bool]:
    """Create the visit with the phone's id, or update it; replays change nothing more.

    The state only moves forward; a submitted or accepted visit keeps its content.
    A returned visit is resubmitted only by a PUT that names the review round it
    answers, so a late replay of the first submit cannot resubmit it unamended.
    """
    school = _school_for_inspector(user, data["school_id"])
    version_id = data["checklist_version"]
    if version_content(version_id) is None:
        raise AppError(409, "unknown_checklist_version", "检查表版本不存在，请重新下载该学校。")
    visit = _locked_visits().get(visit_id)
    if visit is None and data["state"] == "in_progress":
        # Most likely the visit's first header: made whole and inserted in one statement, no read first.
        fresh = _new_visit(user, visit_id, school, version_id, data)
        _apply_header(fresh, data)
        if _insert_new(fresh):
            return fresh, True
    if visit is None:
        visit = db.session.scalar(select(Visit).where(Visit.id == visit_id).with_for_update())
    created = visit is None
    if visit is None:
        visit = _new_visit(user, visit_id, school, version_id, data)
        db.session.add(visit)
    elif visit.inspector_id != user.id:
        raise AppError(404, "visit_not_found", "督导记录不存在。")
    elif visit.school_id != school.id or visit.checklist_version_id != version_id:
        raise AppError(409, "visit_mismatch", "该督导记录的学校或检查表与服务器不一致。")
    else:
        # Held for the answer (the session keeps objects weakly: it would be loaded again), and counted
        # before anything changes, so the count's autoflush finds nothing and the visit takes one UPDATE.
        set_committed_value(visit, "school", school)
        _tally(visit)
    _locked_visits()[visit_id] = visit
    if visit.state in LOCKED_STATES:
        # Already submitted (or accepted): a replay must not change anything.
        refresh_completeness(visit)
        return visit, created
    _apply_header(visit, data)
    db.session.flush()
    return visit, created


def _new_visit(user: User, visit_id: str, school: School, version_id: str, data: dict[str, Any]) -> Visit:
    """A visit the phone started (not yet in the session), every column set: nothing is left to defaults."""
    now = utcnow()
    visit = Visit(
        id=visit_id,
        school_id=school.id,
        county_id=school.county_id,
        inspector_id=user.id,
        checklist_version_id=version_id,
        visit_type=data["visit_type"],
        state="in_progress",
        planned_on=None,
        started_at=None,
        first_recorded_at=None,
        last_recorded_at=None,
        submitted_at=None,
        review_round=0,
        failed_count=0,
        summary="",
        declared_result_count=None,
        declared_photo_hashes=None,
        is_fully_received=False,
        device_id=data["device_id"],
        created_at=now,
        updated_at=now,
    )
    visit.school = school  # already loaded: the answer needs it
    # Nothing can be stored yet for a visit that did not exist: no need to count.
    _tally_cache()[visit_id] = {"results": 0, "hashes": []}
    return visit


def _apply_header(visit: Visit, data: dict[str, Any]) -> None:
    """Move the visit's state forward and take the header's times, summary and declared counts."""
    state = data["state"]
    if visit.state == "returned" and (state != "submitted" or data.get("review_round", 0) != visit.review_round):
        # Still being amended, or an old submit replayed: the visit stays returned.
        state = "returned"
    if state not in NEXT_STATES[visit.state]:
        raise AppError(409, "bad_state", "督导记录状态不能回退。")
    visit.state = state
    started_at = naive_utc(data["started_at"])
    if started_at and (visit.started_at is None or started_at < visit.started_at):
        visit.started_at = started_at
    visit.summary = data["summary"]
    stamp_visit_day(visit)
    if state == "submitted":
        visit.submitted_at = naive_utc(data["submitted_at"]) or utcnow()
    if data.get("declared") is not None:
        visit.declared_result_count = data["declared"]["result_count"]
        visit.declared_photo_hashes = sorted(set(data["declared"]["photo_hashes"]))
    refresh_completeness(visit)


def _insert_new(visit: Visit) -> bool:
    """Insert a visit made by :func:`_new_visit` in one statement (``INSERT … ON CONFLICT DO NOTHING``) and
    keep it in the session as stored; False if its id exists already (a replayed start, or another request's
    at the same moment), and nothing is changed.

    The ORM's own insert would cost a read first (to tell a replay) and a unit of work to flush. The audit
    entry the flush hook would write is written here.
    """
    from ..bureau.audit import operations as audit  # the audit log sits above the visit model it records

    row = {column.key: getattr(visit, column.key) for column in Visit.__table__.columns}
    if db.session.execute(_insert_if_new(), row).rowcount != 1:
        _tally_cache().pop(visit.id, None)
        return False
    make_transient_to_detached(visit)
    db.session.add(visit)
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_INSERTED, []).append((visit, transaction))
    _locked_visits()[visit.id] = visit
    audit.visit_created(visit)
    return True


def _insert_if_new() -> Any:
    """``INSERT INTO visits … ON CONFLICT (id) DO NOTHING`` in the database's own dialect."""
    if _dialect() == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    statement = dialect_insert(Visit.__table__).on_conflict_do_nothing(index_elements=["id"])
    # An INSERT's row count is kept only when asked for: 1 if the row went in, 0 if the id was there.
    return statement.execution_options(preserve_rowcount=True)


def _items_of(visit: Visit) -> dict[str, dict[str, Any]]:
    return version_items(visit.checklist_version_id)


#: Columns of an item result a write sets (the value in force).
_RESULT_COLUMNS = ("write_id", "value", "number_value", "outcome", "observation", "edited_at", "device_id")
#: What the audit log keeps of an item result.
_AUDITED = ("value", "outcome", "observation", "edited_at")


def apply_result_writes(user: User, visit: Visit, writes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply a batch of item edits exactly once each; return one decision per write.

    A write seen before returns the decision it got then, so a replayed batch
    gets the same answer. Every write is kept in ``ResultWrite`` (the history).
    Set-based: the history rows go in with one multi-row INSERT, the values in
    force with one upsert (``INSERT … ON CONFLICT``), and the batch gets one
    audit entry listing old and new values, whatever its size.
    """
    writes = list(writes)
    items = _items_of(visit)
    unchecked = _skips_lookup(visit)
    known = (
        {}
        if unchecked
        else {
            row.id: {"visit_id": row.visit_id, "item_id": row.item_id, "decision": row.decision}
            for row in _known_writes([w["id"] for w in writes])
        }
    )
    field_errors: dict[str, list[str]] = {}
    for index, write in enumerate(writes):
        if write["id"] in known:
            continue
        item = items.get(write["item_id"])
        if item is None:
            field_errors[f"writes.{index}.item_id"] = ["检查项不在本次检查表中。"]
            continue
        try:
            write["value"] = validate_value(item["check"], write["value"])
        except InvalidValue as exc:
            field_errors[f"writes.{index}.value"] = [f"{item['title']}：{exc.message}"]
    if field_errors:
        raise AppError(422, "invalid_results", "部分检查结果格式有误，未保存。", field_errors)
    if visit.state in LOCKED_STATES and any(w["id"] not in known for w in writes):
        raise AppError(409, f"visit_{visit.state}", LOCKED_STATES[visit.state] + "，不能再修改。")
    tally = _tally_cache().get(visit.id)
    # A visit this transaction knows to have no results yet (made by the batch's header) needs no read.
    current = (
        {}
        if tally is not None and tally["results"] == 0
        else {
            row.item_id: row._asdict()
            for row in db.session.execute(
                select(ItemResult.item_id, *(getattr(ItemResult, c) for c in _RESULT_COLUMNS)).where(
                    ItemResult.visit_id == visit.id
                )
            )
        }
    )
    before = {item_id: {k: row[k] for k in _AUDITED} for item_id, row in current.items()}
    now = utcnow()
    visit_id, user_id = visit.id, user.id  # read once: attribute access per write added up
    history: list[dict[str, Any]] = []
    changed: dict[str, dict[str, Any]] = {}
    decisions = []
    for write in writes:
        if write["id"] in known:
            old = known[write["id"]]
            if old["visit_id"] != visit_id:
                raise AppError(409, "write_id_reused", "记录编号已被其他督导使用。")
            decisions.append(_decision(write["id"], old["item_id"], old["decision"], current.get(old["item_id"])))
            continue
        item = items[write["item_id"]]
        edited_at = naive_utc(write["edited_at"])
        result = current.get(item["id"])
        stamp = WriteStamp(result["edited_at"], result["write_id"]) if result else None
        decision = decide(stamp, WriteStamp(edited_at, write["id"]))
        history.append(
            {
                "id": write["id"],
                "visit_id": visit_id,
                "item_id": item["id"],
                "value": write["value"],
                "observation": write["observation"],
                "edited_at": edited_at,
                "device_id": write["device_id"],
                "user_id": user_id,
                "decision": decision,
                "received_at": now,
            }
        )
        if decision == "applied":
            result = {
                "item_id": item["id"],
                "write_id": write["id"],
                "value": write["value"],
                "number_value": number_of(write["value"]),
                "outcome": evaluate(item["check"], write["value"]),
                "observation": write["observation"],
                "edited_at": edited_at,
                "device_id": write["device_id"],
            }
            current[item["id"]] = changed[item["id"]] = result
        decisions.append(_decision(write["id"], item["id"], decision, result))
        # A repeated id inside one batch is answered as a replay of the first.
        known[write["id"]] = {"visit_id": visit_id, "item_id": item["id"], "decision": decision}
    if history:
        _write(visit.id, user.id, history, list(changed.values()), now, unchecked=unchecked)
    if changed:
        _audit_results(visit, history, before, changed)
    _update_recording_times(visit, [row["edited_at"] for row in history], current)
    _tally(visit)["results"] = len(current)
    refresh_completeness(visit)
    return decisions


#: PostgreSQL: one primary-key probe per id, whatever the table's size or statistics. ``id IN (…)`` let the
#: planner scan the whole history while it is small or freshly grown (its generic plan kept doing so): that
#: one statement was most of PostgreSQL's CPU per visit-sync. ``LIMIT 1`` keeps each probe a lookup.
_PG_KNOWN = text(
    """
    SELECT w.id, w.visit_id, w.item_id, w.decision
    FROM json_array_elements_text(CAST(:ids AS json)) AS t(id)
    CROSS JOIN LATERAL (
        SELECT id, visit_id, item_id, decision FROM result_writes WHERE id = t.id LIMIT 1
    ) AS w
    """
)


def _skips_lookup(visit: Visit) -> bool:
    """Whether the write ids need no lookup: on PostgreSQL, for a visit this transaction inserted that has no
    result yet, none of them can be its own (a replay), so an id found would only be another visit's, which
    the write itself detects (:data:`_PG_WRITE_NEW`). SQLite runs in process: the lookup costs no round trip."""
    inserted = db.session.info.get(_INSERTED, ())
    tally = _tally_cache().get(visit.id)
    return (
        tally is not None
        and tally["results"] == 0
        and any(kept is visit for kept, _ in inserted)
        and _dialect() == "postgresql"
    )


def _known_writes(ids: list[str]) -> Any:
    """The history rows of these write ids that exist (id, visit_id, item_id, decision)."""
    if _dialect() == "postgresql":
        return db.session.execute(_PG_KNOWN, {"ids": json.dumps(ids)})
    return db.session.execute(
        select(ResultWrite.id, ResultWrite.visit_id, ResultWrite.item_id, ResultWrite.decision).where(
            ResultWrite.id.in_(ids)
        )
    )


#: PostgreSQL: the history rows and the values in force in one statement, each set of rows one JSON
#: parameter (``json_to_recordset``): one round trip, a statement text that never changes with the batch size
#: (one prepared plan), and nothing encoded per row or per column on the way.
_PG_HISTORY = """
    INSERT INTO result_writes
        (id, visit_id, item_id, value, observation, edited_at, device_id, user_id, decision, received_at)
    SELECT w.id, CAST(:visit_id AS varchar), w.item_id, w.value, w.observation, w.edited_at, w.device_id,
        CAST(:user_id AS integer), w.decision, CAST(:now AS timestamp)
    FROM json_to_recordset(CAST(:history AS json)) AS w(
        id varchar, item_id varchar, value json, observation text, edited_at timestamp, device_id varchar,
        decision varchar)
"""
_PG_RESULTS = """
    INSERT INTO item_results
        (visit_id, item_id, write_id, value, number_value, outcome, observation, edited_at, device_id, updated_at)
    SELECT CAST(:visit_id AS varchar), r.item_id, r.write_id, r.value, r.number_value, r.outcome, r.observation,
        r.edited_at, r.device_id, CAST(:now AS timestamp)
    FROM json_to_recordset(CAST(:results AS json)) AS r(
        item_id varchar, write_id varchar, value json, number_value float8, outcome varchar, observation text,
        edited_at timestamp, device_id varchar)
    ON CONFLICT (visit_id, item_id) DO UPDATE SET
        write_id = excluded.write_id, value = excluded.value, number_value = excluded.number_value,
        outcome = excluded.outcome, observation = excluded.observation, edited_at = excluded.edited_at,
        device_id = excluded.device_id, updated_at = excluded.updated_at
"""
_PG_WRITE = text(f"WITH history AS ({_PG_HISTORY}) {_PG_RESULTS}")
#: The same for a visit this transaction inserted and that has no results yet: its writes were not looked up
#: first (none of them can be its own), so an id some other visit holds is left out (``DO NOTHING``) and the
#: count of history rows written tells (:func:`_write` refuses the entry then).
_PG_WRITE_NEW = text(
    f"WITH history AS ({_PG_HISTORY} ON CONFLICT (id) DO NOTHING RETURNING 1), "
    f"results AS ({_PG_RESULTS} RETURNING 1) SELECT count(*) FROM history"
)
_HISTORY_FIELDS = ("id", "item_id", "value", "observation", "edited_at", "device_id", "decision")
_RESULT_FIELDS = ("item_id", *_RESULT_COLUMNS)


def _json_rows(rows: list[dict[str, Any]], names: tuple[str, ...]) -> str:
    """Rows as a JSON array of objects (times as ISO text, which PostgreSQL reads back exactly)."""
    return json.dumps(
        [{name: row[name].isoformat() if name == "edited_at" else row[name] for name in names} for row in rows]
    )


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _write(
    visit_id: str,
    user_id: int,
    history: list[dict[str, Any]],
    changed: list[dict[str, Any]],
    now: datetime,
    *,
    unchecked: bool = False,
) -> None:
    """Append the batch's writes to the history and write the values in force (``INSERT … ON CONFLICT
    (visit_id, item_id) DO UPDATE``): one statement on PostgreSQL, one executemany each on SQLite.

    ``unchecked``: the write ids were not looked up (see :func:`_skips_lookup`); one that exists refuses the
    entry (409 ``write_id_reused``, as the lookup would have).
    """
    if _dialect() == "postgresql":
        params = {
            "visit_id": visit_id,
            "user_id": user_id,
            "now": now,
            "history": _json_rows(history, _HISTORY_FIELDS),
            "results": _json_rows(changed, _RESULT_FIELDS),
        }
        if not unchecked:
            db.session.execute(_PG_WRITE, params)
        elif db.session.execute(_PG_WRITE_NEW, params).scalar_one() != len(history):
            raise AppError(409, "write_id_reused", "记录编号已被其他督导使用。")
        return
    # SQLite runs in process: executemany costs no round trips.
    db.session.execute(insert(ResultWrite.__table__), history)
    if not changed:
        return
    from sqlalchemy.dialects.sqlite import insert as upsert

    table = ItemResult.__table__
    statement = upsert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.visit_id, table.c.item_id],
        set_={name: statement.excluded[name] for name in (*_RESULT_COLUMNS, "updated_at")},
    )
    db.session.execute(statement, [{**row, "visit_id": visit_id, "updated_at": now} for row in changed])


def _audit_results(
    visit: Visit, history: list[dict[str, Any]], before: dict[str, Any], changed: dict[str, dict[str, Any]]
) -> None:
    """One audit entry for the batch: counts, and old and new values of each item it changed."""
    from ..bureau.audit import operations as audit  # the audit log sits above the visit model it records

    applied = sum(1 for row in history if row["decision"] == "applied")
    old = {item_id: before[item_id] for item_id in changed if item_id in before}
    new = {
        "count": len(history),
        "applied": applied,
        "superseded": len(history) - applied,
        "items": {item_id: _audited_json(row, audit.jsonable) for item_id, row in changed.items()},
    }
    old_json = {item_id: _audited_json(values, audit.jsonable) for item_id, values in old.items()}
    device = history[-1]["device_id"]
    audit.record_now("item_result", visit.id, ("visit", visit.id), "sync", old_json or None, new, device=device)


def _audited_json(row: dict[str, Any], jsonable: Any) -> dict[str, Any]:
    """What the audit log keeps of a result (``_AUDITED``) as JSON: of those only ``edited_at`` is a time
    (converted alone: converting every value cost a tenth of a millisecond per 60 items)."""
    kept = {name: row[name] for name in _AUDITED}
    kept["edited_at"] = jsonable(kept["edited_at"])
    return kept


def _decision(write_id: str, item_id: str, decision: str, result: dict[str, Any] | None) -> dict[str, Any]:
    outcome = result["outcome"] if result is not None and result["write_id"] == write_id else None
    return {"id": write_id, "item_id": item_id, "decision": decision, "outcome": outcome}


def _update_recording_times(visit: Visit, new_times: list[datetime], current: dict[str, dict[str, Any]]) -> None:
    """First and last recording and the failed count, from the write itself (history only ever grows)."""
    if new_times:
        first, last = min(new_times), max(new_times)
        if visit.first_recorded_at is None or first < visit.first_recorded_at:
            visit.first_recorded_at = first
        if visit.last_recorded_at is None or last > visit.last_recorded_at:
            visit.last_recorded_at = last
    stamp_visit_day(visit)
    failed = sum(1 for row in current.values() if row["outcome"] == "fail")
    if visit.failed_count != failed:
        visit.failed_count = failed
    if visit.state == "planned":
        visit.state = "in_progress"


def stamp_visit_day(visit: Visit) -> None:
    """Keep ``visited_on``: the China date of the first recording, else of the start, else the plan."""
    moment = to_china(visit.first_recorded_at or visit.started_at)
    visit.visited_on = moment.date() if moment else visit.planned_on or (to_china(utcnow()) or utcnow()).date()


_TALLY = "dudao.visit_tally"
_LOCKED = "dudao.locked_visits"
_VISIBLE = "dudao.visible_schools"
#: Visits :func:`_insert_new` inserted, each with the (sub)transaction it did so in.
_INSERTED = "dudao.inserted_visits"
#: What a transaction keeps of what it read (forgotten with any rollback and at its end).
_TRANSACTION_CACHES = (_TALLY, _LOCKED, _VISIBLE)


def _visible_cache() -> dict[tuple[int, int], School]:
    """Schools this transaction found the inspector may visit, by (user id, school id)."""
    return db.session.info.setdefault(_VISIBLE, {})


def _tally_cache() -> dict[str, dict[str, Any]]:
    return db.session.info.setdefault(_TALLY, {})


def _locked_visits() -> dict[str, Visit]:
    """Visits this transaction holds (locked ``FOR UPDATE`` or created): a batch's later entries for the same
    visit need no second query. Forgotten with any rollback (a savepoint's releases its locks) and at the end."""
    return db.session.info.setdefault(_LOCKED, {})


def _tally(visit: Visit) -> dict[str, Any]:
    """The visit's stored result count and photo hashes, counted once per transaction and kept up to date
    by the writes (a batch touching one visit many times does not count again)."""
    cache = _tally_cache()
    tally = cache.get(visit.id)
    if tally is None:
        # One round trip for both: the count's row has no hash, each photo's row no count.
        rows = db.session.execute(
            select(func.count(), literal(None, String))
            .where(ItemResult.visit_id == visit.id)
            .union_all(
                select(literal(None, Integer), Photo.sha256).where(
                    Photo.visit_id == visit.id, Photo.deleted_at.is_(None)
                )
            )
        ).all()
        results = sum(count for count, sha256 in rows if sha256 is None and count is not None)
        hashes = sorted(sha256 for _, sha256 in rows if sha256 is not None)
        tally = cache[visit.id] = {"results": results, "hashes": hashes}
    return tally


def forget_tally(visit_id: str) -> None:
    """Count a visit again next time (its photos changed)."""
    _tally_cache().pop(visit_id, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _previous: Any) -> None:
    # A rolled-back entry (or savepoint) may have changed the counts it undid, and released its locks.
    for key in _TRANSACTION_CACHES:
        session.info.pop(key, None)
    # Visits inserted by _insert_new in what was rolled back are gone from the database: the session, which
    # takes them for rows read, must forget them too (it forgets the ones it inserted itself).
    kept = []
    for visit, transaction in session.info.pop(_INSERTED, []):
        if transaction.is_active:
            kept.append((visit, transaction))
        elif visit in session:
            session.expunge(visit)
    if kept:
        session.info[_INSERTED] = kept


@event.listens_for(Session, "after_transaction_end")
def _forget_on_end(session: Session, transaction: Any) -> None:
    # Other requests may write once the database transaction has ended (savepoints keep the counts).
    if transaction.parent is None:
        for key in _TRANSACTION_CACHES:
            session.info.pop(key, None)


@event.listens_for(Session, "after_commit")
def _forget_inserted(session: Session) -> None:
    # Committed: the visits _insert_new made are rows for good (a rollback is handled when it comes, after
    # the transaction's end).
    session.info.pop(_INSERTED, None)


def refresh_completeness(visit: Visit) -> None:
    """A visit is fully received when every declared result and photo has arrived."""
    if visit.declared_result_count is None or visit.declared_photo_hashes is None:
        complete = False
    else:
        tally = _tally(visit)
        missing = set(visit.declared_photo_hashes) - set(tally["hashes"])
        complete = tally["results"] >= visit.declared_result_count and not missing
    if visit.is_fully_received != complete:
        visit.is_fully_received = complete


def receipt(visit: Visit) -> dict[str, Any]:
    """What the server holds for the visit: counts, photo hashes, completeness."""
    tally = _tally(visit)
    hashes = tally["hashes"]
    declared = visit.declared_photo_hashes
    return {
        "visit_id": visit.id,
        "state": visit.state,
        "result_count": tally["results"],
        "photo_count": len(hashes),
        "photo_hashes": list(hashes),
        "declared_result_count": visit.declared_result_count,
        "declared_photo_count": len(declared) if declared is not None else None,
        "missing_photo_hashes": sorted(set(declared or []) - set(hashes)),
        "is_fully_received": visit.is_fully_received,
        "server_time": iso(utcnow()) or "",
    }


def visit_as_dict(visit: Visit) -> dict[str, Any]:
    """The visit header for the phone."""
    school = visit.school
    return {
        "id": visit.id,
        "school": {"id": school.id, "name": school.name, "code": school.code},
        "checklist_version": visit.checklist_version_id,
        "visit_type": visit.visit_type,
        "state": visit.state,
        "state_label": visit.state_label,
        "review_round": visit.review_round,
        "planned_on": visit.planned_on.isoformat() if visit.planned_on else None,
        "started_at": iso(visit.started_at),
        "submitted_at": iso(visit.submitted_at),
        "summary": visit.summary,
        "is_fully_received": visit.is_fully_received,
    }
