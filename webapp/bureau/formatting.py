"""Words for thresholds, values and outcomes, shared by pages, exports and the printed report."""

from __future__ import annotations

from datetime import date
from typing import Any

from checklists.due import due_text
from checklists.vocabulary import OPERATORS, PERIODS, STAGES

#: Outcome codes of a result and of a matrix cell, with their words and a symbol that reads without colour.
OUTCOMES: dict[str, tuple[str, str]] = {
    "pass": ("达标", "✓"),
    "fail": ("未达标", "✗"),
    "rectifying": ("整改中", "△"),
    "rectified": ("已整改", "✓"),
    "na": ("不适用", "—"),
    "recorded": ("已记录", "✎"),
    "unchecked": ("未检查", "○"),
}
ANSWERS = {"yes": "是", "no": "否", "na": "不适用"}


def number(value: float | int | None) -> str:
    """45.0 as 45, 0.5 as 0.5, None as empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def threshold_text(check: dict[str, Any]) -> str:
    """The standard an item is judged against, e.g. ``≤ 45人`` or ``每学期 ≥ 2次``."""
    kind = check.get("type")
    unit = check.get("unit") or ""
    if kind in ("numeric", "percentage") and check.get("value") is not None:
        return f"{OPERATORS.get(check.get('operator', ''), check.get('operator', ''))} {number(check['value'])}{unit}"
    if kind in ("numeric", "percentage") and check.get("by_stage"):
        op = OPERATORS.get(check.get("operator", ""), "")
        return "；".join(f"{STAGES.get(stage, stage)} {op} {number(v)}{unit}" for stage, v in check["by_stage"].items())
    if kind == "count_per_period":
        return f"{PERIODS.get(check.get('period', ''), '')} ≥ {check.get('count')}{unit or '次'}"
    if kind == "deadline":
        # Format 1 kept the date on the check; format 2 has the item's ``due`` (see item_marks).
        return f"时限 {check['due']}" if check.get("due") else "按时限完成"
    if kind == "yes_no":
        return "应为“是”"
    return ""


def value_text(check: dict[str, Any] | None, value: dict[str, Any] | None) -> str:
    """A recorded value in words: 是 / 否 / 48人 / the text."""
    if not value:
        return ""
    if "answer" in value:
        return ANSWERS.get(value["answer"], str(value["answer"]))
    if "number" in value:
        unit = (check or {}).get("unit") or ""
        return f"{number(value['number'])}{unit}"
    if "text" in value:
        return str(value["text"])
    return str(value)


def outcome_label(code: str | None) -> str:
    """达标 / 未达标 / … for an outcome code (text results are 已记录)."""
    return OUTCOMES.get(code or "recorded", OUTCOMES["recorded"])[0]


def outcome_symbol(code: str | None) -> str:
    """The symbol of an outcome, so the meaning survives without colour (and in print)."""
    return OUTCOMES.get(code or "recorded", OUTCOMES["recorded"])[1]


def due_words(due: dict[str, Any] | None, today: date) -> str:
    """A composed item's resolved due date in words: 应于2026年12月5日前 / 已逾期 12 天 ('' without one)."""
    if not due or not due.get("on"):
        return ""
    return due_text(date.fromisoformat(due["on"]), today)


def item_marks(item: dict[str, Any], today: date) -> list[tuple[str, str]]:
    """What a composed item says beside its title, as (css class, words): its section of a mixed school,
    soft wording (倡导性（力争）), 文件已到期, the due state as of ``today``, a reference figure.

    Older snapshots (format 1) have none of these fields and get no marks.
    """
    marks: list[tuple[str, str]] = []
    if item.get("section_label"):
        marks.append(("section", item["section_label"]))
    if item.get("binding") == "soft":
        word = item.get("binding_word")
        marks.append(("soft", f"倡导性（{word}）" if word else "倡导性"))
    if item.get("status") == "expired":
        marks.append(("expired", "文件已到期"))
    words = due_words(item.get("due"), today)
    if words:
        label = (item.get("due") or {}).get("label")
        marks.append(("overdue" if words.startswith("已逾期") else "due", f"{words}（{label}）" if label else words))
    reference = item.get("reference")
    if reference:
        standard, text = reference.get("standard", ""), reference.get("text", "")
        marks.append(("reference", f"参考：{standard} {text}（非本县文件规定）"))
    return marks
