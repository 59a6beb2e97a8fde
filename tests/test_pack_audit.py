"""Pins from the independent audit of the packs against their seeds (2026-11, branch pack-audit).

Each test names the seed clause it follows, so a later edit of a pack that drifts from the
document fails here with the quote to read.
"""

from __future__ import annotations

from datetime import date

import pytest

from checklists import load_packs
from checklists.generator import SchoolProfile, compose

ON = date(2026, 11, 30)


@pytest.fixture(scope="module")
def packs():
    return load_packs()


def _ids(pack, profile: SchoolProfile) -> set[str]:
    snapshot = compose(pack, profile, on=ON)
    return {item["id"] for section in snapshot["sections"] for item in section["items"]}


def test_helan_senior_high_schools_get_career_guidance(packs):
    """贺党教发〔2023〕1号 二(二)12 (高中教育): "加强学生生涯规划指导" — a 高中's own duty, for 高中 only."""
    helan = packs["helan"]
    item = helan.item("helan.teaching.career_guidance")
    assert item.scope.stages == ("senior",)
    assert [s.section for s in item.sources] == ["二(二)12"]
    assert "helan.teaching.career_guidance" in _ids(helan, SchoolProfile("senior", "urban"))
    assert "helan.teaching.career_guidance" in _ids(helan, SchoolProfile("complete_secondary", "town"))
    for stage in ("junior", "nine_year", "kindergarten"):
        assert "helan.teaching.career_guidance" not in _ids(helan, SchoolProfile(stage, "urban"))


def test_liaocheng_principal_rotation_cites_the_row_that_names_kindergarten_heads(packs):
    """聊城 二(二)4 puts the 2-term rule under "义务教育学校校长城乡定期交流轮岗机制"; the item addresses every
    乡村学校 (幼儿园 too), which only 重点项目清单20 ("校(园)长", "在一所学校任职校长或副校长连续满2个任期的,
    原则上应进行城乡交流") supports. Every stage the item reaches must be backed by a quote."""
    item = packs["liaocheng"].item("liaocheng.teacher.principal_rotation")
    assert "kindergarten" in item.scope.stages
    rows = [s for s in item.sources if s.section == "重点项目清单20"]
    assert any("校(园)长" in s.quote for s in rows)
    assert any("连续满2个任期" in s.quote and item.binding_word in s.quote for s in rows)


def test_an_item_is_not_given_before_its_effective_from(packs):
    """兴署发〔2025〕53 二(一)1 / 三(二): "2026年秋季学期义务教育起始年级班级学生数不超过国家规定的班额标准" —
    a visit in spring 2026 is not judged by it (the item carries effective_from 2026-09-01); from that day it is."""
    xam = packs["xinganmeng"]
    item_id = "xinganmeng.conditions.class_size"
    assert xam.item(item_id).effective_from == date(2026, 9, 1)
    profile = SchoolProfile("primary", "town")
    before = compose(xam, profile, on=date(2026, 8, 31))
    after = compose(xam, profile, on=date(2026, 9, 1))
    assert item_id not in {i["id"] for s in before["sections"] for i in s["items"]}
    assert item_id in {i["id"] for s in after["sections"] for i in s["items"]}
    assert before["version"] != after["version"]
