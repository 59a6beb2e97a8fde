"""Scope: the committed count table is current, and each pack reaches whom its documents address."""

from __future__ import annotations

import pytest

from checklists import load_packs
from checklists.counts import SCOPE_COUNTS, scope_counts_markdown
from checklists.generator import SchoolProfile, compose, item_count
from checklists.vocabulary import LOCATIONS, VISIT_TYPES


@pytest.fixture(scope="module")
def packs():
    return load_packs()


def test_the_committed_scope_counts_are_current(packs):
    """Run `python -m checklists counts` and review the diff when this fails."""
    assert SCOPE_COUNTS.read_text(encoding="utf-8") == scope_counts_markdown(packs)


def _given(pack, stage, traits=frozenset()):
    return {
        (location, visit_type): item_count(compose(pack, SchoolProfile(stage, location, traits), visit_type))
        for location in LOCATIONS
        for visit_type in VISIT_TYPES
    }
