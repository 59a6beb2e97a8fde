"""Composing format-2 snapshots: sections of mixed schools, traits, status, due dates, not-applicable."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from checklists import load_pack, load_packs
from checklists.due import due_state, due_text, resolve_due
from checklists.generator import SNAPSHOT_FORMAT, SchoolProfile, compose, item_count
from checklists.model import CountySetting, Due

QUOTE = """
        sources:
          - file: 000_110501d15428c237.txt
            doc_no: 贺教发〔2023〕19号
            section: 四(二)2
            quote: 教研员每学期到包片包抓农村学校听评课不少于15节
"""
TINY = (
    """
id: tiny
name: 测试县
region: 测试
status: in_force
county_settings:
  - {key: acceptance_year, label: 优质均衡验收年份, type: year}
  - {key: cycle_anchor, label: 轮训起始日, type: date, default: 2022-09-01}
documents:
  - file: 000_110501d15428c237.txt
    doc_no: 贺教发〔2023〕19号
    title: 测试
    addresses: {stages: [primary, junior]}
    effective_until: 2025-12-31
checklists:
  - id: school_conditions
    items:
      - id: tiny.c.size
        concept: conditions.class_size
        title: 班额
        check: {type: numeric, operator: "<=", unit: 人, by_stage: {primary: 45, junior: 50}}
        checked_by: inspector_visit"""
    + QUOTE
    + """      - id: tiny.c.rooms
        concept: conditions.functional_rooms
        title: 功能室
        check: {type: numeric, operator: ">=", unit: 间, value: 3}
        checked_by: inspector_visit"""
    + QUOTE
    + """      - id: tiny.c.core
        concept: group.governance_rules
        title: 核心校章程
        check: {type: yes_no}
        checked_by: inspector_visit
        applies_to: {traits: [group_core]}"""
    + QUOTE
    + """      - id: tiny.c.report
        concept: group.annual_summary
        title: 年度总结报送
        check: {type: deadline}
        due: {kind: yearly, month_day: "12-05"}
        checked_by: inspector_visit"""
    + QUOTE
    + """      - id: tiny.c.layout
        concept: reporting.layout_adjustment
        title: 布局调整
        check: {type: deadline}
        due: {kind: relative, setting: acceptance_year, offset_years: -2, month_day: "12-31"}
        checked_by: inspector_visit"""
    + QUOTE
)
ON = date(2025, 11, 30)


@pytest.fixture
def tiny(tmp_path: Path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return load_pack(path)


def _items(snapshot):
    return {item["id"]: item for section in snapshot["sections"] for item in section["items"]}


def test_a_nine_year_school_is_checked_per_section_where_thresholds_differ(tiny):
    items = _items(compose(tiny, SchoolProfile("nine_year", "town"), on=ON))
    primary, junior = items["tiny.c.size@primary"], items["tiny.c.size@junior"]
    assert (primary["check"]["value"], junior["check"]["value"]) == (45, 50)
    assert (primary["section"], primary["section_label"], primary["title"]) == ("primary", "小学部", "班额（小学部）")
    assert (junior["section"], junior["title"]) == ("junior", "班额（初中部）")
    assert "tiny.c.size" not in items
    # One threshold for both sections: one item, no section.
    assert items["tiny.c.rooms"]["check"]["value"] == 3 and "section" not in items["tiny.c.rooms"]
    # A single-section school gets its own threshold, unsplit.
    assert _items(compose(tiny, SchoolProfile("junior", "town"), on=ON))["tiny.c.size"]["check"]["value"] == 50


def test_real_packs_split_class_size_for_nine_year_schools():
    xiji = load_packs()["xiji"]
    item_id = next(i.id for i in xiji.items if i.concept == "conditions.class_size")
    items = _items(compose(xiji, SchoolProfile("nine_year", "urban")))
    assert items[f"{item_id}@primary"]["check"]["value"] == 45
    assert items[f"{item_id}@junior"]["check"]["value"] == 50


def test_a_twelve_year_school_reaches_only_the_sections_addressed(tiny):
    items = _items(compose(tiny, SchoolProfile("twelve_year", "town"), on=ON))
    assert {"tiny.c.size@primary", "tiny.c.size@junior"} <= set(items)
    assert not any(item_id.endswith("@senior") for item_id in items)


def test_traits_select_items(tiny):
    plain = _items(compose(tiny, SchoolProfile("primary", "town"), on=ON))
    core = _items(compose(tiny, SchoolProfile("primary", "town", frozenset({"group_core"})), on=ON))
    assert set(core) - set(plain) == {"tiny.c.core"}
    assert core["tiny.c.core"]["scope"] == {"stages": ["primary", "junior"], "locations": [], "traits": ["group_core"]}


def test_the_format_1_profile_call_still_works():
    old = SchoolProfile("junior", "town", True)
    assert (
        old
        == SchoolProfile("junior", "town", frozenset({"boarding"}))
        == SchoolProfile("junior", "town", is_boarding=True)
    )
    assert old.is_boarding and old.as_dict()["traits"] == ["boarding"]
    assert not SchoolProfile("junior", "town", False).is_boarding


def test_no_item_fits_names_the_school_type(tiny):
    snapshot = compose(tiny, SchoolProfile("kindergarten", "town"), on=ON)
    assert snapshot["applicable"] is False and item_count(snapshot) == 0
    assert snapshot["not_applicable"] == "本政策包不适用于幼儿园"
    assert compose(tiny, SchoolProfile("senior", "urban"), on=ON)["not_applicable"] == "本政策包不适用于高中"
    fits = compose(tiny, SchoolProfile("complete_secondary", "town"), on=ON)
    assert fits["applicable"] is True and "not_applicable" not in fits
    safety = compose(tiny, SchoolProfile("primary", "town"), "safety", on=ON)
    assert safety["not_applicable"] == "本政策包没有适用于小学的平安校园专项督导检查项"


def test_status_follows_the_pack_and_the_documents_end_date(tiny):
    profile = SchoolProfile("primary", "town")
    before = _items(compose(tiny, profile, on=date(2025, 12, 31)))
    after = _items(compose(tiny, profile, on=date(2026, 1, 1)))
    assert {i["status"] for i in before.values()} == {"in_force"}
    assert {i["status"] for i in after.values()} == {"expired"}
    draft = _items(compose(dataclasses.replace(tiny, status="draft"), profile, on=date(2026, 1, 1)))
    assert {i["status"] for i in draft.values()} == {"draft"}
    liaocheng = compose(load_packs()["liaocheng"], profile)
    assert {i["status"] for s in liaocheng["sections"] for i in s["items"]} == {"draft"}


def test_due_dates_are_resolved_for_the_day_and_the_countys_settings(tiny):
    profile = SchoolProfile("primary", "town")
    items = _items(compose(tiny, profile, on=ON, settings={"acceptance_year": 2027}))
    assert items["tiny.c.report"]["due"] == {
        "rule": {"kind": "yearly", "month_day": "12-05"},
        "on": "2025-12-05",
        "label": "每年12月5日前",
    }
    assert items["tiny.c.layout"]["due"]["on"] == "2025-12-31"
    assert items["tiny.c.layout"]["due"]["label"] == "2025年12月31日前（优质均衡验收年份前2年）"
    unset = _items(compose(tiny, profile, on=ON))["tiny.c.layout"]["due"]
    assert unset["on"] is None and unset["label"] == "优质均衡验收年份前2年12月31日前（县未设置优质均衡验收年份）"
    assert "due" not in items["tiny.c.rooms"]


def test_compose_is_deterministic_and_versions_follow_results(tiny):
    profile = SchoolProfile("nine_year", "village")
    first = compose(tiny, profile, on=ON, settings={"acceptance_year": 2027})
    assert first == compose(tiny, profile, on=ON, settings={"acceptance_year": 2027})
    assert first["format"] == SNAPSHOT_FORMAT == 2
    # Another day with the same results: same version (the day is not stored) …
    assert (
        compose(tiny, profile, on=date(2025, 12, 1), settings={"acceptance_year": 2027})["version"] == first["version"]
    )
    # … a new year resolves the yearly report anew, another acceptance year moves the layout date.
    assert (
        compose(tiny, profile, on=date(2026, 1, 2), settings={"acceptance_year": 2027})["version"] != first["version"]
    )
    assert compose(tiny, profile, on=ON, settings={"acceptance_year": 2028})["version"] != first["version"]


@pytest.mark.parametrize(
    ("rule", "on", "expected"),
    [
        (Due("once", date=date(2023, 12, 31)), date(2026, 1, 1), (date(2023, 12, 31), "2023年12月31日前")),
        (Due("yearly", month_day="02-29"), date(2026, 1, 1), (date(2026, 2, 28), "每年2月29日前")),
        (Due("termly", offset_days=30), date(2026, 1, 1), (None, "每学期开学后30天内")),
        (Due("termly"), date(2026, 1, 1), (None, "每学期")),
        (
            Due("cycle", years=3, anchor=date(2022, 9, 1)),
            date(2026, 1, 1),
            (date(2028, 8, 31), "每3年一周期（自2022年9月1日起），本周期2028年8月31日前"),
        ),
        (
            Due("cycle", years=5, anchor_setting="cycle_anchor"),
            date(2024, 1, 1),
            (date(2027, 8, 31), "每5年一周期（自2022年9月1日起），本周期2027年8月31日前"),
        ),
    ],
)
def test_due_rules_resolve(rule, on, expected):
    declared = (CountySetting("cycle_anchor", "轮训起始日", "date", date(2022, 9, 1)),)
    assert resolve_due(rule, on, declared) == expected


def test_due_state_and_text():
    due_on = date(2026, 12, 5)
    assert due_state(due_on, date(2026, 11, 30)) == ("due", 5)
    assert due_state(due_on, due_on) == ("due", 0)
    assert due_state(due_on, date(2026, 12, 17)) == ("overdue", 12)
    assert due_text(due_on, date(2026, 11, 30)) == "应于2026年12月5日前"
    assert due_text(due_on, date(2026, 12, 17)) == "已逾期 12 天"
