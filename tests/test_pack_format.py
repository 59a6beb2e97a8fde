"""Pack format v2: audiences only narrowed, traits, binding words, due rules, settings, references."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from checklists import PackError, load_pack
from checklists.model import AppliesTo, Due, Reference
from checklists.quotas import counts_at_school, rules_of

from .test_packs import GOOD

SOFT_QUOTE = "力争培育1个自治区级特色优质教育集团"


def _load(tmp_path: Path, text: str):
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    return load_pack(path)


def _with(addresses: str = "{}", item: str = "", document: str = "") -> str:
    """GOOD with the document's ``addresses`` (and more document lines) and extra item lines."""
    text = GOOD.replace("addresses: {}}", f"addresses: {addresses}{document}}}")
    if item:
        text = text.replace("        checked_by: researcher_log\n", f"        checked_by: researcher_log\n{item}")
    return text


def _refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(PackError) as info:
        _load(tmp_path, text)
    return str(info.value)


def test_items_inherit_their_documents_audience_and_dates(tmp_path):
    pack = _load(
        tmp_path,
        _with("{stages: [primary, junior], locations: [town, village]}", document=", effective_until: 2025-12-31"),
    )
    (item,) = pack.items
    assert item.applies_to == AppliesTo()
    assert item.scope == AppliesTo(stages=("primary", "junior"), locations=("town", "village"))
    assert item.effective_until == date(2025, 12, 31)
    assert item.scope.matches("nine_year", "town") and not item.scope.matches("kindergarten", "town")
    assert not item.scope.matches("senior", "town") and not item.scope.matches("primary", "urban")


def test_applies_to_narrows_the_audience(tmp_path):
    text = _with("{stages: [primary, junior]}", item="        applies_to: {stages: [junior], traits: [group_core]}\n")
    (item,) = _load(tmp_path, text).items
    assert item.scope == AppliesTo(stages=("junior",), traits=("group_core",))
    assert item.scope.matches("nine_year", "urban", traits={"group_core"})
    assert not item.scope.matches("junior", "urban"), "a school lacking the trait is not addressed"


@pytest.mark.parametrize(
    ("addresses", "applies_to", "expected"),
    [
        ("{stages: [primary, junior]}", "{stages: [kindergarten, primary]}", "applies_to stages"),
        ("{locations: [town, village]}", "{locations: [urban]}", "applies_to locations"),
    ],
)
def test_a_wider_applies_to_is_refused(tmp_path, addresses, applies_to, expected):
    message = _refused(tmp_path, _with(addresses, item=f"        applies_to: {applies_to}\n"))
    assert "tiny.yaml: item tiny.researcher.lessons: " + expected in message
    assert "exceed the audience" in message


def test_a_document_section_changes_the_audience_by_longest_prefix(tmp_path):
    document = (
        ", sections: [{prefix: 四, addresses: {stages: [primary]}},"
        " {prefix: 四(二), addresses: {stages: [kindergarten]}}]"
    )
    pack = _load(tmp_path, _with("{stages: [primary, junior]}", document=document))
    assert pack.items[0].scope.stages == ("kindergarten",)  # its source is at 四(二)2
    message = _refused(
        tmp_path,
        _with("{stages: [primary, junior]}", item="        applies_to: {stages: [junior]}\n", document=document),
    )
    assert "exceed the audience's ['kindergarten']" in message


def test_boarding_only_is_read_as_the_boarding_trait(tmp_path):
    (item,) = _load(tmp_path, _with(item="        applies_to: {boarding_only: true}\n")).items
    assert item.applies_to.traits == ("boarding",) and item.scope.boarding_only
    assert item.scope.matches("primary", "town", is_boarding=True)
    assert not item.scope.matches("primary", "town", is_boarding=False)


