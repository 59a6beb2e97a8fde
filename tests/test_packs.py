"""The policy packs: valid, traceable to the seeds, and comparable across counties."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from checklists import PackError, load_pack, load_packs
from checklists.seeds import SEEDS_DIR

SHARED_SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
EXPECTED = {"helan": "in_force", "xiji": "in_force", "liaocheng": "draft", "xinganmeng": "in_force"}


@pytest.fixture(scope="module")
def packs():
    return load_packs()


def test_the_four_policy_sets_load(packs):
    assert {pid: p.status for pid, p in packs.items()} == EXPECTED


def test_well_over_a_hundred_items(packs):
    total = sum(len(p.items) for p in packs.values())
    assert total > 150, total
    for pack in packs.values():
        assert len(pack.items) >= 25, (pack.id, len(pack.items))


def _squash(text: str) -> str:
    return re.sub(r"\s", "", text)


def test_every_quote_is_verbatim_in_its_seed(packs):
    """Checked here on its own, independent of the loader's check."""
    texts = {p.name: _squash(p.read_text(encoding="utf-8")) for p in SEEDS_DIR.glob("*.txt")}
    checked = 0
    for pack in packs.values():
        for item in pack.items:
            for source in item.sources:
                assert _squash(source.quote) in texts[source.file], (item.id, source.quote)
                checked += 1
    assert checked >= sum(len(p.items) for p in packs.values())


@pytest.mark.skipif(not SHARED_SEEDS.is_dir(), reason="shared seeds not beside this checkout")
def test_vendored_seeds_equal_the_shared_seeds():
    shared = sorted(p.name for p in SHARED_SEEDS.glob("*.txt"))
    assert shared == sorted(p.name for p in SEEDS_DIR.glob("*.txt"))
    for name in shared:
        assert (SEEDS_DIR / name).read_bytes() == (SHARED_SEEDS / name).read_bytes()


def test_every_item_cites_file_doc_section_and_quote(packs):
    for pack in packs.values():
        doc_nos = {d.file: d.doc_no for d in pack.documents}
        for item in pack.items:
            assert item.sources
            for source in item.sources:
                assert doc_nos[source.file] == source.doc_no
                assert source.section.strip() and len(source.quote) >= 4


def test_quantified_requirements_are_typed(packs):
    kinds = Counter(item.check.type for pack in packs.values() for item in pack.items)
    assert kinds["count_per_period"] >= 8 and kinds["numeric"] >= 5 and kinds["percentage"] >= 5
    assert kinds["deadline"] >= 3 and kinds["yes_no"] >= 30


def test_known_requirements_are_present(packs):
    helan = packs["helan"]
    lessons = [i for i in helan.items if i.concept == "researcher.lessons_observed"]
    assert lessons and lessons[0].check.count == 15 and lessons[0].check.period == "term"
    guidance = [i for i in helan.items if i.concept == "researcher.guidance_sessions"]
    assert guidance and guidance[0].check.count == 2
    class_size = [i for i in packs["xiji"].items if i.concept == "conditions.class_size"]
    assert class_size
    check = class_size[0].check
    assert (check.threshold_for("primary"), check.threshold_for("junior")) == (45, 50)
    xiji_safety = {i.concept for i in packs["xiji"].items}
    assert {
        "safety.one_click_alarm",
        "safety.video_surveillance",
        "safety.security_guard",
        "safety.closed_management",
        "safety.school_patrol",
    } <= xiji_safety


def test_concepts_are_shared_across_counties(packs):
    seen: dict[str, set[str]] = {}
    for pack in packs.values():
        for item in pack.items:
            seen.setdefault(item.concept, set()).add(pack.id)
    shared = {c for c, ids in seen.items() if len(ids) >= 2}
    assert len(shared) >= 10, sorted(shared)


def test_titles_fit_a_phone(packs):
    for pack in packs.values():
        for item in pack.items:
            assert 2 <= len(item.title) <= 24, item.id


# --- the validator itself ---------------------------------------------------

GOOD = """
id: tiny
name: 测试县
region: 测试
status: in_force
documents:
  - {file: 000_110501d15428c237.txt, doc_no: 贺教发〔2023〕19号, title: 测试, addresses: {}}
checklists:
  - id: researcher_guidance
    items:
      - id: tiny.researcher.lessons
        concept: researcher.lessons_observed
        title: 听评课≥15节
        check: {type: count_per_period, count: 15, period: term}
        checked_by: researcher_log
        sources:
          - file: 000_110501d15428c237.txt
            doc_no: 贺教发〔2023〕19号
            section: 四(二)2
            quote: "教研员每学期到包片包抓
              农村学校听评课不少于15节"
"""


def _write(tmp_path: Path, text: str, name: str = "tiny.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_quote_across_a_line_break_still_matches(tmp_path):
    pack = load_pack(_write(tmp_path, GOOD))
    assert pack.items[0].check.count == 15


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("不少于15节", "不少于16节"), "quote not found verbatim in 000_110501d15428c237.txt"),
        (("period: term", "period: month"), "[tiny.researcher.lessons].check.period: Must be one of"),
        (("count: 15, ", ""), "[tiny.researcher.lessons].check.count: check type count_per_period needs count"),
        (("checked_by: researcher_log", "checked_by: anybody"), "[tiny.researcher.lessons].checked_by"),
        (("id: tiny.researcher.lessons", "id: other.researcher.lessons"), "id must start with 'tiny.'"),
        (("〔2023〕19号\n", "〔2023〕20号\n"), "does not match"),
        (("id: researcher_guidance", "id: nonsense"), "checklists[nonsense].id: Must be one of"),
    ],
)
def test_bad_packs_are_refused_naming_file_and_item(tmp_path, change, expected):
    old, new = change
    assert old in GOOD
    with pytest.raises(PackError) as info:
        load_pack(_write(tmp_path, GOOD.replace(old, new, 1)))
    message = str(info.value)
    assert message.startswith("tiny.yaml: ")
    assert expected in message


def test_load_packs_reports_every_bad_file(tmp_path):
    _write(tmp_path, GOOD.replace("不少于15节", "不少于16节"), "tiny.yaml")
    _write(
        tmp_path,
        GOOD.replace("id: tiny", "id: tiny2").replace("tiny.", "tiny2.").replace("period: term", "period: x"),
        "tiny2.yaml",
    )
    with pytest.raises(PackError) as info:
        load_packs(tmp_path)
    assert {p.split(":")[0] for p in info.value.problems} == {"tiny.yaml", "tiny2.yaml"}
