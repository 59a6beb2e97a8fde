"""Visit writes: plan, upsert, apply item results, receipts. Only ``flush()``: the edge commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from sync.evaluate import InvalidValue, evaluate, number_of, validate_value
from sync.merge import WriteStamp, decide

from ..auth.models import User
from ..auth.policy import can_view_school
from ..core.models import School
from ..errors import AppError
from ..extensions import db
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
    school = db.session.get(School, school_id) if 0 < school_id < 2**31 else None
    if school is None:
        raise AppError(404, "school_not_found", "学校不存在。", {"school_id": ["学校不存在。"]})
    if user.role != "inspector" or not can_view_school(user, school):
        raise AppError(403, "school_not_assigned", "这所学校不在您的督导范围内。")
    return school


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
    query = select(Visit).where(Visit.id == visit_id)
    if lock:
        query = query.with_for_update()
    visit = db.session.scalar(query)
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
    version = db.session.get(ChecklistVersion, data["checklist_version"])
    if version is None:
        raise AppError(409, "unknown_checklist_version", "检查表版本不存在，请重新下载该学校。")
    visit = db.session.scalar(select(Visit).where(Visit.id == visit_id).with_for_update())
    created = visit is None
    if visit is None:
        visit = Visit(
            id=visit_id,
            school_id=school.id,
            county_id=school.county_id,
            inspector_id=user.id,
            checklist_version_id=version.id,
            visit_type=data["visit_type"],
            state="in_progress",
            device_id=data["device_id"],
        )
        db.session.add(visit)
    elif visit.inspector_id != user.id:
        raise AppError(404, "visit_not_found", "督导记录不存在。")
    elif visit.school_id != school.id or visit.checklist_version_id != version.id:
        raise AppError(409, "visit_mismatch", "该督导记录的学校或检查表与服务器不一致。")
    if visit.state in LOCKED_STATES:
        # Already submitted (or accepted): a replay must not change anything.
        refresh_completeness(visit)
        return visit, created
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
    db.session.flush()
    refresh_completeness(visit)
    return visit, created


def _items_of(visit: Visit) -> dict[str, dict[str, Any]]:
    content = visit.checklist_version.content
    return {item["id"]: item for section in content["sections"] for item in section["items"]}


def apply_result_writes(user: User, visit: Visit, writes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply a batch of item edits exactly once each; return one decision per write.

    A write seen before returns the decision it got then, so a replayed batch
    gets the same answer. Every write is kept in ``ResultWrite`` (the history).
    """
    writes = list(writes)
    items = _items_of(visit)
    known = {
        w.id: w for w in db.session.scalars(select(ResultWrite).where(ResultWrite.id.in_([w["id"] for w in writes])))
    }
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
    current = {r.item_id: r for r in db.session.scalars(select(ItemResult).where(ItemResult.visit_id == visit.id))}
    decisions = []
    for write in writes:
        if write["id"] in known:
            old = known[write["id"]]
            if old.visit_id != visit.id:
                raise AppError(409, "write_id_reused", "记录编号已被其他督导使用。")
            result = current.get(old.item_id)
            decisions.append(_decision(old.id, old.item_id, old.decision, result))
            continue
        decision, record = _apply_one(user, visit, items[write["item_id"]], write, current)
        decisions.append(decision)
        # A repeated id inside one batch is answered as a replay of the first.
        known[write["id"]] = record
    db.session.flush()
    _update_recording_times(visit)
    refresh_completeness(visit)
    return decisions


def _decision(write_id: str, item_id: str, decision: str, result: ItemResult | None) -> dict[str, Any]:
    outcome = result.outcome if result is not None and result.write_id == write_id else None
    return {"id": write_id, "item_id": item_id, "decision": decision, "outcome": outcome}


def _apply_one(
    user: User, visit: Visit, item: dict[str, Any], write: dict[str, Any], current: dict[str, ItemResult]
) -> tuple[dict[str, Any], ResultWrite]:
    edited_at = naive_utc(write["edited_at"])
    result = current.get(item["id"])
    stamp = WriteStamp(result.edited_at, result.write_id) if result else None
    decision = decide(stamp, WriteStamp(edited_at, write["id"]))
    record = ResultWrite(
        id=write["id"],
        visit_id=visit.id,
        item_id=item["id"],
        value=write["value"],
        observation=write["observation"],
        edited_at=edited_at,
        device_id=write["device_id"],
        user_id=user.id,
        decision=decision,
    )
    db.session.add(record)
    if decision == "applied":
        if result is None:
            result = ItemResult(visit_id=visit.id, item_id=item["id"])
            db.session.add(result)
            current[item["id"]] = result
        result.write_id = write["id"]
        result.value = write["value"]
        result.number_value = number_of(write["value"])
        result.outcome = evaluate(item["check"], write["value"])
        result.observation = write["observation"]
        result.edited_at = edited_at
        result.device_id = write["device_id"]
    return _decision(write["id"], item["id"], decision, result), record


def _update_recording_times(visit: Visit) -> None:
    first, last = db.session.execute(
        select(func.min(ResultWrite.edited_at), func.max(ResultWrite.edited_at)).where(ResultWrite.visit_id == visit.id)
    ).one()
    visit.first_recorded_at, visit.last_recorded_at = first, last
    stamp_visit_day(visit)
    failed = select(func.count()).where(ItemResult.visit_id == visit.id, ItemResult.outcome == "fail")
    visit.failed_count = db.session.scalar(failed) or 0
    if visit.state == "planned":
        visit.state = "in_progress"


def stamp_visit_day(visit: Visit) -> None:
    """Keep ``visited_on``: the China date of the first recording, else of the start, else the plan."""
    moment = to_china(visit.first_recorded_at or visit.started_at)
    visit.visited_on = moment.date() if moment else visit.planned_on or (to_china(utcnow()) or utcnow()).date()


def _stored_hashes(visit: Visit) -> list[str]:
    return sorted(
        db.session.scalars(select(Photo.sha256).where(Photo.visit_id == visit.id, Photo.deleted_at.is_(None)))
    )


def refresh_completeness(visit: Visit) -> None:
    """A visit is fully received when every declared result and photo has arrived."""
    if visit.declared_result_count is None or visit.declared_photo_hashes is None:
        visit.is_fully_received = False
        return
    result_count = db.session.scalar(select(func.count()).where(ItemResult.visit_id == visit.id)) or 0
    missing = set(visit.declared_photo_hashes) - set(_stored_hashes(visit))
    visit.is_fully_received = result_count >= visit.declared_result_count and not missing


def receipt(visit: Visit) -> dict[str, Any]:
    """What the server holds for the visit: counts, photo hashes, completeness."""
    hashes = _stored_hashes(visit)
    declared = visit.declared_photo_hashes
    return {
        "visit_id": visit.id,
        "state": visit.state,
        "result_count": db.session.scalar(select(func.count()).where(ItemResult.visit_id == visit.id)) or 0,
        "photo_count": len(hashes),
        "photo_hashes": hashes,
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
