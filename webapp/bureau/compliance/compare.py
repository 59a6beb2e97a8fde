"""Items that share a concept key, compared across counties (for the admin)."""

from __future__ import annotations

from dataclasses import dataclass, field

from checklists.vocabulary import CONCEPTS

from ...core.models import County, Term
from ...packs.operations import packs
from ..access import term_for
from .matrix import ItemTotal, build_matrix


@dataclass
class ConceptRow:
    """One concept: its Chinese name, and per county the item that carries it and how the county's schools stand."""

    concept: str
    title: str
    per_county: dict[int, tuple[str, ItemTotal]] = field(default_factory=dict)


@dataclass
class Comparison:
    """Concept rows (shared by the most counties first) and each county's term."""

    rows: list[ConceptRow]
    terms: dict[int, Term | None]


def compare_concepts(counties: list[County], checklist_id: str) -> Comparison:
    """For each county's current term, the share of checked schools compliant on each concept of the group."""
    rows: dict[str, ConceptRow] = {}
    terms: dict[int, Term | None] = {}
    for county in counties:
        term = term_for(county, None)
        terms[county.id] = term
        if county.policy_set not in packs() or term is None:
            continue
        matrix = build_matrix(county, term, checklist_id)
        for item in matrix.items:
            # The concept's own name (every county's item title differs); an unknown key shows as it is.
            row = rows.setdefault(item.concept, ConceptRow(item.concept, CONCEPTS.get(item.concept, item.concept)))
            row.per_county[county.id] = (item.title, matrix.item_totals[item.id])
    ordered = sorted(rows.values(), key=lambda r: (-len(r.per_county), r.concept))
    return Comparison(ordered, terms)
