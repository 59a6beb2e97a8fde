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


def _ids(pack, stage, location="town", traits=frozenset()):
    snapshot = compose(pack, SchoolProfile(stage, location, traits))
    return {item["id"].split("@")[0] for section in snapshot["sections"] for item in section["items"]}


@pytest.mark.parametrize(("pack_id", "stage"), [("xiji", "kindergarten"), ("xiji", "senior")])
def test_xiji_addresses_compulsory_schools_only(packs, pack_id, stage):
    """西教体函发〔2022〕203号 is addressed to 各义务教育阶段学校."""
    assert set(_given(packs[pack_id], stage, frozenset({"boarding", "group_core"})).values()) == {0}
    snapshot = compose(packs[pack_id], SchoolProfile(stage, "town"))
    assert snapshot["applicable"] is False
    assert snapshot["not_applicable"] == f"本政策包不适用于{'幼儿园' if stage == 'kindergarten' else '高中'}"
    for school_type in ("primary", "junior", "nine_year"):
        assert compose(packs[pack_id], SchoolProfile(school_type, "village"))["applicable"] is True


def test_xinganmeng_addresses_compulsory_schools_only(packs):
    """兴署发〔2025〕53 is about 义务教育优质均衡."""
    for stage in ("kindergarten", "senior"):
        assert set(_given(packs["xinganmeng"], stage).values()) == {0}
    assert compose(packs["xinganmeng"], SchoolProfile("primary", "urban"))["applicable"] is True


def test_helan_primary_and_secondary_clauses_do_not_reach_kindergartens(packs):
    """贺兰's 中小学 clauses (心理排查 …) are not a kindergarten's; its 幼儿园 clauses are not a primary school's."""
    helan = packs["helan"]
    kindergarten, primary = _ids(helan, "kindergarten"), _ids(helan, "primary")
    for item in helan.items:
        quotes = "".join(source.quote for source in item.sources)
        if "中小学" in quotes and "幼" not in quotes:
            assert item.id not in kindergarten, item.id
    mental = {i.id for i in helan.items if i.concept.startswith("mental.") and i.checked_by == "inspector_visit"}
    assert mental and mental <= primary and not mental & kindergarten
    play = next(i.id for i in helan.items if i.concept == "teaching.play_based_curriculum")
    assert play in kindergarten and play not in primary
    # A kindergarten still gets the clauses addressed to every school (校舍, 消防 …).
    assert {"safety.fire_safety", "safety.building_hazard_check"} <= {helan.item(i).concept for i in kindergarten}


def test_liaocheng_rural_clauses_skip_urban_schools(packs):
    """聊城's 乡村教育振兴 draft addresses 乡村 schools and kindergartens: an urban school gets little."""
    liaocheng = packs["liaocheng"]
    assert len(_ids(liaocheng, "primary", "urban")) < len(_ids(liaocheng, "primary", "town"))
    for item_id in _ids(liaocheng, "primary", "urban"):
        assert not liaocheng.item(item_id).scope.locations or "urban" in liaocheng.item(item_id).scope.locations
    kindergarten_only = {i.id for i in liaocheng.items if i.scope.stages == ("kindergarten",)}
    assert kindergarten_only and not kindergarten_only & _ids(liaocheng, "primary", "town")


def test_traits_only_add_items_for_schools_having_them(packs):
    for pack in packs.values():
        for trait in ("boarding", "group_core", "minority_language", "school_bus", "canteen"):
            plain, having = _ids(pack, "nine_year"), _ids(pack, "nine_year", traits=frozenset({trait}))
            assert plain <= having
            for item_id in having - plain:
                assert trait in pack.item(item_id).scope.traits, (pack.id, item_id)
