"""XLSForm export: metadata fields, distinct form ids, 不适用 rules, standards named, drafts marked.

Every pack × school type × location × visit type (with no traits and with all of them) is
converted with pyxform in-process, as ODK Central and KoboToolbox do (no Java ODK Validate here).
"""

from __future__ import annotations

import io
import itertools
from datetime import date

import pytest
from openpyxl import load_workbook
from pyxform.xls2xform import convert

from checklists import load_packs
from checklists.export import COLUMNS, form_id, pack_items, xlsform_sheets, xlsform_workbook
from checklists.generator import SchoolProfile, compose
from checklists.vocabulary import LOCATIONS, SCHOOL_TRAITS, STAGES, VISIT_TYPES

ALL_TRAITS = frozenset(SCHOOL_TRAITS)


@pytest.fixture(scope="module")
def packs():
    return load_packs()


def _as_definition(sheets):
    """The sheets as pyxform's in-memory definition (what it reads from a workbook)."""
    return {
        name: [{key: value for key, value in zip(rows[0], row, strict=True) if value != ""} for row in rows[1:]]
        for name, rows in sheets.items()
    }


def _survey(sheets):
    return [dict(zip(COLUMNS, row, strict=True)) for row in sheets["survey"][1:]]


def test_every_profile_converts_with_pyxform(packs):
    converted: dict[str, str] = {}
    ids: dict[str, str] = {}
    profiles = itertools.product(STAGES, LOCATIONS, (frozenset(), ALL_TRAITS), VISIT_TYPES)
    for pack, (stage, location, traits, visit_type) in itertools.product(packs.values(), list(profiles)):
        snapshot = compose(pack, SchoolProfile(stage, location, traits), visit_type, on=date(2026, 3, 1))
        sheets = xlsform_sheets(snapshot)
        # Equal surveys convert equally: convert each distinct one once (keeps the test fast).
        key = repr(sheets["survey"])
        if key not in converted:
            warnings: list[str] = []
            result = convert(xlsform=_as_definition(sheets), warnings=warnings, form_name="data")
            assert "<h:html" in result.xform and not warnings, (pack.id, stage, location, visit_type, warnings)
            converted[key] = result.xform
        fid = form_id(snapshot)
        assert ids.setdefault(fid, snapshot["version"]) == snapshot["version"], f"form_id {fid} shared"
    assert len(ids) == len(packs) * len(STAGES) * len(LOCATIONS) * 2 * len(VISIT_TYPES)
    assert len(converted) > 20


def test_submissions_carry_the_visit_metadata(packs):
    sheets = xlsform_sheets(compose(packs["xiji"], SchoolProfile("primary", "town")))
    by_name = {row["name"]: row for row in _survey(sheets)}
    for name, kind in {
        "started_at": "start",
        "ended_at": "end",
        "visit_date": "date",
        "school_name": "text",
        "inspector_name": "text",
        "location": "geopoint",
    }.items():
        assert by_name[name]["type"] == kind
    assert by_name["school_name"]["required"] == by_name["inspector_name"]["required"] == "yes"


def test_photos_are_required_unless_not_applicable(packs):
    snapshot = compose(packs["xiji"], SchoolProfile("nine_year", "town", True))
    rows = _survey(xlsform_sheets(snapshot))
    photos = [row for row in rows if row["type"] == "image"]
    assert photos
    for photo in photos:
        assert photo["required"] == "yes"
        assert "'na'" in photo["relevant"], photo
    # A number answer has a 不适用 tick box, and the answer and photo are asked only without it.
    class_size = [row for row in rows if row["name"].startswith("xiji_conditions_class_size")]
    assert class_size[0]["type"] == "select_multiple na"
    assert "selected(" in class_size[1]["relevant"]


def test_constraint_messages_name_the_standard_and_split_sections(packs):
    snapshot = compose(packs["xiji"], SchoolProfile("nine_year", "urban"))
    rows = {row["name"]: row for row in _survey(xlsform_sheets(snapshot))}
    item_id = next(i.id for i in packs["xiji"].items if i.concept == "conditions.class_size")
    primary = rows[item_id.replace(".", "_") + "__primary"]
    junior = rows[item_id.replace(".", "_") + "__junior"]
    assert "标准：<= 45人（西教体函发〔2022〕203号" in primary["constraint_message"]
    assert "标准：<= 50人" in junior["constraint_message"] and "（初中部）" in junior["label"]


def test_drafts_say_so_and_forms_differ_per_checklist(packs):
    draft = compose(packs["liaocheng"], SchoolProfile("primary", "town"))
    sheets = xlsform_sheets(draft)
    title, fid = sheets["settings"][1][0], sheets["settings"][1][1]
    assert "征求意见稿" in title and fid == form_id(draft) and fid.startswith("dudao_liaocheng_routine_")
    assert any(row["name"] == "draft_notice" for row in _survey(sheets))
    final = xlsform_sheets(compose(packs["xiji"], SchoolProfile("primary", "town")))
    assert "征求意见稿" not in final["settings"][1][0]
    other = compose(packs["liaocheng"], SchoolProfile("junior", "town"))
    assert form_id(other) != fid


def test_a_not_applicable_checklist_still_makes_a_form(packs):
    snapshot = compose(packs["helan"], SchoolProfile("primary", "town"), "safety")
    snapshot = {**snapshot, "sections": [], "applicable": False, "not_applicable": "本政策包不适用于幼儿园"}
    sheets = xlsform_sheets(snapshot)
    assert any(row["name"] == "not_applicable" for row in _survey(sheets))
    assert "<h:html" in convert(xlsform=_as_definition(sheets), form_name="data").xform


def test_the_workbook_round_trips_through_pyxform(packs):
    data = xlsform_workbook(compose(packs["xinganmeng"], SchoolProfile("twelve_year", "village", ALL_TRAITS)))
    assert load_workbook(io.BytesIO(data)).sheetnames == ["survey", "choices", "settings"]
    assert "<h:html" in convert(xlsform=io.BytesIO(data), file_type=".xlsx", form_name="data").xform


def test_json_export_shows_the_new_fields_on_every_item(packs):
    for pack in packs.values():
        for item in pack_items(pack, on=date(2026, 3, 1)):
            assert {"scope", "binding", "binding_word", "status", "checklist"} <= set(item)
            assert set(item["scope"]) == {"stages", "locations", "traits"}
            assert item["status"] == ("draft" if pack.status == "draft" else item["status"])
            assert item["status"] in ("draft", "expired", "in_force")
            source = pack.item(item["id"])
            assert ("due" in item) == (source.due is not None)
            if source.due is not None:
                assert item["due"]["rule"]["kind"] == source.due.kind and item["due"]["label"]
            assert ("reference" in item) == (source.reference is not None)
    helan = {i["id"]: i for i in pack_items(packs["helan"], on=date(2026, 3, 1))}
    assert any(i["status"] == "expired" for i in helan.values()), "贺教发〔2023〕19号 ran to 2025-12-31"
