"""Exports of a pack: a flat JSON item list, and an XLSForm workbook.

The XLSForm lets counties already on ODK Collect or KoboToolbox use our packs.
Its submissions carry the visit's metadata (school, inspector, visit date,
start/end, location), and each composed checklist gets its own ``form_id``
(pack, visit type, version prefix), so a county can tell the forms apart.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date
from typing import Any

from openpyxl import Workbook

from .generator import Context, item_as_dict
from .model import Pack
from .vocabulary import BINDINGS, STAGES

#: XLSForm comparison operators for our check operators.
_XPATH_OPS = {"<=": "<=", "<": "<", ">=": ">=", ">": ">", "==": "="}
#: The survey sheet's columns, in order.
COLUMNS = (
    "type",
    "name",
    "label",
    "hint",
    "required",
    "relevant",
    "constraint",
    "constraint_message",
    "calculation",
    "default",
    "parameters",
)


def pack_items(
    pack: Pack, *, on: date | None = None, settings: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Every item of the pack as JSON-able data, with its checklist, scope, binding, status and due rule.

    ``on`` (default today) sets each item's status and resolves its due date;
    ``settings`` are a county's values for the pack's ``county_settings``.
    """
    context = Context.of(pack, on, settings)
    rows = []
    for checklist in pack.checklists:
        for item in checklist.items:
            row = item_as_dict(item, context=context)
            row["checklist"] = {"id": checklist.id, "title": checklist.title}
            rows.append(row)
    return rows


def _field_name(item_id: str) -> str:
    """XLSForm names must be XML names: dots and a section's @ become underscores."""
    return item_id.replace(".", "_").replace("@", "__")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def standard_text(item: dict[str, Any]) -> str:
    """The standard an answer is judged by, and where it comes from: ``≤ 45人（西教体函发〔2022〕203号 二(一)1）``."""
    check = item["check"]
    if check.get("operator") and check.get("value") is not None:
        rule = f"{check['operator']} {_number(check['value'])}{check.get('unit') or ''}"
    elif check.get("count"):
        rule = f"≥ {check['count']}{check.get('unit') or '次'}"
    elif item.get("due"):
        rule = item["due"]["label"]
    else:
        rule = "按文件要求"
    source = item["sources"][0]
    return f"{rule}（{source['doc_no']} {source['section']}）"


def _label(item: dict[str, Any]) -> str:
    marks = []
    if item["status"] == "expired":
        marks.append("【文件已到期】")
    if item["status"] == "draft":
        marks.append("【征求意见稿】")
    if item["binding"] == "soft":
        marks.append(f"（{BINDINGS['soft']}：{item['binding_word']}）")
    return f"{item['title']}（标准：{standard_text(item)}）{''.join(marks)}"


def _hint(item: dict[str, Any]) -> str:
    parts = [item.get("guidance") or ""]
    if item.get("due"):
        parts.append(f"时限：{item['due']['label']}")
    if item.get("reference"):
        ref = item["reference"]
        parts.append(f"参考（非本县文件，不作判定）：{ref['standard']} {ref['text']}")
    return " ".join(part for part in parts if part)


def _row(**cells: str) -> list[str]:
    return [cells.get(column, "") for column in COLUMNS]


