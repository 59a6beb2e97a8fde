"""Typed, immutable objects a loaded policy pack is made of."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .vocabulary import SCHOOL_TYPES, sections_of


@dataclass(frozen=True)
class Source:
    """Where in a seed document an item comes from."""

    file: str
    doc_no: str
    section: str
    quote: str


@dataclass(frozen=True)
class Check:
    """How an item is checked.

    ``value`` is the default threshold; ``by_stage`` overrides it per section
    (class size ≤45 for 小学, ≤50 for 初中).
    """

    type: str
    operator: str | None = None
    value: float | None = None
    unit: str | None = None
    by_stage: dict[str, float] = field(default_factory=dict)
    count: int | None = None
    period: str | None = None

    def threshold_for(self, stage: str) -> float | None:
        """The threshold for a section, or for a school type whose sections all share one.

        A mixed school (九年一贯制) whose sections have different thresholds gets
        None here: it is judged section by section (:meth:`thresholds_for`).
        """
        if stage in self.by_stage:
            return self.by_stage[stage]
        values = {self.by_stage.get(section, self.value) for section in sections_of(stage)}
        return values.pop() if len(values) == 1 else None

    def thresholds_for(self, sections: tuple[str, ...]) -> dict[str, float | None]:
        """Threshold per section, in the order given."""
        return {section: self.by_stage.get(section, self.value) for section in sections}


@dataclass(frozen=True)
class AppliesTo:
    """An audience: sections, locations and traits; empty tuples mean no restriction.

    Used for a document's ``addresses`` and an item's ``applies_to`` (which may
    only narrow its inherited audience). ``stages`` are sections (小学, 初中 …),
    never school types; a school fits when its type has one of them.
    """

    stages: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    traits: tuple[str, ...] = ()

    @property
    def boarding_only(self) -> bool:
        """Whether only boarding schools are addressed (format v1's ``boarding_only``)."""
        return "boarding" in self.traits

    @property
    def school_types(self) -> tuple[str, ...]:
        """School types having at least one of the sections (every type when unrestricted)."""
        if not self.stages:
            return tuple(SCHOOL_TYPES)
        return tuple(t for t, sections in SCHOOL_TYPES.items() if set(sections) & set(self.stages))

    def sections_for(self, stage: str) -> tuple[str, ...]:
        """The sections of a school of type ``stage`` that the audience reaches."""
        own = sections_of(stage)
        return tuple(s for s in own if s in self.stages) if self.stages else own

    def matches(self, stage: str, location: str, is_boarding: bool = False, traits: Any = ()) -> bool:
        """Tell whether a school of type ``stage`` at ``location`` with ``traits`` is addressed."""
        if not self.sections_for(stage):
            return False
        if self.locations and location not in self.locations:
            return False
        has = set(traits) | ({"boarding"} if is_boarding else set())
        return set(self.traits) <= has

    def narrowed_by(self, other: AppliesTo) -> AppliesTo:
        """This audience narrowed by ``other`` (an item's ``applies_to``)."""
        return AppliesTo(
            stages=other.stages or self.stages,
            locations=other.locations or self.locations,
            traits=tuple(dict.fromkeys(self.traits + other.traits)),
        )

    def widened_by(self, other: AppliesTo) -> list[str]:
        """How ``other`` reaches beyond this audience (empty when it only narrows)."""
        problems = []
        if self.stages and set(other.stages) - set(self.stages):
            problems.append(f"applies_to stages {list(other.stages)} exceed the audience's {list(self.stages)}")
        if self.locations and set(other.locations) - set(self.locations):
            problems.append(
                f"applies_to locations {list(other.locations)} exceed the audience's {list(self.locations)}"
            )
        # Traits are inherited (narrowed_by unions them), so an item can never drop one.
        return problems

    def as_dict(self) -> dict[str, list[str]]:
        """JSON-able form."""
        return {"stages": list(self.stages), "locations": list(self.locations), "traits": list(self.traits)}


@dataclass(frozen=True)
class Due:
    """An item's time rule.

    ``once``: by ``date``; ``yearly``: every year by ``month_day`` ("12-05");
    ``termly``: within ``offset_days`` of each term's start (or during the
    term); ``cycle``: every ``years`` years from ``anchor`` or from the county
    setting ``anchor_setting``; ``relative``: ``month_day`` of the year
    ``offset_years`` from the county setting ``setting`` (验收前1年 = -1).
    """

    kind: str
    date: date | None = None
    month_day: str | None = None
    offset_days: int | None = None
    years: int | None = None
    anchor: date | None = None
    anchor_setting: str | None = None
    setting: str | None = None
    offset_years: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (the fields that are set)."""
        data: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is not None:
                data[name] = value.isoformat() if isinstance(value, date) else value
        return data


@dataclass(frozen=True)
class Reference:
    """A number from a national standard cited beside an item: shown as 参考, never judged."""

    standard: str
    text: str


@dataclass(frozen=True)
class CountySetting:
    """A value each county (旗县) sets itself, which due rules refer to (验收年份 …)."""

    key: str
    label: str
    type: str
    default: Any = None
    note: str = ""


@dataclass(frozen=True)
class Quota:
    """Which 教研员 activities count toward a ``count_per_period`` item, and for whom.

    ``who`` is ``researcher`` (each 教研员 must reach the count) or ``teacher``
    (every teacher of a school observed ``count`` times per period: coverage).
    ``schools`` is ``assigned`` (only the 教研员's 包片 schools on the day of the
    record) or ``any``; the item's scope narrows the schools further.
    ``forms`` empty means every form of the ``kinds``. ``cycle_from`` anchors
    multi-year periods (a three-year cycle starts there and every third year after).
    """

    kinds: tuple[str, ...]
    who: str = "researcher"
    schools: str = "assigned"
    forms: tuple[str, ...] = ()
    cycle_from: date | None = None


@dataclass(frozen=True)
class RubricDimension:
    """One scored dimension of a lesson evaluation (scores 1 … ``max_score``)."""

    id: str
    label: str
    max_score: int = 5


@dataclass(frozen=True)
class Item:
    """One checkable requirement."""

    id: str
    concept: str
    title: str
    check: Check
    checked_by: str
    sources: tuple[Source, ...]
    guidance: str = ""
    photo_required: bool = False
    applies_to: AppliesTo = field(default_factory=AppliesTo)
    #: Given by the item, else inherited from its document.
    effective_from: date | None = None
    effective_until: date | None = None
    quota: Quota | None = None
    binding: str = "mandatory"
    binding_word: str | None = None
    due: Due | None = None
    reference: Reference | None = None
    #: The audience inherited from the document (or its section); None means unrestricted.
    audience: AppliesTo | None = None

    @property
    def scope(self) -> AppliesTo:
        """Whom the item addresses: its inherited audience narrowed by ``applies_to``."""
        return self.audience.narrowed_by(self.applies_to) if self.audience else self.applies_to


@dataclass(frozen=True)
class Checklist:
    """A group of items an inspector recognises (校园安全, 教学常规 …)."""

    id: str
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class DocumentSection:
    """A part of a document (by section-number prefix) that addresses another audience."""

    prefix: str
    addresses: AppliesTo


@dataclass(frozen=True)
class Document:
    """A seed policy document a pack draws on, and whom it addresses."""

    file: str
    doc_no: str
    title: str
    addresses: AppliesTo = field(default_factory=AppliesTo)
    issued_on: date | None = None
    effective_from: date | None = None
    effective_until: date | None = None
    sections: tuple[DocumentSection, ...] = ()

    def audience_for(self, section: str) -> AppliesTo:
        """Whom the part at ``section`` addresses: the longest matching prefix, else the document."""
        best = max(
            (part for part in self.sections if section.startswith(part.prefix)),
            key=lambda part: len(part.prefix),
            default=None,
        )
        return best.addresses if best else self.addresses


@dataclass(frozen=True)
class Pack:
    """A county's policy set, as loaded from one data file."""

    id: str
    name: str
    region: str
    status: str
    documents: tuple[Document, ...]
    checklists: tuple[Checklist, ...]
    path: str = ""
    #: The county's lesson evaluation rubric; empty means the default one.
    lesson_rubric: tuple[RubricDimension, ...] = ()
    #: Values each county sets itself (acceptance year …), referred to by due rules.
    county_settings: tuple[CountySetting, ...] = ()

    @property
    def items(self) -> tuple[Item, ...]:
        """All items of the pack, checklist by checklist."""
        return tuple(item for cl in self.checklists for item in cl.items)

    def item(self, item_id: str) -> Item:
        """Return the item with ``item_id``; raise KeyError if absent."""
        for candidate in self.items:
            if candidate.id == item_id:
                return candidate
        raise KeyError(item_id)

    def document(self, file: str) -> Document | None:
        """The pack's document for a seed file name, or None."""
        return next((doc for doc in self.documents if doc.file == file), None)
