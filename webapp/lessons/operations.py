"""Activity writes: exactly once by the phone's write UUID, last write wins per record,
every write kept, nothing changed once the record's term has ended. Only ``flush()``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from checklists.model import RubricDimension
from checklists.quotas import TermDates, lock_for
from checklists.vocabulary import ACTIVITY_FORMS, ACTIVITY_KINDS, DEFAULT_RUBRIC, LESSON_KINDS
from sync.merge import WriteStamp, decide

from ..auth.models import User
from ..core.models import County, School, Term
from ..errors import AppError
from ..extensions import db
from ..packs.operations import pack_or_none
from ..timeutil import to_china, today_in_china
from ..visits.operations import iso, naive_utc
from .models import Activity, ActivityPhoto, ActivityWrite, Teacher

#: Fields of a record the phone sends and the server keeps (besides the write stamp).
RECORD_FIELDS = (
    "kind",
    "form",
    "occurred_on",
    "school_id",
    "grade",
    "class_name",
    "subject",
    "teacher_id",
    "teacher_name",
    "topic",
    "participants",
    "scores",
    "strengths",
    "suggestions",
    "notes",
)


def term_dates(term: Term) -> TermDates:
    """A stored term as the quota arithmetic sees it."""
    return TermDates(term.name, term.school_year, term.starts_on, term.ends_on)


def county_terms(county_id: int) -> list[Term]:
    """A county's terms, oldest first."""
    return list(db.session.scalars(select(Term).where(Term.county_id == county_id).order_by(Term.starts_on)))


def rubric_for(county: County) -> tuple[RubricDimension, ...]:
    """The lesson rubric of the county's pack, else the default one."""
    pack = pack_or_none(county.policy_set)
    if pack is not None and pack.lesson_rubric:
        return pack.lesson_rubric
    return tuple(RubricDimension(id, label, top) for id, label, top in DEFAULT_RUBRIC)


def locked_by(day: date, terms: list[Term], on: date) -> Term | None:
    """The ended term that locks a record dated ``day`` for an edit made ``on``, or None."""
    found = lock_for(day, [term_dates(t) for t in terms], on)
    return next((t for t in terms if t.name == found.name), None) if found else None


def closed_message(term: Term) -> str:
    """The refusal shown when a record's term has ended."""
    return (
        f"{term.name}（{term.starts_on:%Y-%m-%d} 至 {term.ends_on:%Y-%m-%d}）已结束，"
        "该学期的记录不能再新增、修改或删除。如需更正，请联系县督导室。"
    )


def activity_for_researcher(user: User, activity_id: str, *, lock: bool = False) -> Activity:
    """The user's own record; 404 otherwise (ids of others' records are not revealed)."""
    query = select(Activity).where(Activity.id == activity_id[:36])
    if lock:
        query = query.with_for_update()
    activity = db.session.scalar(query)
    if activity is None or activity.researcher_id != user.id:
        raise AppError(404, "activity_not_found", "活动记录不存在。")
    return activity


def _field_error(field: str, message: str, status: int = 422, code: str = "invalid_activity") -> AppError:
    return AppError(status, code, message, {field: [message]})


def _check_record(user: User, data: dict[str, Any]) -> None:
    """What the schema cannot see: the school, the teacher, the rubric, required fields per kind."""
    if user.county is None:
        raise AppError(403, "no_county", "您的账号未归属县区，不能记录教研活动。")
    kind = data["kind"]
    data["form"] = data["form"] or next(iter(ACTIVITY_FORMS[kind]))
    if data["occurred_on"] > today_in_china() + timedelta(days=1):
        raise _field_error("occurred_on", "活动日期不能晚于今天。")
    school = None
    if data["school_id"] is not None:
        school = db.session.get(School, data["school_id"])
        if school is None or school.county_id != user.county_id:
            raise _field_error("school_id", "学校不存在或不属于本县区。")
    if school is None and kind in LESSON_KINDS | {"guidance"}:
        raise _field_error("school_id", f"{ACTIVITY_KINDS[kind]}必须选择学校。")
    if kind in LESSON_KINDS:
        _check_lesson(user.county, data, school)
    else:
        data.update(grade="", class_name="", subject=data["subject"], teacher_id=None, teacher_name="", scores={})
        if not data["topic"].strip():
            raise _field_error("topic", "请填写活动主题。")


def _check_lesson(county: County, data: dict[str, Any], school: School | None) -> None:
    if not data["subject"]:
        raise _field_error("subject", "请选择学科。")
    if not data["grade"]:
        raise _field_error("grade", "请选择年级。")
    if data["teacher_id"] is not None:
        teacher = db.session.get(Teacher, data["teacher_id"])
        if teacher is None or school is None or teacher.school_id != school.id:
            raise _field_error("teacher_id", "授课教师不在该校教师名单中。")
        data["teacher_name"] = teacher.name
    elif data["teacher_name"].strip() and school is not None:
        data["teacher_name"] = data["teacher_name"].strip()
        # A typed name that is on the school's list is that teacher (coverage counts them).
        matches = db.session.scalars(
            select(Teacher.id).where(
                Teacher.school_id == school.id, Teacher.name == data["teacher_name"], Teacher.is_active.is_(True)
            )
        ).all()
        if len(matches) == 1:
            data["teacher_id"] = matches[0]
    if not data["teacher_name"].strip():
        raise _field_error("teacher_name", "请选择或填写授课教师。")
    dimensions = {d.id: d for d in rubric_for(county)}
    for key, score in data["scores"].items():
        dimension = dimensions.get(key)
        if dimension is None:
            raise _field_error(f"scores.{key}", "评价维度不在本县评课量表中。")
        if not 1 <= score <= dimension.max_score:
            raise _field_error(f"scores.{key}", f"{dimension.label}的评分应在 1–{dimension.max_score} 之间。")


