"""Compose versioned visit checklists for a school profile.

A composed checklist is a plain JSON-able dict; its version id is the SHA-256
of its canonical JSON, so the same pack and profile always give the same id
and any change to the pack gives a new one. Visits keep the version they were
made with, so a phone holding an old version offline can still sync.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from .model import Check, Item, Pack, Source
from .vocabulary import CHECK_TYPES, LOCATIONS, STAGES, VISIT_TYPES

#: Items an inspector can verify at the school. 教研员 logs and bureau
#: records are counted elsewhere (quotas, bureau ledgers).
VISIT_CHECKERS = frozenset({"inspector_visit", "school_self_report"})

#: Bumped when the snapshot's layout changes, so old and new layouts never share a hash.
SNAPSHOT_FORMAT = 1


class GeneratorError(ValueError):
    """The profile or visit type asked for is not one the generator knows."""


@dataclass(frozen=True)
class SchoolProfile:
    """What a checklist depends on: stage, urban/rural location, boarding."""

    stage: str
    location: str
    is_boarding: bool = False

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise GeneratorError(f"unknown stage: {self.stage}")
        if self.location not in LOCATIONS:
            raise GeneratorError(f"unknown location: {self.location}")

    def as_dict(self) -> dict[str, Any]:
        """Return the profile as JSON-able data."""
        return {"stage": self.stage, "location": self.location, "is_boarding": self.is_boarding}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def check_as_dict(check: Check, stage: str | None = None) -> dict[str, Any]:
    """Serialize a check; with ``stage``, resolve the per-stage threshold."""
    data: dict[str, Any] = {"type": check.type, "type_label": CHECK_TYPES[check.type]}
    value = check.threshold_for(stage) if stage else check.value
    optional = {
        "operator": check.operator,
        "value": value,
        "unit": check.unit,
        "count": check.count,
        "period": check.period,
    }
    data.update({k: v for k, v in optional.items() if v is not None})
    if check.by_stage and stage is None:
        data["by_stage"] = dict(sorted(check.by_stage.items()))
    return data


def source_as_dict(source: Source) -> dict[str, str]:
    """Serialize a citation."""
    return {"file": source.file, "doc_no": source.doc_no, "section": source.section, "quote": source.quote}


def item_as_dict(item: Item, stage: str | None = None) -> dict[str, Any]:
    """Serialize an item; with ``stage`` its thresholds are resolved for that stage."""
    applies = item.applies_to
    return {
        "id": item.id,
        "concept": item.concept,
        "title": item.title,
        "guidance": item.guidance,
        "check": check_as_dict(item.check, stage),
        "photo_required": item.photo_required,
        "checked_by": item.checked_by,
        "applies_to": {
            "stages": list(applies.stages),
            "locations": list(applies.locations),
            "traits": list(applies.traits),
            "boarding_only": applies.boarding_only,
        },
        "due": item.due.as_dict() if item.due else None,
        "effective_from": _iso(item.effective_from),
        "effective_until": _iso(item.effective_until),
        "sources": [source_as_dict(s) for s in item.sources],
    }


def canonical_json(data: Any) -> str:
    """Serialize with sorted keys and no spaces: equal data, equal text."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_hash(data: Any) -> str:
    """SHA-256 hex digest of the canonical JSON of ``data``."""
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def _fits_visit(item: Item, profile: SchoolProfile) -> bool:
    if item.checked_by not in VISIT_CHECKERS:
        return False
    if not item.scope.matches(profile.stage, profile.location, profile.is_boarding):
        return False
    # A numeric check with no threshold for this stage cannot be judged here.
    return not (item.check.type == "numeric" and item.check.threshold_for(profile.stage) is None)


def compose(pack: Pack, profile: SchoolProfile, visit_type: str = "routine") -> dict[str, Any]:
    """Compose the visit checklist for ``profile``; the result carries its ``version``.

    The version is the hash of everything else in the result, so two calls with
    the same pack content and arguments return identical dicts.
    """
    if visit_type not in VISIT_TYPES:
        raise GeneratorError(f"unknown visit type: {visit_type}")
    visit_title, wanted = VISIT_TYPES[visit_type]
    sections = []
    for checklist in pack.checklists:
        if wanted is not None and checklist.id not in wanted:
            continue
        items = [item_as_dict(i, profile.stage) for i in checklist.items if _fits_visit(i, profile)]
        if items:
            sections.append({"id": checklist.id, "title": checklist.title, "items": items})
    body = {
        "format": SNAPSHOT_FORMAT,
        "pack": {"id": pack.id, "name": pack.name, "status": pack.status},
        "visit_type": {"id": visit_type, "title": visit_title},
        "profile": profile.as_dict(),
        "sections": sections,
    }
    return {**body, "version": content_hash(body)}


def item_count(snapshot: dict[str, Any]) -> int:
    """Number of items in a composed checklist."""
    return sum(len(section["items"]) for section in snapshot["sections"])
