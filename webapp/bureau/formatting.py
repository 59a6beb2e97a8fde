"""Words for thresholds, values and outcomes, shared by pages, exports and the printed report."""

from __future__ import annotations

from typing import Any

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
        return f"时限 {check.get('due', '')}"
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