def test_soft_binding_names_a_word_of_its_quote(tmp_path):
    soft = GOOD.replace("农村学校听评课不少于15节", SOFT_QUOTE).replace("教研员每学期到包片包抓\n              ", "")
    pack = _load(
        tmp_path,
        soft.replace(
            "        checked_by:", "        binding: soft\n        binding_word: 力争\n        checked_by:", 1
        ),
    )
    assert (pack.items[0].binding, pack.items[0].binding_word) == ("soft", "力争")
    assert _load(tmp_path, GOOD).items[0].binding == "mandatory"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ("        binding: soft\n        binding_word: 力争\n", "binding word 力争 is not in any of the item's quotes"),
        ("        binding: soft\n", "a soft item names its word"),
        ("        binding_word: 原则上\n", "binding_word goes with binding: soft"),
        ("        binding: soft\n        binding_word: 必须\n", "binding_word: Must be one of"),
        ("        binding: loose\n", "binding: Must be one of"),
    ],
)
def test_bad_binding_is_refused(tmp_path, lines, expected):
    assert expected in _refused(tmp_path, _with(item=lines))


DEADLINE = "check: {type: deadline}"


def test_due_rules_load(tmp_path):
    settings = (
        "county_settings:\n"
        "  - {key: acceptance_year, label: 优质均衡验收年份, type: year, default: 2027}\n"
        "  - {key: teacher_cycle_anchor, label: 三年轮训起始日, type: date, default: 2022-09-01, note: 由县确认}\n"
    )
    rules = {
        "{kind: once, date: 2023-12-31}": Due("once", date=date(2023, 12, 31)),
        '{kind: yearly, month_day: "12-05"}': Due("yearly", month_day="12-05"),
        "{kind: termly, offset_days: 30}": Due("termly", offset_days=30),
        "{kind: cycle, years: 3, anchor_setting: teacher_cycle_anchor}": Due(
            "cycle", years=3, anchor_setting="teacher_cycle_anchor"
        ),
        "{kind: cycle, years: 5, anchor: 2022-09-01}": Due("cycle", years=5, anchor=date(2022, 9, 1)),
        '{kind: relative, setting: acceptance_year, offset_years: -1, month_day: "12-31"}': Due(
            "relative", setting="acceptance_year", offset_years=-1, month_day="12-31"
        ),
    }
    for text, expected in rules.items():
        pack = _load(tmp_path, _with(item=f"        due: {text}\n") + settings)
        assert pack.items[0].due == expected
        assert pack.county_settings[0].default == 2027 and pack.county_settings[1].note == "由县确认"


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("        due: {kind: once}\n", "due.date: due kind once needs date"),
        (
            '        due: {kind: yearly, month_day: "12-05", date: 2023-01-01}\n',
            "due.date: due kind yearly does not take date",
        ),
        ('        due: {kind: yearly, month_day: "02-30"}\n', "due.month_day: no such day: 02-30"),
        ('        due: {kind: yearly, month_day: "12/05"}\n', "due.month_day: month_day must be MM-DD"),
        ("        due: {kind: cycle, years: 3}\n", "due.anchor: a cycle needs either anchor"),
        ("        due: {kind: sometimes}\n", "due.kind: Must be one of"),
        (
            '        due: {kind: relative, setting: acceptance_year, offset_years: -1, month_day: "12-31"}\n',
            "due refers to county setting acceptance_year, which the pack does not declare",
        ),
    ],
)
def test_bad_due_rules_are_refused(tmp_path, item, expected):
    assert expected in _refused(tmp_path, _with(item=item))


