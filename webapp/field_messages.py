"""Chinese for marshmallow's built-in field messages, applied where the one error shape is made.

Our schemas give Chinese messages where they validate something of their own; the generic ones
(a missing field, a wrong type, a length or range) come from marshmallow in English. Rather than
repeat a Chinese ``error_messages`` on every field, the error shape translates them in one place;
a message it does not know is passed through unchanged.
"""

from __future__ import annotations

import re
from typing import Any

_EXACT = {
    "Missing data for required field.": "必填。",
    "Field may not be null.": "不能为空。",
    "Invalid value.": "值无效。",
    "Invalid type.": "类型不对。",
    "Invalid input type.": "请求内容的格式不对。",
    "Invalid input.": "输入无效。",
    "Unknown field.": "不认识的字段。",
    "Not a valid list.": "应为列表。",
    "Not a valid tuple.": "应为列表。",
    "Not a valid string.": "应为文字。",
    "Not a valid utf-8 string.": "应为 UTF-8 文字。",
    "Not a valid UUID.": "应为 UUID 编号。",
    "Not a valid number.": "应为数字。",
    "Number too large.": "数字太大。",
    "Not a valid integer.": "应为整数。",
    "Special numeric values (nan or infinity) are not permitted.": "不能是 NaN 或无穷大。",
    "Not a valid boolean.": "应为是或否（true / false）。",
    "Not a valid date.": "日期格式应为 2026-09-01。",
    "Not a valid datetime.": "时间格式应为 2026-09-01T08:30:00+08:00。",
    "Not a valid time.": "时间格式应为 08:30:00。",
    "Not a valid period of time.": "应为时长。",
    "Not a valid mapping type.": "应为对象（键值对）。",
    "Not a valid URL.": "应为网址。",
    "Not a valid email address.": "应为电子邮件地址。",
    "String does not match expected pattern.": "格式不对。",
}

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Length must be between (\d+) and (\d+)\."), r"长度应为 \1 到 \2。"),
    (re.compile(r"Length must be (\d+)\."), r"长度应为 \1。"),
    (re.compile(r"Longer than maximum length (\d+)\."), r"太长：最多 \1 个字符（或项）。"),
    (re.compile(r"Shorter than minimum length (\d+)\."), r"太短：至少 \1 个字符（或项）。"),
    (re.compile(r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\."), r"应在 \1 到 \2 之间。"),
    (re.compile(r"Must be greater than (\S+) and less than (\S+)\."), r"应大于 \1 且小于 \2。"),
    (re.compile(r"Must be greater than or equal to (\S+) and less than (\S+)\."), r"应不小于 \1 且小于 \2。"),
    (re.compile(r"Must be greater than (\S+) and less than or equal to (\S+)\."), r"应大于 \1 且不大于 \2。"),
    (re.compile(r"Must be greater than or equal to (\S+)\."), r"应不小于 \1。"),
    (re.compile(r"Must be greater than (\S+)\."), r"应大于 \1。"),
    (re.compile(r"Must be less than or equal to (\S+)\."), r"应不大于 \1。"),
    (re.compile(r"Must be less than (\S+)\."), r"应小于 \1。"),
    (re.compile(r"Must be one of: (.*)\.", re.S), r"应为以下之一：\1。"),
    (re.compile(r"Must be equal to (.*)\.", re.S), r"应等于 \1。"),
    (re.compile(r"Not a valid (?:aware |naive )?(\w+)\."), r"格式不对（\1）。"),
    (re.compile(r"\"(.*)\" cannot be formatted as an? (\w+)\.", re.S), r"“\1”无法读作\2。"),
]


def chinese(message: str) -> str:
    """The Chinese for one marshmallow message (unchanged when it is not one of marshmallow's)."""
    if message in _EXACT:
        return _EXACT[message]
    for pattern, replacement in _PATTERNS:
        if pattern.fullmatch(message):
            return pattern.sub(replacement, message)
    return message


def chinese_fields(fields: Any) -> Any:
    """``fields`` of the error shape with every message in Chinese (nested dicts and lists kept)."""
    if isinstance(fields, str):
        return chinese(fields)
    if isinstance(fields, dict):
        return {key: chinese_fields(value) for key, value in fields.items()}
    if isinstance(fields, list):
        return [chinese_fields(value) for value in fields]
    return fields
