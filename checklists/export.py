"""Exports of a pack: a flat JSON item list, and an XLSForm workbook.

The XLSForm lets counties already on ODK Collect or KoboToolbox use our packs.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

from .generator import item_as_dict
from .model import Pack

#: XLSForm comparison operators for our check operators.
_XPATH_OPS = {"<=": "<=", "<": "<", ">=": ">=", ">": ">", "==": "="}


def pack_items(pack: Pack) -> list[dict[str, Any]]:
    """Every item of the pack as JSON-able data, with its checklist id and title."""
    rows = []
    for checklist in pack.checklists:
        for item in checklist.items:
            row = item_as_dict(item)
            row["checklist"] = {"id": checklist.id, "title": checklist.title}
            rows.append(row)
    return rows


def _field_name(item_id: str) -> str:
    """XLSForm names must be XML names: dots become underscores."""
    return item_id.replace(".", "_")


def _threshold_label(check: dict[str, Any]) -> str:
    if check.get("operator") and check.get("value") is not None:
        value = check["value"]
        shown = int(value) if float(value).is_integer() else value
        return f"（标准：{check['operator']} {shown}{check.get('unit') or ''}）"
    if check.get("count"):
        return f"（标准：≥ {check['count']}{check.get('unit') or '次'}）"
    if check.get("due"):
        return f"（时限：{check['due']}）"
    return ""


def _item_rows(item: dict[str, Any]) -> list[list[Any]]:
    """survey rows for one item: the answer, a pass/fail calculation, a photo."""
    name = _field_name(item["id"])
    check = item["check"]
    kind = check["type"]
    label = item["title"] + _threshold_label(check)
    hint = item.get("guidance") or ""
    rows: list[list[Any]] = []
    if kind in ("yes_no", "deadline"):
        rows.append(["select_one yes_no_na", name, label, hint, "yes", "", "", ""])
    elif kind == "text":
        rows.append(["text", name, label, hint, "", "", "", ""])
    elif kind == "count_per_period":
        rows.append(["integer", name, label, hint, "yes", ". >= 0", "请输入不小于0的整数", ""])
        rows.append(
            ["calculate", name + "_ok", "", "", "", "", "", f"if(${{{name}}} >= {check['count']}, 'pass', 'fail')"]
        )
    else:  # numeric, percentage
        constraint = ". >= 0 and . <= 100" if kind == "percentage" else ". >= 0"
        rows.append(["decimal", name, label, hint, "yes", constraint, "数值超出范围", ""])
        if check.get("value") is not None and check.get("operator"):
            op = _XPATH_OPS[check["operator"]]
            rows.append(
                [
                    "calculate",
                    name + "_ok",
                    "",
                    "",
                    "",
                    "",
                    "",
                    f"if(${{{name}}} {op} {check['value']}, 'pass', 'fail')",
                ]
            )
    if item["photo_required"]:
        rows.append(["image", name + "_photo", f"拍照取证：{item['title']}", "", "yes", "", "", ""])
    rows.append(["text", name + "_note", "现场记录（可选）", "", "", "", "", ""])
    return rows


def xlsform_workbook(snapshot: dict[str, Any]) -> bytes:
    """Build an XLSForm workbook (xlsx bytes) from a composed checklist."""
    wb = Workbook()
    survey = wb.active
    survey.title = "survey"
    survey.append(["type", "name", "label", "hint", "required", "constraint", "constraint_message", "calculation"])
    for section in snapshot["sections"]:
        survey.append(["begin_group", section["id"], section["title"], "", "", "", "", ""])
        for item in section["items"]:
            for row in _item_rows(item):
                survey.append(row)
        survey.append(["end_group", "", "", "", "", "", "", ""])
    choices = wb.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    for name, label in (("yes", "是"), ("no", "否"), ("na", "不适用")):
        choices.append(["yes_no_na", name, label])
    settings = wb.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language"])
    pack = snapshot["pack"]
    title = f"{pack['name']} {snapshot['visit_type']['title']}"
    # ODK wants a version string that sorts; the hash prefix keeps it traceable.
    settings.append([title, f"dudao_{pack['id']}_{snapshot['visit_type']['id']}", snapshot["version"][:12], "zh"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
