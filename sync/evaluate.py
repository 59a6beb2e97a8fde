"""Judge a recorded value against an item's check: pass, fail, not applicable.

The phone runs the same rules in JavaScript to show 达标 / 未达标 at once;
the server's verdict, made here, is the one stored.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any, Literal

Outcome = Literal["pass", "fail", "na"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
    "==": operator.eq,
}
ANSWERS = ("yes", "no", "na")
NUMBER_TYPES = ("numeric", "percentage", "count_per_period")


class InvalidValue(ValueError):
    """A value does not fit its check type; ``message`` is Chinese for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def validate_value(check: Mapping[str, Any], value: Any) -> dict[str, Any]:
    """Return the value in canonical form, or raise InvalidValue saying what is wrong.

    Shapes: ``{"answer": "yes"|"no"|"na"}`` for yes/no and deadlines,
    ``{"number": 12.5}`` (or ``{"answer": "na"}``) for numbers, ``{"text": "…"}`` for text.
    """
    if not isinstance(value, Mapping):
        raise InvalidValue("结果格式错误。")
    kind = check["type"]
    if value.get("answer") == "na" and set(value) == {"answer"}:
        return {"answer": "na"}
    if kind in ("yes_no", "deadline"):
        if set(value) != {"answer"} or value["answer"] not in ANSWERS:
            raise InvalidValue("请选择 是 / 否 / 不适用。")
        return {"answer": value["answer"]}
    if kind in NUMBER_TYPES:
        number = value.get("number")
        if set(value) != {"number"} or isinstance(number, bool) or not isinstance(number, int | float):
            raise InvalidValue("请输入数字。")
        if not math.isfinite(number):  # 1e309 typed in a form reads as infinity; NaN is no number either
            raise InvalidValue("请输入数字。")
        if number < 0:
            raise InvalidValue("数值不能为负数。")
        if kind == "percentage" and number > 100:
            raise InvalidValue("百分比应在 0 到 100 之间。")
        if kind == "count_per_period" and not float(number).is_integer():
            raise InvalidValue("次数应为整数。")
        if number > 1e9:
            raise InvalidValue("数值过大。")
        return {"number": number}
    if kind == "text":
        text = value.get("text")
        if set(value) != {"text"} or not isinstance(text, str):
            raise InvalidValue("请输入文字。")
        if len(text) > 4000:
            raise InvalidValue("文字最多 4000 字。")
        return {"text": text}
    raise InvalidValue("未知的检查类型。")


def evaluate(check: Mapping[str, Any], value: Mapping[str, Any]) -> Outcome | None:
    """Judge a canonical ``value``; None when there is nothing to judge (text)."""
    if value.get("answer") == "na":
        return "na"
    kind = check["type"]
    if kind in ("yes_no", "deadline"):
        return "pass" if value["answer"] == "yes" else "fail"
    if kind == "count_per_period":
        return "pass" if value["number"] >= check["count"] else "fail"
    if kind in ("numeric", "percentage"):
        threshold = check.get("value")
        if threshold is None or check.get("operator") not in _OPS:
            return None
        return "pass" if _OPS[check["operator"]](value["number"], threshold) else "fail"
    return None


def number_of(value: Mapping[str, Any]) -> float | None:
    """The number in a canonical value, if any (kept for aggregates)."""
    number = value.get("number")
    return float(number) if number is not None else None
