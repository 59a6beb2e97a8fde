"""Item results from the phone: each write applied exactly once, last write wins, history kept.

Set-based: a batch of writes is one statement on PostgreSQL (history and values in force), one executemany
each on SQLite, and one audit entry. Only ``flush()``: the edge commits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text

from sync.evaluate import InvalidValue, evaluate, number_of, validate_value
from sync.merge import WriteStamp, decide

from ..auth.models import User
from ..errors import AppError
from ..extensions import db
from ..packs.cache import version_items
from ..timeutil import utcnow
from .held import dialect, inserted_here, tally_cache, tally_of
from .models import LOCKED_STATES, ItemResult, ResultWrite, Visit
from .operations import naive_utc, refresh_completeness, stamp_visit_day


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
    tally = tally_cache().get(visit.id)
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
    tally_of(visit)["results"] = len(current)
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
    kept = tally_cache().get(visit.id)
    return kept is not None and kept["results"] == 0 and inserted_here(visit) and dialect() == "postgresql"


def _known_writes(ids: list[str]) -> Any:
    """The history rows of these write ids that exist (id, visit_id, item_id, decision)."""
    if dialect() == "postgresql":
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
    if dialect() == "postgresql":
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
