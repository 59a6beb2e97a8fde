"""Composing visit checklists: profile filtering, thresholds by stage, versions."""

from __future__ import annotations

import dataclasses

import pytest

from checklists import load_packs
from checklists.generator import GeneratorError, SchoolProfile, compose, item_count
from checklists.model import AppliesTo
from webapp.packs.models import ChecklistVersion
from webapp.packs.operations import store_version


@pytest.fixture(scope="module")
def packs():
    return load_packs()


def _items(snapshot):
    return {item["id"]: item for section in snapshot["sections"] for item in section["items"]}


def test_only_on_site_items_that_fit_the_profile(packs):
    for pack in packs.values():
        profile = SchoolProfile("primary", "village", is_boarding=False)
        items = _items(compose(pack, profile))
        assert items, pack.id
        for item_id in items:
            source = pack.item(item_id)
            assert source.checked_by in ("inspector_visit", "school_self_report")
            assert source.scope.matches("primary", "village", False)
        # Nothing that fits was left out.
        expected = {
            i.id
            for i in pack.items
            if i.checked_by in ("inspector_visit", "school_self_report")
            and i.scope.matches("primary", "village", False)
            and not (i.check.type == "numeric" and i.check.threshold_for("primary") is None)
        }
        assert set(items) == expected


def test_boarding_and_location_change_the_list(packs):
    with_boarding = [
        p
        for p in packs.values()
        if any(i.applies_to.boarding_only and i.checked_by == "inspector_visit" for i in p.items)
    ]
    assert with_boarding, "some pack has boarding-only items (宿舍, 食堂 …)"
    pack = with_boarding[0]
    day = _items(compose(pack, SchoolProfile("junior", "town", False)))
    board = _items(compose(pack, SchoolProfile("junior", "town", True)))
    assert set(day) < set(board)
    assert all(pack.item(i).applies_to.boarding_only for i in set(board) - set(day))


def test_class_size_threshold_follows_the_stage(packs):
    pack = packs["xiji"]
    item_id = next(i.id for i in pack.items if i.concept == "conditions.class_size")
    primary = _items(compose(pack, SchoolProfile("primary", "urban")))[item_id]["check"]
    junior = _items(compose(pack, SchoolProfile("junior", "urban")))[item_id]["check"]
    assert (primary["operator"], primary["value"], junior["value"]) == ("<=", 45, 50)
    assert "by_stage" not in primary


def test_visit_types_pick_checklists(packs):
    pack = packs["xiji"]
    safety = compose(pack, SchoolProfile("primary", "town"), "safety")
    assert [s["id"] for s in safety["sections"]] == ["campus_safety"]
    routine = compose(pack, SchoolProfile("primary", "town"), "routine")
    assert item_count(routine) > item_count(safety)


def test_version_is_stable_and_changes_with_the_pack(packs):
    pack = packs["helan"]
    profile = SchoolProfile("primary", "village")
    first, again = compose(pack, profile), compose(pack, profile)
    assert first == again and len(first["version"]) == 64
    # Change one threshold: a new version; the old snapshot is untouched.
    target = _items(first)
    item_id = next(iter(target))
    changed_items = []
    for checklist in pack.checklists:
        items = tuple(
            dataclasses.replace(i, title=i.title + "（修订）") if i.id == item_id else i for i in checklist.items
        )
        changed_items.append(dataclasses.replace(checklist, items=items))
    changed = compose(dataclasses.replace(pack, checklists=tuple(changed_items)), profile)
    assert changed["version"] != first["version"]
    assert _items(first)[item_id]["title"] == target[item_id]["title"]
    assert compose(pack, SchoolProfile("junior", "village"))["version"] != first["version"]


def test_unknown_profile_or_visit_type_is_refused(packs):
    with pytest.raises(GeneratorError):
        SchoolProfile("university", "town")
    with pytest.raises(GeneratorError):
        compose(packs["helan"], SchoolProfile("primary", "town"), "party")


def test_applies_to_matching():
    rule = AppliesTo(stages=("primary",), locations=("village",), traits=("boarding",))
    assert rule.matches("primary", "village", True)
    assert rule.matches("nine_year", "village", True), "a 九年一贯制 school has a 小学部"
    assert rule.matches("primary", "village", traits={"boarding"})
    assert not rule.matches("primary", "village", False)
    assert not rule.matches("junior", "village", True)
    assert not rule.matches("primary", "urban", True)
    assert AppliesTo().matches("senior", "urban", False)
    assert rule.boarding_only and not AppliesTo().boarding_only


def test_stored_versions_are_immutable_and_deduplicated(app, packs):
    snapshot = compose(packs["helan"], SchoolProfile("primary", "town"))
    first = store_version(snapshot)
    again = store_version(compose(packs["helan"], SchoolProfile("primary", "town")))
    assert first is again
    from webapp.extensions import db

    db.session.commit()
    assert db.session.query(ChecklistVersion).count() == 1
    assert db.session.get(ChecklistVersion, snapshot["version"]).content == snapshot
