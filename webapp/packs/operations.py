"""Pack look-ups and checklist version storage."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app

from checklists import Pack
from checklists.generator import SchoolProfile, compose, item_count
from checklists.vocabulary import SCHOOL_TRAITS

from ..core.models import County, School
from ..extensions import db
from ..timeutil import today_in_china
from .models import ChecklistVersion


def packs() -> dict[str, Pack]:
    """All policy packs loaded at start-up, keyed by id."""
    return current_app.extensions["dudao.packs"]


def pack_or_none(pack_id: str) -> Pack | None:
    """The pack with ``pack_id``, or None."""
    return packs().get(pack_id)


def school_profile(school: School) -> SchoolProfile:
    """The profile a school's checklists are composed for: type, location and traits."""
    # A trait code the vocabulary no longer has is ignored rather than failing every page of the school.
    traits = school.trait_set & SCHOOL_TRAITS.keys()
    return SchoolProfile(stage=school.stage, location=school.location, traits=traits, is_boarding="boarding" in traits)


def county_settings(county: County) -> dict[str, Any]:
    """The values of the county's pack settings: the county's own, else the pack's default (None: unset)."""
    pack = pack_or_none(county.policy_set)
    stored = county.settings or {}
    return {s.key: stored.get(s.key, s.default) for s in (pack.county_settings if pack else ())}


def checklist_for_school(school: School, visit_type: str = "routine", on: date | None = None) -> dict[str, Any]:
    """Compose the checklist for ``school`` under its county's policy set, as of ``on`` (default today).

    When the pack composes nothing for the school, the result says so
    (``applicable`` false, ``not_applicable``: 本政策包不适用于幼儿园).
    """
    pack = packs()[school.county.policy_set]
    return compose(
        pack,
        school_profile(school),
        visit_type,
        settings=county_settings(school.county),
        on=on or today_in_china(),
    )


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
