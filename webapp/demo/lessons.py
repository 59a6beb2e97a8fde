"""Demo 教研员 work: subjects, teacher lists, and lesson and guidance records in the
last and the current term (one 教研员 on pace, one behind), so progress shows at once."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy import exists, select

from ..auth.models import User
from ..core.models import Assignment, County, School, Term
from ..extensions import db
from ..lessons.models import Activity, ActivityWrite, ResearcherProfile, Teacher
from ..lessons.operations import RECORD_FIELDS

NAMESPACE = uuid.UUID("5f1c3a52-8f0e-4a8e-9a61-7d2e1c0b4a11")
SURNAMES = "马李王张刘杨田苏海白何周"
GIVEN = ("建国", "晓梅", "志强", "丽娟", "小军", "海燕", "文斌", "秀兰", "国平", "玉霞", "永红", "春生")
SUBJECTS = ("chinese", "math", "english", "science", "morality", "pe", "music", "art")
#: Per demo 教研员 (username suffix): subject, and lessons / guidance in the last and the current term.
PLAN = {"jyy1": ("math", (15, 2), (9, 1)), "jyy2": ("chinese", (12, 2), (4, 0))}
TOPICS = {
    "math": ("分数的初步认识", "平行四边形的面积", "小数乘法", "鸡兔同笼", "百分数的应用"),
    "chinese": ("《草船借箭》", "《古诗三首》", "习作：我的心爱之物", "《桥》", "口语交际：请你支持我"),
}
GUIDANCE = ("单元整体教学集体备课", "作业设计与分层布置", "期中质量分析会")


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def _teachers(school: School) -> list[Teacher]:
    existing = list(db.session.scalars(select(Teacher).where(Teacher.school_id == school.id)))
    if existing:
        return existing
    count = max(4, min(12, school.class_count))
    made = []
    for n in range(count):
        name = SURNAMES[(school.id + n) % len(SURNAMES)] + GIVEN[(school.id * 3 + n) % len(GIVEN)]
        made.append(Teacher(school_id=school.id, name=name, subject=SUBJECTS[n % len(SUBJECTS)]))
    db.session.add_all(made)
    db.session.flush()
    return made


def _weekdays(start: date, end: date, count: int) -> list[date]:
    """``count`` school days spread over [start, end]."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    days = [d for d in days if d.weekday() < 5] or days
    if count <= 0 or not days:
        return []
    step = len(days) / count
    return [days[min(len(days) - 1, int(i * step + step / 2))] for i in range(count)]


def _add(user: User, key: str, data: dict) -> None:
    edited_at = datetime.combine(data["occurred_on"], time(8, 30))
    write_id = _uuid(user.username, key, "write")
    activity = Activity(
        id=_uuid(user.username, key),
        researcher_id=user.id,
        county_id=user.county_id,
        write_id=write_id,
        edited_at=edited_at,
        device_id="demo",
        **{name: data.get(name, default) for name, default in _DEFAULTS.items()},
    )
    db.session.add(activity)
    payload = {name: getattr(activity, name) for name in RECORD_FIELDS}
    payload["occurred_on"] = data["occurred_on"].isoformat()
    db.session.add(
        ActivityWrite(
            id=write_id,
            activity_id=activity.id,
            payload=payload,
            edited_at=edited_at,
            device_id="demo",
            user_id=user.id,
            decision="applied",
        )
    )


_DEFAULTS = {name: "" for name in RECORD_FIELDS} | {"school_id": None, "teacher_id": None, "participants": None}
_DEFAULTS["scores"] = {}


def _term_records(user: User, subject: str, term: Term, until: date, plan: tuple[int, int], schools: list[School]):
    lessons, guidance = plan
    end = min(term.ends_on, until)
    for n, day in enumerate(_weekdays(term.starts_on, end, lessons)):
        school = schools[n % len(schools)]
        teachers = _teachers(school)
        teacher = teachers[(n * 5) % len(teachers)]
        _add(
            user,
            f"{term.name}/lesson/{n}",
            {
                "kind": "lesson",
                "form": "open" if n % 7 == 6 else "observe",
                "occurred_on": day,
                "school_id": school.id,
                "grade": f"g{3 + n % 4}",
                "class_name": f"{1 + n % 2}班",
                "subject": subject,
                "teacher_id": teacher.id,
                "teacher_name": teacher.name,
                "topic": TOPICS.get(subject, TOPICS["math"])[n % 5],
                "scores": {"goals": 4, "process": 3 + n % 3, "engagement": 4 - n % 2, "effect": 4},
                "strengths": "目标清晰，学生参与积极。",
                "suggestions": "小组合作的分工可再细化，留出展示时间。",
            },
        )
    for n, day in enumerate(_weekdays(term.starts_on + timedelta(days=10), end, guidance)):
        _add(
            user,
            f"{term.name}/guidance/{n}",
            {
                "kind": "guidance",
                "form": "collective_prep" if n % 2 == 0 else "quality_analysis",
                "occurred_on": day,
                "school_id": schools[(n + 1) % len(schools)].id,
                "subject": subject,
                "topic": GUIDANCE[n % len(GUIDANCE)],
                "participants": 12 + 3 * n,
            },
        )


def load_demo_lessons(today: date) -> int:
    """Give each demo 教研员 without records a subject and two terms of records; return how many got some.

    Every demo school gets a teacher list (西吉's coverage counts against it).
    """
    loaded = 0
    for school in db.session.scalars(select(School).order_by(School.id)):
        _teachers(school)
    for county in db.session.scalars(select(County).order_by(County.id)):
        terms = [
            t
            for t in db.session.scalars(select(Term).where(Term.county_id == county.id).order_by(Term.starts_on))
            if t.starts_on <= today
        ][-2:]
        for suffix, (subject, previous, current) in PLAN.items():
            user = db.session.scalar(select(User).where(User.username == f"{county.policy_set}_{suffix}"))
            if user is None or db.session.scalar(select(exists().where(Activity.researcher_id == user.id))):
                continue
            if db.session.get(ResearcherProfile, user.id) is None:
                db.session.add(ResearcherProfile(user_id=user.id, subject=subject))
            schools = list(
                db.session.scalars(
                    select(School)
                    .join(Assignment, Assignment.school_id == School.id)
                    .where(Assignment.user_id == user.id, Assignment.kind == "researcher")
                    .order_by(School.code)
                )
            )
            if not schools:
                continue
            for term, plan in zip(terms, (previous, current)[-len(terms) :], strict=True):
                _term_records(user, subject, term, today, plan, schools)
            if suffix == "jyy1" and terms:
                # The yearly 乡村教育质量主题教研 (贺兰 counts it), held in the last term.
                day = _weekdays(terms[0].starts_on, min(terms[0].ends_on, today), 3)[1]
                _add(
                    user,
                    "themed",
                    {
                        "kind": "themed_research",
                        "form": "seminar",
                        "occurred_on": day,
                        "topic": "提升乡村学校课堂教学质量专题研讨",
                        "participants": 46,
                    },
                )
            loaded += 1
    db.session.flush()
    return loaded
