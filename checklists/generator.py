"""Compose versioned visit checklists for a school profile.

A composed checklist is a plain JSON-able dict; its version id is the SHA-256
of its canonical JSON, so the same pack, profile, settings and day always give
the same id and any change to the pack gives a new one. Visits keep the version
they were made with, so a phone holding an old version offline can still sync.

What a school is given (snapshot ``format`` 2):

- an item reaches a school when its scope (document audience narrowed by
  ``applies_to``) has one of the school type's sections, the school's location
  and all of its traits;
- a mixed school (九年一贯制, 十二年一贯制, 完全中学) gets one item per section
  (``<id>@primary``, 小学部) where the item's threshold differs between its
  sections, else one item;
- ``on`` (default today) sets each item's ``status`` (draft / expired /
  in_force) and resolves its ``due`` rule to a date; an item whose
  ``effective_from`` is after ``on`` is not yet given (as in the quotas and the
  school's self-reports); ``on`` is not itself stored, so the version changes
  only when a result does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .due import due_as_dict
from .model import Check, CountySetting, Item, Pack, Source
from .vocabulary import (
    CHECK_TYPES,
    LOCATIONS,
    SCHOOL_TRAITS,
    SECTION_LABELS,
    STAGES,
    VISIT_TYPES,
    sections_of,
)

#: Items an inspector can verify at the school. 教研员 logs and bureau
#: records are counted elsewhere (quotas, bureau ledgers).
VISIT_CHECKERS = frozenset({"inspector_visit", "school_self_report"})

#: Bumped when the snapshot's layout changes, so old and new layouts never share a hash.
SNAPSHOT_FORMAT = 2


class GeneratorError(ValueError):
    """The profile or visit type asked for is not one the generator knows."""


@dataclass(frozen=True)
class SchoolProfile:
    """What a checklist depends on: school type, location and traits.

    ``SchoolProfile(stage, location, is_boarding)`` (a bool third) still works;
    ``is_boarding`` and the trait ``boarding`` always agree.
    """

    stage: str
    location: str
    traits: frozenset[str] = field(default_factory=frozenset)
    is_boarding: bool = False

    def __post_init__(self) -> None:
        traits = self.traits
        if isinstance(traits, bool):  # the format-1 call SchoolProfile(stage, location, is_boarding)
            traits, boarding = frozenset(), traits or self.is_boarding
        else:
            traits, boarding = frozenset(traits), self.is_boarding
        if boarding:
            traits |= {"boarding"}
        object.__setattr__(self, "traits", traits)
        object.__setattr__(self, "is_boarding", "boarding" in traits)
        if self.stage not in STAGES:
            raise GeneratorError(f"unknown stage: {self.stage}")
        if self.location not in LOCATIONS:
            raise GeneratorError(f"unknown location: {self.location}")
        unknown = sorted(traits - set(SCHOOL_TRAITS))
        if unknown:
            raise GeneratorError(f"unknown trait: {', '.join(unknown)}")

    @property
    def sections(self) -> tuple[str, ...]:
        """The school's sections (学部)."""
        return sections_of(self.stage)

    def as_dict(self) -> dict[str, Any]:
        """Return the profile as JSON-able data."""
        return {
            "stage": self.stage,
            "location": self.location,
            "traits": sorted(self.traits),
            "is_boarding": self.is_boarding,
        }


@dataclass(frozen=True)
class Context:
    """What resolves an item for display: the pack's status, the day, the county's settings."""

    pack_status: str = "in_force"
    on: date = field(default_factory=date.today)
    declared: tuple[CountySetting, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, pack: Pack, on: date | None = None, settings: Mapping[str, Any] | None = None) -> Context:
        """The context of ``pack`` on day ``on`` (default today) with a county's ``settings``."""
        return cls(pack.status, on or date.today(), pack.county_settings, dict(settings or {}))

    def started(self, item: Item) -> bool:
        """Whether the item's (inherited) ``effective_from`` has come: 兴署发〔2025〕53's class-size rule
        binds from 2026年秋季学期, so a visit before 2026-09-01 is not judged by it."""
        return item.effective_from is None or item.effective_from <= self.on

    def status(self, item: Item) -> str:
        """``draft`` for a draft pack's items, ``expired`` past the (inherited) end date, else ``in_force``."""
        if self.pack_status == "draft":
            return "draft"
        if item.effective_until is not None and item.effective_until < self.on:
            return "expired"
        return "in_force"


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def check_as_dict(check: Check, stage: str | None = None) -> dict[str, Any]:
    """Serialize a check; with ``stage`` (a section or school type), resolve its threshold."""
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


