"""Typed, immutable objects a loaded policy pack is made of."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


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

    ``value`` is the default threshold; ``by_stage`` overrides it for a school
    stage (class size ≤45 for 小学, ≤50 for 初中).
    """

    type: str
    operator: str | None = None
    value: float | None = None
    unit: str | None = None
    by_stage: dict[str, float] = field(default_factory=dict)
    count: int | None = None
    period: str | None = None
    due: date | None = None

    def threshold_for(self, stage: str) -> float | None:
        """Return the threshold that applies to a school of ``stage``."""
        return self.by_stage.get(stage, self.value)


@dataclass(frozen=True)
class AppliesTo:
    """Which school profiles an item applies to; empty tuples mean all."""

    stages: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    boarding_only: bool = False

    def matches(self, stage: str, location: str, is_boarding: bool) -> bool:
        """Tell whether a school with this profile must meet the item."""
        if self.stages and stage not in self.stages:
            return False
        if self.locations and location not in self.locations:
            return False
        return not (self.boarding_only and not is_boarding)


@dataclass(frozen=True)
class Quota:
    """Which 教研员 activities count toward a ``count_per_period`` item, and for whom.

    ``who`` is ``researcher`` (each 教研员 must reach the count) or ``teacher``
    (every teacher of a school observed ``count`` times per period: coverage).
    ``schools`` is ``assigned`` (only the 教研员's 包片 schools on the day of the
    record) or ``any``; the item's ``applies_to`` narrows the schools further.
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
    effective_from: date | None = None
    effective_until: date | None = None
    quota: Quota | None = None


@dataclass(frozen=True)
class Checklist:
    """A group of items an inspector recognises (校园安全, 教学常规 …)."""

    id: str
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Document:
    """A seed policy document a pack draws on."""

    file: str
    doc_no: str
    title: str
    issued_on: date | None = None


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