def _item_rows(item: dict[str, Any]) -> list[list[str]]:
    """survey rows for one item: the answer (or 不适用), a pass/fail calculation, a photo, a note."""
    name = _field_name(item["id"])
    check = item["check"]
    kind = check["type"]
    label, hint, standard = _label(item), _hint(item), standard_text(item)
    rows: list[list[str]] = []
    if kind in ("yes_no", "deadline"):
        rows.append(_row(type="select_one yes_no_na", name=name, label=label, hint=hint, required="yes"))
        answered = f"${{{name}}} != 'na'"
    else:
        # Numbers and text have no 不适用 answer of their own: a tick box says so.
        rows.append(_row(type="select_multiple na", name=name + "_na", label=f"{item['title']}：本项不适用？"))
        answered = f"not(selected(${{{name}_na}}, 'na'))"
        if kind == "text":
            rows.append(_row(type="text", name=name, label=label, hint=hint, required="yes", relevant=answered))
        elif kind == "count_per_period":
            rows.append(
                _row(
                    type="integer",
                    name=name,
                    label=label,
                    hint=hint,
                    required="yes",
                    relevant=answered,
                    constraint=". >= 0",
                    constraint_message=f"请输入不小于0的整数。标准：{standard}",
                )
            )
            rows.append(
                _row(
                    type="calculate",
                    name=name + "_ok",
                    calculation=f"if(${{{name}}} >= {check['count']}, 'pass', 'fail')",
                )
            )
        else:  # numeric, percentage
            bounds = ". >= 0 and . <= 100" if kind == "percentage" else ". >= 0"
            message = "请输入0–100之间的百分数" if kind == "percentage" else "请输入不小于0的数值"
            rows.append(
                _row(
                    type="decimal",
                    name=name,
                    label=label,
                    hint=hint,
                    required="yes",
                    relevant=answered,
                    constraint=bounds,
                    constraint_message=f"{message}。标准：{standard}",
                )
            )
            if check.get("value") is not None and check.get("operator"):
                op = _XPATH_OPS[check["operator"]]
                rows.append(
                    _row(
                        type="calculate",
                        name=name + "_ok",
                        calculation=f"if(${{{name}}} {op} {check['value']}, 'pass', 'fail')",
                    )
                )
    if item["photo_required"]:
        rows.append(
            _row(
                type="image",
                name=name + "_photo",
                label=f"拍照取证：{item['title']}",
                required="yes",
                relevant=answered,
                # Phones take 4000-pixel photos; 1600 is plenty for evidence and syncs on a slow network.
                parameters="max-pixels=1600",
            )
        )
    rows.append(_row(type="text", name=name + "_note", label="现场记录（可选）"))
    return rows


def _metadata_rows(snapshot: dict[str, Any]) -> list[list[str]]:
    """What every submission must say: when, where, which school, who."""
    rows = [
        _row(type="start", name="started_at"),
        _row(type="end", name="ended_at"),
        _row(type="date", name="visit_date", label="督导日期", required="yes", default="today()"),
        _row(type="text", name="school_name", label="学校名称", required="yes"),
        _row(type="text", name="school_code", label="学校代码（可选）"),
        _row(type="text", name="inspector_name", label="督学姓名", required="yes"),
        _row(type="geopoint", name="location", label="学校位置（定位）", hint="在学校内定位"),
    ]
    if snapshot["pack"]["status"] == "draft":
        rows.append(_row(type="note", name="draft_notice", label="本清单依据征求意见稿生成，文件尚未正式印发。"))
    if not snapshot.get("applicable", True):
        rows.append(_row(type="note", name="not_applicable", label=snapshot.get("not_applicable", "本政策包不适用")))
    return rows


def form_title(snapshot: dict[str, Any]) -> str:
    """``西吉县 经常性督导（小学·乡镇）``; a draft pack's says 征求意见稿."""
    pack, profile = snapshot["pack"], snapshot["profile"]
    title = f"{pack['name']} {snapshot['visit_type']['title']}（{STAGES[profile['stage']]}）"
    return title + "（征求意见稿）" if pack["status"] == "draft" else title


def form_id(snapshot: dict[str, Any]) -> str:
    """Distinct per composed checklist: pack, visit type and version prefix."""
    return f"dudao_{snapshot['pack']['id']}_{snapshot['visit_type']['id']}_{snapshot['version'][:8]}"


def xlsform_sheets(snapshot: dict[str, Any]) -> dict[str, list[list[str]]]:
    """The XLSForm's sheets (survey, choices, settings) as rows, header first."""
    survey = [list(COLUMNS), *_metadata_rows(snapshot)]
    for section in snapshot["sections"]:
        survey.append(_row(type="begin_group", name=section["id"], label=section["title"]))
        for item in section["items"]:
            survey.extend(_item_rows(item))
        survey.append(_row(type="end_group"))
    choices = [
        ["list_name", "name", "label"],
        ["yes_no_na", "yes", "是"],
        ["yes_no_na", "no", "否"],
        ["yes_no_na", "na", "不适用"],
        ["na", "na", "本项不适用"],
    ]
    # ODK wants a version string that sorts; the hash prefix keeps it traceable.
    settings = [
        ["form_title", "form_id", "version", "default_language"],
        [form_title(snapshot), form_id(snapshot), snapshot["version"][:12], "zh"],
    ]
    return {"survey": survey, "choices": choices, "settings": settings}


def xlsform_workbook(snapshot: dict[str, Any]) -> bytes:
    """Build an XLSForm workbook (xlsx bytes) from a composed checklist."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in xlsform_sheets(snapshot).items():
        sheet = wb.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