def item_as_dict(item: Item, stage: str | None = None, context: Context | None = None) -> dict[str, Any]:
    """Serialize an item; with ``stage`` its thresholds are resolved for that section or school type.

    ``context`` sets ``status`` and resolves ``due`` (default: an in-force pack, today, no settings).
    """
    context = context or Context()
    applies = item.applies_to
    data = {
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
        "scope": item.scope.as_dict(),
        "binding": item.binding,
        "binding_word": item.binding_word,
        "status": context.status(item),
        "effective_from": _iso(item.effective_from),
        "effective_until": _iso(item.effective_until),
        "sources": [source_as_dict(s) for s in item.sources],
    }
    if item.due is not None:
        data["due"] = due_as_dict(item.due, context.on, context.declared, context.settings)
    if item.reference is not None:
        data["reference"] = {"standard": item.reference.standard, "text": item.reference.text}
    return data


def canonical_json(data: Any) -> str:
    """Serialize with sorted keys and no spaces: equal data, equal text."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_hash(data: Any) -> str:
    """SHA-256 hex digest of the canonical JSON of ``data``."""
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def reaches(item: Item, profile: SchoolProfile) -> bool:
    """Whether the item's scope addresses the school (on a visit or not)."""
    return item.scope.matches(profile.stage, profile.location, traits=profile.traits)


def parts_for(item: Item, profile: SchoolProfile) -> list[str | None]:
    """How the item is given to the school: ``[None]`` as one item, one section code per part
    when its threshold differs between the school's sections, ``[]`` when it cannot be judged."""
    sections = item.scope.sections_for(profile.stage)
    if item.check.type != "numeric":
        return [None]
    thresholds = item.check.thresholds_for(sections)
    judged = [section for section, value in thresholds.items() if value is not None]
    if len({thresholds[s] for s in judged}) <= 1:
        return [None] if judged else []
    return judged


def _composed(item: Item, profile: SchoolProfile, context: Context) -> Iterable[dict[str, Any]]:
    parts = parts_for(item, profile)
    if parts == [None]:
        sections = item.scope.sections_for(profile.stage)
        # One threshold for all the school's sections the item reaches: resolve it by any of them.
        yield item_as_dict(item, sections[0] if item.check.by_stage else profile.stage, context)
        return
    for section in parts:
        assert section is not None
        data = item_as_dict(item, section, context)
        label = SECTION_LABELS[section]
        data.update(id=f"{item.id}@{section}", title=f"{item.title}（{label}）", section=section, section_label=label)
        yield data


def _not_applicable(pack: Pack, profile: SchoolProfile, visit_title: str) -> str:
    on_site = [i for i in pack.items if i.checked_by in VISIT_CHECKERS]
    school = STAGES[profile.stage]
    if not any(i.scope.sections_for(profile.stage) for i in on_site):
        return f"本政策包不适用于{school}"
    located = [i for i in on_site if i.scope.matches(profile.stage, profile.location, traits=set(i.scope.traits))]
    if not located:
        return f"本政策包不适用于{LOCATIONS[profile.location]}的{school}"
    if not any(reaches(i, profile) and parts_for(i, profile) for i in on_site):
        return f"本政策包的检查项只适用于有特定条件的{school}（如寄宿制），本校不具备"
    return f"本政策包没有适用于{school}的{visit_title}检查项"


def compose(
    pack: Pack,
    profile: SchoolProfile,
    visit_type: str = "routine",
    *,
    settings: Mapping[str, Any] | None = None,
    on: date | None = None,
) -> dict[str, Any]:
    """Compose the visit checklist for ``profile``; the result carries its ``version``.

    ``settings`` are the county's values for the pack's ``county_settings``
    (验收年份 …); ``on`` (default today) decides statuses and due dates. The
    version is the hash of everything else in the result, so two calls with
    the same pack content and arguments return identical dicts.
    """
    if visit_type not in VISIT_TYPES:
        raise GeneratorError(f"unknown visit type: {visit_type}")
    visit_title, wanted = VISIT_TYPES[visit_type]
    context = Context.of(pack, on, settings)
    sections = []
    for checklist in pack.checklists:
        if wanted is not None and checklist.id not in wanted:
            continue
        items = [
            data
            for item in checklist.items
            if item.checked_by in VISIT_CHECKERS and reaches(item, profile) and context.started(item)
            for data in _composed(item, profile, context)
        ]
        if items:
            sections.append({"id": checklist.id, "title": checklist.title, "items": items})
    body: dict[str, Any] = {
        "format": SNAPSHOT_FORMAT,
        "pack": {"id": pack.id, "name": pack.name, "status": pack.status},
        "visit_type": {"id": visit_type, "title": visit_title},
        "profile": profile.as_dict(),
        "applicable": bool(sections),
        "sections": sections,
    }
    if not sections:
        body["not_applicable"] = _not_applicable(pack, profile, visit_title)
    return {**body, "version": content_hash(body)}


def item_count(snapshot: dict[str, Any]) -> int:
    """Number of items in a composed checklist."""
    return sum(len(section["items"]) for section in snapshot["sections"])
