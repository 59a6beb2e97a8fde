"""A small synthetic policy pack for the webapp's tests of exact checklists (issue 8).

The real packs are being re-audited item by item, so these tests build their
own: a document addressed to 小学 and 初中 (nothing for a kindergarten), a class
size with one limit per section (split for a 九年一贯制 school), a soft item due
every year by 12-05, a one-off deadline, an expired document and a 校车 item.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from flask import Flask

from checklists.model import (
    AppliesTo,
    Check,
    Checklist,
    CountySetting,
    Document,
    Due,
    Item,
    Pack,
    Reference,
    Source,
)

DOC = Document(
    file="900_test.txt",
    doc_no="测教发〔2024〕1号",
    title="测试县义务教育学校督导办法",
    addresses=AppliesTo(stages=("primary", "junior")),
)
OLD_DOC = replace(DOC, file="901_old.txt", doc_no="测教发〔2020〕9号", effective_until=date(2022, 12, 31))
AUDIENCE = DOC.addresses


def _item(item_id: str, title: str, check: Check, **fields) -> Item:
    doc = fields.pop("doc", DOC)
    return Item(
        id=f"testpack.{item_id}",
        concept=fields.pop("concept", "safety.one_click_alarm"),
        title=title,
        check=check,
        checked_by="inspector_visit",
        sources=(Source(doc.file, doc.doc_no, "一(1)", title),),
        audience=doc.addresses,
        **fields,
    )


CLASS_SIZE = _item(
    "class_size",
    "班额不超标",
    Check(type="numeric", operator="<=", unit="人", by_stage={"primary": 45, "junior": 50}),
    concept="conditions.class_size",
)
ALARM = _item("alarm", "一键报警接入公安", Check(type="yes_no"))
REPORT = _item(
    "report",
    "按时报送督导报告",
    Check(type="yes_no"),
    binding="soft",
    binding_word="力争",
    due=Due(kind="yearly", month_day="12-05"),
    concept="reporting.work_ledger",
)
GROUPING = _item(
    "grouping",
    "纳入集团化管理",
    Check(type="deadline"),
    due=Due(kind="once", date=date(2023, 12, 31)),
    concept="group.membership",
)
OLD_RULE = _item(
    "old_rule",
    "旧文件要求的值班制度",
    Check(type="yes_no"),
    doc=OLD_DOC,
    effective_until=date(2022, 12, 31),
    concept="safety.daily_inspection",
)
BUS = _item(
    "bus",
    "校车安全管理",
    Check(type="yes_no"),
    applies_to=AppliesTo(traits=("school_bus",)),
    reference=Reference(standard="《校车安全管理条例》", text="每学期检查2次"),
    concept="safety.school_transport",
)

PACK = Pack(
    id="testpack",
    name="测试县",
    region="测试省测试县",
    status="in_force",
    documents=(DOC, OLD_DOC),
    checklists=(
        Checklist("campus_safety", "校园安全", (ALARM, BUS, OLD_RULE)),
        Checklist("school_conditions", "办学条件", (CLASS_SIZE,)),
        Checklist("reporting", "督导与报送时限", (REPORT, GROUPING)),
    ),
    county_settings=(
        CountySetting(key="acceptance_year", label="优质均衡验收年份", type="year"),
        CountySetting(key="teacher_cycle_anchor", label="三年轮训起始日", type="date", default=date(2022, 9, 1)),
    ),
)
DRAFT = replace(PACK, id="testdraft", name="测试市", status="draft")


def install(app: Flask, pack: Pack = PACK) -> Pack:
    """Make ``pack`` one of the app's packs (this app only: each app loads its own)."""
    app.extensions["dudao.packs"][pack.id] = pack
    return pack