def test_a_deadline_check_needs_the_items_due(tmp_path):
    text = GOOD.replace("check: {type: count_per_period, count: 15, period: term}", DEADLINE)
    assert "due: check type deadline needs the item's due rule" in _refused(tmp_path, text)
    old = GOOD.replace(
        "check: {type: count_per_period, count: 15, period: term}", "check: {type: deadline, due: 2023-12-31}"
    )
    assert "check.due: Unknown field" in _refused(tmp_path, old)
    assert (
        _load(
            tmp_path,
            _with(item="        due: {kind: once, date: 2023-12-31}\n").replace(
                "check: {type: count_per_period, count: 15, period: term}", DEADLINE
            ),
        )
        .items[0]
        .check.type
        == "deadline"
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "concept: researcher.lessons_observed",
            "concept: researcher.lessons_seen",
            "unknown concept researcher.lessons_seen",
        ),
        (", addresses: {}", "", "documents[0].addresses: Missing data for required field"),
        ("addresses: {}", "addresses: {stages: [nine_year]}", "addresses.stages[0]: Must be one of"),
        (
            "check: {type: count_per_period, count: 15, period: term}",
            'check: {type: numeric, operator: "<=", by_stage: {primary: 45, nine_year: 50}, unit: 人}',
            "check.by_stage",
        ),
        (
            "checked_by: researcher_log",
            "checked_by: researcher_log\n        applies_to: {traits: [rich]}",
            "traits[0]: Must be one of",
        ),
    ],
)
def test_v2_vocabulary_is_enforced(tmp_path, old, new, expected):
    assert old in GOOD
    assert expected in _refused(tmp_path, GOOD.replace(old, new, 1))


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("  - {key: acceptance_year, label: 验收年份, type: year, default: 2027-01-01}\n", "a year setting's default"),
        ("  - {key: anchor, label: 起始日, type: date, default: 2022}\n", "a date setting's default is a date"),
        ("  - {key: a, label: 甲, type: year}\n  - {key: a, label: 乙, type: year}\n", "setting keys must be unique"),
        ("  - {key: a, label: 甲, type: money}\n", "type: Must be one of"),
    ],
)
def test_bad_county_settings_are_refused(tmp_path, settings, expected):
    assert expected in _refused(tmp_path, GOOD + "county_settings:\n" + settings)


def test_a_reference_is_kept_apart_from_the_check(tmp_path):
    line = "        reference: {standard: 《国家学校体育卫生条件试行基本标准》, text: 小学≤45人}\n"
    (item,) = _load(tmp_path, _with(item=line)).items
    assert item.reference == Reference("《国家学校体育卫生条件试行基本标准》", "小学≤45人")
    assert "reference.text: Missing data" in _refused(tmp_path, _with(item="        reference: {standard: 国标}\n"))


def test_a_quota_scoped_to_primary_counts_at_a_nine_year_school(tmp_path):
    text = _with(item="        quota: {kinds: [lesson], schools: any}\n        applies_to: {stages: [primary]}\n")
    (rule,) = rules_of(_load(tmp_path, text))
    assert counts_at_school(rule, ("nine_year", "town", False), is_assigned=False)
    assert not counts_at_school(rule, ("junior", "town", False), is_assigned=False)
    assert rule.applies_to.school_types == ("primary", "nine_year", "twelve_year")


def test_concept_keys_are_one_per_requirement():
    """No dead or duplicate keys: a split (sport_art_skills / sports_arts_skills) shows as two keys with one name."""
    from collections import Counter

    from checklists import load_packs
    from checklists.vocabulary import CONCEPTS

    used = {item.concept for pack in load_packs().values() for item in pack.items}
    assert set(CONCEPTS) == used
    assert [name for name, n in Counter(CONCEPTS.values()).items() if n > 1] == []
    assert "teaching.sport_art_skills" not in CONCEPTS and "teaching.sports_arts_skills" not in CONCEPTS


def test_a_documents_audience_does_not_keep_school_less_records_out(tmp_path):
    """A county-wide 主题教研 (no school) still counts toward an item of a document for 义务教育 schools."""
    text = _with("{stages: [primary, junior]}", item="        quota: {kinds: [lesson], schools: any}\n")
    (rule,) = rules_of(_load(tmp_path, text))
    assert rule.applies_to.stages == ("primary", "junior") and not rule.is_school_restricted()
    assert counts_at_school(rule, None, is_assigned=False)
    assert not counts_at_school(rule, ("kindergarten", "town", False), is_assigned=False)
    narrowed = _with(
        "{stages: [primary, junior]}",
        item="        quota: {kinds: [lesson], schools: any}\n        applies_to: {locations: [village]}\n",
    )
    (rule,) = rules_of(_load(tmp_path, narrowed))
    assert rule.is_school_restricted() and not counts_at_school(rule, None, is_assigned=False)
