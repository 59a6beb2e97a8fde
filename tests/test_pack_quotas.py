"""The pack schema's quota and rubric blocks: optional, validated, and old packs still load."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from checklists import PackError, load_pack
from checklists.quotas import rules_of

from .test_packs import GOOD

WITH_QUOTA = GOOD.replace(
    "        checked_by: researcher_log\n",
    "        checked_by: researcher_log\n        quota: {kinds: [lesson, guidance], forms: [open, seminar]}\n",
)
RUBRIC = """lesson_rubric:
  - {id: design, label: 教学设计, max_score: 10}
  - {id: climate, label: 课堂氛围}
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    return load_pack(path)


def test_a_pack_without_quota_or_rubric_loads_as_before(tmp_path):
    pack = _load(tmp_path, GOOD)
    assert pack.items[0].quota is None and pack.lesson_rubric == ()
    assert rules_of(pack) == ()


def test_quota_block_is_read_with_its_defaults(tmp_path):
    pack = _load(tmp_path, WITH_QUOTA + RUBRIC)
    quota = pack.items[0].quota
    assert (quota.kinds, quota.forms, quota.who, quota.schools) == (
        ("lesson", "guidance"),
        ("open", "seminar"),
        "researcher",
        "assigned",
    )
    assert [(d.id, d.max_score) for d in pack.lesson_rubric] == [("design", 10), ("climate", 5)]
    (rule,) = rules_of(pack)
    assert (rule.count, rule.unit, rule.kinds_label, rule.forms_label) == (
        15,
        "次",
        "听评课、教研指导",
        "公开课、专题研讨",
    )


def test_three_year_cycles_take_their_anchor_from_the_pack(tmp_path):
    text = WITH_QUOTA.replace("period: term", "period: three_years").replace(
        "forms: [open, seminar]", "who: teacher, cycle_from: 2022-09-01"
    )
    (rule,) = rules_of(_load(tmp_path, text))
    assert (rule.who, rule.cycle_from) == ("teacher", date(2022, 9, 1))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("kinds: [lesson, guidance]", "kinds: [dancing]", "quota.kinds[0]: Must be one of"),
        ("kinds: [lesson, guidance]", "kinds: []", "quota.kinds: Shorter than minimum length 1"),
        ("forms: [open, seminar]", "forms: [forum]", "quota.forms: form forum is not a form of"),
        ("forms: [open, seminar]", "who: everyone", "quota.who: Must be one of"),
        ("forms: [open, seminar]", "schools: nearby", "quota.schools: Must be one of"),
        ("forms: [open, seminar]", "per: term", "quota.per: Unknown field"),
        ("check: {type: count_per_period, count: 15, period: term}", "check: {type: yes_no}", "quota: a quota needs"),
        ("period: term", "period: three_years", "quota: a three_years quota needs cycle_from"),
    ],
)
def test_bad_quota_blocks_are_refused(tmp_path, old, new, expected):
    assert old in WITH_QUOTA
    with pytest.raises(PackError) as info:
        _load(tmp_path, WITH_QUOTA.replace(old, new, 1))
    assert expected in str(info.value)


def test_rubric_ids_must_be_unique(tmp_path):
    with pytest.raises(PackError) as info:
        _load(tmp_path, GOOD + RUBRIC.replace("id: climate", "id: design"))
    assert "lesson_rubric: dimension ids must be unique" in str(info.value)