def _check_not_locked(user: User, data: dict[str, Any], current: Activity | None) -> None:
    """Refuse an edit made after the term of the record (old or new date) ended."""
    edited = to_china(naive_utc(data["edited_at"]))
    today = today_in_china()
    on = min(edited.date(), today) if edited else today
    terms = county_terms(user.county_id or 0)
    for day in {data["occurred_on"], *([current.occurred_on] if current else [])}:
        term = locked_by(day, terms, on)
        if term is not None:
            raise AppError(409, "term_closed", closed_message(term), {"occurred_on": [closed_message(term)]})


def save_activity(user: User, activity_id: str, data: dict[str, Any]) -> tuple[Activity, str, bool]:
    """Apply one write of a record exactly once; return the record, the decision and whether it is new.

    A write seen before gets the decision it got then and changes nothing. A
    write older than the one in force (by phone edit time, then UUID) is kept
    in the history as ``superseded``.
    """
    known = db.session.get(ActivityWrite, data["write_id"])
    if known is not None:
        if known.activity_id != activity_id:
            raise AppError(409, "write_id_reused", "记录编号已被另一条记录使用。")
        return activity_for_researcher(user, activity_id), known.decision, False
    current = db.session.scalar(select(Activity).where(Activity.id == activity_id).with_for_update())
    if current is not None and current.researcher_id != user.id:
        raise AppError(404, "activity_not_found", "活动记录不存在。")
    _check_record(user, data)
    _check_not_locked(user, data, current)
    edited_at = naive_utc(data["edited_at"])
    stamp = WriteStamp(current.edited_at, current.write_id) if current else None
    decision = decide(stamp, WriteStamp(edited_at, data["write_id"]))
    created = current is None
    activity = current or Activity(id=activity_id, researcher_id=user.id, county_id=user.county_id)
    if decision == "applied":
        for name in RECORD_FIELDS:
            setattr(activity, name, data[name])
        activity.write_id, activity.edited_at, activity.device_id = data["write_id"], edited_at, data["device_id"]
        activity.deleted_at = activity.deleted_at or edited_at if data["is_deleted"] else None
        db.session.add(activity)
    db.session.add(
        ActivityWrite(
            id=data["write_id"],
            activity_id=activity_id,
            payload=_jsonable(data),
            edited_at=edited_at,
            device_id=data["device_id"],
            user_id=user.id,
            decision=decision,
        )
    )
    db.session.flush()
    return activity, decision, created


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        out[key] = value.isoformat() if isinstance(value, date) else value
    return out


def _live_photos(activity: Activity) -> list[ActivityPhoto]:
    return [p for p in activity.photos if p.deleted_at is None]


def is_locked(activity: Activity) -> bool:
    """Whether the record's term has ended (no more edits)."""
    return locked_by(activity.occurred_on, county_terms(activity.county_id), today_in_china()) is not None


def receipt(activity: Activity) -> dict[str, Any]:
    """What the server holds for a record, for the phone to compare and keep."""
    return {
        "activity_id": activity.id,
        "write_id": activity.write_id,
        "is_deleted": activity.deleted_at is not None,
        "photo_hashes": sorted(p.sha256 for p in _live_photos(activity)),
        "is_locked": is_locked(activity),
    }


def activity_as_dict(activity: Activity) -> dict[str, Any]:
    """A record for the phone (and the JSON API)."""
    school = activity.school
    return {
        "id": activity.id,
        "kind": activity.kind,
        "kind_label": ACTIVITY_KINDS.get(activity.kind, activity.kind),
        "form": activity.form,
        "form_label": ACTIVITY_FORMS.get(activity.kind, {}).get(activity.form, activity.form),
        "occurred_on": activity.occurred_on.isoformat(),
        "school_id": activity.school_id,
        "school_name": school.name if school else "",
        "grade": activity.grade,
        "class_name": activity.class_name,
        "subject": activity.subject,
        "teacher_id": activity.teacher_id,
        "teacher_name": activity.teacher_name,
        "topic": activity.topic,
        "participants": activity.participants,
        "scores": activity.scores or {},
        "strengths": activity.strengths,
        "suggestions": activity.suggestions,
        "notes": activity.notes,
        "write_id": activity.write_id,
        "edited_at": iso(activity.edited_at),
        "is_deleted": activity.deleted_at is not None,
        "photos": [
            {"id": p.id, "sha256": p.sha256, "caption": p.caption, "width": p.width, "height": p.height}
            for p in _live_photos(activity)
        ],
    }
