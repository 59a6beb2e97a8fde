"""What the 教研员's phone downloads to log activities offline and count its own progress."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from checklists.quotas import Posting, QuotaRule, Standing, Window, standing
from checklists.vocabulary import ACTIVITY_FORMS, ACTIVITY_KINDS, GRADES, LESSON_KINDS, SUBJECTS

from ..auth.models import User
from ..core.models import Assignment, School
from ..extensions import db
from .models import Activity, Teacher
from .operations import activity_as_dict, rubric_for
from .progress import QuotaContext, postings_of, quota_context, quota_tallies

#: Records sent to the phone at most (newest first): a term's work is far fewer.
RECORD_LIMIT = 2000


def _labels(vocabulary: dict[str, str]) -> list[dict[str, str]]:
    return [{"id": key, "label": label} for key, label in vocabulary.items()]


def standing_as_dict(item: Standing) -> dict[str, Any]:
    """A standing for JSON: the numbers and the Chinese pace line."""
    return {
        "item_id": item.rule.item_id,
        "title": item.rule.title,
        "target": item.target,
        "done": item.done,
        "apart": item.apart,
        "remaining": item.remaining,
        "days_left": item.days_left,
        "state": item.state,
        "state_label": item.state_label,
        "pace": item.pace,
        "prorated_from": item.prorated_from.isoformat() if item.prorated_from else None,
        "is_expired": item.is_expired,
    }


def quota_as_dict(rule: QuotaRule, window: Window, item: Standing) -> dict[str, Any]:
    """A quota as the phone counts it offline: what counts, where, over which days."""
    return {
        "item_id": rule.item_id,
        "title": rule.title,
        "count": rule.count,
        "unit": rule.unit,
        "period": rule.period,
        "kinds": list(rule.kinds),
        "kinds_label": rule.kinds_label,
        "forms": list(rule.forms),
        "schools": rule.schools,
        # Whether a record at no school is kept out (the server's QuotaRule.is_school_restricted).
        "restricted": rule.is_school_restricted(),
        "applies_to": {
            # School types (not sections): the phone compares them with a school's stage as is.
            "stages": list(rule.applies_to.school_types) if rule.applies_to.stages else [],
            "locations": list(rule.applies_to.locations),
            "boarding_only": rule.applies_to.boarding_only,
        },
        "window": {
            "start": window.span.start.isoformat(),
            "end": window.span.end.isoformat(),
            "label": window.label,
        },
        "active_start": (item.prorated_from or window.span.start).isoformat(),
        "target": item.target,
        "effective_until": rule.effective_until.isoformat() if rule.effective_until else None,
        "doc_nos": list(rule.doc_nos),
        "standing": standing_as_dict(item),
    }


def _schools(user: User) -> list[dict[str, Any]]:
    postings: dict[int, list[dict[str, str | None]]] = {}
    for assignment in db.session.scalars(
        select(Assignment).where(Assignment.user_id == user.id, Assignment.kind == "researcher")
    ):
        postings.setdefault(assignment.school_id, []).append(
            {
                "starts_on": assignment.starts_on.isoformat(),
                "ends_on": assignment.ends_on.isoformat() if assignment.ends_on else None,
            }
        )
    schools = db.session.scalars(select(School).where(School.county_id == user.county_id).order_by(School.code))
    return [
        {
            "id": s.id,
            "name": s.name,
            "code": s.code,
            "stage": s.stage,
            "location": s.location,
            "is_boarding": s.is_boarding,
            "group_name": s.group_name,
            "postings": postings.get(s.id, []),
        }
        for s in schools
    ]


def _quotas(context: QuotaContext, user: User) -> list[dict[str, Any]]:
    tallies = quota_tallies(context, [user.id]).get(user.id, {})
    postings: list[Posting] = postings_of(context, [user.id]).get(user.id, [])
    result = []
    for rule, window in context.rules:
        tally = tallies.get(rule.item_id)
        item = standing(
            rule, window, tally.counted if tally else 0, tally.apart if tally else 0, context.today, postings
        )
        result.append(quota_as_dict(rule, window, item))
    return result


def _records(context: QuotaContext, user: User) -> list[dict[str, Any]]:
    starts = [w.span.start for _, w in context.rules]
    if context.term is not None:
        starts.append(context.term.starts_on)
    since = min(starts) if starts else date.min
    rows = db.session.scalars(
        select(Activity)
        .where(Activity.researcher_id == user.id, Activity.occurred_on >= since)
        .order_by(Activity.occurred_on.desc(), Activity.created_at.desc())
        .limit(RECORD_LIMIT)
    )
    return [activity_as_dict(a) for a in rows]


def researcher_bundle(user: User) -> dict[str, Any]:
    """The county, the term, schools and teachers, vocabularies, quotas and the user's records."""
    county = user.county
    assert county is not None  # 教研员 always belong to a county
    context = quota_context(county)
    term = context.term
    school_ids = [s.id for s in db.session.scalars(select(School).where(School.county_id == county.id))]
    teachers = db.session.scalars(
        select(Teacher)
        .where(Teacher.school_id.in_(school_ids), Teacher.is_active.is_(True))
        .order_by(Teacher.school_id, Teacher.name)
    )
    counted = {kind for rule, _ in context.rules for kind in rule.kinds}
    return {
        "county": {"id": county.id, "name": county.name, "policy_set": county.policy_set},
        "today": context.today.isoformat(),
        "term": (
            {
                "id": term.id,
                "name": term.name,
                "starts_on": term.starts_on.isoformat(),
                "ends_on": term.ends_on.isoformat(),
                "is_closed": context.is_closed,
                "days_left": context.days_left,
            }
            if term
            else None
        ),
        "schools": _schools(user),
        "teachers": [{"id": t.id, "school_id": t.school_id, "name": t.name, "subject": t.subject} for t in teachers],
        "kinds": [
            {
                "id": kind,
                "label": label,
                "is_lesson": kind in LESSON_KINDS,
                "is_counted": kind in counted,
                "forms": _labels(ACTIVITY_FORMS[kind]),
            }
            for kind, label in ACTIVITY_KINDS.items()
        ],
        "subjects": _labels(SUBJECTS),
        "grades": _labels(GRADES),
        "rubric": [{"id": d.id, "label": d.label, "max_score": d.max_score} for d in rubric_for(county)],
        "quotas": _quotas(context, user),
        "records": _records(context, user),
    }
