"""What the phone downloads to work offline: a visit or a school, with its checklist."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from checklists.vocabulary import LOCATIONS, SCHOOL_TRAITS, STAGES

from ..bureau.review.phone import open_tasks_for_phone, review_for_phone
from ..core.models import School
from ..extensions import db
from ..packs.operations import checklist_for_school, store_version
from .models import ItemResult, Photo, Visit
from .operations import iso, receipt, visit_as_dict
from .photos import photo_as_dict


def school_as_dict(school: School) -> dict[str, Any]:
    """A school's profile as the phone shows it."""
    return {
        "id": school.id,
        "code": school.code,
        "name": school.name,
        "county": school.county.name,
        "stage": school.stage,
        "stage_label": STAGES[school.stage],
        "location": school.location,
        "location_label": LOCATIONS[school.location],
        "is_boarding": school.is_boarding,
        "traits": sorted(school.trait_set),
        "trait_labels": [SCHOOL_TRAITS.get(t, t) for t in sorted(school.trait_set)],
        "enrolment": school.enrolment,
        "class_count": school.class_count,
        "latitude": school.latitude,
        "longitude": school.longitude,
    }


def school_bundle(school: School, visit_type: str) -> dict[str, Any]:
    """A school and its current checklist version (stored, so a visit can cite it).

    When the pack has nothing for the school the checklist says so
    (``applicable`` false, ``not_applicable``) and is not stored: the phone
    shows the message instead of offering a visit.
    """
    snapshot = checklist_for_school(school, visit_type)
    if snapshot.get("applicable", True):
        snapshot = store_version(snapshot).content
    return {
        "school": school_as_dict(school),
        "checklist": snapshot,
        "rectifications": open_tasks_for_phone(school.id),
    }


def visit_bundle(visit: Visit) -> dict[str, Any]:
    """A visit with its school, checklist, what the server already holds, and open rectifications."""
    results = db.session.scalars(select(ItemResult).where(ItemResult.visit_id == visit.id)).all()
    photos = db.session.scalars(select(Photo).where(Photo.visit_id == visit.id, Photo.deleted_at.is_(None))).all()
    return {
        "visit": visit_as_dict(visit),
        "school": school_as_dict(visit.school),
        "checklist": visit.checklist_version.content,
        "results": [
            {
                "item_id": r.item_id,
                "write_id": r.write_id,
                "value": r.value,
                "observation": r.observation,
                "outcome": r.outcome,
                "edited_at": iso(r.edited_at),
            }
            for r in results
        ],
        "photos": [photo_as_dict(p) for p in photos],
        # The bureau's comments on a returned visit, and the school's open tasks to re-check on site.
        "review": review_for_phone(visit),
        "rectifications": open_tasks_for_phone(visit.school_id),
        "receipt": receipt(visit),
    }
