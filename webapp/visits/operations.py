"""Visit headers: plan, upsert (start, submit), completeness and receipts. Only ``flush()``: the edge commits.

Item results are in :mod:`.results`; what a transaction keeps of the visits it touches in :mod:`.held`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ..auth.models import User
from ..auth.policy import visible_school
from ..core.models import School
from ..errors import AppError
from ..extensions import db
from ..packs.cache import version_content
from ..packs.models import ChecklistVersion
from ..packs.operations import checklist_for_school, store_version
from ..timeutil import to_china, utcnow
from .held import dialect, locked_visits, remember_inserted, tally_cache, tally_of, visible_cache
from .models import LOCKED_STATES, NEXT_STATES, Visit


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
        seen = visible_cache()
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
    visit = locked_visits().get(visit_id) if lock else None
    if visit is None:
        query = select(Visit).where(Visit.id == visit_id)
        if lock:
            query = query.with_for_update()
        visit = db.session.scalar(query)
        if lock and visit is not None:
            locked_visits()[visit_id] = visit
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
    visit = locked_visits().get(visit_id)
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
        tally_of(visit)
    locked_visits()[visit_id] = visit
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
    tally_cache()[visit_id] = {"results": 0, "hashes": []}
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
        tally_cache().pop(visit.id, None)
        return False
    make_transient_to_detached(visit)
    db.session.add(visit)
    remember_inserted(visit)
    locked_visits()[visit.id] = visit
    audit.visit_created(visit)
    return True


def _insert_if_new() -> Any:
    """``INSERT INTO visits … ON CONFLICT (id) DO NOTHING`` in the database's own dialect."""
    if dialect() == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    statement = dialect_insert(Visit.__table__).on_conflict_do_nothing(index_elements=["id"])
    # An INSERT's row count is kept only when asked for: 1 if the row went in, 0 if the id was there.
    return statement.execution_options(preserve_rowcount=True)


def stamp_visit_day(visit: Visit) -> None:
    """Keep ``visited_on``: the China date of the first recording, else of the start, else the plan."""
    moment = to_china(visit.first_recorded_at or visit.started_at)
    visit.visited_on = moment.date() if moment else visit.planned_on or (to_china(utcnow()) or utcnow()).date()


def refresh_completeness(visit: Visit) -> None:
    """A visit is fully received when every declared result and photo has arrived."""
    if visit.declared_result_count is None or visit.declared_photo_hashes is None:
        complete = False
    else:
        tally = tally_of(visit)
        missing = set(visit.declared_photo_hashes) - set(tally["hashes"])
        complete = tally["results"] >= visit.declared_result_count and not missing
    if visit.is_fully_received != complete:
        visit.is_fully_received = complete


def receipt(visit: Visit) -> dict[str, Any]:
    """What the server holds for the visit: counts, photo hashes, completeness."""
    tally = tally_of(visit)
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
