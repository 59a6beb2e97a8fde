"""Pack look-ups and checklist version storage."""

from __future__ import annotations

from typing import Any

from flask import current_app

from checklists import Pack
from checklists.generator import SchoolProfile, compose, item_count

from ..core.models import School
from ..extensions import db
from .models import ChecklistVersion


def packs() -> dict[str, Pack]:
    """All policy packs loaded at start-up, keyed by id."""
    return current_app.extensions["dudao.packs"]


def pack_or_none(pack_id: str) -> Pack | None:
    """The pack with ``pack_id``, or None."""
    return packs().get(pack_id)


def school_profile(school: School) -> SchoolProfile:
    """The profile a school's checklists are composed for."""
    return SchoolProfile(stage=school.stage, location=school.location, is_boarding=school.is_boarding)


def checklist_for_school(school: School, visit_type: str = "routine") -> dict[str, Any]:
    """Compose the current checklist for ``school`` under its county's policy set."""
    pack = packs()[school.county.policy_set]
    return compose(pack, school_profile(school), visit_type)


def store_version(snapshot: dict[str, Any]) -> ChecklistVersion:
    """Keep ``snapshot`` as an immutable version; return the stored row.

    Storing the same content again returns the existing row unchanged.
    """
    existing = db.session.get(ChecklistVersion, snapshot["version"])
    if existing is not None:
        return existing
    version = ChecklistVersion(
        id=snapshot["version"],
        pack_id=snapshot["pack"]["id"],
        visit_type=snapshot["visit_type"]["id"],
        item_count=item_count(snapshot),
        content=snapshot,
    )
    db.session.add(version)
    db.session.flush()
    return version
